"""Unit types: the math of one layer of units, one small module per type.

Visible-unit types (subclasses of :class:`~skebm._units.base.VisibleUnits`)
each back one estimator: ``bernoulli`` (:class:`~skebm.BernoulliRBM`),
``gaussian``, ``categorical`` and ``spin``.  Hidden-unit types follow the
contract of :class:`~skebm._units.binary.BinaryUnits` (``mean``, ``sample``,
``sample_from_input``, ``unit_log_partition``, ``log_partition``,
``free_log_partition``, ``entropy``, ``log_probability``, ``own_energy``,
``mean_at_zero``, ``discrete`` and, for discrete ones, ``n_states`` and
``states``; ``mean_slope``, the derivative of the mean, for
:class:`~skebm.DBNClassifier`'s fine-tuning); :data:`HIDDEN_UNITS` lists them by the name the estimators'
``hidden_units`` parameter takes.  A new hidden type is one module and one
line there.
"""

from .base import VisibleUnits
from .binary import BINARY, BinaryUnits
from .rectified import RECTIFIED, RectifiedUnits

#: hidden-unit types by the name ``hidden_units`` takes
HIDDEN_UNITS = {
    "binary": BINARY,
    "rectified": RECTIFIED,
}

__all__ = ["BINARY", "HIDDEN_UNITS", "RECTIFIED", "BinaryUnits", "RectifiedUnits", "VisibleUnits"]
