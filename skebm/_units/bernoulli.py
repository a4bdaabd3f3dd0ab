"""Binary visible units: E(v, h) = -a.v - b.h - h.W.v."""

import numpy as np
import scipy.sparse as sp

from .base import VisibleUnits
from .binary import BINARY

#: elements of the (rows, features, hidden) block of the pseudo-log-likelihood
_FLIP_BLOCK = 2**22

#: pseudo-count that keeps the log-odds of constant columns finite
BASE_RATE_SMOOTHING = 0.01


def smoothed_log_odds(column_means, n_samples):
    """log(p / (1 - p)) of the column means, pulled away from 0 and 1.

    ``p`` is shrunk towards 1/2 by a pseudo-count so that all-zero and all-one
    columns get a large but finite bias, and clipped into (0, 1) so that values
    outside the unit interval (not probabilities, but accepted) stay finite.
    """
    p = (np.asarray(column_means, dtype=np.float64) * n_samples + BASE_RATE_SMOOTHING) / (
        n_samples + 2 * BASE_RATE_SMOOTHING
    )
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p) - np.log1p(-p)


def pseudo_log_likelihood_by_flips(units, bk, params, v, flip_change):
    """sum_i log p(v_i | v_-i) of each row of two-state units, from flips.

    ``flip_change(rows)`` gives d_i, how flipping unit i to its other state
    changes v_i (``1 - 2 v_i`` for 0/1 units, ``-2 v_i`` for spins).  The
    visible energy changes by -a_i d_i and every hidden pre-activation by
    d_i W[:, i], so all flips of a row cost one broadcast, not one matrix
    product per feature, and p(v_i | v_-i) = sigmoid(F(flip_i) - F(v)).
    Rows go in small groups so the (rows, features, hidden) block stays near
    32 MB.
    """
    W, a = params["W"], params["a"]
    n_hidden, n_features = W.shape
    group = max(1, _FLIP_BLOCK // (n_features * n_hidden))
    x = units.hidden_activation(bk, params, v)
    # each hidden unit summed out: softplus for binary units, the hidden type's own in general
    unit_log_partition = units.hidden.unit_log_partition
    base_softplus = unit_log_partition(bk, x).sum(axis=1)
    out = []
    for start in range(0, v.shape[0], group):
        rows = slice(start, start + group)
        d = flip_change(v[rows])
        flipped = x[rows][:, None, :] + d[:, :, None] * W.T[None, :, :]
        # F(v) - F(flip_i) = a_i d_i + sum_j softplus(flipped_ij) - sum_j softplus(x_j)
        gap = unit_log_partition(bk, flipped, out=flipped).sum(axis=2)
        gap -= base_softplus[rows][:, None]
        gap += a * d
        out.append(bk.log_sigmoid(-gap).sum(axis=1))
    return bk.concatenate(out)


class BernoulliVisible(VisibleUnits):
    """Visible units that are 0 or 1, p(v_i = 1 | h) = sigmoid(a_i + (W^T h)_i)."""

    name = "bernoulli"
    discrete = True

    def scale_visible(self, bk, params, v):
        return v

    def mean_visible(self, bk, params, h):
        return BINARY.mean(bk, self.visible_activation(bk, params, h))

    def sample_visible(self, bk, params, h):
        return BINARY.sample(bk, self.mean_visible(bk, params, h))

    def sample_visible_given(self, bk, params, x, out=None):
        mean = BINARY.mean(bk, x, out=out)
        return BINARY.sample(bk, mean, out=out)

    def visible_energy(self, bk, params, v):
        return -bk.matmul(v, params["a"])

    def hidden_log_weight(self, bk, params, h):
        x = self.visible_activation(bk, params, h)
        return self.hidden_bias_term(bk, params, h) + BINARY.log_partition(bk, x)

    def independent_log_partition(self, bk, params):
        return bk.softplus(params["a"]).sum()

    def n_states(self, n_units):
        return BINARY.n_states(n_units)

    def states(self, start, stop, n_units):
        return BINARY.states(start, stop, n_units)

    def pseudo_log_likelihood(self, bk, params, v):
        """Sum over bits of log sigmoid(F(flip_i) - F(v)); a flip changes bit i by 1 - 2 v_i."""
        return pseudo_log_likelihood_by_flips(self, bk, params, v, lambda rows: 1.0 - 2.0 * rows)

    def visible_gradients(self, bk, params, v_pos, h_pos, v_neg, h_neg):
        return {"a": v_pos.mean(axis=0) - v_neg.mean(axis=0)}

    def range_message(self, X):
        values = X.data if sp.issparse(X) else X
        if values.size and (values.min() < 0 or values.max() > 1):
            return (
                "Bernoulli visible units model values in [0, 1] (binary data or "
                f"probabilities), but X ranges over [{values.min():g}, "
                f"{values.max():g}]. Scale it, e.g. with MinMaxScaler, or use "
                "GaussianBernoulliRBM for real-valued data."
            )
        return None

    def range_hint(self, X_stats):
        # [0, 1] data has a mean in [0, 1] and a variance of at most 1/4
        mean, var = X_stats["mean"], X_stats["var"]
        if np.any(mean < -0.01) or np.any(mean > 1.01) or np.any(var > 0.26):
            return (
                "data outside the [0, 1] range that Bernoulli units model: scale it "
                "(e.g. MinMaxScaler) or use GaussianBernoulliRBM"
            )
        return ""

    def initial_params(self, X_stats, n_hidden, rng):
        return {"a": smoothed_log_odds(X_stats["mean"], X_stats["n_samples"])}

    def base_params(self, params, X_stats):
        return {"a": smoothed_log_odds(X_stats["mean"], X_stats["n_samples"])}
