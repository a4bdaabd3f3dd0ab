"""CategoricalRBM: the estimator for a table of categories (the unit math is :mod:`skebm._units.categorical`)."""

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import BaseRBM
from ._parameters import Parameter
from ._data import is_dask_array
from ._units.categorical import CategoricalVisible


class CategoricalRBM(BaseRBM):
    """Restricted Boltzmann machine of categorical visible units and binary hidden units.

    Each column of the input is one categorical feature with its own levels
    (``categories_``, found in ``fit`` as scikit-learn's encoders find
    them); it is modelled as a group of one-hot visible units of which
    exactly one is on, with ``p(level k of feature f | h)`` a softmax over
    the group.  The model gives probability only to valid rows (one level
    per feature), so ``score_samples`` is the log-likelihood of the table's
    rows, unlike a :class:`BernoulliRBM` on its one-hot encoding, which
    spreads probability over rows with several levels or none.

    The energy is ``E(v, h) = -a.v - b.h - h.W.v`` over the one-hot vector
    ``v``, with ``W = components_`` (columns in the order of
    ``categories_``, as :class:`~sklearn.preprocessing.OneHotEncoder`
    lays them out), ``a = intercept_visible_`` and ``b =
    intercept_hidden_``.  Training, sampling (``method="pt"`` included),
    centering, the exact log Z (over the hidden layer, or over the valid
    visible rows where they are fewer) and AIS (from independent
    categoricals with the data's level frequencies) are those of
    :class:`BernoulliRBM`.

    Parameters
    ----------
    The parameters of every RBM estimator and this one's own, each
    documented once where it is declared, listed here when the class is made.

    Attributes
    ----------
    categories_ : list of ndarray
        The levels of each feature, in the order of the one-hot columns.
    components_ : ndarray of shape (n_components, n_levels_total)
        Weights W, one column per level of each feature.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases b.
    intercept_visible_ : ndarray of shape (n_levels_total,)
        Visible biases a, one per level.
    feature_mean_, feature_var_ : ndarray of shape (n_levels_total,)
        Frequency of each level in the training data, and the variance of
        its one-hot column.
    n_features_in_ : int
        Number of categorical features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    BernoulliRBM : Binary visible units (e.g. a one-hot encoding, without
        the one-level-per-feature constraint).

    Examples
    --------
    >>> import numpy as np
    >>> from skebm import CategoricalRBM
    >>> X = np.array([[0, 2], [1, 0], [0, 2], [1, 1], [2, 0]] * 20)
    >>> rbm = CategoricalRBM(n_components=3, n_iter=20, random_state=0).fit(X)
    >>> rbm.categories_[0]
    array([0, 1, 2])
    >>> rbm.sample(4, random_state=0).shape
    (4, 2)
    >>> bool(rbm.score(X) < 0)  # log-likelihood of the rows, in nats
    True
    """

    _extra_parameters = (
        Parameter(
            "categories",
            "auto",
            [StrOptions({"auto"}), list],
            """\
categories : "auto" or list of array-like, default="auto"
    The levels of each feature: "auto" takes the sorted values found in
    ``fit`` (a pandas categorical column: its declared categories, used
    or not); a list gives them per feature.  ``partial_fit`` fixes
    them at its first call.""",
        ),
        Parameter(
            "handle_unknown",
            "error",
            [StrOptions({"error", "ignore"})],
            """\
handle_unknown : {"error", "ignore"}, default="error"
    A level not in ``categories_`` outside ``fit``: "error" raises;
    "ignore" encodes the feature as all zeros, as
    :class:`~sklearn.preprocessing.OneHotEncoder` does, so that it
    adds nothing to the hidden units' input in ``transform``, and the
    row's ``score_samples`` is -inf (the model gives it no probability).""",
        ),
    )

    @property
    def _visible_units(self):
        # before fit the levels are unknown: the unit type without features
        categories = getattr(self, "categories_", [])
        return CategoricalVisible([len(levels) for levels in categories])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.sparse = False
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    # ------------------------------------------------------------------------
    # categories <-> one-hot rows
    # ------------------------------------------------------------------------
    def _validate_X(self, X, *, reset, stream=False):
        """The one-hot rows of a table of categories (``reset``: its categories found first).

        Called by every method that reads rows: training (``fit`` and
        ``partial_fit``, the only callers with ``stream``), ``transform``,
        ``free_energy``, ``score_samples``, ``gibbs``.  A new fit sets
        ``categories_`` here, before training needs the unit type; if the
        call fails, its transaction puts the previous ones back.  A fit that
        continues (``warm_start``) keeps them and checks that X has the same
        features; other calls encode with the fitted ones.  Training rows
        must hold known levels whatever ``handle_unknown`` says: an all-zero
        group is no row of the model.
        """
        warm = reset and self.warm_start and hasattr(self, "categories_")
        columns, missing, declared = self._category_columns(
            X, reset=reset, allow_missing=False
        )
        if warm:
            self._check_warm_categories(self.categories_, len(columns))
        elif reset:
            self.categories_ = self._find_categories(columns, declared)
        return self._one_hot(columns, missing, training=stream)

    def _validate_incomplete(self, X):
        """One-hot rows with every level of a missing feature set to nan.

        Missing entries are what pandas counts as missing: ``np.nan``,
        None, ``pd.NA`` and ``pd.NaT``.
        """
        check_is_fitted(self)
        columns, missing, _ = self._category_columns(X, reset=False, allow_missing=True)
        return self._one_hot(columns, missing)

    def _check_warm_categories(self, fitted_categories, n_features):
        """Raise unless a warm-started fit continues the fitted features and levels."""
        if n_features != len(fitted_categories):
            raise ValueError(
                f"X has {n_features} features, but the fitted model, which "
                f"warm_start=True continues, has {len(fitted_categories)}; call fit (with "
                "warm_start=False) to start a new model."
            )
        if self.categories != "auto" and any(
            len(given) != len(fitted) or list(given) != list(fitted)
            for given, fitted in zip(self.categories, fitted_categories)
        ):
            raise ValueError(
                "categories differs from the fitted categories_, which warm_start=True "
                "keeps (the weights belong to those levels); call fit with "
                "warm_start=False to learn the new levels."
            )

    def _category_columns(self, X, *, reset, allow_missing):
        """X as a list of 1-D object/number arrays, one per feature, after sklearn's checks.

        Also the missing entries of each column (boolean arrays; ``np.nan``
        stands in every missing entry of the columns) and the levels each
        pandas categorical column declares (None for other columns), or None
        when X is not a DataFrame.
        """
        if is_dask_array(X):
            X = X.compute()
        if sp.issparse(X):
            raise TypeError(
                "CategoricalRBM takes a dense table of categories, not a sparse matrix; "
                "pass the categories themselves (e.g. X.toarray() of integer codes)."
            )
        declared = None
        if hasattr(X, "dtypes") and hasattr(X, "columns"):
            declared = [
                np.asarray(X[c].cat.categories) if str(dtype) == "category" else None
                for c, dtype in zip(X.columns, X.dtypes)
            ]
            # the declared levels, not pandas' integer codes, are the values;
            # pandas' missing markers (pd.NA, None, NaT) in any column become nan
            convert = [
                j for j, (c, d) in enumerate(zip(X.columns, declared))
                if d is not None or (X.dtypes.iloc[j].kind != "f" and X.iloc[:, j].isna().any())
            ]  # fmt: skip
            if convert:
                X = X.copy()
                for j in convert:
                    column = X.iloc[:, j]
                    X.isetitem(j, column.astype(object).where(column.notna(), np.nan))
        # missing entries are found below with pandas' own test, which knows
        # pd.NA (sklearn's finiteness check cannot compare it)
        X = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan")
        columns, missing = [], []
        for j in range(X.shape[1]):
            column = X[:, j]
            if column.dtype.kind == "O" and any(
                isinstance(value, (list, tuple, dict, set, np.ndarray)) for value in column
            ):
                raise ValueError(
                    f"Feature {j} holds a sequence where a category belongs; each "
                    "entry of X must be one category (a number or a string)."
                )
            gaps = np.asarray(pd.isna(column), dtype=bool)
            if gaps.any():
                if not allow_missing:
                    raise ValueError(
                        f"Input X contains missing values (NaN, None or pd.NA) in feature "
                        f"{j}. CategoricalRBM models complete rows; fill them (e.g. with "
                        "RBMImputer or SimpleImputer(strategy='most_frequent')) or pass "
                        "the rows to conditional_sample to draw the missing levels."
                    )
                if column.dtype.kind == "O":
                    column = np.where(gaps, np.nan, column)
            columns.append(column)
            missing.append(gaps)
        return columns, missing, declared

    def _find_categories(self, columns, declared):
        if self.categories != "auto":
            if len(self.categories) != len(columns):
                raise ValueError(
                    f"categories has {len(self.categories)} lists of levels, but X has "
                    f"{len(columns)} features; give one list per column."
                )
            found = [np.asarray(levels) for levels in self.categories]
        else:
            declared = declared or [None] * len(columns)
            found = [
                np.asarray(d) if d is not None else _unique_levels(column, j)
                for j, (column, d) in enumerate(zip(columns, declared))
            ]
        for j, levels in enumerate(found):
            if len(levels) < 1:
                raise ValueError(f"Feature {j} has no levels; give it at least one.")
            if len(set(levels.tolist())) != len(levels):
                raise ValueError(
                    f"categories for feature {j} has repeated levels; give each level once."
                )
        return found

    def _one_hot(self, columns, missing, *, training=False):
        """The one-hot rows of the columns; a missing entry's group is all nan."""
        categories = self.categories_
        if len(columns) != len(categories):
            raise ValueError(
                f"X has {len(columns)} features, but {type(self).__name__} was fitted "
                f"with {len(categories)}."
            )
        n_levels = [len(levels) for levels in categories]
        out = np.zeros((len(columns[0]), sum(n_levels)))
        start = 0
        for j, (column, levels) in enumerate(zip(columns, categories)):
            position, known = _level_positions(levels, column, missing[j])
            unknown = ~known & ~missing[j]
            if unknown.any() and (training or self.handle_unknown == "error"):
                unseen = list(dict.fromkeys(column[unknown].tolist()))
                fixes = (
                    "call fit with warm_start=False to learn them, or give them in "
                    "categories= at a new fit"
                    if training
                    else "refit with them, give them in categories=, or set "
                    "handle_unknown='ignore'"
                )
                raise ValueError(
                    f"Found unknown categories {unseen[:5]} in feature {j}, not among "
                    f"the {len(levels)} levels of categories_; {fixes}."
                )
            rows = np.flatnonzero(known & ~missing[j])
            out[rows, start + position[rows]] = 1.0
            out[missing[j], start:start + n_levels[j]] = np.nan
            start += n_levels[j]
        return out

    def _visible_rows(self, X):
        return self._validate_X(X, reset=False)

    def _rows_of_visible(self, v):
        return self._decode(v)

    def _decode(self, one_hot):
        """The level of each feature: the position of the largest entry of its group."""
        columns = [
            np.asarray(levels)[np.argmax(one_hot[..., group], axis=-1)]
            for group, levels in zip(self._units.groups, self.categories_)
        ]
        if all(column.dtype.kind in "biuf" for column in columns):
            return np.stack(columns, axis=-1)
        # levels of different kinds (numbers and strings) stay themselves
        out = np.empty(columns[0].shape + (len(columns),), dtype=object)
        for j, column in enumerate(columns):
            out[..., j] = column
        return out

    def fit(self, X, y=None):
        """Fit the model to a table of categories.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One category per feature and row (integer codes, strings, or
            pandas categoricals).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted model.
        """
        return super().fit(X, y)

    def partial_fit(self, X, y=None):
        """Fit the model to one chunk of a table; the first call fixes ``categories_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            One category per feature and row.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted model.
        """
        return super().partial_fit(X, y)

    # ------------------------------------------------------------------------
    # rows out as categories
    # ------------------------------------------------------------------------
    def inverse_transform(self, H):
        """The most probable level of each feature given hidden vectors.

        Parameters
        ----------
        H : array-like of shape (n_samples, n_components)
            Hidden states or probabilities (e.g. the output of ``transform``).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The level of each feature with the largest p(level | h).
        """
        return self._decode(super().inverse_transform(H))

    def level_probabilities(self, H):
        """p(level | h) of every level of every feature, in the one-hot layout.

        Parameters
        ----------
        H : array-like of shape (n_samples, n_components)
            Hidden states or probabilities.

        Returns
        -------
        P : ndarray of shape (n_samples, n_levels_total)
            Columns in the order of ``categories_``; each feature's sum to 1.
        """
        return super().inverse_transform(H)

    def gibbs(self, v):
        """One block-Gibbs step from rows of categories; returns rows of categories.

        Parameters
        ----------
        v : array-like of shape (n_samples, n_features)
            Rows to start from.

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features)
            The rows after one step.
        """
        return self._decode(super().gibbs(v))

    def sample(self, n_samples=1, **kwargs):
        """Draw rows of categories from the model (see :meth:`BernoulliRBM.sample`).

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows (chains).
        **kwargs
            ``n_steps``, ``random_state``, ``method``, ``n_temperatures``.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            One level per feature, from ``categories_``.
        """
        return self._decode(super().sample(n_samples, **kwargs))

    def conditional_sample(self, X, **kwargs):
        """Draws of the missing levels of each row given its observed ones.

        Missing entries are ``np.nan`` (or None in an object array).  See
        :meth:`BernoulliRBM.conditional_sample` for the chains.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Rows with missing entries.
        **kwargs
            ``n_samples``, ``n_steps``, ``random_state``, ``method``,
            ``n_temperatures``.

        Returns
        -------
        samples : ndarray of shape (n_samples, n_rows, n_features)
            The rows with their missing levels drawn.
        """
        return self._decode(super().conditional_sample(X, **kwargs))

    def conditional_mean(self, X, **kwargs):
        """p(level | observed entries) of every level, in the one-hot layout.

        The conditional probabilities of the missing features' levels (an
        observed feature's are its one-hot encoding), estimated as in
        :meth:`BernoulliRBM.conditional_mean`; the expectation of a category
        has no meaning, so its distribution is returned instead.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Rows with missing entries.
        **kwargs
            ``n_steps``, ``burn_in``, ``random_state``.

        Returns
        -------
        P : ndarray of shape (n_rows, n_levels_total)
            Columns in the order of ``categories_``.
        """
        return super().conditional_mean(X, **kwargs)

    def score_samples(self, X):
        """Log-likelihood of each row in nats; -inf for a row with an unknown level.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of categories.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            log p(row).
        """
        scores = super().score_samples(X)
        if self.handle_unknown == "ignore":
            one_hot = self._validate_X(X, reset=False)
            unseen = np.zeros(len(one_hot), dtype=bool)
            for group in self._units.groups:
                unseen |= one_hot[:, group].sum(axis=1) == 0
            scores = np.where(unseen, -np.inf, scores)
        return scores


