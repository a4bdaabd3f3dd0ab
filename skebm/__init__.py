"""Restricted Boltzmann machines and deep belief networks as scikit-learn estimators."""

from ._bernoulli import BernoulliRBM
from ._categorical import CategoricalRBM
from ._covariance import CovarianceRBM
from ._dbn import DBN
from ._dbn_classifier import DBNClassifier
from ._exceptions import DivergenceError
from ._gaussian import GaussianBernoulliRBM
from ._impute import RBMImputer
from ._partition import LogPartitionEstimate
from ._sample_quality import SampleQuality, sample_quality
from ._spin import SpinRBM
from ._table import TableRBM

__all__ = [
    "BernoulliRBM",
    "CategoricalRBM",
    "CovarianceRBM",
    "DBN",
    "DBNClassifier",
    "DivergenceError",
    "GaussianBernoulliRBM",
    "LogPartitionEstimate",
    "RBMImputer",
    "SampleQuality",
    "SpinRBM",
    "TableRBM",
    "sample_quality",
]
__version__ = "0.1.0"
