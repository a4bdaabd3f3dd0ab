"""Unit types: the math of one layer of units, one small module per type.

Visible-unit types (subclasses of :class:`~skebm._units.base.VisibleUnits`)
each back one estimator: ``bernoulli`` (:class:`~skebm.BernoulliRBM`),
``gaussian``, ``categorical``, ``spin``, ``mixed`` (blocks of the others
side by side, :class:`~skebm.TableRBM`) and ``rectified_visible`` (the
layer of a DBN above rectified hidden units).  Hidden-unit types follow the
contract of :class:`~skebm._units.binary.BinaryUnits` (``mean``, ``sample``,
``sample_from_input``, ``unit_log_partition``, ``log_partition``,
``free_log_partition``, ``entropy``, ``log_probability``, ``own_energy``,
``mean_at_zero``, ``discrete`` and, for discrete ones, ``n_states`` and
``states``; ``mean_slope``, the derivative of the mean, for
:class:`~skebm.DBNClassifier`'s fine-tuning); :data:`HIDDEN_UNITS` lists them by the name the estimators'
``hidden_units`` parameter takes.  A new hidden type is one module and one
line there.
"""

from sklearn.utils._param_validation import StrOptions

from .._parameters import Parameter
from .base import VisibleUnits
from .binary import BINARY, BinaryUnits
from .rectified import RECTIFIED, RectifiedUnits

#: hidden-unit types by the name ``hidden_units`` takes
HIDDEN_UNITS = {
    "binary": BINARY,
    "rectified": RECTIFIED,
}

#: the parameter that names a model's hidden-unit type (a live view of the registry)
PARAMETERS = (
    Parameter(
        "hidden_units",
        "binary",
        [StrOptions(HIDDEN_UNITS.keys())],
        """\
hidden_units : {"binary", "rectified"}, default="binary"
    The hidden units. "binary": 0/1 units, ``transform`` gives
    P(h = 1 | v). "rectified": truncated-Gaussian units ``h >= 0`` with
    energy ``h**2 / 2 - h * x`` (``x`` their input), whose
    ``E[h | v] = x + phi(x) / Phi(x)`` is a smooth rectifier that grows
    with its input instead of saturating at 1 (features for a downstream
    model, as noisy rectified units are in Nair & Hinton 2010); the free
    energy stays in closed form, so the exact log Z (over a small
    discrete visible layer), AIS, parallel tempering and conditional
    sampling work as for binary units.""",
    ),
)

__all__ = ["BINARY", "HIDDEN_UNITS", "RECTIFIED", "BinaryUnits", "RectifiedUnits", "VisibleUnits"]
