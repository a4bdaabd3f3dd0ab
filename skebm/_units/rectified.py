"""Rectified hidden units: truncated Gaussians, ``h >= 0``, with a closed-form free energy.

A rectified hidden unit takes any value ``h >= 0`` and adds ``h**2 / 2 -
h * x`` to the energy, ``x = b + W v~`` its total input (Bernoulli visible
units; Gaussian ones enter scaled by 1 / sigma**2 as usual).  Given the
visible units it is a unit-variance Normal around ``x`` truncated to
``[0, inf)``, so

- ``E[h | v] = x + phi(x) / Phi(x)``, a smooth rectifier: close to 0 for
  ``x << 0`` and to ``x`` for ``x >> 0`` (features that grow with their
  input where a binary unit saturates at 1);
- summing (integrating) it out gives ``log int_0^inf exp(x h - h**2 / 2) dh
  = x**2 / 2 + log(sqrt(2 pi) Phi(x))``, so the free energy stays in closed
  form and the exact log Z (over a small discrete visible layer), AIS and
  parallel tempering work as for binary units;
- with no input the unit's own log Z is ``log sqrt(pi / 2)``.

``Phi`` is the standard normal CDF, taken as ``log_ndtr`` so that nothing
underflows for very negative inputs.  ``p(v | h)`` keeps its form for every
visible type: the visible side only sees ``W^T h``.

The hidden-unit contract (see :class:`skebm._units.binary.BinaryUnits`) draws a
state from the conditional *mean* (binary units: from their probabilities).
The mean is a strictly increasing, convex function of ``x``, so the draw
first recovers ``x`` from it by Newton's method (which converges
monotonically on a convex increasing function), then inverts the truncated
Normal's CDF.
"""

import math

import numpy as np

#: log sqrt(2 pi)
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
#: inputs below this take the asymptotic series of the mean, whose direct
#: form loses digits to cancellation there (x + phi/Phi with phi/Phi ~ -x);
#: at -20 the series' five terms are exact to 1e-9
_SERIES_BELOW = -20.0
#: Newton steps that recover the input from the mean (quadratic convergence
#: from the starting point ``m - 1/m``; six leave float64 round-off)
_NEWTON_STEPS = 6
#: inputs below this are drawn as exponentials of rate -x: the truncated
#: Normal's CDF underflows there, and the two agree to O(1/x^2)
_EXPONENTIAL_BELOW = -30.0


class RectifiedUnits:
    """Independent truncated-Gaussian units ``h >= 0`` of unit variance, given input ``x``."""

    name = "rectified"
    #: states are continuous: no enumeration
    discrete = False
    #: E[h] with no input: phi(0) / Phi(0) = sqrt(2 / pi) (centering's first offset)
    mean_at_zero = math.sqrt(2.0 / math.pi)

    def _mills(self, bk, x):
        """phi(x) / Phi(x), the inverse Mills ratio of -x."""
        return bk.exp(-0.5 * bk.square(x) - LOG_SQRT_2PI - bk.log_ndtr(x))

    def mean(self, bk, x, out=None):
        """E[h | x] = x + phi(x) / Phi(x)."""
        mean = self._mean_given_mills(bk, x, self._mills(bk, x))
        if out is None:
            return mean
        out[...] = mean
        return out

    def _mean_given_mills(self, bk, x, mills):
        direct = x + mills
        # E[h] ~ 1/a - 2/a^3 + 10/a^5 - 74/a^7 + 706/a^9 for a = -x large
        a_inv = -1.0 / bk.clip(x, None, _SERIES_BELOW)
        a_inv2 = a_inv * a_inv
        series = a_inv * (
            1.0 + a_inv2 * (-2.0 + a_inv2 * (10.0 + a_inv2 * (-74.0 + 706.0 * a_inv2)))
        )
        return bk.where(x < _SERIES_BELOW, series, direct)

    def mean_slope(self, bk, x, mean):
        """d E[h | x] / dx = Var[h | x] = 1 - (phi/Phi)(x) E[h | x], with phi/Phi = mean - x."""
        return 1.0 - (mean - x) * mean

    def input_of_mean(self, bk, mean):
        """The input ``x`` whose E[h | x] is ``mean`` (> 0), by Newton's method."""
        m = bk.clip(mean, 1e-12, None)
        x = m - 1.0 / m
        for _ in range(_NEWTON_STEPS):
            mills = self._mills(bk, x)
            current = self._mean_given_mills(bk, x, mills)
            # d E[h] / dx = Var[h] = 1 - (phi/Phi) E[h], in (0, 1]
            slope = bk.clip(1.0 - mills * current, 1e-12, 1.0)
            x = x - (current - m) / slope
        return x

    def sample(self, bk, mean, out=None):
        """A draw of each unit given its conditional mean (``out`` may be ``mean``)."""
        return self.sample_from_input(bk, self.input_of_mean(bk, mean), out=out)

    def sample_from_input(self, bk, x, out=None):
        """A draw of each unit given its input ``x``."""
        u = 1.0 - bk.uniform(tuple(x.shape))  # in (0, 1]
        # survival function inverted: P(h > t) = Phi(x - t) / Phi(x)
        tail = bk.exp(bk.log(u) + bk.log_ndtr(x))
        tiny = float(np.finfo(np.float64).tiny)
        normal = x - bk.ndtri(bk.clip(tail, tiny, 1.0))
        exponential = -bk.log(u) / bk.clip(-x, 1.0, None)
        draw = bk.clip(bk.where(x < _EXPONENTIAL_BELOW, exponential, normal), 0.0, None)
        if out is None:
            return draw
        out[...] = draw
        return out

    def own_energy(self, bk, h):
        """The units' energy without input, ``sum_j h_j**2 / 2``, one value per row."""
        return 0.5 * bk.square(h).sum(axis=1)

    def unit_log_partition(self, bk, x, out=None):
        """log int_0^inf exp(x h - h**2 / 2) dh, element by element."""
        value = 0.5 * bk.square(x) + LOG_SQRT_2PI + bk.log_ndtr(x)
        if out is None:
            return value
        out[...] = value
        return out

    def log_partition(self, bk, x):
        """log int exp(h.x - |h|^2 / 2) dh over h >= 0, one value per row of x."""
        return self.unit_log_partition(bk, x).sum(axis=1)

    def free_log_partition(self, n_units):
        """The layer's log Z with no input: ``n_units * log sqrt(pi / 2)``."""
        return n_units * (LOG_SQRT_2PI - math.log(2.0))

    def entropy(self, bk, x):
        """Differential entropy of the truncated Normals, one value per row."""
        return (
            LOG_SQRT_2PI + 0.5 + bk.log_ndtr(x) - 0.5 * x * self._mills(bk, x)
        ).sum(axis=1)

    def log_probability(self, bk, states, x):
        """log density of ``states`` (all >= 0) given input x, one value per row."""
        return (
            -0.5 * bk.square(states - x) - LOG_SQRT_2PI - bk.log_ndtr(x)
        ).sum(axis=1)

    def n_states(self, n_units):
        raise TypeError("rectified hidden units are continuous: they have no states to count.")

    def states(self, start, stop, n_units):
        raise TypeError("rectified hidden units are continuous: they have no states to list.")


#: the rectified hidden layer
RECTIFIED = RectifiedUnits()
