"""Restricted Boltzmann machines and deep belief networks as scikit-learn estimators."""

from ._bernoulli import BernoulliRBM
from ._dbn import DBN
from ._dbn_classifier import DBNClassifier
from ._gaussian import GaussianBernoulliRBM

__all__ = ["BernoulliRBM", "DBN", "DBNClassifier", "GaussianBernoulliRBM"]
__version__ = "0.1.0"
