"""Spin visible units, v_i in {-1, +1}: E(v, h) = -a.v - b.h - h.W.v, hidden units 0/1."""

import numpy as np
import scipy.sparse as sp

from .base import VisibleUnits
from .bernoulli import pseudo_log_likelihood_by_flips, smoothed_log_odds
from .binary import BINARY


def spin_biases_of_means(column_means, n_samples):
    """The visible biases of independent spins with these means: arctanh(m), smoothed.

    p(v_i = +1) = sigmoid(2 a_i) = (1 + m_i) / 2, so a_i is half the log-odds
    of spin up; the log-odds are smoothed as BernoulliRBM's are, so that
    constant columns get large but finite biases.
    """
    return 0.5 * smoothed_log_odds((np.asarray(column_means) + 1.0) / 2.0, n_samples)


class SpinUnits(VisibleUnits):
    """Visible spins in {-1, +1}: p(v_i = +1 | h) = sigmoid(2 (a_i + (W^T h)_i)).

    With ``x = a + W^T h`` the two states of spin i weigh ``exp(+x_i)`` and
    ``exp(-x_i)``: the conditional mean is ``tanh(x_i)``, the layer's log
    partition sum ``sum_i log(2 cosh x_i)``.
    """

    name = "spin"
    discrete = True

    def scale_visible(self, bk, params, v):
        return v

    def mean_visible(self, bk, params, h):
        # tanh(x) = 2 sigmoid(2x) - 1, with the backend's stable sigmoid
        x = self.visible_activation(bk, params, h)
        x *= 2.0
        mean = BINARY.mean(bk, x, out=x)
        mean *= 2.0
        mean -= 1.0
        return mean

    def sample_visible(self, bk, params, h):
        x = self.visible_activation(bk, params, h)
        return self.sample_visible_given(bk, params, x, out=x)

    def sample_visible_given(self, bk, params, x, out=None):
        # the log-odds of spin up are 2x, in an array of their own: ``out`` may be ``x``
        log_odds = 2.0 * x
        spins = BINARY.sample(bk, BINARY.mean(bk, log_odds, out=log_odds), out=out)
        spins *= 2.0
        spins -= 1.0
        return spins

    def visible_energy(self, bk, params, v):
        return -bk.matmul(v, params["a"])

    def hidden_log_weight(self, bk, params, h):
        # sum over v_i = +-1 of exp(v_i x_i) is 2 cosh(x_i) = exp(softplus(2 x_i) - x_i),
        # a form that does not overflow for large |x_i|
        x = self.visible_activation(bk, params, h)
        return self.hidden_bias_term(bk, params, h) + (bk.softplus(2.0 * x) - x).sum(axis=1)

    def independent_log_partition(self, bk, params):
        a = params["a"]
        return (bk.softplus(2.0 * a) - a).sum()

    def n_states(self, n_units):
        return BINARY.n_states(n_units)

    def states(self, start, stop, n_units):
        return 2.0 * BINARY.states(start, stop, n_units) - 1.0

    def pseudo_log_likelihood(self, bk, params, v):
        """Sum over spins of log sigmoid(F(flip_i) - F(v)); a flip changes spin i by -2 v_i."""
        return pseudo_log_likelihood_by_flips(self, bk, params, v, lambda rows: -2.0 * rows)

    def visible_gradients(self, bk, params, v_pos, h_pos, v_neg, h_neg):
        return {"a": v_pos.mean(axis=0) - v_neg.mean(axis=0)}

    def initial_params(self, X_stats, n_hidden, rng):
        return {"a": spin_biases_of_means(X_stats["mean"], X_stats["n_samples"])}

    def base_params(self, params, X_stats):
        return {"a": spin_biases_of_means(X_stats["mean"], X_stats["n_samples"])}

    def rejection_message(self, X):
        values = X.data if sp.issparse(X) else X
        if values.size == 0:
            return None
        low, high = values.min(), values.max()
        # spins hold -1s; only data that never goes below 0 is checked further
        if low < 0 or high != 1:
            return None
        has_zero = low == 0 or (sp.issparse(X) and X.nnz < X.shape[0] * X.shape[1])
        if has_zero and np.all((values == 0) | (values == 1)):
            return (
                "Spin visible units take values in {-1, +1}, but X holds only 0s "
                "and 1s, whose 0s would be read as spins as likely up as down. Map "
                "0/1 data to spins with 2 * X - 1, or use BernoulliRBM for it."
            )
        return None

    def range_message(self, X):
        values = X.data if sp.issparse(X) else X
        if values.size and (values.min() < -1 or values.max() > 1):
            return (
                "Spin visible units model values in {-1, +1} (spins, or their "
                f"means in [-1, 1]), but X ranges over [{values.min():g}, "
                f"{values.max():g}]. Map 0/1 data with 2 * X - 1, scale other data "
                "into [-1, 1] (e.g. MinMaxScaler(feature_range=(-1, 1))), or use "
                "GaussianBernoulliRBM for real-valued data."
            )
        return None

    def range_hint(self, X_stats):
        # data in [-1, 1] has a mean in [-1, 1] and a variance of at most 1
        mean, var = X_stats["mean"], X_stats["var"]
        if np.any(mean < -1.01) or np.any(mean > 1.01) or np.any(var > 1.01):
            return (
                "data outside the [-1, 1] range that spin units model: map 0/1 data "
                "with 2 * X - 1, scale other data into [-1, 1], or use "
                "GaussianBernoulliRBM"
            )
        return ""
