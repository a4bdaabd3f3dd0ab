"""RBMImputer: missing values filled in by an RBM's conditional distribution."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.impute import MissingIndicator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_is_fitted,
    validate_data,
)

from ._conditional import pandas_missing_as_nan
from ._dbn import RBM_BY_VISIBLE_UNITS
from ._table import TableRBM, infer_column_type
from ._exceptions import caller_stacklevel
from ._strings import explain_strings
from ._transaction import Transaction, transactional
from ._whitening import gaussian_conditional_draw, gaussian_of_incomplete

#: the imputer's step size per visible unit type when ``learning_rate=None``;
#: spins move the energy four times as far per step as 0/1 units (v = 2x - 1
#: doubles both the gradient and its effect), so a quarter is the same step
DEFAULT_LEARNING_RATE = {
    "bernoulli": 0.05, "spin": 0.0125, "gaussian": 0.01, "categorical": 0.05, "table": 0.01,
}
#: units whose conditional means are valid inputs of the units themselves
MEAN_VALUED = {"bernoulli", "spin"}


class RBMImputer(TransformerMixin, BaseEstimator):
    """Impute missing values with the conditional distribution of an RBM.

    An RBM is fitted to the data; ``transform`` then fills every missing
    entry of a row with its conditional mean given the row's observed
    entries, E[v_missing | v_observed], estimated by clamped Gibbs sampling
    (see :meth:`BernoulliRBM.conditional_mean`), or with a draw from that
    conditional when ``sample_posterior=True``, in the idiom of
    scikit-learn's imputers.

    **Training on incomplete rows** (Monte Carlo EM).  The missing entries
    of the training rows start at their column means (categorical units:
    their column's most frequent level).  Training runs in ``em_rounds``
    rounds of equal length; after each round but the last, the missing
    entries are estimated anew from the model's conditional given each
    row's observed entries (binary units and spins take their conditional
    means, Gaussian and categorical units a draw), so that the model learns
    from the observed entries and its own ever better guesses of the rest
    instead of from the column means.  The learning rate is constant until
    the last round, which decays it (see ``learning_rate_schedule`` of
    :class:`BernoulliRBM`).  A column with no observed value has nothing to
    learn from: as scikit-learn's imputers do, it is dropped with a warning
    (or kept and filled with 0, ``keep_empty_features=True``), and the RBM
    models the other columns.  Gaussian units learn their per-feature sigma
    (``learn_sigma=True``): the conditional spread of a feature given the
    others is what imputation needs, and it is far below the feature's own.

    Parameters
    ----------
    missing_values : float or None, default=np.nan
        The placeholder of a missing value; ``np.nan`` (or None) for NaN.
    visible_units : {"auto", "gaussian", "bernoulli", "spin", "categorical", "table"}, \
