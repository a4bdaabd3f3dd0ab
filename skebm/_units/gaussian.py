"""Gaussian visible units: E(v, h) = sum_i (v_i - a_i)^2 / (2 s_i^2) - b.h - sum_ij h_j W_ji v_i / s_i^2."""

import math

import numpy as np

from .._backend import LOG_2PI
from .base import VisibleUnits

#: a feature counts as constant when its variance is at most this fraction of
#: its squared mean (or exactly zero): below it the variance computed from
#: sums of squares is rounding error
CONSTANT_RELATIVE_VARIANCE = 1e-12
#: a variance at most this small also counts as constant, whatever the mean:
#: the precision 1 / s^2 of a smaller one overflows float32 arithmetic
CONSTANT_ABSOLUTE_VARIANCE = 1e-30
#: a learned variance s_i^2 stays within these factors of the (floored)
#: training variance of feature i: 1/100 to 10 times it, so s_i between 1/10
#: and ~3.2 times the feature's standard deviation
LEARNED_VARIANCE_RANGE = (1e-2, 1e1)


def floored_variance(var, mean):
    """Per-feature training variance, with constant features given a typical one.

    A constant feature (variance zero, at most ``CONSTANT_RELATIVE_VARIANCE``
    times its squared mean, or at most ``CONSTANT_ABSOLUTE_VARIANCE``) has no
    spread of its own to model, so it gets the median variance of the
    non-constant features (1 if every feature is constant).  Every other
    feature keeps its own variance, however small or large, so features on
    different scales are modelled on their own scale.
    """
    var = np.nan_to_num(np.asarray(var, dtype=np.float64), nan=0.0, posinf=0.0)
    mean = np.nan_to_num(np.asarray(mean, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    constant = var <= np.maximum(
        CONSTANT_RELATIVE_VARIANCE * np.square(mean), CONSTANT_ABSOLUTE_VARIANCE
    )
    typical = np.median(var[~constant]) if np.any(~constant) else 1.0
    return np.where(constant, typical, var)



def sigma_params(sigma, feature_var, feature_mean):
    """``log_var`` and ``log_var_data`` of fitted units: from ``sigma_`` and the data's moments.

    Without the data's variance (parameters set by hand) the reference is
    ``log_var`` itself.
    """
    log_var = 2.0 * np.log(sigma)
    if feature_var is None:
        return {"log_var": log_var, "log_var_data": log_var}
    reference = np.log(floored_variance(feature_var, feature_mean)).astype(log_var.dtype)
    return {"log_var": log_var, "log_var_data": reference}

class GaussianVisible(VisibleUnits):
    """Real-valued visible units, p(v_i | h) = Normal(a_i + (W^T h)_i, s_i^2).

    The variance enters as ``params["log_var"]`` (z_i = log s_i^2).
    ``params["log_var_data"]`` is the log of the floored training variance: the
    reference that bounds a learned ``log_var`` (``LEARNED_VARIANCE_RANGE``).

    Parameters
    ----------
    learn_sigma : bool, default=False
        Whether ``visible_gradients`` includes the gradient of ``log_var``.
    whitened : bool, default=False
        Whether the rows are whitened (uncorrelated, unit variance), which
        changes only how the weights start (``scale_initial_weights``).
    """

    name = "gaussian"
    discrete = False
    #: in standard deviations of a visible unit: a hidden unit that moves a
    #: visible mean this far describes no data
    max_scaled_weight = 1e4
    weight_scale_name = " / sigma_i, in standard deviations of a visible unit"

    def __init__(self, learn_sigma=False, whitened=False):
        self.learn_sigma = learn_sigma
        self.whitened = whitened

    def learned_keys(self, params):
        # ``log_var_data`` (and ``log_var`` unless learned) follow the data
        return ("W", "a", "b", "log_var") if self.learn_sigma else ("W", "a", "b")

    def largest_scaled_weight(self, bk, params):
        """max |W_ji| / sigma_i: how far one hidden unit moves a visible mean."""
        scaled = bk.to_numpy(params["W"]) * np.exp(-0.5 * bk.to_numpy(params["log_var"]))
        return float(np.abs(scaled).max(initial=0.0))

    def divergence_advice(self, learning_rate, n_hidden):
        learned = " or keep sigma fixed (learn_sigma=False)" if self.learn_sigma else ""
        # the bound with every hidden unit active; suggest half of it at most,
        # and a tenth of the failed step where that is smaller
        bound = 2.0 / n_hidden
        suggestion = min(learning_rate / 10, bound / 2)
        return (
            f"a learning_rate too large for {n_hidden} hidden units"
            f"{' with learn_sigma=True' if self.learn_sigma else ''}: the largest "
            "stable step is about 2 / (number of active hidden units), "
            f"{bound:.2g} when all {n_hidden} are active, so use a smaller "
            f"learning_rate (e.g. {suggestion:.2g}){learned}"
        )

    @staticmethod
    def _precision(bk, params):
        """1 / s^2 per feature."""
        return bk.exp(-params["log_var"])

    def scale_visible(self, bk, params, v):
        return v * self._precision(bk, params)

    def mean_visible(self, bk, params, h):
        return self.visible_activation(bk, params, h)

    def sample_visible(self, bk, params, h):
        return self.sample_visible_given(bk, params, self.visible_activation(bk, params, h))

    def sample_visible_given(self, bk, params, x, out=None):
        noise = bk.normal(tuple(x.shape))
        noise *= bk.exp(0.5 * params["log_var"])
        if out is None:
            return x + noise
        out[...] = x
        out += noise
        return out

    def visible_energy(self, bk, params, v):
        half_precision = 0.5 * self._precision(bk, params)
        return (bk.square(v - params["a"]) * half_precision).sum(axis=1)

    def hidden_log_weight(self, bk, params, h):
        # integrate v out of exp(-E): a Gaussian integral per feature around
        # the mean a + W^T h
        a = params["a"]
        shifted = self.visible_activation(bk, params, h)
        half_precision = 0.5 * self._precision(bk, params)
        quad = ((bk.square(shifted) - bk.square(a)) * half_precision).sum(axis=1)
        return self.hidden_bias_term(bk, params, h) + quad + self.independent_log_partition(bk, params)

    def independent_log_partition(self, bk, params):
        log_var = params["log_var"]
        return 0.5 * (log_var.sum() + LOG_2PI * log_var.shape[0])

    def weight_gradient_visible(self, bk, params, v):
        """``v`` itself: the gradient of ``W``, ``h v / s^2``, preconditioned by s^2.

        The gradients of column i of ``W`` and of ``a_i`` are multiplied by
        s_i^2: a positive diagonal preconditioner, so the updates still
        ascend the log-likelihood and have the same fixed points, but they are
        measured in the data's own units.  Without it the largest stable
        learning rate scales with s^2 (a data set in millimetres and the same
        in metres would need rates 10^6 apart); with it, it depends only on
        how many hidden units are on (about 2 / that number).
        """
        return v

    def visible_gradients(self, bk, params, v_pos, h_pos, v_neg, h_neg):
        # -dE/da_i = (v_i - a_i) / s_i^2, times s_i^2 (see ``weight_gradient_visible``)
        grads = {"a": v_pos.mean(axis=0) - v_neg.mean(axis=0)}
        if self.learn_sigma:
            precision = self._precision(bk, params)
            a = params["a"]
            diff_pos = v_pos - a
            diff_neg = v_neg - a

            # -dE/dz_i = (v_i - a_i)^2 / (2 s_i^2) - v_i (W^T h)_i / s_i^2, z = log s^2;
            # linear in h, so P(h = 1 | v) gives its expectation over h
            def neg_energy_slope(v, diff, h):
                return (0.5 * bk.square(diff) - v * bk.matmul(h, params["W"])).mean(axis=0)

            grads["log_var"] = (
                neg_energy_slope(v_pos, diff_pos, h_pos) - neg_energy_slope(v_neg, diff_neg, h_neg)
            ) * precision
        return grads

    def initial_params(self, X_stats, n_hidden, rng):
        log_var = np.log(floored_variance(X_stats["var"], X_stats["mean"]))
        return {
            "a": np.array(X_stats["mean"], dtype=np.float64),  # a copy: training updates it in place
            "log_var": log_var,
            "log_var_data": log_var.copy(),
        }

    def scale_initial_weights(self, params):
        # weights in units of each feature's spread (N(0, 0.01) for
        # standardised data), so training on c * X is training on X scaled
        params["W"] *= np.exp(0.5 * params["log_var"]).astype(params["W"].dtype)
        if self.whitened:
            # whitened rows match the zero-weight model in their first two
            # moments, so small weights get no gradient (the first signal is
            # of third order in them): each hidden unit starts with a unit
            # weight vector, N(0, 1 / n_features) per entry
            params["W"] *= 100.0 / np.sqrt(params["W"].shape[1])

    def follow_stats(self, bk, params, X_stats):
        # a fixed sigma is the std of every row seen; a learned one keeps its
        # value, bounded around the new reference
        log_var = np.log(floored_variance(X_stats["var"], X_stats["mean"]))
        params["log_var_data"] = bk.asarray(log_var)
        if not self.learn_sigma:
            params["log_var"] = bk.asarray(log_var)
        self.clip_params(bk, params)

    def base_params(self, params, X_stats):
        # the base shares the model's variance, so the generic interpolation
        # (which mixes only ``a``) stays between two models of the same sigma
        return {"a": np.array(X_stats["mean"], dtype=np.float64), "log_var": np.array(params["log_var"])}

    def clip_params(self, bk, params):
        if self.learn_sigma:
            low, high = (math.log(f) for f in LEARNED_VARIANCE_RANGE)
            reference = params["log_var_data"]
            bk.clip(params["log_var"], reference + low, reference + high, out=params["log_var"])
