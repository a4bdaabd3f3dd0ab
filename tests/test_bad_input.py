"""Bad input, for every public estimator and method: a clear error, no damage.

Each case calls a method of a fitted model (or ``fit`` of a fresh one) with
one kind of bad input: NaN, infinity, strings, object arrays, empty arrays,
1-d and 3-d arrays, the wrong number of features, complex numbers, ragged
lists, invalid parameters and arguments, bad targets.  It must raise a
ValueError or TypeError whose message names the problem, and leave every
attribute of the model exactly as it was, the state of its random generator
included.
"""

import copy
import inspect

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import generate_invalid_param_val, make_constraint

import skebm
from model_state import assert_rejected_without_change, assert_same, state_of

ESTIMATORS = [
    obj
    for obj in (getattr(skebm, name) for name in skebm.__all__)
    if isinstance(obj, type) and issubclass(obj, BaseEstimator)
]
N_FEATURES = 5
SMALL = {  # tiny, fast settings per estimator
    "BernoulliRBM": dict(n_components=3, n_iter=2),
    "GaussianBernoulliRBM": dict(n_components=3, n_iter=2),
    "DBN": dict(hidden_layer_sizes=(3, 2), n_iter=1),
    "DBNClassifier": dict(hidden_layer_sizes=(3, 2), n_iter=1, fine_tune_n_iter=3),
    "RBMImputer": dict(n_components=3, n_iter=2, n_steps=5, burn_in=2),
    "SpinRBM": dict(n_components=3, n_iter=2),
    "CategoricalRBM": dict(n_components=3, n_iter=2),
    "CovarianceRBM": dict(n_components=3, n_iter=2),
    "TableRBM": dict(n_components=3, n_iter=2),
}
#: how an estimator whose units are not 0/1 codes the binary good data
CODING = {"SpinRBM": lambda X: 2.0 * X - 1.0}  # spins: 0/1 data is refused
#: inputs an imputer takes as missing values, not as bad input
MISSING_VALUE_CASES = {"nan", "sparse_nan", "object_with_none"}
#: inputs a categorical model takes as categories (new ones, once fitted)
CATEGORY_CASES = {"strings", "object_with_string"}


def takes_nan(cls):
    return make(cls).__sklearn_tags__().input_tags.allow_nan


def takes_categories(cls):
    """Whether strings are categories to cls, not bad input."""
    return make(cls).__sklearn_tags__().input_tags.categorical


def expected_message(cls, case):
    """What the error names: strings are unknown levels to a categorical model,
    and a model that takes no sparse input says so first."""
    build, match = BAD_X[case]
    if case.startswith("sparse") and not make(cls).__sklearn_tags__().input_tags.sparse:
        return "sparse"
    if case in CATEGORY_CASES and cls.__name__ == "TableRBM":
        return "not numbers"  # strings in the fitted table's 0/1 columns
    if case in CATEGORY_CASES and takes_categories(cls):
        return "unknown categories"
    return match


X_METHODS = [
    "fit",
    "partial_fit",
    "transform",
    "gibbs",
    "free_energy",
    "score_samples",
    "score",
    "pseudo_log_likelihood",
    "predict",
    "predict_proba",
    "predict_log_proba",
]


def good_data(cls=None):
    """Binary rows (coded as ``cls`` models them) and three-class labels."""
    rng = np.random.default_rng(0)
    X = (rng.random((30, N_FEATURES)) < 0.5).astype(np.float64)
    if cls is not None and cls.__name__ in CODING:
        X = CODING[cls.__name__](X)
    y = np.arange(30) % 3
    return X, y


def needs_y(cls):
    return "y" in inspect.signature(cls.fit).parameters and (
        inspect.signature(cls.fit).parameters["y"].default is inspect.Parameter.empty
    )


def make(cls, **params):
    return cls(**{**SMALL.get(cls.__name__, {}), "random_state": 0, **params})


_FITTED = {}


def fitted(cls):
    """A fitted model of cls, a fresh deep copy for every case."""
    if cls not in _FITTED:
        X, y = good_data(cls)
        _FITTED[cls] = make(cls).fit(X, y) if needs_y(cls) else make(cls).fit(X)
    return copy.deepcopy(_FITTED[cls])


