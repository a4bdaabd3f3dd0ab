"""The RBM estimator every model shares.

Parameters, validation, the training loop (CD-k / PCD-k with momentum, weight
decay and per-epoch reshuffling), sampling and scoring live here.  What
depends on the kind of visible unit is delegated to ``self._units`` (see
:mod:`skebm._units`); what depends on NumPy versus torch is delegated to a
backend (see :mod:`skebm._backend`).  The loop never knows which units it
trains or where the arrays live.
"""

import hashlib
import mmap
import os
import sys
import weakref
from contextlib import contextmanager
import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import cpu_count
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._backend import make_backend, resolve_device
from ._early_stopping import EarlyStopping as _EarlyStopping
from ._exceptions import DivergenceError
from ._transaction import Transaction
from ._optim import SGD
from ._samplers import SAMPLERS
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

#: rows handled at once by transform, free energy and scoring (bounds memory)
_CHUNK_ROWS = 4096
#: elements of the (rows, features, hidden) block of pseudo_log_likelihood
_FLIP_BLOCK = 2**22
#: rows of the training (and validation) data monitored at the end of an epoch
_MONITOR_ROWS = 1000
#: rows converted to float64 at once for the feature statistics (about 3 MB)
_STATS_ROWS = 512
#: with held-out rows, the per-epoch monitor also reports log-likelihoods when
#: the exact log Z costs at most this many unit-state terms (enumerated
#: states times the units of the other layer: 2**16 hidden states of an
#: 8x8 image, about 0.1 s), so that monitoring never dominates an epoch
_MONITOR_EXACT_COST = 2**22
#: rows of each chunk that partial_fit's record describes (a few products of
#: this many rows: under 1% of a pass over a chunk of thousands)
_PARTIAL_FIT_MONITOR_ROWS = 100
#: a chunk whose feature means lie this many standard deviations from those
#: seen before counts as "far outside the range seen so far"
_FAR_OUTSIDE_SIGMAS = 10.0


#: estimators that have warned about out-of-range data since they were last
#: fitted (kept outside the estimator, whose attributes transform must not touch)
_RANGE_WARNED = weakref.WeakSet()


def _caller_stacklevel():
    """The ``stacklevel`` that points a warning at the user's line.

    Counted from the function that calls ``warnings.warn``: frames in skebm
    and in scikit-learn (its ``fit`` wrappers, ``Pipeline``, searches) are
    skipped, so the warning names the line in the user's code, however deep
    inside the package it was raised.
    """
    inside = tuple(
        os.path.dirname(os.path.abspath(module.__file__)) + os.sep
        for module in (sys.modules[__package__], sys.modules["sklearn"])
    )
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(inside):
        frame, level = frame.f_back, level + 1
    return level


class BaseRBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Shared machinery of the RBM estimators; not for direct use."""

    #: a :class:`skebm._units.VisibleUnits` instance, set by each model
    _units = None
    #: the hook of models that learn from something else than the rows given:
    #: ``_batch_transform(bk, batch)`` rewrites each mini-batch in place before
    #: its update (a DBN's upper layers draw binary states); None leaves it
    _batch_transform = None
    #: weights (``_largest_scaled_weight``) beyond which training counts as diverged:
    #: a weight of 100 moves a binary unit's log-odds by 100, saturating every
    #: conditional it touches (sigmoid(100) = 1 - 4e-44); no usable model comes
    #: near, while a run that blows up passes it long before it overflows
    _max_scaled_weight = 1e2

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "method": [StrOptions(SAMPLERS.keys())],  # a live view: registered samplers count
        "n_gibbs_steps": [Interval(Integral, 1, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "n_chains": [Interval(Integral, 1, None, closed="left"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "device": [str, None],
        "n_jobs": [
            Interval(Integral, None, -1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "log_partition_method": [StrOptions({"auto", "exact", "ais"})],
        "ais_n_chains": [Interval(Integral, 2, None, closed="left")],
        "ais_n_betas": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(
        self,
        n_components=256,
        *,
        learning_rate=0.1,
        batch_size=10,
        n_iter=10,
        method="pcd",
        n_gibbs_steps=1,
        momentum=0.0,
        weight_decay=0.0,
        n_chains=None,
        validation_fraction=None,
        early_stopping=False,
        n_iter_no_change=10,
        tol=1e-3,
        device=None,
        n_jobs=None,
        warm_start=False,
        verbose=0,
        random_state=None,
        log_partition_method="auto",
        ais_n_chains=DEFAULT_N_CHAINS,
        ais_n_betas=DEFAULT_N_BETAS,
    ):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.method = method
        self.n_gibbs_steps = n_gibbs_steps
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.n_chains = n_chains
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.n_jobs = n_jobs
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self.log_partition_method = log_partition_method
        self.ais_n_chains = ais_n_chains
        self.ais_n_betas = ais_n_betas

    # ------------------------------------------------------------------------
    # tags, names
    # ------------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    # ------------------------------------------------------------------------
    # parameters as a dict <-> fitted attributes
    # ------------------------------------------------------------------------
    def _fitted_params(self):
        """The fitted parameters as a dict of NumPy arrays (unit-math keys)."""
        return {
            "W": self.components_,
            "a": self.intercept_visible_,
            "b": self.intercept_hidden_,
        }

    def _set_fitted_params(self, params):
        """Publish a dict of NumPy parameters as the fitted attributes."""
        self.components_ = params["W"]
        self.intercept_visible_ = params["a"]
        self.intercept_hidden_ = params["b"]

    def _device_params(self, bk, params=None):
        params = self._fitted_params() if params is None else params
        return {key: bk.asarray(value) for key, value in params.items()}

    # ------------------------------------------------------------------------
    # input handling
    # ------------------------------------------------------------------------
    def _validate_X(self, X, *, reset, stream=False):
        """Validate X; with ``stream``, a dask array stays lazy.

        A streamed dask array is checked here for what its metadata tells
        (dimensions, dtype, width); its values are checked block by block as
        :func:`_row_blocks` computes them.  Without ``stream`` it is computed.
        """
        if _is_dask_array(X):
            if stream:
                return self._validate_dask(X, reset=reset)
            X = X.compute()
        with _explain_strings(type(self).__name__):
            X = validate_data(
                self,
                X,
                accept_sparse="csr",
                dtype=(np.float64, np.float32),
                reset=reset,
            )
        message = self._units.range_message(X)
        if reset:
            _RANGE_WARNED.discard(self)
        if message is not None and self not in _RANGE_WARNED:
            _RANGE_WARNED.add(self)
            warnings.warn(message, UserWarning, stacklevel=_caller_stacklevel())
        return X

    def _validate_dask(self, X, *, reset):
        name = type(self).__name__
        if X.ndim != 2:
            raise ValueError(
                f"Expected a 2D dask array of shape (n_samples, n_features), got "
                f"{X.ndim}D with shape {X.shape}; reshape it, e.g. "
                "X.reshape(-1, n_features)."
            )
        if any(np.isnan(size) for size in X.shape):
            raise ValueError(
                f"The dask array has unknown chunk sizes (shape {X.shape}); call "
                f"X.compute_chunk_sizes() before passing it to {name}."
            )
        if X.dtype.kind not in "biuf":
            raise ValueError(
                f"dask array of dtype {X.dtype} is not numeric; {name} needs "
                "numbers: convert it with X.astype(float)."
            )
        if X.shape[0] == 0:
            raise ValueError(
                f"Found array with 0 sample(s) (shape={X.shape}) while a minimum "
                f"of 1 is required by {name}."
            )
        _check_feature_names(self, X, reset=reset)
        _check_n_features(self, X, reset=reset)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        # whole rows per block: blocks are what training and inference fetch
        return X.rechunk({1: -1})

    def _n_threads(self):
        """Parallel row blocks of a NumPy training step and of AIS.

        None is 1 even inside a ``joblib.parallel_config`` context: the
        number of blocks changes the random draws, and a fit must give the
        same model whichever joblib backend runs it (a search's workers).
        """
        if self.n_jobs is None:
            return 1
        if self.n_jobs < 0:
            return max(1, cpu_count() + 1 + self.n_jobs)
        return self.n_jobs

    def _inference_backend(self, dtype, seed=None, n_threads=1):
        """A backend for inference: the model's device, NumPy if it is gone.

        A model fitted on a GPU and loaded where there is none still works:
        it warns and falls back to NumPy instead of failing.
        """
        try:
            device = resolve_device(self.device)
        except (ImportError, ValueError) as exc:
            warnings.warn(
                f"{exc} Falling back to NumPy for this call; set device=None to "
                "silence this warning.",
                UserWarning,
                stacklevel=3,
            )
            device = None
        return make_backend(device, dtype, seed=seed, n_threads=n_threads)

    @staticmethod
    def _dense_rows(X, rows):
        """Rows of X (an index array or slice) as a dense array."""
        block = X[rows]
        if sp.issparse(block):
            block = block.toarray()
        return np.asarray(block)

    def _map_chunks(self, X, func, dtype):
        """Apply ``func(bk, params, dense_chunk)`` chunk by chunk; stack results."""
        bk = self._inference_backend(dtype)
        params = self._device_params(bk)
        out = []
        for block in _row_blocks(X):
            out.append(bk.to_numpy(func(bk, params, bk.asarray(block))))
        return np.concatenate(out, axis=0)

    # ------------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to the data X.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data.  A dask array is streamed: each epoch computes its
            row blocks one at a time, in a random order, and shuffles the rows
            within each block, so it is never held in memory whole.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted model.

        Notes
        -----
        A call that is rejected (bad data, device or settings, or
        ``DivergenceError``) leaves the estimator exactly as it was before
        the call, ``n_features_in_`` included.  A ``KeyboardInterrupt``
        (Ctrl-C) after at least one epoch has completed keeps the model as it
        was at the end of the last completed epoch (parameters, persistent
        chains and momentum together, ``n_iter_`` epochs), resumable with
        ``partial_fit``, and is then re-raised; an interrupt before that
        leaves the estimator as it was before the call.
        """
        with Transaction(self) as transaction:
            warm = self.warm_start and hasattr(self, "components_")
            fitted_shape = self.components_.shape if warm else None
            X = self._validate_X(X, reset=True, stream=True)
            if warm:
                self._check_continuable(fitted_shape, X.shape[1], "warm_start=True")
            device = resolve_device(self.device)
            seeds = check_random_state(self.random_state).randint(0, 2**31 - 1, size=3)
            X_train, train_rows, X_val = self._split_validation(
                X, np.random.default_rng(seeds[0])
            )
            dtype = self.components_.dtype if warm else X.dtype
            bk = make_backend(device, dtype, seed=seeds[1], n_threads=self._n_threads())
            stats = _column_stats(X_train, train_rows)
            if warm:
                params, state = self._resume_state(bk, stats, X_train, train_rows)
            else:
                params, state = self._new_state(
                    bk, stats, dtype, np.random.default_rng(seeds[2]), X_train, train_rows
                )
            self.random_state_ = np.random.RandomState(seeds[2])
            self._set_stats(stats)
            self._publish(bk, params, state)
            self._train_epochs(
                bk, params, state, X_train, X_val, self.n_iter, train_rows, transaction
            )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Fit the model to one chunk of data, in mini-batches of ``batch_size``.

        The persistent chains, momentum and feature statistics carry over from
        call to call, so streaming a data set through ``partial_fit`` one chunk
        at a time trains like one pass of ``fit`` without the reshuffling.
        Each call counts as one iteration: ``n_iter_`` grows by one and
        ``history_`` gets a record of the chunk.  Chunks may be slices of a
        ``numpy.memmap`` or a dask array (whose blocks are computed one at a
        time), so data larger than memory trains in bounded memory.

        A call that fails or is interrupted (``KeyboardInterrupt``) leaves the
        model exactly as it was before the call, random state included, and
        re-raises: a chunk is applied whole or not at all.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The updated model.
        """
        with Transaction(self):
            first_call = not hasattr(self, "components_")
            # _fit_context skips this once fitted, but set_params may have run since
            self._validate_params()
            if self.early_stopping:
                raise ValueError(
                    "early_stopping=True needs held-out data to monitor, and "
                    "partial_fit holds none out: set early_stopping=False, or "
                    "call fit with validation_fraction set."
                )
            fitted_shape = None if first_call else self.components_.shape
            X = self._validate_X(X, reset=first_call, stream=True)
            if not first_call:
                self._check_continuable(fitted_shape, X.shape[1], "partial_fit")
            device = resolve_device(self.device)
            if first_call:
                self.random_state_ = check_random_state(self.random_state)
                if not isinstance(self.random_state_, np.random.RandomState) or (
                    self.random_state_ is np.random.mtrand._rand
                ):
                    self.random_state_ = np.random.RandomState(
                        self.random_state_.randint(0, 2**31 - 1)
                    )
            seed = self.random_state_.randint(0, 2**31 - 1)
            dtype = X.dtype if first_call else self.components_.dtype
            bk = make_backend(device, dtype, seed=seed, n_threads=self._n_threads())
            start = time.perf_counter()
            stats = _column_stats(X)
            if first_call:
                # a stream of its own: the backend draws from ``seed`` itself
                init_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
                params, state = self._new_state(bk, stats, dtype, init_rng, X)
                self._set_stats(stats)
            else:
                seen = self._feature_stats()
                self._merge_stats(stats)
                params, state = self._resume_state(bk, self._feature_stats(), X)
            with bk.threads():
                if _is_dask_array(X):
                    self._train_blocks(bk, params, state, X, shuffle=False)
                else:
                    self._train_batches(bk, params, state, X, order=np.arange(X.shape[0]))
            self._check_divergence(bk, params, X, None if first_call else seen)
            self._publish(bk, params, state)
            self.n_iter_ += 1
            record = self._monitor(bk, params, _head_rows(X, _PARTIAL_FIT_MONITOR_ROWS), None)
            record = {
                "epoch": self.n_iter_, "time": time.perf_counter() - start,
                "n_samples": int(X.shape[0]), **record,
            }  # fmt: skip
            self.history_.append(record)
            if self.verbose:
                print(_format_record(self._progress_label(), record, None))
        return self

    def _check_continuable(self, fitted_shape, n_features, how):
        """Raise when the fitted model cannot continue on data of this width."""
        n_hidden, n_fitted_features = fitted_shape
        if self.n_components != n_hidden:
            raise ValueError(
                f"n_components={self.n_components} differs from the {n_hidden} "
                f"hidden units of the fitted model, which {how} continues; call fit "
                "(with warm_start=False) to start a new model."
            )
        if n_features != n_fitted_features:
            raise ValueError(
                f"X has {n_features} features, but the fitted model, which {how} "
                f"continues, has {n_fitted_features}; call fit (with "
                "warm_start=False) to start a new model."
            )

    def _new_state(self, bk, stats, dtype, rng, X, rows=None):
        """Training state of a new model: initial parameters, no velocity, fresh chains.

        Starts the record of the run, too (``n_iter_`` 0, empty ``history_``).
        """
        params = self._device_params(bk, self._initial_params(stats, dtype, rng))
        state = {
            "velocity": {key: bk.zeros(value.shape) for key, value in params.items()},
            "chains": self._initial_chains(bk, params, X, rows),
        }
        self.history_ = []
        self.n_iter_ = 0
        return params, state

    def _resume_state(self, bk, stats, X, rows=None):
        """Training state from the fitted attributes, to continue training.

        Copies: training updates in place, and the fitted arrays must stay as
        they are until the call completes.  Statistics the units derive from
        the data (e.g. a fixed sigma) follow ``stats``; chains are drawn
        anew when ``n_chains`` has changed since.
        """
        params = {k: bk.copy(v) for k, v in self._fitted_params().items()}
        self._units.follow_stats(bk, params, stats)
        state = {"velocity": {k: bk.copy(v) for k, v in self._velocity.items()}}
        n_chains = self.n_chains if self.n_chains is not None else self.batch_size
        if self.h_samples_.shape[0] != n_chains:
            state["chains"] = self._initial_chains(bk, params, X, rows)
        else:
            state["chains"] = bk.copy(self.h_samples_)
        return params, state

    def _initial_params(self, stats, dtype, rng):
        """Hinton's initialisation: small random weights, log-odds visible biases."""
        n_features = stats["mean"].shape[0]
        params = {
            "W": rng.normal(0.0, 0.01, size=(self.n_components, n_features)),
            "b": np.zeros(self.n_components),
        }
        params.update(self._units.initial_params(stats, self.n_components, rng))
        return {key: np.asarray(value, dtype=dtype) for key, value in params.items()}

    def _initial_chains(self, bk, params, X, rows=None):
        """Persistent chains start from hidden samples driven by random data rows.

        ``rows`` (sorted indices) restricts the choice to those rows of X.
        """
        n_chains = self.n_chains if self.n_chains is not None else self.batch_size
        n_rows = X.shape[0] if rows is None else len(rows)
        picks = bk.permutation(n_rows)[:n_chains]
        picks = np.resize(picks, n_chains)  # repeat rows when the data is smaller
        if rows is not None:
            picks = rows[picks]
        v = bk.asarray(self._dense_rows(X, np.sort(picks)))
        return bk.bernoulli(self._units.mean_hidden(bk, params, v))

    def _set_stats(self, stats):
        """Publish the feature statistics of the rows seen (partial_fit merges them)."""
        self.n_samples_seen_ = stats["n_samples"]
        self.feature_mean_ = stats["mean"]
        self.feature_var_ = stats["var"]

    def _feature_stats(self):
        return {
            "mean": self.feature_mean_,
            "var": self.feature_var_,
            "n_samples": self.n_samples_seen_,
        }

    def _merge_stats(self, stats):
        """Combine running feature mean/variance with a new chunk's (Chan et al.)."""
        n_old, n_new = self.n_samples_seen_, stats["n_samples"]
        total = n_old + n_new
        delta = stats["mean"] - self.feature_mean_
        mean = self.feature_mean_ + delta * (n_new / total)
        m2 = (
            self.feature_var_ * n_old
            + stats["var"] * n_new
            + delta**2 * (n_old * n_new / total)
        )
        self._set_stats({"mean": mean, "var": m2 / total, "n_samples": total})

    def _split_validation(self, X, rng):
        """``(X_train, train_rows, X_val)``: the training rows and the held-out ones.

        X is not copied: ``train_rows`` are the sorted indices of the training
        rows of X (None: all of them), and ``X_val`` holds at most
        ``_MONITOR_ROWS`` held-out rows, all that monitoring reads.  A dask
        array is split lazily instead (``train_rows`` None).
        """
        if self.validation_fraction is None:
            if self.early_stopping:
                raise ValueError(
                    "early_stopping=True needs held-out data to monitor: set "
                    "validation_fraction, e.g. validation_fraction=0.1."
                )
            return X, None, None
        n_samples = X.shape[0]
        n_val = max(1, int(round(self.validation_fraction * n_samples)))
        if n_val >= n_samples:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves no training "
                f"rows out of {n_samples}; use a smaller fraction or more data."
            )
        order = rng.permutation(n_samples)
        train_rows, val_rows = np.sort(order[n_val:]), np.sort(order[:n_val])
        if _is_dask_array(X):
            return X[train_rows], None, X[val_rows]
        return X, train_rows, self._dense_rows(X, val_rows[:_MONITOR_ROWS])

    def _train_epochs(self, bk, params, state, X_train, X_val, n_epochs, rows, transaction):
        """The epochs of fit over X_train, or over its rows ``rows`` (sorted indices).

        Each completed epoch is a ``transaction`` checkpoint, so Ctrl-C keeps
        the last one.  With ``early_stopping`` the best epoch's state is
        restored at the end (``best_epoch_``).
        """
        rng = bk.rng if bk.name == "numpy" else np.random.default_rng(
            int(bk.permutation(2**20)[0])
        )
        n_rows = X_train.shape[0] if rows is None else len(rows)
        monitor_rows = np.sort(rng.permutation(n_rows)[: min(n_rows, _MONITOR_ROWS)])
        if rows is not None:
            monitor_rows = rows[monitor_rows]
        X_monitor = self._dense_rows(X_train, monitor_rows)
        if X_val is not None and X_val.shape[0] > _MONITOR_ROWS:
            X_val = X_val[:_MONITOR_ROWS]
        X_resident = self._resident(bk, X_train)
        stopper = _EarlyStopping(self) if self.early_stopping else None
        self.best_epoch_ = None
        first_epoch, last_epoch = self.n_iter_ + 1, self.n_iter_ + n_epochs
        with bk.threads():
            for epoch in range(first_epoch, last_epoch + 1):
                start = time.perf_counter()
                if _is_dask_array(X_resident):
                    self._train_blocks(bk, params, state, X_resident, shuffle=True)
                else:
                    order = bk.permutation(n_rows)
                    if rows is not None:
                        order = rows[order]
                    self._train_batches(bk, params, state, X_resident, order)
                self._check_divergence(bk, params, X_monitor)
                self._publish(bk, params, state)
                self.n_iter_ = epoch
                record = self._monitor(bk, params, X_monitor, X_val)
                record = {"epoch": epoch, "time": time.perf_counter() - start, **record}
                self.history_.append(record)
                if self.verbose:
                    print(_format_record(self._progress_label(), record, last_epoch))
                stop = stopper is not None and stopper.update(record)
                transaction.checkpoint()
                if stop:
                    break
        if stopper is not None:
            stopper.restore_best()

    def _progress_label(self):
        """The tag of progress lines (a DBN sets it to name the layer)."""
        return getattr(self, "_layer_label", None) or type(self).__name__

    def _resident(self, bk, X):
        """X as the training loop reads it: on the device where that pays.

        The torch CPU backend shares the memory of an in-memory array (no
        copy); an accelerator gets a copy when X takes at most a quarter of
        its free memory (and 1 GiB), so that batches are gathered there.
        Memory maps, sparse matrices, dask arrays and anything else stream
        from the host one batch at a time.
        """
        if (
            bk.name != "torch"
            or not isinstance(X, np.ndarray)
            or _is_memory_mapped(X)
            or X.dtype != bk.np_dtype
        ):
            return X
        if bk.device.type == "cpu":
            if X.flags.c_contiguous and X.flags.writeable:
                return bk.torch.from_numpy(X)
            return X
        if X.nbytes <= min(2**30, bk.free_memory() // 4):
            return bk.asarray(X)
        return X

    def _train_blocks(self, bk, params, state, X, shuffle):
        """One pass over a dask array, one computed row block at a time.

        With ``shuffle`` the blocks come in a random order and the rows of
        each block are shuffled; batches do not cross block boundaries.
        """
        n_blocks = X.numblocks[0]
        block_order = bk.permutation(n_blocks) if shuffle else np.arange(n_blocks)
        for block in _row_blocks(X, block_order):
            n_rows = block.shape[0]
            order = bk.permutation(n_rows) if shuffle else np.arange(n_rows)
            self._train_batches(bk, params, state, block, order)

    def _train_batches(self, bk, params, state, X, order):
        """One pass over the rows ``order`` of X, ``batch_size`` rows per update."""
        batch_size = self.batch_size
        on_device = bk.name == "torch" and isinstance(X, bk.torch.Tensor)
        if on_device:
            order = bk.torch.as_tensor(order, device=X.device)  # one copy per pass
        n_batches = -(-len(order) // batch_size)
        report_every = max(1, n_batches // 10) if self.verbose > 1 else 0
        begin = time.perf_counter()
        for batch, start in enumerate(range(0, len(order), batch_size), start=1):
            rows = order[start : start + batch_size]
            if not on_device:
                rows = np.sort(rows)  # sequential reads from memory maps
            buffers = self._step_buffers(bk, state, len(rows), X.shape[1])
            bk.gather_rows(X, rows, out=buffers.data)
            self._train_step(bk, params, state, buffers, len(rows) / batch_size)
            if report_every and (batch % report_every == 0 or batch == n_batches):
                elapsed = time.perf_counter() - begin
                print(
                    f"[{self._progress_label()}]   batch {batch}/{n_batches}  "
                    f"{elapsed:.2f}s  {min(start + batch_size, len(order)) / elapsed:.0f} rows/s"
                )

    def _step_buffers(self, bk, state, n_rows, n_visible):
        """The work arrays of an update from ``n_rows`` rows, made once per fit."""
        cache = state.setdefault("buffers", {})
        if n_rows not in cache:
            sampler = SAMPLERS[self.method]
            cache[n_rows] = _StepBuffers(
                bk,
                n_rows,
                sampler.n_negative(state["chains"].shape[0], n_rows),
                n_visible,
                self.n_components,
                hidden_sample=not sampler.persistent,
            )
        return cache[n_rows]

    def _train_step(self, bk, params, state, buffers, step_scale):
        """One update from the mini-batch in ``buffers.data``.

        ``step_scale`` is the batch's share of a full batch, so that a short
        last batch moves the parameters in proportion to the data it holds.
        Everything happens in the preallocated ``buffers``: the batch goes
        through ``_batch_transform``, the sampler named by ``method`` fills
        the negative phase (:mod:`skebm._samplers`), and ``_apply_update``
        takes the step.
        """
        if self._batch_transform is not None:
            self._batch_transform(bk, buffers.data)
        SAMPLERS[self.method].step(
            bk, self._units, params, state["chains"], buffers, self.n_gibbs_steps
        )
        self._apply_update(bk, params, state, buffers, step_scale)

    def _apply_update(self, bk, params, state, buffers, step_scale):
        """Move the parameters along the gradient estimate held in ``buffers``.

        The weight gradient, mean(h v_w^T) over the data rows minus over the
        chains (``v_w`` the units' ``weight_gradient_visible``), is one
        product of the stacked arrays, ``hidden`` with its rows weighted
        +1/n_data and -1/n_chains, added straight into the weights (or the
        velocity), for every unit type, by the optimiser (:mod:`skebm._optim`).
        ``units.gradients`` is the same step written out, the reference the
        tests hold this one to.
        """
        units = self._units
        optimizer = state.get("optimizer")
        if optimizer is None:
            optimizer = state["optimizer"] = SGD(
                self.learning_rate, self.momentum, self.weight_decay
            )
        velocity = state["velocity"]
        phases = (buffers.data, buffers.data_hidden, buffers.chain_visible, buffers.chain_hidden)
        grads = units.visible_gradients(bk, params, *phases)
        grads["b"] = optimizer.fused_weight_step(
            bk,
            params,
            velocity,
            buffers.hidden,
            buffers.row_weights,
            units.weight_gradient_visible(bk, params, buffers.visible),
            step_scale,
        )
        optimizer.update_params(bk, params, velocity, grads, step_scale)
        units.clip_params(bk, params)

    def _largest_scaled_weight(self, bk, params):
        """max |W_ji| in the units that decide saturation (log-odds for binary units)."""
        weights = bk.to_numpy(params["W"])
        # max and min rather than abs: no temporary copy of the weights
        return float(max(weights.max(initial=0.0), -weights.min(initial=0.0)))

    def _divergence_problem(self, bk, params):
        """``(what has blown up, whether every parameter is still finite)`` or None."""
        for key, value in params.items():
            if not bk.all_finite(value):
                return f"parameter {key!r} became non-finite", False
        largest = self._largest_scaled_weight(bk, params)
        if largest > self._max_scaled_weight:
            return (
                f"the weights grew to {largest:.3g} (max |W_ji|{self._weight_scale_name()}; "
                f"bound {self._max_scaled_weight:g})"
            ), True
        return None

    def _weight_scale_name(self):
        return ""

    def _divergence_advice(self):
        return (
            "a learning_rate too large for this model: use a smaller one (e.g. "
            f"{self.learning_rate / 10:g})"
        )

    def _check_divergence(self, bk, params, X, seen=None):
        """Raise ``DivergenceError`` naming the likely cause when training blew up.

        ``X`` holds rows just trained on; when they lie far from ``seen`` (the
        feature statistics of the rows seen before this call), that is named
        as the cause, before the learning rate.  Data outside the range the
        units model (already warned about when it was passed) makes finite
        weights grow without bound by construction, and only warns.
        """
        found = self._divergence_problem(bk, params)
        if found is None:
            return
        problem, finite = found
        stats = _column_stats(_head_rows(X, _MONITOR_ROWS))
        range_hint = self._units.range_hint(stats)
        if range_hint and finite:
            warnings.warn(
                f"{type(self).__name__}'s weights are growing without bound: "
                f"{range_hint}.",
                UserWarning,
                stacklevel=_caller_stacklevel(),
            )
            return
        causes = [self._divergence_advice()]
        data_hint = range_hint or self._shift_hint(stats, seen)
        if data_hint:
            causes.insert(0, data_hint)
        raise DivergenceError(
            f"Training of {type(self).__name__} diverged: {problem} at "
            f"learning_rate={self.learning_rate}. Likely cause: "
            + "; or ".join(causes)
            + ". The model was left as it was before this call."
        )

    @staticmethod
    def _shift_hint(stats, seen):
        """'data far outside the range seen so far' when it is, else ''."""
        if seen is None:
            return ""
        scale = np.sqrt(np.maximum(seen["var"], 1e-12))
        shift = float(np.max(np.abs(stats["mean"] - seen["mean"]) / scale))
        if shift <= _FAR_OUTSIDE_SIGMAS:
            return ""
        return (
            f"data far outside the range seen so far (feature means up to "
            f"{shift:.3g} standard deviations from those of the rows seen "
            "before): scale new data as the training data was"
        )

    def _publish(self, bk, params, state):
        """Copy the training state into the fitted (NumPy) attributes."""
        self._set_fitted_params({k: bk.to_numpy(v).copy() for k, v in params.items()})
        self.h_samples_ = bk.to_numpy(state["chains"]).copy()
        self._velocity = {k: bk.to_numpy(v).copy() for k, v in state["velocity"].items()}

    def _monitor(self, bk, params, X_monitor, X_val):
        """Per-epoch figures: reconstruction error, mean free energy, the gap.

        With held-out rows, and where the exact log Z is cheap (at most
        ``_MONITOR_EXACT_COST`` terms), also the mean log-likelihood of the
        monitored training rows and of the held-out ones.
        """
        units = self._units
        v = bk.asarray(X_monitor)
        h = units.mean_hidden(bk, params, v)
        recon = units.mean_visible(bk, params, h)
        record = {
            "reconstruction_error": bk.item(((v - recon) ** 2).sum(axis=1).mean()),
            "free_energy": bk.item(units.free_energy(bk, params, v).mean()),
        }
        if X_val is not None:
            v_val = bk.asarray(self._dense_rows(X_val, slice(None)))
            record["validation_free_energy"] = bk.item(
                units.free_energy(bk, params, v_val).mean()
            )
            # F(val) - F(train) = log p(train) - log p(val): Z cancels, so a
            # growing gap is over-fitting that needs no partition function.
            record["free_energy_gap"] = (
                record["validation_free_energy"] - record["free_energy"]
            )
        if X_val is not None and _exact_log_partition_cost(units, params) <= _MONITOR_EXACT_COST:
            host = make_backend(None, np.float64)
            log_z = exact_log_partition(
                units, host, {k: host.asarray(bk.to_numpy(p)) for k, p in params.items()}
            )
            record["log_likelihood"] = -record["free_energy"] - log_z
            record["validation_log_likelihood"] = -record["validation_free_energy"] - log_z
        return record

    # ------------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------------
    def transform(self, X):
        """Hidden-unit activation probabilities P(h = 1 | v).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        h : ndarray of shape (n_samples, n_components)
            P(h_j = 1 | v), in the dtype of X.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._map_chunks(
            X, lambda bk, p, v: self._units.mean_hidden(bk, p, v), X.dtype
        )

    def inverse_transform(self, H):
        """The mean reconstruction E[v | h] of hidden vectors.

        Parameters
        ----------
        H : array-like of shape (n_samples, n_components)
            Hidden states or probabilities (e.g. the output of ``transform``).

        Returns
        -------
        v : ndarray of shape (n_samples, n_features)
            E[v | h].
        """
        check_is_fitted(self)
        with _explain_strings(type(self).__name__):
            H = check_array(H, dtype=(np.float64, np.float32), input_name="H")
        if H.shape[1] != self.n_components:
            raise ValueError(
                f"H has {H.shape[1]} columns, but {type(self).__name__} has "
                f"{self.n_components} hidden units; pass the output of transform."
            )
        return self._map_chunks(
            H, lambda bk, p, h: self._units.mean_visible(bk, p, h), H.dtype
        )

    def gibbs(self, v):
        """One block-Gibbs step: sample h ~ p(h | v), then v' ~ p(v | h).

        The draws come from the fitted ``random_state_``, so successive calls
        continue one random stream.

        Parameters
        ----------
        v : array-like of shape (n_samples, n_features)
            Visible vectors to start from.

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features)
            The visible vectors after one step, in the dtype of v.
        """
        check_is_fitted(self)
        X = self._validate_X(v, reset=False)
        bk = self._inference_backend(X.dtype, seed=self.random_state_.randint(2**31 - 1))
        params = self._device_params(bk)
        out = [
            bk.to_numpy(self._units.gibbs_step(bk, params, bk.asarray(block))[0])
            for block in _row_blocks(X)
        ]
        return np.concatenate(out, axis=0)

    def sample(self, n_samples=1, *, n_steps=1000, random_state=None):
        """Draw visible vectors from the model by block-Gibbs sampling.

        Each of the ``n_samples`` chains starts from an independent draw of the
        visible units given all hidden units off, p(v | h = 0), and runs
        ``n_steps`` full Gibbs steps (the burn-in); the visible state after the
        last step is returned.  Chains are independent, so the rows are
        independent draws, each approximately from the model for large
        ``n_steps``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of vectors (chains).
        n_steps : int, default=1000
            Gibbs steps run by every chain before its state is returned.
        random_state : int, RandomState instance or None, default=None
            Seed of the chains; None draws one from the fitted ``random_state_``.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        if not isinstance(n_steps, Integral) or n_steps < 0:
            raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}.")
        rng = self.random_state_ if random_state is None else check_random_state(random_state)
        bk = self._inference_backend(self.components_.dtype, seed=rng.randint(2**31 - 1))
        params = self._device_params(bk)
        units = self._units
        v = units.sample_visible(bk, params, bk.zeros((n_samples, self.n_components)))
        for _ in range(n_steps):
            v, _ = units.gibbs_step(bk, params, v)
        return bk.to_numpy(v)

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
            X, lambda bk, p, v: self._units.free_energy(bk, p, v), np.float64
        )

    def _params_fingerprint(self):
        digest = hashlib.blake2b(digest_size=16)
        for key, value in sorted(self._fitted_params().items()):
            digest.update(key.encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        return digest.hexdigest()

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
        """
        check_is_fitted(self)
        settings = self._log_partition_settings(method, n_chains, n_betas, random_state)
        if reverse_start is not None:
            reverse_start = self._dense_rows(
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
        self._log_partition_key = (self._params_fingerprint(), settings)
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
                f"method='exact' needs a layer of at most {MAX_EXACT_UNITS} "
                f"enumerable units; this model has {n_hidden} hidden and "
                f"{n_visible} visible units. Use method='ais' (or 'auto')."
            )
        if method == "exact" or (method == "auto" and exact_layer is not None):
            return ("exact",)
        n_chains = self.ais_n_chains if n_chains is None else n_chains
        n_betas = self.ais_n_betas if n_betas is None else n_betas
        for name, value in (("n_chains", n_chains), ("n_betas", n_betas)):
            if not isinstance(value, Integral) or isinstance(value, bool) or value < 2:
                raise ValueError(f"{name} must be an integer >= 2, got {value!r}.")
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
            lambda bk, p, h: self._units.mean_visible(bk, p, h),
            np.float64,
        )[0]
        return {"mean": mean, "var": np.ones_like(mean), "n_samples": 1}

    def _cached_log_partition(self):
        """log Z for ``score_samples``: recomputed when the parameters or settings change.

        The key holds a hash of every fitted parameter and the AIS settings,
        so fit, partial_fit, set_params and weights edited in place all lead
        to a fresh estimate.
        """
        settings = self._log_partition_settings(
            self.log_partition_method, None, None, None
        )
        if getattr(self, "_log_partition_key", None) != (
            self._params_fingerprint(),
            settings,
        ):
            self.estimate_log_partition(self.log_partition_method, reverse=False)
        return self.log_partition_

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
        otherwise).

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
        return -free_energy - self._cached_log_partition()

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
        """The exact pseudo-log-likelihood of each row (binary visible units).

        ``sum_i log p(v_i | v_-i) = sum_i log sigmoid(F(v with bit i flipped)
        - F(v))``, summed over every feature: exact and deterministic, with no
        partition function.  scikit-learn's ``BernoulliRBM.score_samples``
        returns ``n_features * log sigmoid(F(flip_i) - F(v))`` for one random
        bit ``i``, an unbiased one-bit estimate of this sum: its mean over
        the random bit equals this value.  Values strictly between 0 and 1
        are "flipped" to ``1 - v_i``, as scikit-learn does.

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
                f"pseudo_log_likelihood needs binary visible units; "
                f"{type(self).__name__} has {self._units.name} units. Use "
                "score_samples for the log-likelihood instead."
            )
        X = self._validate_X(X, reset=False)
        return self._map_chunks(X, _pseudo_log_likelihood_rows, np.float64)