default="auto"
        The RBM.  "auto" chooses from the columns: a DataFrame with
        category, string or bool columns, or numbers that mix 0/1 columns
        with real ones, is a table (:class:`TableRBM`, each column its own
        unit type, filled with levels, 0/1 values and real values in the
        columns' own dtypes, DataFrame in and DataFrame out); numbers that
        are all 0 or 1 get Bernoulli units; other numbers whitened Gaussian
        units (standardise them first).  "gaussian": whitened Gaussian units
        (:class:`GaussianBernoulliRBM` with ``whiten=True``), whose model of
        the rows is at least the maximum-likelihood full-covariance
        Gaussian; "bernoulli": binary data or values in [0, 1]; "spin": data
        in {-1, +1}; "categorical": integer-coded categories (as
        :class:`~sklearn.preprocessing.OrdinalEncoder` gives them, with
        ``np.nan`` where missing), filled with their most probable level (or
        a draw) instead of a mean; "table": a :class:`TableRBM`.
    n_components : int, default=256
        Hidden units of the RBM.
    n_iter : int, default=200
        Training epochs, all rounds together.
    learning_rate : float, default=None
        Step size; None uses 0.05 for Bernoulli and categorical units,
        0.0125 for spins (the same step) and 0.01 (the RBM's default) for
        Gaussian units.
    batch_size : int, default=10
        Rows per update.
    centered : bool, default=True
        Train with centered gradients (see :class:`BernoulliRBM`).
    em_rounds : int, default=10
        Rounds of training between which the missing training entries are
        estimated anew from the model (see above); 1 trains on the column
        means alone.  Capped at ``n_iter``.
    sample_posterior : bool, default=False
        Fill with a draw from the conditional instead of its mean.
    n_steps : int, default=200
        Clamped Gibbs steps averaged (or run, with ``sample_posterior``)
        after the burn-in.
    burn_in : int, default=50
        Clamped Gibbs steps run first.
    add_indicator : bool, default=False
        Append a :class:`~sklearn.impute.MissingIndicator`'s columns.
    keep_empty_features : bool, default=False
        Keep the columns that had no observed value in ``fit``, filled with
        0, instead of dropping them from ``transform``'s output.
    device : str, default=None
        Where the RBM computes (see :class:`BernoulliRBM`).
    verbose : int, default=0
        1 prints a line per round of training and per ``transform``; 2 also
        the RBM's epochs (see ``verbose`` of :class:`BernoulliRBM`).
    random_state : int, RandomState instance or None, default=None
        Seed of training and of the chains of ``transform``.

    Attributes
    ----------
    visible_units_ : str
        The unit type fitted: ``visible_units``, or what "auto" chose.
    rbm_ : BernoulliRBM, GaussianBernoulliRBM, SpinRBM, CategoricalRBM or TableRBM
        The fitted model, of the columns that had an observed value in ``fit``.
    empty_features_ : ndarray of bool of shape (`n_features_in_`,)
        The columns with no observed value in ``fit`` (dropped, or filled
        with 0 under ``keep_empty_features``).
    indicator_ : MissingIndicator or None
        The indicator of ``add_indicator``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has them.

    Examples
    --------
    >>> import numpy as np
    >>> from skebm import RBMImputer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3)) @ [[1.0, 0.9, 0.0], [0.0, 0.4, 1.0], [0.0, 0.0, 0.3]]
    >>> X_missing = X.copy()
    >>> X_missing[::4, 1] = np.nan
    >>> filled = RBMImputer(n_components=8, random_state=0).fit_transform(X_missing)
    >>> bool(np.isnan(filled).any())
    False
    """

    _parameter_constraints: dict = {
        "missing_values": [Real, None],
        "visible_units": [StrOptions({"auto", *DEFAULT_LEARNING_RATE})],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "centered": ["boolean"],
        "em_rounds": [Interval(Integral, 1, None, closed="left")],
        "sample_posterior": ["boolean"],
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "burn_in": [Interval(Integral, 0, None, closed="left")],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
        "device": [str, None],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        missing_values=np.nan,
        visible_units="auto",
        n_components=256,
        n_iter=200,
        learning_rate=None,
        batch_size=10,
        centered=True,
        em_rounds=10,
        sample_posterior=False,
        n_steps=200,
        burn_in=50,
        add_indicator=False,
        keep_empty_features=False,
        device=None,
        verbose=0,
        random_state=None,
    ):
        self.missing_values = missing_values
        self.visible_units = visible_units
        self.n_components = n_components
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.centered = centered
        self.em_rounds = em_rounds
        self.sample_posterior = sample_posterior
        self.n_steps = n_steps
        self.burn_in = burn_in
        self.add_indicator = add_indicator
        self.keep_empty_features = keep_empty_features
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = bool(
            self.missing_values is None or np.isnan(self.missing_values)
        )
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _as_nan(self, X):
        """X with every missing entry as np.nan (a copy)."""
        X = np.array(X, dtype=X.dtype, copy=True)
        if self.missing_values is not None and not np.isnan(self.missing_values):
            X[X == self.missing_values] = np.nan
        return X

    def _validate(self, X, reset):
        nan_missing = self.missing_values is None or np.isnan(self.missing_values)
        if self.visible_units == "categorical":
            fix = (
                "encode each category column as integer codes first, e.g. with "
                "sklearn.preprocessing.OrdinalEncoder(encoded_missing_value=np.nan)"
            )
        elif self.visible_units == "auto":
            fix = (
                "pass the table as a DataFrame: with visible_units='auto' its category, "
                "string and bool columns are modelled as such (a TableRBM)"
            )
        else:
            fix = None
        with explain_strings(type(self).__name__, fix):
            X = validate_data(
                self, pandas_missing_as_nan(X) if nan_missing else X, reset=reset,
                dtype=(np.float64, np.float32), accept_sparse="csr",
                ensure_all_finite="allow-nan" if nan_missing else True,
            )  # fmt: skip
        # the chains read every entry of a row: a dense copy (stored zeros are values)
        return X.toarray() if sp.issparse(X) else X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the RBM to X, missing entries included (see the class description).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing entries marked by ``missing_values``.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        with Transaction(self):
            self.visible_units_ = self._units_of(X)
            if self.visible_units_ == "table":
                return self._fit_table(X)
            X = self._as_nan(self._validate(X, reset=True))
            self.empty_features_ = self._find_empty_features(np.isnan(X))
            X = X[:, ~self.empty_features_]
            missing = np.isnan(X)
            rng = check_random_state(self.random_state)
            filled = self._first_guess(X, missing, rng)
            settings = dict(
                n_components=self.n_components, batch_size=self.batch_size,
                centered=self.centered, device=self.device, verbose=max(0, self.verbose - 1),
                learning_rate=self.learning_rate or DEFAULT_LEARNING_RATE[self.visible_units_],
            )  # fmt: skip
            if self.visible_units_ == "gaussian":
                settings.update(learn_sigma=True, whiten=True)
            rbm = RBM_BY_VISIBLE_UNITS[self.visible_units_](**settings)
            rbm = self._train_rounds(rbm, filled, np.where(missing, np.nan, X), missing.any(), rng)
            self.rbm_ = rbm
            self.indicator_ = None
            if self.add_indicator:
                self.indicator_ = MissingIndicator(missing_values=np.nan, error_on_new=False)
                self.indicator_.fit(X)
        return self

    def _find_empty_features(self, missing):
        """The columns with no observed value: dropped with a warning, as sklearn does."""
        empty = np.all(missing, axis=0)
        if empty.all():
            raise ValueError(
                "Every column of X is missing entirely: RBMImputer fills a column from "
                "the observed values of the others and has none to learn from. Pass "
                "rows with observed values."
            )
        if empty.any():
            warnings.warn(
                f"Skipping features without any observed values: {np.flatnonzero(empty)}. "
                "At least one non-missing value is needed for imputation with "
                "RBMImputer" + (
                    "; they are filled with 0 (keep_empty_features=True)."
                    if self.keep_empty_features
                    else "; they are dropped from the output (keep_empty_features=True "
                    "keeps them, filled with 0)."
                ),
                UserWarning,
                stacklevel=caller_stacklevel(),
            )  # fmt: skip
        return empty

    def _units_of(self, X):
        """The unit type of the model: ``visible_units``, or for "auto" what the columns ask for.

        A DataFrame with a column that is not numbers (category, strings,
        bool) is a table (:class:`TableRBM`, each column its own type);
        otherwise, columns that are all 0 or 1 (where observed) ask for
        binary units and the others for Gaussian ones: Bernoulli units when
        every column is binary, whitened Gaussian units when none is, a
        table when both kinds are there.
        """
        if self.visible_units != "auto":
            return self.visible_units
        if isinstance(X, pd.DataFrame) and any(
            not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
            for dtype in X.dtypes
        ):
            return "table"
        values = self._as_nan(self._validate(X, reset=True))
        observed = ~np.isnan(values)
        # a column with no observed value says nothing (fit drops it)
        binary = [
            bool(np.isin(values[observed[:, j], j], (0, 1)).all())
            for j in range(values.shape[1])
            if observed[:, j].any()
        ]
        if all(binary):
            return "bernoulli"
        return "table" if any(binary) else "gaussian"

    def _table(self, X, reset):
        """X as a DataFrame of its own dtypes, names and width checked, missing entries found."""
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(self._as_nan(self._validate(X, reset=reset)))
        else:
            _check_feature_names(self, X, reset=reset)
            _check_n_features(self, X, reset=reset)
            if self.missing_values is not None and not np.isnan(self.missing_values):
                X = X.mask(X == self.missing_values)
        return X

    def _fit_table(self, X):
        """Fit a TableRBM to a table with missing entries (the rounds of ``fit``)."""
        frame = self._table(X, reset=True)
        self._frame_output = isinstance(X, pd.DataFrame)
        missing = np.asarray(frame.isna())
        self.empty_features_ = self._find_empty_features(missing)
        frame = frame.loc[:, ~self.empty_features_]
        missing = missing[:, ~self.empty_features_]
        rng = check_random_state(self.random_state)
        types = [infer_column_type(frame.iloc[:, j]) for j in range(frame.shape[1])]
        filled = _first_table_guess(frame, types, np.random.default_rng(rng.randint(2**31 - 1)))
        rbm = TableRBM(
            n_components=self.n_components, batch_size=self.batch_size,
            centered=self.centered, device=self.device, verbose=max(0, self.verbose - 1),
            learning_rate=self.learning_rate or DEFAULT_LEARNING_RATE["table"],
            column_types=types,
        )  # fmt: skip
        self.rbm_ = self._train_rounds(rbm, filled, frame, missing.any(), rng)
        self.indicator_ = None
        if self.add_indicator:
            self.indicator_ = MissingIndicator(missing_values=1.0, error_on_new=False)
            self.indicator_.fit(missing.astype(float))
        return self

    def _train_rounds(self, rbm, filled, incomplete, any_missing, rng):
        """Train ``rbm`` in rounds, the missing entries of ``filled`` estimated anew between them."""
        n_rounds = max(1, min(self.em_rounds, self.n_iter)) if any_missing else 1
        epochs = np.diff(np.linspace(0, self.n_iter, n_rounds + 1).round().astype(int))
        start = time.perf_counter()
        for round_, n_epochs in enumerate(epochs):
            last = round_ == n_rounds - 1
            rbm.set_params(
                n_iter=int(n_epochs), warm_start=round_ > 0,
                learning_rate_schedule="linear" if last else "constant",
                random_state=rng.randint(2**31 - 1),
            )  # fmt: skip
            rbm.fit(filled)
            if not last:
                filled = self._redraw(rbm, incomplete)
            if self.verbose:
                print(
                    f"[{type(self).__name__}] round {round_ + 1}/{n_rounds}  "
                    f"{int(n_epochs)} epochs  {time.perf_counter() - start:.2f}s  "
                    + ("missing entries estimated anew" if not last else "done")
                )
        return rbm

    def _fill(self, modelled):
        """The rows with their missing entries filled: conditional means, or one draw."""
        if self.sample_posterior:
            return self.rbm_.conditional_sample(
                modelled, n_steps=self.burn_in + self.n_steps, random_state=self.random_state
            )[0]
        return self.rbm_.conditional_mean(
            modelled, n_steps=self.n_steps, burn_in=self.burn_in, random_state=self.random_state
        )

    def _transform_table(self, X):
        frame = self._table(X, reset=False)
        modelled = frame.loc[:, ~self.empty_features_]
        filled = self._fill(modelled)
        filled.index = frame.index
        if self.keep_empty_features:
            filled = pd.concat(
                [filled, frame.loc[:, self.empty_features_].fillna(0)], axis=1
            )[frame.columns]
        if self.indicator_ is not None:
            flags = self.indicator_.transform(np.asarray(frame.isna(), dtype=float))
            names = self.indicator_.get_feature_names_out(np.asarray(frame.columns, dtype=str))
            filled = pd.concat(
                [filled, pd.DataFrame(flags, columns=names, index=frame.index)], axis=1
            )
        return filled if self._frame_output else np.asarray(filled, dtype=np.float64)

    def _check_known_codes(self, X):
        """Raise for category codes the fitted model has no level for."""
        for j, levels in enumerate(self.rbm_.categories_):
            column = X[:, j]
            observed = column[~np.isnan(column)]
            unseen = np.setdiff1d(observed, np.asarray(levels, dtype=np.float64))
            if len(unseen):
                raise ValueError(
                    f"Found codes {unseen[:5].tolist()} in feature {j} that fit never "
                    f"saw (its levels are {np.asarray(levels).tolist()[:10]}). "
                    "RBMImputer(visible_units='categorical') knows only the levels of the "
                    "data it was fitted on: refit it on data that holds these codes."
                )

    def _first_guess(self, X, missing, rng):
        """The training rows with their missing entries started somewhere sensible.

        Real values (Gaussian units) start as a draw from the conditional of
        the maximum-likelihood Gaussian of the incomplete rows (found by
        EM): the draws keep the columns' covariance, which the whitened
        model's first round takes as its whitening, where column means
        would shrink it.  Binary values start at their column means,
        categories at their column's most frequent level.
        """
        if not missing.any():
            return X
        if self.visible_units_ == "gaussian":
            mean, covariance = gaussian_of_incomplete(X)
            noise = np.random.default_rng(rng.randint(2**31 - 1))
            return gaussian_conditional_draw(X, mean, covariance, noise).astype(X.dtype)
        if self.visible_units_ != "categorical":
            guess = np.nanmean(np.where(np.all(missing, axis=0), 0.0, X), axis=0)
        else:
            guess = np.zeros(X.shape[1], dtype=X.dtype)
            for j in range(X.shape[1]):
                levels, counts = np.unique(X[~missing[:, j], j], return_counts=True)
                if len(levels):
                    guess[j] = levels[np.argmax(counts)]
        return np.where(missing, guess, X)

    def _redraw(self, rbm, incomplete):
        """The E step: the missing training entries given the model and the observed ones.

        Binary units (and spins) get their conditional means (which they
        train on as they are): a single draw per entry would be learned as
        if observed, and the model, trained on its own guesses, grows sure
        of them (on digits with the bottom half missing, the RMSE of its
        fill was 0.363 with draws and 0.314 with means; KNNImputer's 0.320).
        Gaussian units get a draw: a mean has no spread, and sigma would
        shrink to fit it; categorical units too: a row holds one level.
        """
        if self.visible_units_ in MEAN_VALUED:
            return rbm.conditional_mean(incomplete, n_steps=20, burn_in=self.burn_in)
        return rbm.conditional_sample(incomplete, n_steps=self.burn_in + 1)[0]


    @transactional
    def transform(self, X):
        """Fill the missing entries of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing entries marked by ``missing_values``.

        Returns
        -------
        X_filled : ndarray of shape (n_samples, n_features_out)
            X with every missing entry filled (conditional means, or draws
            with ``sample_posterior``), without the columns that had no
            observed value in ``fit`` (unless ``keep_empty_features``), then
            the indicator's columns with ``add_indicator``.
        """
        check_is_fitted(self)
        start = time.perf_counter()
        if self.visible_units_ == "table":
            return self._transform_table(X)
        X = self._as_nan(self._validate(X, reset=False))
        modelled = X[:, ~self.empty_features_]
        if self.visible_units_ == "categorical":
            self._check_known_codes(modelled)
        filled = self._fill(modelled)
        if not self.sample_posterior and self.visible_units_ == "categorical":
            # the level probabilities, one-hot layout: the most probable level
            filled = self.rbm_._rows_of_visible(filled)
        filled = filled.astype(X.dtype, copy=False)
        if self.keep_empty_features:
            full = np.zeros_like(X)
            full[:, ~self.empty_features_] = filled
            filled = full
        if self.indicator_ is not None:
            filled = np.hstack([filled, self.indicator_.transform(X).astype(X.dtype)])
        if self.verbose:
            print(
                f"[{type(self).__name__}] filled {int(np.isnan(modelled).sum())} missing "
                f"entries of {len(X)} rows  {time.perf_counter() - start:.2f}s"
            )
        return filled

    def get_feature_names_out(self, input_features=None):
        """The imputed features' names, then the indicator's.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; None uses ``feature_names_in_`` or
            ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Output feature names.
        """
        from sklearn.utils.validation import _check_feature_names_in

        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        imputed = names if self.keep_empty_features else names[~self.empty_features_]
        if self.indicator_ is not None:
            return np.concatenate([imputed, self.indicator_.get_feature_names_out(names)])
        return imputed


def _first_table_guess(frame, types, rng):
    """The table with its missing entries drawn from simple models of each column.

    Real columns: the conditional of the maximum-likelihood Gaussian of the
    real columns (EM), which keeps their covariance; binary and categorical
    columns: their observed frequencies.  A draw, not a mean, so that the
    first round sees the columns' spread.
    """
    filled = frame.copy()
    real = [j for j, kind in enumerate(types) if kind == "gaussian"]
    if real:
        values = frame.iloc[:, real].apply(pd.to_numeric).to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isnan(values).any():
            mean, covariance = gaussian_of_incomplete(values)
            drawn = gaussian_conditional_draw(values, mean, covariance, rng)
            for k, j in enumerate(real):
                filled.isetitem(j, pd.Series(drawn[:, k], index=frame.index).astype(frame.dtypes.iloc[j]))
    for j, kind in enumerate(types):
        if kind == "gaussian":
            continue
        column = frame.iloc[:, j]
        gaps = np.asarray(column.isna())
        if gaps.any():
            observed = column[~gaps].to_numpy(dtype=object)
            picks = rng.choice(len(observed), size=int(gaps.sum()))
            values = column.to_numpy(dtype=object).copy()
            values[gaps] = observed[picks]
            filled.isetitem(j, pd.Series(values, index=frame.index).astype(frame.dtypes.iloc[j]))
    return filled