# ---------------------------------------------------------------------------
# bad X
# ---------------------------------------------------------------------------
def _with(value):
    def build(X):
        bad = X.copy()
        bad[2, 1] = value
        return bad

    return build


def _object_array(X, odd):
    bad = X.astype(object)
    bad[2, 1] = odd
    return bad


BAD_X = {
    # name: (build from good X, message pattern)
    "nan": (_with(np.nan), "NaN"),
    "inf": (_with(np.inf), "infinity"),
    "-inf": (_with(-np.inf), "infinity"),
    "sparse_nan": (lambda X: sp.csr_matrix(_with(np.nan)(X)), "NaN"),
    "sparse_inf": (lambda X: sp.csr_matrix(_with(np.inf)(X)), "infinity"),
    "strings": (lambda X: np.full(X.shape, "a"), "string"),
    "object_with_string": (lambda X: _object_array(X, "a"), "string"),
    "object_with_none": (lambda X: _object_array(X, None), "NaN"),
    "object_with_list": (lambda X: _object_array(X, [1, 2]), "sequence"),
    "empty_rows": (lambda X: X[:0], "0 sample"),
    "no_columns": (lambda X: X[:, :0], "0 feature"),
    "1d": (lambda X: X[0], "(?s)Expected 2D.*Reshape"),
    "3d": (lambda X: X.reshape(X.shape[0], 1, -1), "dim 3"),
    "scalar": (lambda X: 1.0, "Expected 2D"),
    "none": (lambda X: None, "Expected 2D|None"),
    "complex": (lambda X: X.astype(complex), "Complex data not supported"),
    "ragged": (lambda X: [list(X[0]), list(X[1][:-1])], "inhomogeneous"),
    "wrong_n_features": (
        lambda X: X[:, :-1],
        f"has {N_FEATURES - 1} features.*expecting {N_FEATURES}",
    ),
}


def x_cases():
    for cls in ESTIMATORS:
        for method in X_METHODS:
            if not hasattr(cls, method):
                continue
            if method == "pseudo_log_likelihood" and not make(cls)._units.discrete:
                continue  # refused for any input: binary units only
            for case in BAD_X:
                if case == "wrong_n_features" and method == "fit":
                    continue  # fit may learn a new width
                if case in MISSING_VALUE_CASES and takes_nan(cls):
                    continue
                if case in CATEGORY_CASES and takes_categories(cls) and method in (
                    "fit", "partial_fit"
                ):
                    continue  # new levels: fit learns them; partial_fit: unknown
                yield pytest.param(
                    cls, method, case, id=f"{cls.__name__}-{method}-{case}"
                )


def _call(model, method, X):
    _, y = good_data()
    if method in ("fit", "score") and needs_y(type(model)):
        n = X.shape[0] if hasattr(X, "shape") and len(X.shape) >= 1 else len(y)
        return getattr(model, method)(X, y[:n] if n <= len(y) else y)
    return getattr(model, method)(X)


@pytest.mark.parametrize("cls, method, case", list(x_cases()))
def test_bad_X_on_fitted_model(cls, method, case):
    X, _ = good_data(cls)
    build, _ = BAD_X[case]
    match = expected_message(cls, case)
    model = fitted(cls)
    assert_rejected_without_change(model, lambda: _call(model, method, build(X)), match)


@pytest.mark.parametrize(
    "cls, case",
    [
        pytest.param(cls, case, id=f"{cls.__name__}-{case}")
        for cls in ESTIMATORS
        for case in BAD_X
        if case != "wrong_n_features"
        and not (case in MISSING_VALUE_CASES and takes_nan(cls))
        and not (case in CATEGORY_CASES and takes_categories(cls))
    ],
)
def test_bad_X_on_fresh_model_leaves_it_unfitted(cls, case):
    X, _ = good_data(cls)
    build, _ = BAD_X[case]
    match = expected_message(cls, case)
    model = make(cls)
    assert_rejected_without_change(model, lambda: _call(model, "fit", build(X)), match)
    assert not any(key.endswith("_") for key in vars(model))


