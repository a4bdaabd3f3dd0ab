"""The RBM estimator every model shares: the scikit-learn surface.

Parameters and their validation, the wiring of ``fit`` and ``partial_fit``
to the training core, and inference (``transform``, ``inverse_transform``);
the sampling methods come from :class:`~skebm._sampling.SamplingMixin`, the
likelihood ones from :class:`~skebm._likelihood.LikelihoodMixin`.  The
parts live elsewhere, each behind a stated contract: the unit math in
:mod:`skebm._units` (hidden-unit types in :data:`skebm._units.HIDDEN_UNITS`), NumPy
versus torch in :mod:`skebm._backend`, row sources in :mod:`skebm._data`,
the negative phase in :mod:`skebm._samplers`, the update rule in
:mod:`skebm._optim`, the loop, monitoring and early stopping in
:mod:`skebm._training`, rollback in :mod:`skebm._transaction` and log Z in
:mod:`skebm._partition`.
"""

import dataclasses
import warnings
import weakref

import numpy as np
from joblib import cpu_count
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_array,
    check_is_fitted,
    validate_data,
)

from . import _likelihood as likelihood
from . import _samplers as samplers
from . import _units as units
from ._backend import inference_backend, make_backend, resolve_device
from ._conditional import pandas_missing_as_nan
from ._data import (
    column_stats,
    is_dask_array,
    merge_stats,
    row_blocks,
    split_validation,
)
from ._exceptions import caller_stacklevel
from ._layer import CHAIN_ARRAYS, Layer, check_memory
from ._likelihood import LikelihoodMixin
from ._optim import OPTIMIZERS, SCHEDULES, Centering, Sparsity, make_optimizer
from . import _optim as optim
from ._optim import centering, schedules, sparsity
from ._parameters import (
    MODEL_PARAMETERS,
    RUN_PARAMETERS,
    constraints_of,
    declared_by,
    fill_attributes,
    fill_parameters,
    make_init,
)
from ._samplers import SAMPLERS, make_sampler
from ._sampling import SamplingMixin
from ._strings import explain_strings
from ._training import early_stopping
from ._training.early_stopping import EarlyStopping
from ._training.trainer import Trainer, initial_params
from ._transaction import Transaction
from ._units import HIDDEN_UNITS

#: every parameter of an RBM estimator, each declared once by the part it belongs to
RBM_PARAMETERS = (
    *MODEL_PARAMETERS,
    *units.PARAMETERS,
    *samplers.PARAMETERS,
    *declared_by(SAMPLERS.values()),
    *optim.PARAMETERS,
    *declared_by(OPTIMIZERS.values()),
    *schedules.PARAMETERS,
    *centering.PARAMETERS,
    *sparsity.PARAMETERS,
    *early_stopping.PARAMETERS,
    *likelihood.PARAMETERS,
    *RUN_PARAMETERS,
)

#: estimators that have warned about out-of-range data since they were last
#: fitted (kept outside the estimator, whose attributes transform must not touch)
_RANGE_WARNED = weakref.WeakSet()


