"""Restricted Boltzmann machines and deep belief networks as scikit-learn estimators."""

from ._bernoulli import BernoulliRBM

__all__ = ["BernoulliRBM"]
__version__ = "0.1.0"
