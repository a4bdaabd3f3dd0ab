"""The hidden-unit types that the estimators' ``hidden_units`` parameter names.

A hidden-unit type is an object with the contract of
:class:`skebm._units.BinaryUnits` (``mean``, ``sample``, ``sample_from_input``, ``unit_log_partition``, ``log_partition``,
``free_log_partition``, ``entropy``, ``log_probability``, ``own_energy``,
``mean_at_zero``, ``discrete`` and, for discrete ones, ``n_states`` and
``states``).  A new one is one module and one line here.
"""

from ._rectified import RECTIFIED
from ._units import BINARY

#: hidden-unit types by the name ``hidden_units`` takes
HIDDEN_UNITS = {
    "binary": BINARY,
    "rectified": RECTIFIED,
}
