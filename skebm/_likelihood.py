"""The likelihood of a fitted RBM: free energy, log Z (exact or AIS), scores.

:class:`LikelihoodMixin` holds the estimator methods that measure the model
(``free_energy``, ``estimate_log_partition``, ``score_samples``, ``score``,
``pseudo_log_likelihood``); the sums and the annealing are
:mod:`skebm._partition`'s.
"""

import hashlib
import time
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._data import dense_rows
from ._layer import CHAIN_ARRAYS, check_memory
from ._parameters import Parameter
from ._partition import (
    DEFAULT_N_BETAS,
    DEFAULT_N_CHAINS,
    DEFAULT_SEED,
    MAX_EXACT_UNITS,
    LogPartitionEstimate,
    ais_log_partition,
    enumeration_layer,
    exact_log_partition,
)
from ._transaction import transactional


#: the parameters of ``score`` and ``score_samples``: how log Z is computed
PARAMETERS = (
    Parameter(
        "log_partition_method",
        "auto",
        [StrOptions({"auto", "exact", "ais"})],
        """\
log_partition_method : {"auto", "exact", "ais"}, default="auto"
    How ``score_samples`` and ``score`` get log Z: "exact" sums over
    every state of the smaller layer (at most 20 units), "ais" estimates
    it by annealed importance sampling, "auto" sums exactly where it can.
    See :meth:`estimate_log_partition`.""",
    ),
    Parameter(
        "ais_n_chains",
        DEFAULT_N_CHAINS,
        [Interval(Integral, 2, None, closed="left")],
        """\
ais_n_chains : int, default=100
    Parallel AIS chains used by ``score``; more chains narrow the
    interval of the estimate.""",
    ),
    Parameter(
        "ais_n_betas",
        DEFAULT_N_BETAS,
        [Interval(Integral, 2, None, closed="left")],
        """\
ais_n_betas : int, default=14500
    Inverse temperatures of the AIS schedule used by ``score`` (dense near
    1); more make the estimate less biased and take proportionally longer.""",
    ),
)


