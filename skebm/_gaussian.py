"""GaussianBernoulliRBM: the estimator for real-valued visible units (their math is :mod:`skebm._units.gaussian`)."""

import functools

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ._backend import make_backend
from ._base import BaseRBM
from ._conditional import as_missing_mask
from ._layer import check_chain_settings
from ._parameters import Parameter
from ._transaction import transactional
from ._units.gaussian import GaussianVisible, sigma_params
from ._whitening import Whitening, whitened_clamped_chain


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
        standard deviation, not a variance); of the whitened rows with
        ``whiten``.
    whitening_ : Whitening
        With ``whiten``: the training rows' ``mean``, the whitening
        ``matrix`` P, its ``inverse`` and ``log_det`` (``log |det P|``).
        The weights, biases, ``feature_mean_`` and ``history_`` figures are
        then those of the whitened rows.

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
    _extra_parameters += (
        Parameter(
            "whiten",
            False,
            ["boolean"],
            """\
whiten : bool, default=False
    True models the data whitened: ``fit`` finds the mean and the
    covariance of the training rows and the hidden units model ``u = P (x
    - mean)`` with ``P = covariance^(-1/2)`` (``whitening_``), so that the
    model with zero weights is the maximum-likelihood full-covariance
    Gaussian and the hidden units only model what it cannot (correlated
    features, which a diagonal Gaussian RBM spends its hidden units on).
    Every method takes and returns rows in the original units;
    ``score_samples`` adds ``log |det P|``, so the likelihood stays that of
    ``x``.  Given h, ``x`` is then Normal with a full covariance, which
    conditional sampling conditions on each row's observed entries.""",
        ),
    )
    _default_overrides = {"learning_rate": 0.01}

    @property
    def _visible_units(self):
        return GaussianVisible(learn_sigma=self.learn_sigma, whitened=self.whiten)

    # ------------------------------------------------------------------------
    # whitening: the RBM sees u = P (x - m); every method speaks x
    # ------------------------------------------------------------------------
    def _validate_X(self, X, *, reset, stream=False):
        if reset and self._continues() and self.whiten != hasattr(self, "whitening_"):
            raise ValueError(
                f"whiten={self.whiten} differs from the fitted model, which warm_start=True "
                "continues; call fit with warm_start=False to start a new model."
            )
        whiten = self.whiten if reset and not self._continues() else None
        X = super()._validate_X(X, reset=reset, stream=stream and not whiten)
        if whiten is not None:
            if whiten:
                self.whitening_ = Whitening.of(X.toarray() if sp.issparse(X) else X)
            elif hasattr(self, "whitening_"):
                del self.whitening_
        return self._whitened(X)

    def _continues(self):
        """Whether this fit continues the fitted model (``warm_start``), whitening included."""
        return self.warm_start and hasattr(self, "components_")

    def _whitened(self, X):
        whitening = getattr(self, "whitening_", None)
        if whitening is None:
            return X
        return whitening.apply(X.toarray() if sp.issparse(X) else X)

    def _unwhitened(self, V):
        whitening = getattr(self, "whitening_", None)
        return V if whitening is None else whitening.invert(V)

    def _visible_rows(self, X):
        return self._whitened(super()._visible_rows(X))

    def _rows_of_visible(self, v):
        return self._unwhitened(v)

    @functools.wraps(BaseRBM.free_energy)
    def free_energy(self, X):
        # F of x: p(x) = p(u) |det P|, so F(x) = F(u) - log |det P|
        free_energy = super().free_energy(X)
        whitening = getattr(self, "whitening_", None)
        return free_energy if whitening is None else free_energy - whitening.log_det

    @functools.wraps(BaseRBM.inverse_transform)
    def inverse_transform(self, H):
        return self._unwhitened(super().inverse_transform(H))

    @functools.wraps(BaseRBM.gibbs)
    def gibbs(self, v):
        return self._unwhitened(super().gibbs(v))

    @functools.wraps(BaseRBM.sample)
    def sample(self, n_samples=1, **kwargs):
        return self._unwhitened(super().sample(n_samples, **kwargs))

    @functools.wraps(BaseRBM.conditional_sample)
    def conditional_sample(self, X, *, n_samples=1, n_steps=200, random_state=None,
                           method="gibbs", n_temperatures=None):  # fmt: skip
        if getattr(self, "whitening_", None) is None:
            return super().conditional_sample(
                X, n_samples=n_samples, n_steps=n_steps, random_state=random_state,
                method=method, n_temperatures=n_temperatures,
            )  # fmt: skip
        if method != "gibbs":
            raise ValueError(
                f"method={method!r}: a whitened model (whiten=True) samples the missing "
                "entries by Gibbs chains on their full-covariance conditional; use "
                "method='gibbs'."
            )
        return self._whitened_chains(X, n_samples, n_steps, 0, random_state, draws=True)

    @functools.wraps(BaseRBM.conditional_mean)
    def conditional_mean(self, X, *, n_steps=200, burn_in=50, random_state=None):
        if getattr(self, "whitening_", None) is None:
            return super().conditional_mean(
                X, n_steps=n_steps, burn_in=burn_in, random_state=random_state
            )
        return self._whitened_chains(X, 1, n_steps, burn_in, random_state, draws=False)

    @transactional
    def _whitened_chains(self, X, n_samples, n_steps, burn_in, random_state, *, draws):
        """Clamped Gibbs chains of a whitened model, in the original units.

        Given h the rows are Normal with a full covariance, so the missing
        entries are drawn from that Normal conditioned on each row's
        observed ones (:func:`~skebm._whitening.whitened_clamped_chain`);
        ``draws=False`` returns the mean of their conditional expectations
        over the ``n_steps`` after ``burn_in``, as ``conditional_mean`` does.
        """
        X = self._validate_incomplete(X)
        check_chain_settings(n_samples, n_steps, n_units=sum(self.components_.shape),
                             n_rows=X.shape[0], itemsize=X.dtype.itemsize)  # fmt: skip
        if not draws and n_steps < 1:
            raise ValueError(f"n_steps must be at least 1 to average over, got {n_steps!r}.")
        rng = self.random_state_ if random_state is None else check_random_state(random_state)
        seed = rng.randint(2**31 - 1)
        values, missing = as_missing_mask(X.astype(np.float64))
        state, average = whitened_clamped_chain(
            self._layer(make_backend(None, np.float64, seed=seed)), self.whitening_,
            self.sigma_.astype(np.float64), slice(None), np.tile(values, (n_samples, 1)),
            np.tile(missing, (n_samples, 1)) > 0, n_steps if not draws else 0,
            n_steps if draws else burn_in, np.random.default_rng(seed),
        )  # fmt: skip
        out = (state if draws else average).astype(X.dtype, copy=False)
        return out.reshape(n_samples, *X.shape) if draws else out

    def _fitted_params(self):
        params = super()._fitted_params()
        params.update(sigma_params(
            self.sigma_, getattr(self, "feature_var_", None), getattr(self, "feature_mean_", None)
        ))  # fmt: skip
        return params

    def _set_fitted_params(self, params):
        super()._set_fitted_params(params)
        self.sigma_ = np.exp(0.5 * params["log_var"])
