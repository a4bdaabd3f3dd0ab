"""The edges of every estimator: each answer is right, or a clear error that changes nothing.

Every public estimator and every public method that reads rows or sizes is
called with the inputs a user meets at the edges of the data: pandas'
missing markers (``pd.NA`` in a nullable float column and in an object
column, None in an object column, an ``Int64`` column with a gap), ``np.nan``, a column with no
observed value, a table wider or narrower than the fitted one (also under
``warm_start=True``), a value outside the range the units model, and sizes
no machine holds.  Each case states what it must do:

- ``error``: raise a ValueError or TypeError whose message names the problem,
  and leave every attribute of the estimator (``random_state_`` and caches
  included) exactly as it was;
- ``fills``: a method made for missing values (conditional sampling, the
  imputer) returns rows with nothing missing and the observed entries kept;
- ``warns``: the answer comes with a warning that names the problem;
- ``ok``: a documented answer (e.g. a Gaussian model takes any real value).

Methods that only read the model must leave it unchanged whatever they answer.
"""

import copy
import inspect
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from model_state import assert_same, state_of
from sklearn.base import BaseEstimator

import skebm

ESTIMATORS = [
    obj
    for obj in (getattr(skebm, name) for name in skebm.__all__)
    if isinstance(obj, type) and issubclass(obj, BaseEstimator)
]
N_ROWS, N_FEATURES = 40, 5
SMALL = {  # tiny, fast settings per estimator
    "BernoulliRBM": {"n_components": 3, "n_iter": 2},
    "GaussianBernoulliRBM": {"n_components": 3, "n_iter": 2},
    "DBN": {"hidden_layer_sizes": (3, 2), "n_iter": 1},
    "DBNClassifier": {"hidden_layer_sizes": (3, 2), "n_iter": 1, "fine_tune_n_iter": 3},
    "RBMImputer": {"n_components": 3, "n_iter": 2, "n_steps": 5, "burn_in": 2},
    "SpinRBM": {"n_components": 3, "n_iter": 2},
    "CategoricalRBM": {"n_components": 3, "n_iter": 2},
    "CovarianceRBM": {"n_components": 3, "n_iter": 2},
    "TableRBM": {"n_components": 3, "n_iter": 2},
}
#: spins are -1/+1: the binary data coded as they model it
CODING = {"SpinRBM": lambda X: 2.0 * X - 1.0}
#: estimators whose units model values in a bounded range (a 5.0 is out of it)
BOUNDED = {"BernoulliRBM", "SpinRBM", "DBN", "DBNClassifier"}
#: methods that only read the fitted model: they must never change it
READ_ONLY = {
    "transform", "free_energy", "score_samples", "score", "pseudo_log_likelihood",
    "predict", "predict_proba", "predict_log_proba",
}  # fmt: skip
#: methods that take missing entries as what they are for
FILLING = {"conditional_sample", "conditional_mean"}


def make(cls, **params):
    return cls(**{**SMALL[cls.__name__], "random_state": 0, **params})


def needs_y(cls):
    parameter = inspect.signature(cls.fit).parameters.get("y")
    return parameter is not None and parameter.default is inspect.Parameter.empty


def good_data(cls):
    rng = np.random.default_rng(0)
    X = (rng.random((N_ROWS, N_FEATURES)) < 0.5).astype(np.float64)
    X = CODING.get(cls.__name__, lambda X: X)(X)
    return X, np.arange(N_ROWS) % 2


_FITTED = {}


def fitted(cls):
    """A fitted model of cls, a fresh deep copy for every case."""
    if cls not in _FITTED:
        X, y = good_data(cls)
        if needs_y(cls):
            _FITTED[cls] = make(cls).fit(X, y)
        else:
            _FITTED[cls] = make(cls).fit(X)
            if hasattr(cls, "score"):
                _FITTED[cls].score(X)  # log Z computed and cached, as after a first score
    return copy.deepcopy(_FITTED[cls])


# ---------------------------------------------------------------------------
# the inputs at the edges
# ---------------------------------------------------------------------------
def _with_gap(X):
    gap = X.copy()
    gap[2, 1] = np.nan
    return gap


