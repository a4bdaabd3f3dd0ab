"""Gaussian visible units: E(v, h) = sum_i (v_i - a_i)^2 / (2 s_i^2) - b.h - sum_ij h_j W_ji v_i / s_i^2."""

import math

import numpy as np

from ._backend import LOG_2PI
from ._base import BaseRBM
from ._units import VisibleUnits

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


class GaussianVisible(VisibleUnits):
    """Real-valued visible units, p(v_i | h) = Normal(a_i + (W^T h)_i, s_i^2).

    The variance enters as ``params["log_var"]`` (z_i = log s_i^2).
    ``params["log_var_data"]`` is the log of the floored training variance: the
    reference that bounds a learned ``log_var`` (``LEARNED_VARIANCE_RANGE``).

    Parameters
    ----------
    learn_sigma : bool, default=False
        Whether ``visible_gradients`` includes the gradient of ``log_var``.
    """

    name = "gaussian"
    discrete = False
    #: in standard deviations of a visible unit: a hidden unit that moves a
    #: visible mean this far describes no data
    max_scaled_weight = 1e4
    weight_scale_name = " / sigma_i, in standard deviations of a visible unit"

    def __init__(self, learn_sigma=False):
        self.learn_sigma = learn_sigma

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


class GaussianBernoulliRBM(BaseRBM):
    """Restricted Boltzmann machine with Gaussian visible and binary hidden units.

    Models real-valued data.  The energy of a visible vector v and hidden
    vector h is

    ``E(v, h) = sum_i (v_i - a_i)^2 / (2 s_i^2) - b.h - sum_ij h_j W_ji v_i / s_i^2``

    with ``W = components_``, ``a = intercept_visible_``,
    ``b = intercept_hidden_`` and ``s = sigma_``.  Given h, the visible units
    are independent Normal(a_i + (W^T h)_i, s_i^2); given v, the hidden units
    are independent Bernoulli(sigmoid(b_j + sum_i W_ji v_i / s_i^2)).  The
    marginal p(v) is a mixture of 2**n_components Gaussians, so the
    log-likelihood is exact when the hidden layer is small enough to enumerate
    (at most 20 units) and is otherwise estimated.

    Training is persistent or plain contrastive divergence with visible units
    sampled from their Normal conditionals (never replaced by their means).

    Parameters
    ----------
    learning_rate : float, default=0.01
        Step size: the update is ``learning_rate`` times the mean mini-batch
        gradient, accumulated with ``momentum``.  Gaussian units need a
        smaller step than binary ones (the gradient of ``W`` scales with
        ``v / sigma**2``); 0.01 suits standardised data.
    method : {"pcd", "cd", "cd_mean", "fpcd", "pt"}, default="pcd"
        The negative phase. "pcd": persistent contrastive divergence (chains
        carried across updates, ``h_samples_``); "cd": chains restart at
        each mini-batch; "fpcd": persistent chains that move under the model
        plus fast weights, which decay by ``fast_decay`` per update and never
        reach the fitted parameters (Tieleman & Hinton 2009); "pt":
        parallel tempering, ``n_temperatures`` replicas of the persistent
        chains on a ladder of temperatures that swap states, so that the
        chains cross between modes (``history_`` records the swap rates and
        the ladder).
    momentum : float, default=0.0
        Fraction of the previous update added to the current one.
    learn_sigma : bool, default=False
        False keeps each ``sigma_`` at the training data's standard deviation
        of that feature.  True learns it, parameterised as the log-variance
        ``log(sigma_**2)``, kept between 1/10 and ``sqrt(10)`` times the
        training standard deviation of the feature (so that no unit collapses
        onto a single value or spreads without bound).
    random_state : int, RandomState instance or None, default=None
        Seed of initialisation, shuffling and Gibbs sampling.
    log_partition_method : {"auto", "exact", "ais"}, default="auto"
        How ``score_samples`` gets log Z: "exact" enumerates the hidden layer
        (at most 20 units), "ais" estimates it by annealed importance sampling
        from a Gaussian base model (the training mean, the model's sigma),
        "auto" is exact where it can be.
    ais_n_chains : int, default=100
        AIS chains used by ``score_samples`` and ``estimate_log_partition``.
    ais_n_betas : int, default=14500
        Inverse temperatures of the AIS schedule.

    The other parameters are those of every RBM estimator (documented once,
    in :mod:`skebm._parameters`); the list above is completed from them.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Weights W.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases b.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases a, initialised to the training mean.
    sigma_ : ndarray of shape (n_features,)
        Standard deviation s of each visible unit given the hidden units (a
        standard deviation, not a variance).
    h_samples_ : ndarray of shape (n_chains, n_components)
        Hidden states of the persistent chains.
    n_iter_ : int
        Epochs completed by ``fit`` (continued by ``warm_start``), plus one
        per ``partial_fit`` call.
    history_ : list of dict
        One record per epoch or ``partial_fit`` call: ``epoch``, ``time``,
        ``reconstruction_error``, ``free_energy`` (of up to 1000 training
        rows; ``partial_fit``: 100 rows of the chunk, and ``n_samples``)
        and, with ``validation_fraction``, ``validation_free_energy``,
        ``free_energy_gap`` and, where the exact log Z is cheap,
        ``log_likelihood`` and ``validation_log_likelihood``. With early
        stopping, the record of the epoch whose parameters were kept has
        ``restored=True``.
    best_epoch_ : int or None
        The epoch whose parameters early stopping kept; None without early
        stopping.
    feature_mean_, feature_var_ : ndarray of shape (n_features,)
        Mean and variance of the training data.
    n_samples_seen_ : int
        Training rows seen.
    random_state_ : RandomState
        The generator used by ``gibbs`` and ``sample``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    BernoulliRBM : The same model with binary visible units.

    Notes
    -----
    **Scale of the data.** ``sigma_`` and ``intercept_visible_`` start from
    the training data's per-feature standard deviation and mean, so the model
    is a proper density of unstandardised data.  The learning rate, however,
    is not scale-free: standardise the data (``StandardScaler``) for training
    at the default ``learning_rate``.

    **Constant features.** A feature that is constant in the training data
    (zero variance, up to rounding) gets the median variance of the other
    features as its variance, so ``sigma_`` is never zero and no score is ever
    infinite or NaN; if every feature is constant the variance is 1.  A
    constant feature still adds its (finite) Gaussian log-density to every
    score; drop such features (``VarianceThreshold``) when that matters.
    Features that are nearly but not exactly constant keep their own small
    variance: held-out rows where they vary score very low, honestly.

    **Scores after a scaler.** ``score_samples`` is the log-density of the
    data the model sees.  In a ``Pipeline`` after ``StandardScaler`` that is
    the density of the scaled data; the log-density of an original row x is
    ``score_samples(scaler.transform(x)) - sum(log(scaler.scale_))`` (the
    log-Jacobian of the scaling).  Scores of pipelines with different scaler
    settings (``with_std=True`` versus ``False``, or scalers fitted on
    different data) are densities in different units and must be corrected
    this way before they are compared; ``GridSearchCV`` over scaler settings
    compares them uncorrected.

    **Divergence.** Gaussian units diverge at too large a learning rate,
    especially with ``learn_sigma=True``.  If training makes a parameter
    non-finite, ``fit`` and ``partial_fit`` raise ``DivergenceError`` (a
    ``FloatingPointError``) naming the fix and leave the model as it was
    before the call.

    Examples
    --------
    >>> import numpy as np
    >>> from skebm import GaussianBernoulliRBM
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(-2, 0.5, (50, 2)), rng.normal(2, 0.5, (50, 2))])
    >>> rbm = GaussianBernoulliRBM(n_components=2, n_iter=20, random_state=0).fit(X)
    >>> rbm.transform(X).shape
    (100, 2)
    >>> rbm.sigma_.shape
    (2,)
    >>> float(rbm.score(X)) > -10  # mean log-density in nats
    True
    """

    _parameter_constraints: dict = {
        **BaseRBM._parameter_constraints,
        "learn_sigma": ["boolean"],
    }

    _extra_parameters = {"learn_sigma": False}
    _default_overrides = {"learning_rate": 0.01}

    @property
    def _visible_units(self):
        return GaussianVisible(learn_sigma=self.learn_sigma)

    def _fitted_params(self):
        params = super()._fitted_params()
        log_var = 2.0 * np.log(self.sigma_)
        params["log_var"] = log_var
        reference = getattr(self, "feature_var_", None)
        params["log_var_data"] = (
            np.log(floored_variance(reference, self.feature_mean_)).astype(log_var.dtype)
            if reference is not None
            else log_var
        )
        return params

    def _set_fitted_params(self, params):
        super()._set_fitted_params(params)
        self.sigma_ = np.exp(0.5 * params["log_var"])
