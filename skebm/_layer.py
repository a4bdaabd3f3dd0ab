"""A fitted RBM's math on one backend: what inference and composite models use.

:class:`Layer` binds a unit type (:mod:`skebm._units`) to fitted parameters
held as backend arrays.  ``BaseRBM._layer(bk)`` gives one; the estimator's
own inference and the DBN's (up-passes, down-passes, its likelihood bound)
are written against it, so that neither reaches into how an estimator stores
its parameters or which unit types it has.
"""

import os
from numbers import Integral

#: arrays of a chain's size that sampling holds at once (states, probabilities,
#: activations and their copies): the factor of the memory check
CHAIN_ARRAYS = 4


def physical_memory():
    """The machine's memory in bytes, or None where the platform does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(n_values, itemsize, what, fix):
    """Raise a ValueError before an allocation of ``n_values`` numbers that cannot fit.

    A request larger than the machine's whole memory fails anyway, after
    minutes of swapping or with a bare ``MemoryError``; this says so before
    anything is allocated or any random state moves, naming the setting
    (``what``) and how to change it (``fix``).
    """
    memory = physical_memory()
    needed = int(n_values) * int(itemsize)
    if memory is not None and needed > memory:
        raise ValueError(
            f"{what} needs about {needed / 2**30:,.1f} GiB, more than this machine's "
            f"{memory / 2**30:,.1f} GiB of memory; {fix}."
        )


def check_n_samples(n_samples):
    """Raise a ValueError unless ``n_samples`` is a positive integer."""
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")


def check_chain_settings(
    n_samples, n_steps, *, n_units=0, n_rows=1, n_replicas=1, itemsize=8
):
    """Raise a ValueError naming a bad number of chains or of steps.

    With ``n_units`` (visible plus hidden units of a chain) it also checks
    that ``n_samples * n_rows * n_replicas`` chains fit in memory (``n_rows``
    rows of conditional sampling, ``n_replicas`` temperatures of each chain).
    """
    check_n_samples(n_samples)
    if not isinstance(n_steps, Integral) or isinstance(n_steps, bool) or n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}.")
    n_chains = int(n_samples) * int(n_rows)
    replicas = f" x {n_replicas:,} temperatures" if n_replicas > 1 else ""
    check_memory(
        CHAIN_ARRAYS * n_chains * int(n_replicas) * int(n_units), itemsize,
        f"{n_chains:,} chains{replicas} of {n_units} units",
        "draw fewer at a time, in a loop" + (", or use fewer temperatures" if replicas else ""),
    )  # fmt: skip


class Layer:
    """One RBM's unit math with its parameters on a backend.

    Parameters
    ----------
    units : VisibleUnits
        The unit math; ``units.hidden`` is the hidden layer's.
    params : dict
        The parameters as arrays of the backend ``bk``.
    bk : Backend
        Where the arrays live.
    """

    def __init__(self, units, params, bk):
        self.units = units
        self.params = params
        self.bk = bk

    @property
    def hidden(self):
        """The hidden layer's math (:class:`~skebm._units.binary.BinaryUnits`)."""
        return self.units.hidden

    def input_weights(self):
        """W with each column scaled as a visible vector enters the hidden units.

        ``hidden_activation(v) = v @ input_weights().T + b``: the layer as a
        feed-forward one (Gaussian units fold in their 1 / sigma^2).
        """
        bk, p = self.bk, self.params
        ones = bk.zeros((1, p["W"].shape[1])) + 1.0
        return p["W"] * self.units.scale_visible(bk, p, ones)

    def hidden_activation(self, v):
        """The hidden units' total input b + W v~."""
        return self.units.hidden_activation(self.bk, self.params, v)

    def mean_hidden(self, v):
        """P(h = 1 | v)."""
        return self.units.mean_hidden(self.bk, self.params, v)

    def sample_hidden(self, v):
        """A draw of h from p(h | v)."""
        return self.hidden.sample(self.bk, self.mean_hidden(v))

    def mean_visible(self, h):
        """E[v | h]."""
        return self.units.mean_visible(self.bk, self.params, h)

    def sample_visible(self, h):
        """A draw of v from p(v | h)."""
        return self.units.sample_visible(self.bk, self.params, h)

    def gibbs_step(self, v):
        """One block-Gibbs step v -> h -> v'; returns (v', P(h | v))."""
        return self.units.gibbs_step(self.bk, self.params, v)

    def gibbs_chains(self, n_chains, n_steps):
        """Visible states of ``n_chains`` chains after ``n_steps`` block-Gibbs steps.

        Each chain starts from a draw of p(v | h = 0), the visible units'
        own biases, so that no chain starts where another one is.
        """
        n_hidden = self.params["W"].shape[0]
        v = self.sample_visible(self.bk.zeros((n_chains, n_hidden)))
        for _ in range(n_steps):
            v, _ = self.gibbs_step(v)
        return v

    def free_energy(self, v):
        """F(v), one value per row."""
        return self.units.free_energy(self.bk, self.params, v)

    def log_visible_conditional(self, v, h):
        """log p(v | h), one value per row (a density for real-valued units).

        ``-E(v, h) - log sum_v' exp(-E(v', h))``, with the sum over the
        visible layer in closed form (``units.hidden_log_weight``).
        """
        bk, units, p = self.bk, self.units, self.params
        drive = bk.matmul(h, p["W"]) * units.scale_visible(bk, p, v)
        return (
            -units.visible_energy(bk, p, v)
            + units.hidden_bias_term(bk, p, h)
            + drive.sum(axis=1)
            - units.hidden_log_weight(bk, p, h)
        )
