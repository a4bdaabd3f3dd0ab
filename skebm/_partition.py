"""The log partition function log Z of an RBM.

Written against the unit-math interface of :mod:`skebm._units`, so every
model gets it.  The exact value sums over all states of the smaller layer that
can be enumerated: the hidden layer always (the visible layer is summed out in
closed form by ``hidden_log_weight``), the visible layer when its units are
discrete.  States are streamed in chunks so memory stays bounded.
"""

import numpy as np

#: the exact sum is offered up to this many units in the enumerated layer
MAX_EXACT_UNITS = 20
#: states enumerated per chunk
_CHUNK_STATES = 2**12


def binary_states(start, stop, n_units):
    """Rows ``start..stop-1`` of the table of all binary vectors of ``n_units`` bits."""
    codes = np.arange(start, stop, dtype=np.int64)[:, None]
    bits = np.arange(n_units - 1, -1, -1, dtype=np.int64)[None, :]
    return ((codes >> bits) & 1).astype(np.float64)


def enumeration_layer(units, n_visible, n_hidden):
    """Which layer the exact sum runs over: "hidden", "visible", or None."""
    candidates = [("hidden", n_hidden)]
    if units.discrete:
        candidates.append(("visible", n_visible))
    layer, size = min(candidates, key=lambda c: c[1])
    return layer if size <= MAX_EXACT_UNITS else None


def exact_log_partition(units, bk, params):
    """Exact log Z by enumerating the smaller enumerable layer.

    Raises
    ------
    ValueError
        If neither layer is small enough (see ``MAX_EXACT_UNITS``).
    """
    n_hidden, n_visible = params["W"].shape
    layer = enumeration_layer(units, n_visible, n_hidden)
    if layer is None:
        raise ValueError(
            f"The exact log partition function needs a layer of at most "
            f"{MAX_EXACT_UNITS} enumerable units; this model has {n_hidden} hidden "
            f"and {n_visible} visible units. Use method='ais'."
        )
    n_units = n_hidden if layer == "hidden" else n_visible
    chunk_totals = []
    for start in range(0, 2**n_units, _CHUNK_STATES):
        stop = min(start + _CHUNK_STATES, 2**n_units)
        states = bk.asarray(binary_states(start, stop, n_units))
        if layer == "hidden":
            log_weights = units.hidden_log_weight(bk, params, states)
        else:
            log_weights = -units.free_energy(bk, params, states)
        chunk_totals.append(bk.item(bk.logsumexp(log_weights)))
    return float(np.logaddexp.reduce(chunk_totals))
