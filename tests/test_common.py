"""scikit-learn's own estimator checks, over every public estimator of skebm."""

import warnings

from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import skebm


#: Settings that keep the checks fast where the defaults would score by AIS
#: (the checks' data have too few features for a 256-unit hidden layer to be
#: summed exactly, and default AIS runs 14,500 temperatures per score).  The
#: defaults themselves pass the same checks; this only shortens the suite.
FAST_SETTINGS = {
    "GaussianBernoulliRBM": {"ais_n_betas": 500},
    "CategoricalRBM": {"ais_n_betas": 500},
    "CovarianceRBM": {"n_iter": 50},
    "DBN": {"hidden_layer_sizes": (6, 4), "n_iter": 2},
    "DBNClassifier": {"hidden_layer_sizes": (8, 6), "n_iter": 2, "fine_tune_n_iter": 100},
    "RBMImputer": {"n_components": 8, "n_iter": 4, "n_steps": 20, "burn_in": 5},
}


#: what the checks' real-valued data make binary and spin units say
EXPECTED_WARNINGS = (
    "Bernoulli visible units",
    "Spin visible units",
    "[A-Za-z]+'s weights are growing without bound",
)


def public_estimators():
    estimators = []
    for name in skebm.__all__:
        obj = getattr(skebm, name)
        if isinstance(obj, type) and issubclass(obj, BaseEstimator):
            estimators.append(obj(**FAST_SETTINGS.get(name, {})))
    # a whitened Gaussian model overrides the methods that take or return rows
    estimators.append(skebm.GaussianBernoulliRBM(whiten=True, **FAST_SETTINGS["GaussianBernoulliRBM"]))
    # without the categorical hidden unit, transform's output is narrower and the start a
    # Gaussian rather than a fitted mixture
    estimators.append(skebm.CovarianceRBM(n_categories=1, **FAST_SETTINGS["CovarianceRBM"]))
    return estimators


@parametrize_with_checks(public_estimators())
def test_sklearn_compatible_estimator(estimator, check):
    # Bernoulli and spin units warn about the checks' real-valued data, and
    # their weights then grow; the warnings are tested on their own elsewhere
    # and are expected here.
    with warnings.catch_warnings():
        for message in EXPECTED_WARNINGS:
            warnings.filterwarnings("ignore", message=message)
        check(estimator)