def _unique_levels(column, feature):
    """The sorted distinct values of a column, as scikit-learn's encoders find them."""
    try:
        return np.unique(column)
    except TypeError:
        raise TypeError(
            f"Feature {feature} mixes values that cannot be sorted together (e.g. numbers "
            "and strings); convert the column to one type, e.g. X.astype(str)."
        ) from None


def _level_positions(levels, column, missing):
    """Each entry's position in ``levels``, and whether it is one of them.

    Numbers are matched by value (the code 2 and the level 2.0 are one
    level), anything else by equality, as a dict lookup does.
    """
    levels, column = np.asarray(levels), np.asarray(column)
    if levels.dtype.kind in "biuf" and column.dtype.kind in "biuf":
        order = np.argsort(levels, kind="stable")
        sorted_levels = levels[order].astype(np.float64)
        values = np.where(missing, sorted_levels[0], column.astype(np.float64))
        found = np.searchsorted(sorted_levels, values).clip(0, len(levels) - 1)
        return order[found], sorted_levels[found] == values
    lookup = {level: i for i, level in enumerate(levels.tolist())}
    positions = [lookup.get(value, -1) if not gap else -1
                 for value, gap in zip(column.tolist(), missing.tolist())]
    positions = np.asarray(positions, dtype=np.int64)
    return positions.clip(0, None), positions >= 0
