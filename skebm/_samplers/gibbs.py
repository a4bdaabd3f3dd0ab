"""Independent block-Gibbs chains: how a fitted model is sampled with ``method="gibbs"``."""

import numpy as np

from .._conditional import clamped_chain


class GibbsChains:
    """Chains of block-Gibbs steps, one per draw, that never interact.

    Free chains start from p(v | h = 0), the visible units' own biases
    (:meth:`skebm._layer.Layer.gibbs_chains`); clamped ones start their
    missing entries at the training data's feature means and keep the
    observed entries fixed (:func:`skebm._conditional.clamped_chain`).  See
    :data:`skebm._samplers.DRAWS` for the contract.
    """

    #: rows each chain holds
    n_replicas = 1

    def __init__(self, feature_mean=None):
        self.feature_mean = feature_mean

    @classmethod
    def for_model(cls, model, n_temperatures=None):
        """The chains of the fitted ``model``; ``n_temperatures`` has no say here."""
        return cls(getattr(model, "feature_mean_", None))

    def draw(self, bk, layer, n_chains, n_steps, clamp=None):
        if clamp is None:
            return layer.gibbs_chains(n_chains, n_steps)
        rows, missing = clamp
        return clamped_chain(layer, rows, missing, self.clamped_start(bk, tuple(rows.shape)), n_steps)

    def clamped_start(self, bk, shape):
        """Where the missing entries of clamped chains start: the training data's feature means."""
        mean = np.zeros(shape[1]) if self.feature_mean is None else self.feature_mean
        return bk.asarray(np.broadcast_to(mean, shape))
