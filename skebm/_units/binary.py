"""Binary units: the default hidden-unit type, and the math binary visible units share."""

import numpy as np

from .._backend import LOG_2


class BinaryUnits:
    """Independent units that are 0 or 1, given their total input ``x`` (log-odds).

    This is the hidden-unit contract (:data:`skebm._units.HIDDEN_UNITS` lists the types):
    every method below, plus ``name``, ``discrete`` (whether ``n_states``
    and ``states`` enumerate the layer) and ``mean_at_zero`` (the mean of a
    unit with no input).
    """

    name = "binary"
    discrete = True
    mean_at_zero = 0.5

    def mean(self, bk, x, out=None):
        """P(unit = 1) = sigmoid(x)."""
        return bk.sigmoid(x, out=out)

    def mean_slope(self, bk, x, mean):
        """d mean / d x given the input ``x`` and the mean: sigmoid' = mean (1 - mean)."""
        return mean * (1 - mean)

    def sample(self, bk, mean, out=None):
        """A 0/1 draw with success probabilities ``mean`` (in ``out``, which may be ``mean``)."""
        return bk.bernoulli(mean, out=out)

    def sample_from_input(self, bk, x, out=None):
        """A draw given the units' input ``x`` (log-odds) rather than their mean."""
        return bk.bernoulli(bk.sigmoid(x), out=out)

    def own_energy(self, bk, h):
        """The units' energy without input, one value per row; None when it is 0."""
        return None

    def unit_log_partition(self, bk, x, out=None):
        """log sum_u exp(u x) over the states of one unit, element by element: softplus(x)."""
        return bk.softplus(x, out=out)

    def log_partition(self, bk, x):
        """log sum_u exp(u.x) over every state u of the layer, one value per row of x."""
        return bk.softplus(x).sum(axis=1)

    def free_log_partition(self, n_units):
        """log of the number of states: the layer's log Z with no input."""
        return n_units * LOG_2

    def entropy(self, bk, x):
        """Entropy of the layer's distribution given input x, one value per row.

        H(Bernoulli(s(x))) = softplus(x) - x s(x), stable for large |x|.
        """
        return (bk.softplus(x) - x * bk.sigmoid(x)).sum(axis=1)

    def log_probability(self, bk, states, x):
        """log p(states | input x): sum_j u_j log s(x_j) + (1 - u_j) log s(-x_j)."""
        return (states * bk.log_sigmoid(x) + (1 - states) * bk.log_sigmoid(-x)).sum(axis=1)

    def n_states(self, n_units):
        """How many states a layer of ``n_units`` units has."""
        return 2**n_units

    def states(self, start, stop, n_units):
        """Rows ``start..stop-1`` of the table of every state (a NumPy float64 array)."""
        codes = np.arange(start, stop, dtype=np.int64)[:, None]
        bits = np.arange(n_units - 1, -1, -1, dtype=np.int64)[None, :]
        return ((codes >> bits) & 1).astype(np.float64)


#: the hidden layer of every model
BINARY = BinaryUnits()