# ---------------------------------------------------------------------------
# invalid parameters
# ---------------------------------------------------------------------------
def invalid_values(constraints):
    values = []
    for constraint in constraints:
        try:
            values.append(generate_invalid_param_val(make_constraint(constraint)))
        except NotImplementedError:
            pass
    values.append("not-a-valid-value")
    values.append(object())
    unique = []
    for value in values:
        if not any(value is other or repr(value) == repr(other) for other in unique):
            unique.append(value)
    return unique


#: methods that fail to re-validate parameters changed by set_params after fitting
PARTIAL_FIT_SKIPS_VALIDATION = set()


def param_cases(method):
    for cls in ESTIMATORS:
        if not hasattr(cls, method):
            continue
        marks = []
        if method == "partial_fit" and cls.__name__ in PARTIAL_FIT_SKIPS_VALIDATION:
            marks = [
                pytest.mark.xfail(
                    strict=True,
                    reason="sklearn's _fit_context skips parameter validation in "
                    "partial_fit once fitted; partial_fit must call "
                    "self._validate_params() itself",
                )
            ]
        for name, constraints in cls._parameter_constraints.items():
            for i, value in enumerate(invalid_values(constraints)):
                # ids by position: generated values may differ between processes
                yield pytest.param(
                    cls,
                    name,
                    value,
                    id=f"{cls.__name__}-{name}-{i}-{type(value).__name__}",
                    marks=marks,
                )


def _check_invalid_parameter(cls, name, value, method):
    X, y = good_data(cls)
    model = fitted(cls)
    original = model.get_params()[name]
    model.set_params(**{name: value})
    if method == "fit" and needs_y(cls):
        call = lambda: model.fit(X, y)  # noqa: E731
    else:
        call = lambda: getattr(model, method)(X)  # noqa: E731
    assert_rejected_without_change(model, call, name)
    model.set_params(**{name: original})
    assert_same(state_of(vars(model)), state_of(vars(fitted(cls))))


@pytest.mark.parametrize("cls, name, value", list(param_cases("fit")))
def test_invalid_parameter_rejected_by_fit(cls, name, value):
    _check_invalid_parameter(cls, name, value, "fit")


@pytest.mark.parametrize("cls, name, value", list(param_cases("partial_fit")))
def test_invalid_parameter_rejected_by_partial_fit_of_fitted_model(cls, name, value):
    _check_invalid_parameter(cls, name, value, "partial_fit")


@pytest.mark.parametrize(
    "cls",
    [
        pytest.param(
            c,
            id=c.__name__,
            marks=(
                [
                    pytest.mark.xfail(
                        strict=True,
                        reason="partial_fit continues the fitted layers silently",
                    )
                ]
                if c.__name__ in PARTIAL_FIT_SKIPS_VALIDATION
                else []
            ),
        )
        for c in ESTIMATORS
        if hasattr(c, "partial_fit")
    ],
)
def test_partial_fit_refuses_a_changed_architecture(cls):
    X, _ = good_data(cls)
    model = fitted(cls)
    name = (
        "n_components" if "n_components" in model.get_params() else "hidden_layer_sizes"
    )
    bigger = 4 if name == "n_components" else (4, 2)
    model.set_params(**{name: bigger})
    assert_rejected_without_change(model, lambda: model.partial_fit(X), "fit")


# ---------------------------------------------------------------------------
# invalid arguments of the other methods, bad targets, unfitted models
# ---------------------------------------------------------------------------
def _inverse_width(model):
    return model._n_features_out


BAD_H = {
    "wrong_columns": (lambda n: np.zeros((2, n + 1)), "columns"),
    "nan": (lambda n: np.full((2, n), np.nan), "NaN"),
    "inf": (lambda n: np.full((2, n), np.inf), "infinity"),
    "1d": (lambda n: np.zeros(n), "Expected 2D"),
    "3d": (lambda n: np.zeros((2, 1, n)), "dim 3"),
    "empty": (lambda n: np.zeros((0, n)), "0 sample"),
    "strings": (lambda n: np.full((2, n), "a"), "string"),
}

