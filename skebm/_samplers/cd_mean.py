"""CD-k with mean reconstructions: the negative visible states are E[v | h], not draws."""

from .cd import ContrastiveDivergence


class MeanReconstructionCD(ContrastiveDivergence):
    """Contrastive divergence whose reconstructions are the visible conditional means.

    As :class:`~skebm._samplers.cd.ContrastiveDivergence`, except that each
    step's visible state is ``E[v | h]`` (for binary units the probabilities
    ``sigmoid(a + W^T h)``) instead of a draw from ``p(v | h)``; the hidden
    states in between are still drawn.  Hinton's practical guide (section
    3.2) recommends it for the reconstruction: it removes the visible
    sampling noise from the negative statistics, a less noisy (if biased)
    gradient, which gives markedly better features for a downstream
    classifier (see the user guide's feature recipe).  It is no sampler of
    the model, so prefer "pcd" or "pt" for models meant to be sampled or
    scored.  See :mod:`skebm._samplers` for the contract.
    """

    def reconstruct(self, bk, units, params, h, out):
        """The chain's visible state given ``h``: its conditional mean E[v | h]."""
        out[...] = units.mean_visible(bk, params, h)