def _pseudo_log_likelihood_rows(bk, params, v):
    """Sum over bits of log sigmoid(F(flip_i) - F(v)) for binary visible units.

    Flipping bit i changes v_i by d_i = 1 - 2 v_i, the visible energy by
    -a_i d_i and every hidden pre-activation by d_i W[:, i], so all flips of a
    row cost one broadcast, not one matrix product per feature.  Rows go in
    small groups so the (rows, features, hidden) block stays near 32 MB.
    """
    W, a = params["W"], params["a"]
    n_hidden, n_features = W.shape
    group = max(1, _FLIP_BLOCK // (n_features * n_hidden))
    x = bk.matmul(v, W.T)
    x += params["b"]
    base_softplus = bk.softplus(x).sum(axis=1)
    out = []
    for start in range(0, v.shape[0], group):
        rows = slice(start, start + group)
        d = 1.0 - 2.0 * v[rows]
        flipped = x[rows][:, None, :] + d[:, :, None] * W.T[None, :, :]
        # F(v) - F(flip_i) = a_i d_i + sum_j softplus(flipped_ij) - sum_j softplus(x_j)
        gap = bk.softplus(flipped, out=flipped).sum(axis=2)
        gap -= base_softplus[rows][:, None]
        gap += a * d
        out.append(bk.log_sigmoid(-gap).sum(axis=1))
    return bk.concatenate(out)


class _StepBuffers:
    """The work arrays of one training update, allocated once per fit.

    ``visible`` stacks the mini-batch rows (``data``) over the chains' visible
    states (``chain_visible``) and ``hidden`` their P(h = 1 | v), so that one
    matrix product serves both phases and one more gives the whole weight
    gradient; ``row_weights`` (+1/n_data, -1/n_chains) turn it into the
    difference of the two means.
    """

    def __init__(self, bk, n_pos, n_neg, n_visible, n_hidden, hidden_sample):
        self.visible = bk.empty((n_pos + n_neg, n_visible))
        self.hidden = bk.empty((n_pos + n_neg, n_hidden))
        self.data, self.chain_visible = self.visible[:n_pos], self.visible[n_pos:]
        self.data_hidden, self.chain_hidden = self.hidden[:n_pos], self.hidden[n_pos:]
        weights = np.concatenate([np.full(n_pos, 1.0 / n_pos), np.full(n_neg, -1.0 / n_neg)])
        self.row_weights = bk.asarray(weights[:, None])
        # CD's hidden sample of the data rows, which starts its chains
        self.hidden_sample = bk.empty((n_pos, n_hidden)) if hidden_sample else None


def _is_memory_mapped(X):
    """Whether the memory of X belongs to a memory map (np.memmap or mmap)."""
    while X is not None:
        if isinstance(X, (np.memmap, mmap.mmap)):
            return True
        X = getattr(X, "base", None)
    return False


def _column_stats(X, rows=None):
    """Per-feature mean and variance (float64) of X, or of its rows ``rows``.

    A few hundred rows at a time, so that sparse, memory-mapped or dask X is
    never copied whole.
    """
    total = np.zeros(X.shape[1])
    total_sq = np.zeros(X.shape[1])
    if rows is None:
        blocks = _row_blocks(X)
    else:
        blocks = (
            BaseRBM._dense_rows(X, rows[start : start + _STATS_ROWS])
            for start in range(0, len(rows), _STATS_ROWS)
        )
    n_samples = 0
    for block in blocks:
        for start in range(0, block.shape[0], _STATS_ROWS):
            part = np.asarray(block[start : start + _STATS_ROWS], dtype=np.float64)
            total += part.sum(axis=0)
            total_sq += np.einsum("ij,ij->j", part, part)
        n_samples += block.shape[0]
    mean = total / n_samples
    var = np.maximum(total_sq / n_samples - mean**2, 0.0)
    return {"mean": mean, "var": var, "n_samples": n_samples}


@contextmanager
def _explain_strings(name):
    """Turn NumPy's "could not convert string to float" into a message with a fix."""
    try:
        yield
    except ValueError as exc:
        if "could not convert string" not in str(exc):
            raise
        raise ValueError(
            f"{name} needs numbers, but the input holds strings ({exc}). Encode "
            "categories first (e.g. with sklearn.preprocessing.OneHotEncoder) or "
            "convert numeric text with X.astype(float)."
        ) from exc


def _is_dask_array(X):
    """Whether X is a dask array, without importing dask when it is not one."""
    dask_array = sys.modules.get("dask.array")
    return dask_array is not None and isinstance(X, dask_array.Array)


def _row_blocks(X, block_order=None, rows_per_block=_CHUNK_ROWS):
    """Dense NumPy row blocks of X, one at a time, in order.

    A dask array yields its row blocks (in ``block_order`` if given), each
    computed only when it is needed and checked here, since the values of a
    lazy array are seen nowhere else; any other X yields slices of
    ``rows_per_block`` rows.
    """
    if _is_dask_array(X):
        if block_order is None:
            block_order = range(X.numblocks[0])
        for index in block_order:
            block = check_array(
                X.blocks[int(index)].compute(),
                accept_sparse="csr",
                dtype=X.dtype,
                input_name="X",
            )
            yield block.toarray() if sp.issparse(block) else block
        return
    for start in range(0, X.shape[0], rows_per_block):
        yield BaseRBM._dense_rows(X, slice(start, start + rows_per_block))


def _format_record(label, record, n_epochs):
    """One progress line; ``n_epochs`` None for partial_fit's open-ended count."""
    count = f"{record['epoch']}" if n_epochs is None else f"{record['epoch']}/{n_epochs}"
    parts = [
        f"[{label}] {'call' if n_epochs is None else 'epoch'} {count}",
        f"{record['time']:.2f}s",
        f"recon {record['reconstruction_error']:.4f}",
        f"F(train) {record['free_energy']:.3f}",
    ]
    if "free_energy_gap" in record:
        parts.append(f"F(val) {record['validation_free_energy']:.3f}")
        parts.append(f"gap {record['free_energy_gap']:.3f}")
    if "log_likelihood" in record:
        parts.append(f"LL(train) {record['log_likelihood']:.3f}")
    if "validation_log_likelihood" in record:
        parts.append(f"LL(val) {record['validation_log_likelihood']:.3f}")
    return "  ".join(parts)


def _exact_log_partition_cost(units, params):
    """Terms of the exact log Z: enumerated states times the other layer's units."""
    n_hidden, n_visible = params["W"].shape
    costs = [2.0**n_hidden * n_visible]
    if units.discrete:
        costs.append(2.0**n_visible * n_hidden)
    return min(costs)


def _head_rows(X, n_rows):
    """The first ``n_rows`` rows of X as a dense NumPy array (dask computed)."""
    head = X[:n_rows]
    if _is_dask_array(head):
        head = head.compute()
    if sp.issparse(head):
        head = head.toarray()
    return np.asarray(head)