BAD_SAMPLE_ARGS = {
    "n_samples=0": (dict(n_samples=0), "n_samples"),
    "n_samples=-1": (dict(n_samples=-1), "n_samples"),
    "n_samples=1.5": (dict(n_samples=1.5), "n_samples"),
    "n_samples='a'": (dict(n_samples="a"), "n_samples"),
    "n_steps=-1": (dict(n_steps=-1), "n_steps"),
    "n_steps=0.5": (dict(n_steps=0.5), "n_steps"),
    "random_state='x'": (dict(random_state="x"), "seed"),
}

BAD_Y = {
    "none": (lambda y: None, "requires y"),
    "wrong_length": (lambda y: y[:5], "inconsistent numbers of samples"),
    "nan": (lambda y: np.where(y == 1, np.nan, y), "NaN"),
    "inf": (lambda y: np.where(y == 1, np.inf, y), "infinity"),
    "2d": (lambda y: np.c_[y, y], "1d array"),
    "continuous": (lambda y: np.linspace(0, 1, len(y)), "label type"),
    "one_class": (lambda y: np.zeros_like(y), "2 classes"),
}


def method_cases():
    for cls in ESTIMATORS:
        name = cls.__name__
        if hasattr(cls, "inverse_transform"):
            for case in BAD_H:
                yield pytest.param(
                    cls,
                    "inverse_transform",
                    case,
                    id=f"{name}-inverse_transform-{case}",
                )
        if hasattr(cls, "sample"):
            for case in BAD_SAMPLE_ARGS:
                yield pytest.param(cls, "sample", case, id=f"{name}-sample-{case}")
        if hasattr(cls, "estimate_log_partition"):
            for case in ("method='bogus'", "method=3"):
                yield pytest.param(
                    cls,
                    "estimate_log_partition",
                    case,
                    id=f"{name}-log_partition-{case}",
                )
        if needs_y(cls):
            for case in BAD_Y:
                yield pytest.param(cls, "fit_y", case, id=f"{name}-fit-y-{case}")


@pytest.mark.parametrize("cls, method, case", list(method_cases()))
def test_bad_arguments(cls, method, case):
    X, y = good_data(cls)
    model = fitted(cls)
    if method == "inverse_transform":
        build, match = BAD_H[case]
        H = build(_inverse_width(model))
        call = lambda: model.inverse_transform(H)  # noqa: E731
    elif method == "sample":
        kwargs, match = BAD_SAMPLE_ARGS[case]
        call = lambda: model.sample(**kwargs)  # noqa: E731
    elif method == "estimate_log_partition":
        value = "bogus" if "bogus" in case else 3
        match = "method"
        call = lambda: model.estimate_log_partition(method=value)  # noqa: E731
    else:
        build, match = BAD_Y[case]
        call = lambda: model.fit(X, build(y))  # noqa: E731
    assert_rejected_without_change(model, call, match)


def unfitted_cases():
    for cls in ESTIMATORS:
        for method in X_METHODS + [
            "inverse_transform",
            "sample",
            "estimate_log_partition",
        ]:
            if method not in ("fit", "partial_fit") and hasattr(cls, method):
                yield pytest.param(cls, method, id=f"{cls.__name__}-{method}")


@pytest.mark.parametrize("cls, method", list(unfitted_cases()))
def test_unfitted_model_says_fit_first(cls, method):
    X, y = good_data(cls)
    model = make(cls)
    if method == "sample" or method == "estimate_log_partition":
        call = lambda: getattr(model, method)()  # noqa: E731
    elif method == "inverse_transform":
        call = lambda: model.inverse_transform(np.zeros((2, 3)))  # noqa: E731
    elif method == "score" and needs_y(cls):
        call = lambda: model.score(X, y)  # noqa: E731
    else:
        call = lambda: getattr(model, method)(X)  # noqa: E731
    assert_rejected_without_change(model, call, "not fitted yet.*fit", NotFittedError)


def test_the_matrix_covers_every_public_estimator():
    covered = {p.values[0] for p in x_cases()}
    assert covered == set(ESTIMATORS)