def _pd_na(X):
    frame = pd.DataFrame(X).astype("Float64")
    frame.iloc[2, 1] = pd.NA
    return frame


def _pd_none(X):
    frame = pd.DataFrame(X)
    frame[1] = frame[1].astype(object)
    frame.iloc[2, 1] = None
    return frame


def _object_na(X):
    frame = pd.DataFrame(X)
    frame[1] = frame[1].astype(object)
    frame.iloc[2, 1] = pd.NA
    return frame


def _int64_na(X):
    frame = pd.DataFrame(X)
    frame[1] = pd.array(X[:, 1].astype(int), dtype="Int64")
    frame.iloc[2, 1] = pd.NA
    return frame


def _empty_column(X):
    empty = X.copy()
    empty[:, 1] = np.nan
    return empty


def _out_of_range(X):
    odd = X.copy()
    odd[2, 1] = 5.0
    return odd


MISSING_CASES = {
    "nan": _with_gap,
    "pd_NA": _pd_na,
    "pd_None": _pd_none,
    "object_NA": _object_na,
    "Int64_NA": _int64_na,
    "empty_column": _empty_column,
}
WIDTH_CASES = {
    "wider": lambda X: np.hstack([X, X[:, :1]]),
    "narrower": lambda X: X[:, :-1],
}
X_CASES = {**MISSING_CASES, **WIDTH_CASES, "out_of_range": _out_of_range}
SIZE_CASES = {
    # method: {case: (keyword arguments, message)}
    "sample": {
        "absurd_n_samples": {"n_samples": 10**13},
        "absurd_temperatures": {"n_samples": 2, "method": "pt", "n_temperatures": 10**12},
    },
    "conditional_sample": {
        "absurd_n_samples": {"n_samples": 10**13},
        "absurd_temperatures": {"method": "pt", "n_temperatures": 10**12},
    },
    "estimate_log_partition": {
        "absurd_ais_chains": {"method": "ais", "n_chains": 10**13, "reverse": False},
    },
}
X_METHODS = [
    "fit", "fit_warm", "partial_fit", "fit_transform", "transform", "gibbs", "free_energy",
    "score_samples", "score", "pseudo_log_likelihood", "conditional_sample",
    "conditional_mean", "predict", "predict_proba", "predict_log_proba",
]  # fmt: skip


def has_method(cls, method):
    if method == "fit_warm":
        return "warm_start" in cls().get_params()
    if method == "fit_transform":
        return cls.__name__ == "RBMImputer"  # the others: fit, then transform
    if method == "pseudo_log_likelihood":
        return hasattr(cls, method) and make(cls)._units.discrete
    return hasattr(cls, method)


def takes_missing(cls, method):
    return method in FILLING or (cls.__name__ == "RBMImputer" and method != "fit_warm")


def expected(cls, method, case):
    """``(outcome, message pattern)`` for the case (see the module's docstring)."""
    name = cls.__name__
    if case in SIZE_CASES.get(method, {}):
        return "error", "memory"
    if case in MISSING_CASES:
        if takes_missing(cls, method):
            if case == "empty_column" and method in ("fit", "fit_transform"):
                return "warns", "without any observed values"
            return "fills", None
        return "error", "NaN|missing"
    if case in WIDTH_CASES:
        if method in ("fit", "fit_transform"):
            return "ok", None  # a new fit learns the new width
        return "error", "features"
    # out of range
    if name == "CategoricalRBM":
        return ("ok", None) if method == "fit" else ("error", "unknown categories")
    if name == "TableRBM":
        # a new fit takes a column of 0, 1 and 5 as real-valued; the fitted
        # model's binary units warn about the 5
        return ("ok", None) if method == "fit" else ("warns", "range")
    if name in BOUNDED and method not in ("predict", "predict_proba", "predict_log_proba"):
        return "warns", "range"
    return "ok", None