class BaseRBM(
    SamplingMixin,
    LikelihoodMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Shared machinery of the RBM estimators; not for direct use."""

    #: a :class:`skebm._units.base.VisibleUnits` instance (or a property), set by each model
    _visible_units = None
    #: the hook of models that learn from something else than the rows given:
    #: ``_batch_transform(bk, batch)`` rewrites each mini-batch in place before
    #: its update (a DBN's upper layers draw binary states); None leaves it
    _batch_transform = None

    #: every parameter, each declared by its part (see :mod:`skebm._parameters`)
    _declared_parameters = RBM_PARAMETERS
    _parameter_constraints: dict = constraints_of(RBM_PARAMETERS)
    __init__ = make_init(RBM_PARAMETERS)

    def __init_subclass__(cls, **kwargs):
        """Give a subclass its parameters and its complete Parameters and Attributes sections.

        A subclass that declares ``_extra_parameters`` (:class:`Parameter`
        records) or ``_default_overrides`` (name: default) gets
        ``BaseRBM``'s parameters with those, and from them its ``__init__``
        and constraints; every subclass's docstring is completed with the
        declared parameters' and the shared fitted attributes' entries.
        """
        super().__init_subclass__(**kwargs)
        extra = cls.__dict__.get("_extra_parameters", ())
        overrides = cls.__dict__.get("_default_overrides", {})
        if extra or overrides:
            cls._declared_parameters = tuple(
                dataclasses.replace(p, default=overrides[p.name]) if p.name in overrides else p
                for p in cls._declared_parameters
            ) + tuple(extra)
            cls._parameter_constraints = constraints_of(cls._declared_parameters)
            if "__init__" not in cls.__dict__:
                cls.__init__ = make_init(cls._declared_parameters)
        if cls.__doc__:
            cls.__doc__ = fill_attributes(fill_parameters(cls.__doc__, cls._declared_parameters))

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

    @property
    def _units(self):
        """The unit math: the visible units joined to the hidden units.

        The fitted model's hidden units (``hidden_units_``) once there is
        one: a ``hidden_units`` changed by ``set_params`` takes effect at the
        next new fit, never on the fitted weights.
        """
        hidden = getattr(self, "hidden_units_", self.hidden_units)
        return self._visible_units.with_hidden(HIDDEN_UNITS[hidden])

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

    def _layer(self, bk):
        """The fitted model's math on backend ``bk`` (what a DBN composes)."""
        return Layer(self._units, self._device_params(bk), bk)

    def _visible_rows(self, X):
        """Validated rows of data as the visible units take them (a DBN's input).

        The rows themselves, checked against the values the units model (as
        this model's own methods check them); a unit type whose rows are
        encoded (categories as one-hot groups) encodes them.
        """
        self._check_values(X)
        return X

    def _rows_of_visible(self, v):
        """Visible vectors as rows of data (a DBN's samples): themselves, or decoded."""
        return v

    # ------------------------------------------------------------------------
    # input handling
    # ------------------------------------------------------------------------
    def _validate_X(self, X, *, reset, stream=False):
        """Validate X; with ``stream``, a dask array stays lazy.

        A streamed dask array is checked here for what its metadata tells
        (dimensions, dtype, width); its values are checked block by block as
        :func:`skebm._data.row_blocks` computes them.  Without ``stream`` it is computed.
        """
        if is_dask_array(X):
            if stream:
                return self._validate_dask(X, reset=reset)
            X = X.compute()
        with explain_strings(type(self).__name__):
            X = validate_data(
                self,
                pandas_missing_as_nan(X),
                accept_sparse="csr",
                dtype=(np.float64, np.float32),
                reset=reset,
            )
        self._check_values(X, reset=reset)
        return X

    def _check_values(self, X, *, reset=False):
        """Reject values the units cannot take; warn once per fit about values outside their range.

        ``X`` is a 2-D array, a sparse matrix, or the 1-D array of the
        observed entries of rows with missing ones.
        """
        rejection = self._units.rejection_message(X)
        if rejection is not None:
            raise ValueError(rejection)
        message = self._units.range_message(X)
        if reset:
            _RANGE_WARNED.discard(self)
        if message is not None and self not in _RANGE_WARNED:
            _RANGE_WARNED.add(self)
            warnings.warn(message, UserWarning, stacklevel=caller_stacklevel())

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
        """A backend for inference on the model's device (NumPy if it is gone)."""
        return inference_backend(self.device, dtype, seed=seed, n_threads=n_threads)

    def _map_chunks(self, X, func, dtype):
        """Apply ``func(layer, dense_chunk)`` chunk by chunk; stack the results."""
        bk = self._inference_backend(dtype)
        layer = self._layer(bk)
        out = [bk.to_numpy(func(layer, bk.asarray(block))) for block in row_blocks(X)]
        return np.concatenate(out, axis=0)

    def _trainer(self, n_epochs=None):
        """The training core of this estimator's settings.

        ``n_epochs`` is the horizon of the learning-rate schedule (``fit``'s
        epochs); None for ``partial_fit``, whose stream has none.
        """
        schedule = SCHEDULES[self.learning_rate_schedule]
        floor = (
            self.learning_rate / 10 if self.min_learning_rate is None else self.min_learning_rate
        )
        return Trainer(
            self._units,
            make_sampler(self.method, self),
            make_optimizer(self.optimizer, self),
            n_gibbs_steps=self.n_gibbs_steps,
            batch_size=self.batch_size,
            batch_transform=self._batch_transform,
            learning_rate=self.learning_rate,
            name=type(self).__name__,
            label=self._progress_label(),
            verbose=self.verbose,
            centering=(
                Centering(hidden_offset=self._units.hidden.mean_at_zero)
                if self.centered
                else None
            ),
            sparsity=(
                Sparsity(self.sparsity_target, self.sparsity_cost)
                if self.sparsity_target is not None
                else None
            ),
            schedule=lambda epoch: schedule(
                self.learning_rate, epoch, n_epochs, self.power_t, floor
            ),
        )

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
            if not warm:
                self.hidden_units_ = self.hidden_units
            self._check_settings()
            X = self._validate_X(X, reset=True, stream=True)
            if warm:
                self._check_continuable(fitted_shape, X.shape[1], "warm_start=True")
            self._check_training_memory(X)
            device = resolve_device(self.device)
            seeds = check_random_state(self.random_state).randint(0, 2**31 - 1, size=3)
            if self.early_stopping and self.validation_fraction is None:
                raise ValueError(
                    "early_stopping=True needs held-out data to monitor: set "
                    "validation_fraction, e.g. validation_fraction=0.1."
                )
            X_train, train_rows, X_val = split_validation(
                X, self.validation_fraction, np.random.default_rng(seeds[0])
            )
            dtype = self.components_.dtype if warm else X.dtype
            bk = make_backend(device, dtype, seed=seeds[1], n_threads=self._n_threads())
            stats = column_stats(X_train, train_rows)
            trainer = self._trainer(n_epochs=self.n_iter)
            if warm:
                params, state = self._resume_state(trainer, bk, stats, X_train, train_rows)
            else:
                params, state = self._new_state(
                    trainer, bk, stats, dtype, np.random.default_rng(seeds[2]), X_train,
                    train_rows,
                )  # fmt: skip
            self.random_state_ = np.random.RandomState(seeds[2])
            self._set_stats(stats)
            self._publish(bk, params, state)
            self.best_epoch_ = None
            early_stopping = None
            if self.early_stopping:
                early_stopping = EarlyStopping(
                    self.n_iter_no_change, self.tol, keep=self._epoch_attributes
                )
            trainer.run_epochs(
                bk, params, state, X_train, train_rows, X_val,
                first_epoch=self.n_iter_ + 1,
                n_epochs=self.n_iter,
                history=self.history_,
                publish=lambda params, state, epoch: self._publish(bk, params, state, epoch),
                checkpoint=transaction.checkpoint,
                early_stopping=early_stopping,
                restore=self._restore_epoch,
            )  # fmt: skip
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
            self._check_settings()
            fitted_shape = None if first_call else self.components_.shape
            if first_call:
                self.hidden_units_ = self.hidden_units
            X = self._validate_X(X, reset=first_call, stream=True)
            if not first_call:
                self._check_continuable(fitted_shape, X.shape[1], "partial_fit")
            self._check_training_memory(X)
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
            stats = column_stats(X)
            trainer = self._trainer()
            seen = None
            if first_call:
                # a stream of its own: the backend draws from ``seed`` itself
                init_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
                params, state = self._new_state(trainer, bk, stats, dtype, init_rng, X)
                self._set_stats(stats)
            else:
                seen = self._feature_stats()
                self._set_stats(merge_stats(seen, stats))
                params, state = self._resume_state(trainer, bk, self._feature_stats(), X)
            trainer.run_chunk(
                bk, params, state, X,
                epoch=self.n_iter_ + 1,
                history=self.history_,
                publish=lambda params, state, epoch: self._publish(bk, params, state, epoch),
                seen=seen,
            )  # fmt: skip
        return self

    def _check_settings(self):
        """Raise a ValueError for parameters that are valid alone but not together."""
        if self.min_learning_rate is not None and self.min_learning_rate > self.learning_rate:
            raise ValueError(
                f"min_learning_rate={self.min_learning_rate!r} is above "
                f"learning_rate={self.learning_rate!r}, so the learning-rate schedule "
                "would climb instead of decaying; set min_learning_rate at most "
                "learning_rate (None is a tenth of it)."
            )

    def _check_training_memory(self, X):
        """Raise before training allocates parameters and chains that cannot fit in memory."""
        n_visible = X.shape[1]
        n_chains = self._n_chains()
        if self.method == "pt":
            n_chains *= self.n_temperatures
        # weights, their gradient and velocity; chains of visible and hidden units
        n_values = 3 * self.n_components * n_visible + CHAIN_ARRAYS * n_chains * (
            n_visible + self.n_components
        )
        check_memory(
            n_values, X.dtype.itemsize,
            f"Training {self.n_components:,} hidden units on {n_visible:,} visible units "
            f"with {n_chains:,} chains",
            "use fewer hidden units (n_components), chains (n_chains) or temperatures",
        )  # fmt: skip

    def _check_continuable(self, fitted_shape, n_features, how):
        """Raise when the fitted model cannot continue on data of this width."""
        n_hidden, n_fitted_features = fitted_shape
        fitted_hidden = getattr(self, "hidden_units_", self.hidden_units)
        if self.hidden_units != fitted_hidden:
            raise ValueError(
                f"hidden_units={self.hidden_units!r} differs from the {fitted_hidden!r} "
                f"hidden units of the fitted model, which {how} continues; call fit "
                "(with warm_start=False) to start a new model."
            )
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

    def _n_chains(self):
        return self.n_chains if self.n_chains is not None else self.batch_size

    def _new_state(self, trainer, bk, stats, dtype, rng, X, rows=None):
        """Training state of a new model: initial parameters, no velocity, fresh chains.

        Starts the record of the run, too (``n_iter_`` 0, empty ``history_``).
        """
        initial = initial_params(self._units, stats, self.n_components, dtype, rng)
        params = self._device_params(bk, initial)
        state = trainer.new_state(bk, params, X, rows, self._n_chains(), stats)
        self.history_ = []
        self.n_iter_ = 0
        return params, state

    def _resume_state(self, trainer, bk, stats, X, rows=None):
        """Training state from the fitted attributes, to continue training.

        Copies: training updates in place, and the fitted arrays must stay as
        they are until the call completes.  Statistics the units derive from
        the data (e.g. a fixed sigma) follow ``stats``.
        """
        params = {k: bk.copy(v) for k, v in self._fitted_params().items()}
        self._units.follow_stats(bk, params, stats)
        saved = {"chains": self.h_samples_, **getattr(self, "training_state_", {})}
        state = trainer.resume_state(bk, params, saved, X, rows, self._n_chains(), stats)
        return params, state

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

    def _progress_label(self):
        """The tag of progress lines (a DBN sets it to name the layer)."""
        return getattr(self, "_layer_label", None) or type(self).__name__

    def _publish(self, bk, params, state, epoch=None):
        """Copy the training state into the fitted (NumPy) attributes.

        With ``epoch``, the model now stands after that many epochs (``n_iter_``).
        """
        self._set_fitted_params({k: bk.to_numpy(v).copy() for k, v in params.items()})
        self.h_samples_ = bk.to_numpy(state["chains"]).copy()
        # what the optimiser, a sampler or centering keeps besides the chains,
        # to continue from: each part's own dict of arrays, copied as it is
        self.training_state_ = {
            part: {k: bk.to_numpy(v).copy() for k, v in state[part].items()}
            for part in ("optimizer", "sampler", "offsets", "sparsity")
            if part in state
        }
        if epoch is not None:
            self.n_iter_ = epoch

    #: attributes that describe the run, not one epoch's model
    _RUN_ATTRIBUTES = ("history_", "n_iter_", "best_epoch_")

    def _epoch_attributes(self):
        """The published model of the epoch just completed, for early stopping to keep.

        References suffice: the fitted arrays are replaced at every epoch,
        never changed in place.
        """
        return {
            key: value
            for key, value in self.__dict__.items()
            if key not in self._RUN_ATTRIBUTES
        }

    def _restore_epoch(self, attributes, epoch):
        """Put a kept epoch's model back (early stopping's best)."""
        self.__dict__.update(attributes)
        self.best_epoch_ = epoch

    # ------------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------------
    def transform(self, X):
        """The hidden units' conditional means E[h | v]: P(h = 1 | v) for binary units.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        h : ndarray of shape (n_samples, n_components)
            E[h_j | v] (P(h_j = 1 | v) for binary units), in the dtype of X.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._map_chunks(
            X, lambda layer, v: layer.mean_hidden(v), X.dtype
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
        with explain_strings(type(self).__name__):
            H = check_array(H, dtype=(np.float64, np.float32), input_name="H")
        if H.shape[1] != self.n_components:
            raise ValueError(
                f"H has {H.shape[1]} columns, but {type(self).__name__} has "
                f"{self.n_components} hidden units; pass the output of transform."
            )
        return self._map_chunks(
            H, lambda layer, h: layer.mean_visible(h), H.dtype
        )
