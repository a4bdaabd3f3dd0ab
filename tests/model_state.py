"""The complete state of a model, to compare before and after a call that must change nothing."""

import copy
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator


def state_of(value):
    if type(value) is object:  # a bare sentinel: only itself is equal
        return value
    if isinstance(value, np.random.RandomState):
        kind, keys, pos, has_gauss, cached = value.get_state()
        return ("RandomState", kind, keys.copy(), pos, has_gauss, cached)
    if isinstance(value, np.random.Generator):
        return ("Generator", copy.deepcopy(value.bit_generator.state))
    if isinstance(value, np.ndarray):
        return value.copy()
    if sp.issparse(value):
        return ("sparse", value.toarray())
    if isinstance(value, dict):
        return {key: state_of(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(state_of(item) for item in value)
    if isinstance(value, BaseEstimator):
        return (type(value).__name__, state_of(vars(value)))
    return copy.deepcopy(value)


def assert_same(actual, expected, where="model"):
    assert type(actual) is type(expected), where
    if isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype, where
        np.testing.assert_array_equal(actual, expected, err_msg=where)
    elif isinstance(expected, dict):
        assert actual.keys() == expected.keys(), f"{where}: attributes changed"
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), where
        for i, (a, b) in enumerate(zip(actual, expected)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(expected, float) and np.isnan(expected):
        assert np.isnan(actual), where
    else:
        assert actual == expected, where


def assert_rejected_without_change(
    model, call, match, exceptions=(ValueError, TypeError)
):
    before = state_of(vars(model))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(exceptions, match=match):
            call()
    assert_same(state_of(vars(model)), before)
