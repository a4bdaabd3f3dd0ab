"""scikit-learn's own estimator checks, over every public estimator of skebm."""

import warnings

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import skebm


def public_estimators():
    estimators = []
    for name in skebm.__all__:
        obj = getattr(skebm, name)
        if isinstance(obj, type) and issubclass(obj, BaseEstimator):
            estimators.append(obj())
    return estimators


@parametrize_with_checks(public_estimators())
def test_sklearn_compatible_estimator(estimator, check):
    # Bernoulli units warn about the checks' real-valued data; the warning is
    # tested on its own elsewhere and is expected here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Bernoulli visible units")
        check(estimator)