class LikelihoodMixin:
    """The likelihood methods of :class:`~skebm._base.BaseRBM`."""

    def free_energy(self, X):
        """The free energy F(v) = -log sum_h exp(-E(v, h)) of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        F : ndarray of shape (n_samples,)
            Free energies in nats (float64), so that log p(v) = -F(v) - log Z.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._map_chunks(
            X, lambda layer, v: layer.free_energy(v), np.float64
        )

    def _params_fingerprint(self):
        digest = hashlib.blake2b(digest_size=16)
        for key, value in sorted(self._fitted_params().items()):
            digest.update(key.encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        return digest.hexdigest()

    @transactional
    def estimate_log_partition(
        self,
        method="auto",
        *,
        n_chains=None,
        n_betas=None,
        reverse=True,
        reverse_start=None,
        random_state=None,
    ):
        """The log partition function log Z of the fitted model.

        log p(v) = -F(v) - log Z, and Z sums exp(-E(v, h)) over every state:
        exact for small models, estimated by annealed importance sampling
        (AIS) otherwise.  See the user guide's page on evaluation for which
        number to trust when.

        AIS (Salakhutdinov & Murray, 2008) runs ``n_chains`` chains from the
        base-rate model (no weights, visible biases fitted to the training
        data's feature means) to the model along the geometric path
        ``p_beta ~ p_base^(1 - beta) p^beta``, through ``n_betas`` inverse
        temperatures that crowd near ``beta = 1``.  Its estimate of log Z is
        the log of the mean importance weight; it is too *small* on average
        (Jensen's inequality), so the log-likelihood it gives tends to be
        optimistic.  Reverse AIS anneals the other way, from samples of the
        model down to the base model, and gives log Z that is too *large* on
        average: a conservative log-likelihood.  Both are stochastic bounds,
        not guarantees: the reverse one assumes its starting states are draws
        from the model, and both fail together when the chains miss a mode.

        Parameters
        ----------
        method : {"auto", "exact", "ais"}, default="auto"
            "exact" sums over every state of the smaller enumerable layer (at
            most 20 units); "ais" estimates; "auto" sums exactly where it can
            and estimates otherwise.
        n_chains : int, default=None
            Parallel AIS chains; None uses the ``ais_n_chains`` parameter.
        n_betas : int, default=None
            Inverse temperatures of the AIS schedule, both ends included;
            None uses the ``ais_n_betas`` parameter.  The default schedule's
            shares are kept: 500/14500 of them in [0, 0.5], 4000/14500 in
            [0.5, 0.9] and 10000/14500 in [0.9, 1].
        reverse : bool, default=True
            Also run reverse AIS (costs as much again, plus 1000 Gibbs steps)
            and report its log Z in ``log_partition_estimate_.reverse``.
        reverse_start : {array-like, sparse matrix} of shape (n_rows, n_features), \
                default=None
            Rows the reverse chains start from, as they are (e.g. training
            data, which makes the bound hold only as far as the model fits
            the data).  None starts them from the forward chains' final
            states after 1000 more Gibbs steps at ``beta = 1``.
        random_state : int, RandomState instance or None, default=None
            Seed of AIS.  None uses the estimator's ``random_state`` when it
            is an int and 0 otherwise, so the estimate is always
            deterministic for a given model and settings.

        Returns
        -------
        log_z : float
            The log Z estimate in nats (exact or the forward AIS estimate).
            It is stored as ``log_partition_``, with the details (interval,
            reverse bound, settings, seconds) in ``log_partition_estimate_``.
            A call with ``reverse=False`` for the parameters and settings of
            the last estimate returns it without recomputing (the estimate is
            deterministic for them).
        """
        check_is_fitted(self)
        settings = self._log_partition_settings(method, n_chains, n_betas, random_state)
        key = (self._params_fingerprint(), settings)
        if (
            not reverse
            and reverse_start is None
            and getattr(self, "_log_partition_key", None) == key
        ):
            # computed before for these parameters and settings (deterministic)
            return self.log_partition_
        if reverse_start is not None:
            reverse_start = dense_rows(
                self._validate_X(reverse_start, reset=False), slice(None)
            )
        if settings[0] == "exact":
            start = time.perf_counter()
            bk = self._inference_backend(np.float64)
            log_z = exact_log_partition(self._units, bk, self._device_params(bk))
            estimate = LogPartitionEstimate(
                method="exact", log_z=log_z, lower=log_z, upper=log_z, reverse=None,
                n_chains=None, n_betas=None, seconds=time.perf_counter() - start,
            )
        else:
            _, n_chains, n_betas, seed, n_threads = settings
            dtype = self.components_.dtype
            bk = self._inference_backend(dtype, seed=seed)
            params = self._device_params(bk)
            base = {
                key: bk.asarray(value)
                for key, value in self._units.base_params(
                    self._fitted_params(), self._base_rate_stats()
                ).items()
            }
            estimate = ais_log_partition(
                self._units,
                lambda seed: self._inference_backend(dtype, seed=seed, n_threads=n_threads),
                params,
                base,
                n_chains=n_chains,
                n_betas=n_betas,
                reverse=reverse,
                reverse_start=reverse_start,
                seed=seed,
                progress=self._ais_progress(n_chains, n_betas) if self.verbose else None,
            )
        self.log_partition_ = float(estimate.log_z)
        self.log_partition_estimate_ = estimate
        self._log_partition_key = key
        return self.log_partition_

    def _ais_progress(self, n_chains, n_betas):
        """A progress printer for AIS: elapsed time and an estimate of what is left."""
        label, starts = self._progress_label(), {}
        print(f"[{label}] AIS estimate of log Z: {n_chains} chains x {n_betas} temperatures")

        def report(run, fraction):
            start = starts.setdefault(run, time.perf_counter())
            if fraction == 0.0:
                return
            elapsed = time.perf_counter() - start
            print(
                f"[{label}] AIS {run} {fraction:4.0%}  {elapsed:.1f}s elapsed, "
                f"about {elapsed * (1 - fraction) / fraction:.1f}s left for this run"
            )

        return report

    def _log_partition_settings(self, method, n_chains, n_betas, random_state):
        """Validated ("exact",) or ("ais", n_chains, n_betas, seed, n_threads)."""
        if method not in ("auto", "exact", "ais"):
            raise ValueError(
                f"method must be 'auto', 'exact' or 'ais', got {method!r}."
            )
        n_hidden, n_visible = self.components_.shape
        exact_layer = enumeration_layer(self._units, n_visible, n_hidden)
        if method == "exact" and exact_layer is None:
            raise ValueError(
                f"method='exact' needs a layer of at most 2**{MAX_EXACT_UNITS} "
                f"enumerable states ({MAX_EXACT_UNITS} binary units); this model has "
                f"{n_hidden} hidden and {n_visible} visible units. Use method='ais' "
                "(or 'auto')."
            )
        if method == "exact" or (method == "auto" and exact_layer is not None):
            return ("exact",)
        n_chains = self.ais_n_chains if n_chains is None else n_chains
        n_betas = self.ais_n_betas if n_betas is None else n_betas
        for name, value in (("n_chains", n_chains), ("n_betas", n_betas)):
            if not isinstance(value, Integral) or isinstance(value, bool) or value < 2:
                raise ValueError(f"{name} must be an integer >= 2, got {value!r}.")
        check_memory(
            CHAIN_ARRAYS * n_chains * (n_hidden + n_visible), self.components_.dtype.itemsize,
            f"AIS with {n_chains:,} chains of {n_hidden + n_visible} units",
            "use fewer chains (n_chains, or the ais_n_chains parameter)",
        )  # fmt: skip
        if random_state is None:
            random_state = (
                self.random_state
                if isinstance(self.random_state, Integral)
                else DEFAULT_SEED
            )
        if isinstance(random_state, Integral):
            seed = int(random_state)
        else:
            seed = int(check_random_state(random_state).randint(0, 2**31 - 1))
        # blocks of chains draw from their own streams: n_jobs is a setting
        return ("ais", int(n_chains), int(n_betas), seed, self._n_threads())

    def _base_rate_stats(self):
        """Training feature statistics for the AIS base model."""
        if hasattr(self, "feature_mean_"):
            return {
                "mean": self.feature_mean_,
                "var": self.feature_var_,
                "n_samples": max(int(getattr(self, "n_samples_seen_", 1)), 1),
            }
        # parameters set by hand: the model's own visible means with h = 0
        mean = self._map_chunks(
            np.zeros((1, self.components_.shape[0])),
            lambda layer, h: layer.mean_visible(h),
            np.float64,
        )[0]
        return {"mean": mean, "var": np.ones_like(mean), "n_samples": 1}

    def score_samples(self, X):
        """The log-likelihood log p(x) of each row, in nats.

        log p(x) = -F(x) - log Z, with log Z exact where the smaller layer
        has at most 20 units and estimated by AIS otherwise (the
        ``log_partition_method``, ``ais_n_chains`` and ``ais_n_betas``
        parameters).  log Z is computed on the first call and cached; a hash
        of the parameters and of those settings decides when to recompute,
        so fit, partial_fit, set_params and weights edited by hand are all
        noticed.  Deterministic: the same model, settings and rows give the
        same numbers (AIS seeds from ``random_state`` when it is an int, 0
        otherwise).  AIS can take seconds to minutes on a large model; with
        ``verbose`` set it prints its progress and an estimate of the time
        left, as training prints its epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        log_p : ndarray of shape (n_samples,)
            Log-likelihood of each row in nats.
        """
        free_energy = self.free_energy(X)
        return -free_energy - self.estimate_log_partition(
            self.log_partition_method, reverse=False
        )

    def score(self, X, y=None):
        """Mean log-likelihood of the rows of X in nats (higher is better).

        The default score of ``GridSearchCV`` and ``cross_val_score``: models
        are compared by held-out log-likelihood (see ``score_samples``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        score : float
            ``score_samples(X).mean()``.
        """
        return float(np.mean(self.score_samples(X)))

    def pseudo_log_likelihood(self, X):
        """The exact pseudo-log-likelihood of each row (discrete visible units).

        ``sum_i log p(v_i | v_-i) = sum_i log sigmoid(F(v with bit i flipped)
        - F(v))``, summed over every feature: exact and deterministic, with no
        partition function.  scikit-learn's ``BernoulliRBM.score_samples``
        returns ``n_features * log sigmoid(F(flip_i) - F(v))`` for one random
        bit ``i``, an unbiased one-bit estimate of this sum: its mean over
        the random bit equals this value.  Values strictly between 0 and 1
        are "flipped" to ``1 - v_i``, as scikit-learn does (spin units: values
        in [-1, 1] to ``-v_i``).  For categorical units the sum runs over the
        features, each feature's level against all of its levels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        pll : ndarray of shape (n_samples,)
            Pseudo-log-likelihood of each row in nats (float64).
        """
        check_is_fitted(self)
        if not self._units.discrete:
            raise TypeError(
                "pseudo_log_likelihood needs discrete visible units (binary, spin or "
                f"categorical); {type(self).__name__} has {self._units.name} units. Use "
                "score_samples for the log-likelihood instead."
            )
        X = self._validate_X(X, reset=False)
        return self._map_chunks(
            X,
            lambda layer, v: layer.units.pseudo_log_likelihood(layer.bk, layer.params, v),
            np.float64,
        )