def cases():
    for cls in ESTIMATORS:
        for method in X_METHODS:
            if not has_method(cls, method):
                continue
            for case in X_CASES:
                yield pytest.param(cls, method, case, id=f"{cls.__name__}-{method}-{case}")
        for method, size_cases in SIZE_CASES.items():
            if hasattr(cls, method):
                for case, kwargs in size_cases.items():
                    if not set(kwargs) <= set(inspect.signature(getattr(cls, method)).parameters):
                        continue  # e.g. the DBN samples its top RBM by Gibbs only
                    yield pytest.param(cls, method, case, id=f"{cls.__name__}-{method}-{case}")


def call(cls, method, case):
    """The model the case runs on, and the call."""
    X, y = good_data(cls)
    if case in SIZE_CASES.get(method, {}):
        model = fitted(cls)
        kwargs = SIZE_CASES[method][case]
        if method == "conditional_sample":
            return model, lambda: model.conditional_sample(_with_gap(X), **kwargs)
        return model, lambda: getattr(model, method)(**kwargs)
    data = X_CASES[case](X)
    target = y[: len(data)]
    if method in ("fit", "fit_transform"):
        model = make(cls)
    else:
        model = fitted(cls)
    if method == "fit_warm":
        model.set_params(warm_start=True)
        return model, lambda: model.fit(data, target) if needs_y(cls) else model.fit(data)
    if needs_y(cls) and method in ("fit", "partial_fit", "score"):
        return model, lambda: getattr(model, method)(data, target)
    return model, lambda: getattr(model, method)(data)


def missing_entries(values):
    return np.asarray(pd.isna(pd.DataFrame(np.asarray(values).reshape(-1, np.shape(values)[-1]))))


@pytest.mark.parametrize("cls, method, case", list(cases()))
def test_edge(cls, method, case):
    outcome, match = expected(cls, method, case)
    model, run = call(cls, method, case)
    before = state_of(vars(model))
    if outcome == "error":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # e.g. out-of-range values
            with pytest.raises((ValueError, TypeError), match=match):
                run()
        assert_same(state_of(vars(model)), before)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run()
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    if outcome == "warns":
        assert any(re.search(match, m) for m in messages), messages
    if outcome == "fills" and method not in ("fit", "fit_warm", "partial_fit"):
        assert not missing_entries(result).any(), f"{method} left missing entries"
        if method == "conditional_mean" and cls.__name__ != "CategoricalRBM":
            result = np.asarray(result, dtype=float)
            given = X_CASES[case](good_data(cls)[0])
            observed = ~np.asarray(pd.isna(pd.DataFrame(given)))
            frame = pd.DataFrame(given).astype(object)
            values = frame.where(frame.notna(), np.nan).to_numpy(dtype=float)
            np.testing.assert_array_equal(result[observed], values[observed])
    if method in READ_ONLY:
        assert_same(state_of(vars(model)), before)


def test_imputer_output_drops_or_keeps_the_empty_column():
    X, _ = good_data(skebm.RBMImputer)
    gaps = _empty_column(X)
    with pytest.warns(UserWarning, match="without any observed values"):
        dropped = make(skebm.RBMImputer).fit(gaps)
    assert dropped.transform(gaps).shape == (N_ROWS, N_FEATURES - 1)
    assert list(dropped.get_feature_names_out()) == ["x0", "x2", "x3", "x4"]
    with pytest.warns(UserWarning, match="filled with 0"):
        kept = make(skebm.RBMImputer, keep_empty_features=True).fit(gaps)
    filled = kept.transform(gaps)
    assert filled.shape == (N_ROWS, N_FEATURES)
    np.testing.assert_array_equal(filled[:, 1], 0.0)
    np.testing.assert_array_equal(filled[:, [0, 2, 3, 4]], X[:, [0, 2, 3, 4]])


def test_imputer_refuses_an_all_missing_table():
    model = make(skebm.RBMImputer)
    with pytest.raises(ValueError, match="Every column of X is missing"):
        model.fit(np.full((5, 3), np.nan))
    assert not any(key.endswith("_") for key in vars(model))


def test_the_matrix_covers_every_estimator_and_method():
    params = list(cases())
    covered = {(p.values[0], p.values[1]) for p in params}
    assert {cls for cls, _ in covered} == set(ESTIMATORS)
    for method in ("conditional_sample", "conditional_mean", "sample", "transform"):
        assert any(m == method for _, m in covered)
