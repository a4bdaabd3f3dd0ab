"""TableRBM: one RBM for a whole table of binary, categorical and real-valued columns."""

import functools

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_array,
    check_is_fitted,
)

from ._backend import make_backend
from ._base import BaseRBM
from ._categorical import _level_positions, _unique_levels
from ._layer import check_chain_settings
from ._parameters import Parameter
from ._transaction import transactional
from ._units.bernoulli import BernoulliVisible
from ._units.categorical import CategoricalVisible
from ._units.gaussian import GaussianVisible, sigma_params
from ._units.mixed import MixedVisible
from ._whitening import Whitening, whitened_clamped_chain

#: the column types, in the order their blocks take in the visible vector
COLUMN_TYPES = ("binary", "categorical", "gaussian")


def infer_column_type(column):
    """The unit type a DataFrame column asks for: its dtype first, then its values.

    bool, or numbers that are all 0 or 1 -> "binary"; category, object or
    string dtypes -> "categorical"; other numbers -> "gaussian".
    """
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "binary"
    if isinstance(dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(dtype):
        return "categorical"
    values = pd.to_numeric(column, errors="coerce").dropna().to_numpy()
    if len(values) and np.isin(values, (0, 1)).all():
        return "binary"
    return "gaussian"


class TableRBM(BaseRBM):
    """Restricted Boltzmann machine of a table with binary, categorical and real columns.

    One hidden layer over every column of a DataFrame, each column modelled
    by the unit type its values ask for: binary units for yes/no columns,
    a group of one-hot units (a softmax, as in :class:`CategoricalRBM`) for
    each categorical column, Gaussian units (as in
    :class:`GaussianBernoulliRBM`, with per-column sigma) for real-valued
    ones.  Given the hidden units the columns are independent, each drawn
    from its own type's conditional; the free energy and the exact log Z
    (over a small hidden layer) or AIS (from the columns' independent
    marginals) are sums over the columns, so ``score_samples`` is the
    log-likelihood of a row: log-probabilities of its discrete columns plus
    the log-density of its real ones.  Every sampler, centering and
    conditional sampling work as for the other RBMs.

    ``sample``, ``gibbs``, ``conditional_sample`` and ``conditional_mean``
    return DataFrames with the fitted table's columns and dtypes: one
    level per categorical column, 0/1 (or False/True) per binary one.

    Parameters
    ----------
    learning_rate : float, default=0.01
        Step size (Gaussian columns need a smaller one than binary data;
        0.01 suits standardised real columns).
    The parameters of every RBM estimator and this one's own, each
    documented once where it is declared, listed here when the class is made.

    Attributes
    ----------
    column_types_ : list of str
        The unit type of each column: "binary", "categorical" or "gaussian".
    categories_ : list of ndarray or None
        The levels of each categorical column (None for the others).
    dtypes_ : list
        Each column's dtype, which the returned tables keep.
    components_ : ndarray of shape (n_components, n_visible)
        Weights W over the visible units: the binary columns, then the
        levels of each categorical column, then the real columns
        (``visible_columns_`` maps them).
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases b.
    intercept_visible_ : ndarray of shape (n_visible,)
        Visible biases a, in the layout of ``components_``.
    sigma_ : ndarray of shape (n_gaussian_columns,)
        Standard deviation of each real column given the hidden units.
    visible_columns_ : list of slice
        The visible units of each column.

    See Also
    --------
    CategoricalRBM : A table of categorical columns alone.
    GaussianBernoulliRBM : Real-valued columns alone (with whitening).
    RBMImputer : Fills the missing entries of a table with this model.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skebm import TableRBM
    >>> rng = np.random.RandomState(0)
    >>> size = rng.normal(size=200)
    >>> table = pd.DataFrame({
    ...     "size": size,
    ...     "large": size > 0,
    ...     "kind": pd.Categorical(np.where(size > 0.5, "big", "small")),
    ... })
    >>> rbm = TableRBM(n_components=4, n_iter=20, random_state=0).fit(table)
    >>> rbm.column_types_
    ['gaussian', 'binary', 'categorical']
    >>> rbm.sample(3, random_state=0).dtypes.astype(str).tolist()
    ['float64', 'bool', 'category']
    """

    _extra_parameters = (
        Parameter(
            "column_types",
            "auto",
            [StrOptions({"auto"}), dict, list],
            """\
column_types : "auto", list or dict, default="auto"
    The unit type of each column: "binary", "categorical" or "gaussian".
    "auto" infers it from the column (bool, or numbers all 0 or 1: binary;
    category, object or string dtypes: categorical; other numbers:
    Gaussian); a list gives one per column, a dict some columns by name
    (or position) and "auto" for the rest.""",
        ),
        Parameter(
            "learn_sigma",
            True,
            ["boolean"],
            """\
learn_sigma : bool, default=True
    Learn each real column's sigma given the hidden units (see
    :class:`GaussianBernoulliRBM`); False keeps the column's standard
    deviation.""",
        ),
    )
    _extra_parameters += (
        Parameter(
            "whiten",
            True,
            ["boolean"],
            """\
whiten : bool, default=True
    Model the real columns whitened by their training covariance
    (``whitening_``), as :class:`GaussianBernoulliRBM` does with
    ``whiten=True``: the model with zero weights has their
    maximum-likelihood full-covariance Gaussian, and the conditional of
    missing real entries uses their correlations.  Every method takes and
    returns the columns in their own units; ``score_samples`` stays the
    likelihood of the rows.""",
        ),
    )
    _default_overrides = {"learning_rate": 0.01}

    # ------------------------------------------------------------------------
    # the unit layout
    # ------------------------------------------------------------------------
    @property
    def _visible_units(self):
        types = getattr(self, "column_types_", [])
        blocks, start = [], 0
        for kind in COLUMN_TYPES:
            columns = [j for j, t in enumerate(types) if t == kind]
            if not columns:
                continue
            if kind == "binary":
                units, width = BernoulliVisible(), len(columns)
            elif kind == "categorical":
                levels = [len(self.categories_[j]) for j in columns]
                units, width = CategoricalVisible(levels), sum(levels)
            else:
                units = GaussianVisible(learn_sigma=self.learn_sigma, whitened=self.whiten)
                width = len(columns)
            blocks.append((units, slice(start, start + width)))
            start += width
        return MixedVisible(blocks) if blocks else GaussianVisible()

    def _layout(self):
        """Each column's slice of the visible vector (binary, categorical, real blocks)."""
        slices, start = [None] * len(self.column_types_), 0
        for kind in COLUMN_TYPES:
            for j, t in enumerate(self.column_types_):
                if t == kind:
                    width = len(self.categories_[j]) if kind == "categorical" else 1
                    slices[j] = slice(start, start + width)
                    start += width
        return slices

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.sparse = False
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def _fitted_params(self):
        params = super()._fitted_params()
        n_gaussian = len(self._gaussian_columns())
        if n_gaussian:
            # the real columns are the last visible units
            variance = getattr(self, "feature_var_", None)
            params.update(sigma_params(
                self.sigma_,
                None if variance is None else variance[-n_gaussian:],
                None if variance is None else self.feature_mean_[-n_gaussian:],
            ))  # fmt: skip
        return params

    def _set_fitted_params(self, params):
        super()._set_fitted_params(params)
        if "log_var" in params:
            self.sigma_ = np.exp(0.5 * params["log_var"])

    def _gaussian_columns(self):
        return [j for j, t in enumerate(getattr(self, "column_types_", [])) if t == "gaussian"]

    # ------------------------------------------------------------------------
    # tables <-> visible rows
    # ------------------------------------------------------------------------
    def _table(self, X, *, reset):
        """X as a DataFrame, its names and width checked as scikit-learn checks them."""
        if not isinstance(X, pd.DataFrame):
            if hasattr(X, "toarray"):
                raise TypeError(
                    "TableRBM takes a dense table, not a sparse matrix; pass a DataFrame "
                    "(or X.toarray())."
                )
            # scikit-learn's own checks and messages: 2-D, not empty, not complex
            array = check_array(X, dtype=None, ensure_all_finite=False)
            X = pd.DataFrame(array)
            if array.dtype.kind in "biuf":
                X = X.astype(array.dtype)
        for j in range(X.shape[1]):
            column = X.iloc[:, j]
            if column.dtype == object and any(
                isinstance(value, (list, tuple, dict, set, np.ndarray)) for value in column
            ):
                raise ValueError(
                    f"Column {X.columns[j]!r} holds a sequence where one value belongs; each "
                    "entry of X must be one number or one category."
                )
        _check_feature_names(self, X, reset=reset)
        _check_n_features(self, X, reset=reset)
        if X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(
                f"Found array with {X.shape[0]} sample(s) and {X.shape[1]} feature(s) while "
                "a minimum of 1 is required."
            )
        return X

    def _find_column_types(self, X):
        given = self.column_types
        if isinstance(given, list):
            if len(given) != X.shape[1]:
                raise ValueError(
                    f"column_types has {len(given)} entries, but X has {X.shape[1]} columns; "
                    "give one type per column, or a dict of some columns' types."
                )
            given = dict(enumerate(given))
        elif given == "auto":
            given = {}
        types = []
        for j, name in enumerate(X.columns):
            kind = given.get(name, given.get(j, "auto"))
            if kind == "auto":
                kind = infer_column_type(X.iloc[:, j])
            if kind not in COLUMN_TYPES:
                raise ValueError(
                    f"column_types gives {kind!r} for column {name!r}; use 'binary', "
                    "'categorical', 'gaussian' or 'auto'."
                )
            types.append(kind)
        return types

    def _validate_X(self, X, *, reset, stream=False):
        # a warm-started fit continues the fitted columns: the same width and names
        warm = reset and self.warm_start and hasattr(self, "column_types_")
        X = self._table(X, reset=reset and not warm)
        if reset and not warm:
            self.column_types_ = self._find_column_types(X)
            self.dtypes_ = list(X.dtypes)
            self.categories_ = [
                (
                    np.asarray(X.iloc[:, j].cat.categories)
                    if isinstance(X.dtypes.iloc[j], pd.CategoricalDtype)
                    else _unique_levels(X.iloc[:, j].dropna().to_numpy(dtype=object), j)
                )
                if kind == "categorical"
                else None
                for j, kind in enumerate(self.column_types_)
            ]
        visible = self._encode(X, allow_missing=False)
        self._check_values(visible, reset=reset)
        if reset and not warm:
            if self.whiten and self._gaussian_columns():
                self.whitening_ = Whitening.of(visible[:, self._real_block()])
            elif hasattr(self, "whitening_"):
                del self.whitening_
        return self._whitened(visible)

    def _real_block(self):
        """The visible units of the real columns: the last block."""
        end = max((s.stop for s in self._layout()), default=0)
        return slice(end - len(self._gaussian_columns()), end)

    def _whitened(self, visible):
        whitening = getattr(self, "whitening_", None)
        if whitening is None:
            return visible
        visible = visible.copy()
        block = self._real_block()
        visible[:, block] = whitening.apply(visible[:, block])
        return visible

    def _unwhitened(self, visible):
        whitening = getattr(self, "whitening_", None)
        if whitening is None:
            return visible
        visible = np.array(visible, dtype=np.float64)
        block = self._real_block()
        visible[..., block] = whitening.invert(visible[..., block])
        return visible

    def _validate_incomplete(self, X):
        check_is_fitted(self)
        visible = self._encode(self._table(X, reset=False), allow_missing=True)
        # observed values outside what their units model warn, as in fit (missing: 0)
        self._check_values(np.where(np.isnan(visible), 0.0, visible))
        return visible

    def _encode(self, X, *, allow_missing):
        """The visible rows of a table: 0/1, one-hot groups and real values; nan where missing."""
        slices = self._layout()
        out = np.zeros((X.shape[0], max((s.stop for s in slices), default=0)))
        for j, (kind, where) in enumerate(zip(self.column_types_, slices)):
            column = X.iloc[:, j]
            missing = np.asarray(column.isna(), dtype=bool)
            if missing.any() and not allow_missing:
                raise ValueError(
                    f"Input X contains NaN or another missing value in column "
                    f"{X.columns[j]!r}. TableRBM models complete rows; fill them (e.g. with "
                    "RBMImputer) or pass the rows to conditional_sample to draw the missing "
                    "entries."
                )
            if kind == "categorical":
                values = column.to_numpy(dtype=object)
                position, known = _level_positions(self.categories_[j], values, missing)
                unknown = ~known & ~missing
                if unknown.any():
                    raise ValueError(
                        f"Found unknown categories {list(dict.fromkeys(values[unknown]))[:5]} "
                        f"in column {X.columns[j]!r}, not among its levels in categories_; "
                        "refit with them."
                    )
                rows = np.flatnonzero(known & ~missing)
                out[rows, where.start + position[rows]] = 1.0
                out[missing, where] = np.nan
                continue
            try:
                values = pd.to_numeric(column, errors="raise").to_numpy(dtype=np.float64,
                                                                      na_value=np.nan)
            except (TypeError, ValueError):
                raise ValueError(
                    f"Column {X.columns[j]!r} is {kind} but holds values that are not "
                    "numbers; give it column_types='categorical'."
                ) from None
            if np.isinf(values).any():
                raise ValueError(
                    f"Input X contains infinity in column {X.columns[j]!r}; give finite values."
                )
            out[:, where.start] = values
        return out

    def _decode(self, visible, *, means=False):
        """A DataFrame of the fitted columns and dtypes from visible rows.

        A categorical column takes its group's largest entry; a binary one
        rounds (``means``: a probability to its most probable value).
        """
        slices = self._layout()
        columns = {}
        names = getattr(self, "feature_names_in_", range(len(slices)))
        for j, (kind, where, dtype) in enumerate(zip(self.column_types_, slices, self.dtypes_)):
            block = visible[:, where]
            if kind == "categorical":
                values = np.asarray(self.categories_[j], dtype=object)[np.argmax(block, axis=1)]
            elif kind == "binary":
                values = block[:, 0] > 0.5
            else:
                values = block[:, 0]
            columns[names[j]] = _as_dtype(pd.Series(values), dtype, kind)
        return pd.DataFrame(columns)

    def _visible_rows(self, X):
        return self._validate_X(X, reset=False)

    def _rows_of_visible(self, v):
        return self._decode(self._unwhitened(v))

    # ------------------------------------------------------------------------
    # rows out as tables
    # ------------------------------------------------------------------------
    @functools.wraps(BaseRBM.sample)
    def sample(self, n_samples=1, **kwargs):
        return self._decode(self._unwhitened(super().sample(n_samples, **kwargs)))

    @functools.wraps(BaseRBM.gibbs)
    def gibbs(self, v):
        return self._decode(self._unwhitened(super().gibbs(v)))

    @functools.wraps(BaseRBM.free_energy)
    def free_energy(self, X):
        # F of the rows in their own units: p(x) = p(u) |det P| for the real columns
        free_energy = super().free_energy(X)
        whitening = getattr(self, "whitening_", None)
        return free_energy if whitening is None else free_energy - whitening.log_det

    def inverse_transform(self, H):
        """The most probable row given hidden vectors, as a table.

        Parameters
        ----------
        H : array-like of shape (n_samples, n_components)
            Hidden states or probabilities (e.g. the output of ``transform``).

        Returns
        -------
        X : DataFrame of shape (n_samples, n_features)
            Real columns at their conditional means, binary and categorical
            ones at their most probable value.
        """
        return self._decode(self._unwhitened(super().inverse_transform(H)), means=True)

    def conditional_sample(self, X, **kwargs):
        """Draws of each row's missing entries given its observed ones, as tables.

        Missing entries are what pandas counts as missing (``np.nan``,
        None, ``pd.NA``).  See :meth:`BernoulliRBM.conditional_sample` for
        the chains and the keyword arguments.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_features)
            Rows with missing entries.
        **kwargs
            ``n_samples``, ``n_steps``, ``random_state``, ``method``,
            ``n_temperatures``.

        Returns
        -------
        samples : list of DataFrame
            One table per draw (``n_samples``), each with the rows' missing
            entries drawn and the observed ones as given.
        """
        if getattr(self, "whitening_", None) is not None:
            draws = self._whitened_chains(X, draws=True, **kwargs)
        else:
            draws = super().conditional_sample(X, **kwargs)
        return [self._decode(draw) for draw in draws]

    def conditional_mean(self, X, **kwargs):
        """Each row's missing entries at their conditional expectation, as a table.

        Real columns get E[x | observed entries]; binary and categorical
        columns their most probable value given the observed entries
        (estimated as in :meth:`BernoulliRBM.conditional_mean`).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_features)
            Rows with missing entries.
        **kwargs
            ``n_steps``, ``burn_in``, ``random_state``.

        Returns
        -------
        X_filled : DataFrame of shape (n_rows, n_features)
            The rows with their missing entries filled.
        """
        if getattr(self, "whitening_", None) is not None:
            return self._decode(self._whitened_chains(X, draws=False, **kwargs), means=True)
        return self._decode(super().conditional_mean(X, **kwargs), means=True)

    @transactional
    def _whitened_chains(self, X, *, draws, n_samples=1, n_steps=200, burn_in=50,
                         random_state=None, method="gibbs", n_temperatures=None):  # fmt: skip
        """Clamped chains with the real columns whitened (see GaussianBernoulliRBM's)."""
        if method != "gibbs":
            raise ValueError(
                f"method={method!r}: with whitened real columns (whiten=True) the missing "
                "entries are drawn by Gibbs chains on their full-covariance conditional; "
                "use method='gibbs'."
            )
        visible = self._validate_incomplete(X)
        check_chain_settings(n_samples, n_steps, n_units=sum(self.components_.shape),
                             n_rows=visible.shape[0])  # fmt: skip
        if not draws and n_steps < 1:
            raise ValueError(f"n_steps must be at least 1 to average over, got {n_steps!r}.")
        rng = self.random_state_ if random_state is None else check_random_state(random_state)
        seed = rng.randint(2**31 - 1)
        missing = np.isnan(visible)
        state, average = whitened_clamped_chain(
            self._layer(make_backend(None, np.float64, seed=seed)), self.whitening_,
            self.sigma_.astype(np.float64), self._real_block(),
            np.tile(np.where(missing, 0.0, visible), (n_samples, 1)),
            np.tile(missing, (n_samples, 1)), 0 if draws else n_steps,
            n_steps if draws else burn_in, np.random.default_rng(seed),
        )  # fmt: skip
        return state.reshape(n_samples, *visible.shape) if draws else average


def _as_dtype(values, dtype, kind):
    """A column of decoded values in the fitted column's dtype, where it can hold them."""
    try:
        if kind == "binary" and not pd.api.types.is_bool_dtype(dtype):
            values = values.astype(np.int64)
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values
