"""Rectified visible units: truncated-Gaussian values ``v >= 0``, the layer above rectified units.

A visible unit adds ``v**2 / 2 - a v`` to the energy and takes any value
``v >= 0``: given the hidden units it is a unit-variance Normal around
``a + (W^T h)`` truncated to ``[0, inf)``, the conditional of a rectified
hidden unit (:mod:`skebm._units.rectified`) with the roles swapped.  So a
DBN layer can model the values of rectified hidden units below it, and the
stack stays a generative model: the visible layer sums out in closed form
(``x**2 / 2 + log(sqrt(2 pi) Phi(x))`` per unit), which the free energy
over h, AIS and the DBN's bound need.
"""

import numpy as np

from .base import VisibleUnits
from .rectified import RECTIFIED

#: the smallest mean the units start from (their mean is positive)
_SMALLEST_MEAN = 1e-3


class RectifiedVisible(VisibleUnits):
    """Visible units ``v >= 0`` with truncated-Normal conditionals of unit variance."""

    name = "rectified"
    discrete = False

    def scale_visible(self, bk, params, v):
        return v

    def mean_visible(self, bk, params, h):
        return RECTIFIED.mean(bk, self.visible_activation(bk, params, h))

    def sample_visible(self, bk, params, h):
        return RECTIFIED.sample_from_input(bk, self.visible_activation(bk, params, h))

    def sample_visible_given(self, bk, params, x, out=None):
        return RECTIFIED.sample_from_input(bk, x, out=out)

    def visible_energy(self, bk, params, v):
        return 0.5 * bk.square(v).sum(axis=1) - bk.matmul(v, params["a"])

    def hidden_log_weight(self, bk, params, h):
        x = self.visible_activation(bk, params, h)
        return self.hidden_bias_term(bk, params, h) + RECTIFIED.log_partition(bk, x)

    def independent_log_partition(self, bk, params):
        return RECTIFIED.unit_log_partition(bk, params["a"]).sum()

    def visible_gradients(self, bk, params, v_pos, h_pos, v_neg, h_neg):
        return {"a": v_pos.mean(axis=0) - v_neg.mean(axis=0)}

    def initial_params(self, X_stats, n_hidden, rng):
        # the biases whose truncated Normals have the data's means
        from .._backend import make_backend

        mean = np.clip(np.asarray(X_stats["mean"], dtype=np.float64), _SMALLEST_MEAN, None)
        return {"a": np.asarray(RECTIFIED.input_of_mean(make_backend(None, np.float64), mean))}

    def base_params(self, params, X_stats):
        return self.initial_params(X_stats, 0, None)

    def rejection_message(self, X):
        values = X.data if hasattr(X, "data") and not isinstance(X, np.ndarray) else X
        if np.size(values) and np.nanmin(values) < 0:
            return (
                "Rectified visible units model values >= 0, and X holds negative ones; "
                "they model the values of rectified hidden units (a DBN's upper layers)."
            )
        return None
