"""Samplers of the negative phase: how an update gets its model samples.

A sampler is an object with this contract, written against the unit
interface (:mod:`skebm._units`) and a backend (:mod:`skebm._backend`):

``persistent``
    True when its chains carry over from update to update (the estimator
    keeps them as ``h_samples_``); False when they restart from the data.
``n_negative(n_chains, n_data)``
    The rows of the negative phase of an update from ``n_data`` data rows.
``step(bk, units, params, chains, buffers, n_steps)``
    Run the Gibbs steps of one update and fill the negative half of the
    stacked step buffers (``chain_visible``, ``chain_hidden``) and the data
    rows' ``data_hidden`` = P(h = 1 | data), which the fused weight update
    reads; persistent samplers advance ``chains`` (hidden states) in place.
    Rows are independent, so the work runs over ``bk.map_blocks``.

A new sampler is one module here and one line in :data:`SAMPLERS`; the
estimators take its name as their ``method``.
"""

from .cd import ContrastiveDivergence
from .pcd import PersistentContrastiveDivergence

#: the samplers an estimator's ``method`` names
SAMPLERS = {
    "cd": ContrastiveDivergence(),
    "pcd": PersistentContrastiveDivergence(),
}
