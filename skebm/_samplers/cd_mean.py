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

    def step(self, bk, units, params, state, buffers, n_steps):
        data, data_h, h = buffers.data, buffers.data_hidden, buffers.hidden_sample
        chain_v, chain_h = buffers.chain_visible, buffers.chain_hidden

        def run_chains(wk, rows):
            units.mean_hidden(wk, params, data[rows], out=data_h[rows])
            units.hidden.sample(wk, data_h[rows], out=h[rows])
            for step in range(n_steps):
                chain_v[rows] = units.mean_visible(wk, params, h[rows])
                units.mean_hidden(wk, params, chain_v[rows], out=chain_h[rows])
                if step + 1 < n_steps:
                    units.hidden.sample(wk, chain_h[rows], out=h[rows])

        bk.map_blocks(data.shape[0], run_chains)
