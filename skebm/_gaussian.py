"""GaussianBernoulliRBM: the estimator for real-valued visible units (their math is :mod:`skebm._units.gaussian`)."""

import numpy as np

from ._base import BaseRBM
from ._parameters import Parameter
from ._units.gaussian import GaussianVisible, floored_variance


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

    _extra_parameters = (
        Parameter(
            "learn_sigma",
            False,
            ["boolean"],
            """\
learn_sigma : bool, default=False
    False keeps each ``sigma_`` at the training data's standard deviation
    of that feature.  True learns it, parameterised as the log-variance
    ``log(sigma_**2)``, kept between 1/10 and ``sqrt(10)`` times the
    training standard deviation of the feature (so that no unit collapses
    onto a single value or spreads without bound).""",
        ),
    )
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
