"""CD-k: chains that start from the mini-batch and run k Gibbs steps."""


class ContrastiveDivergence:
    """Contrastive divergence (Hinton 2002): one chain per data row, restarted each update.

    The chain of row ``v`` starts from ``h ~ p(h | v)`` and takes ``n_steps``
    full Gibbs steps; its last visible state and P(h = 1 | that state) are
    the negative phase.  See :mod:`skebm._samplers` for the contract.
    """

    parameters = ()
    persistent = False

    def n_negative(self, n_chains, n_data):
        return n_data

    def step(self, bk, units, params, state, buffers, n_steps):
        data, data_h, h = buffers.data, buffers.data_hidden, buffers.hidden_sample
        chain_v, chain_h = buffers.chain_visible, buffers.chain_hidden

        def run_chains(wk, rows):
            units.mean_hidden(wk, params, data[rows], out=data_h[rows])
            units.hidden.sample(wk, data_h[rows], out=h[rows])
            for step in range(n_steps):
                self.reconstruct(wk, units, params, h[rows], chain_v[rows])
                units.mean_hidden(wk, params, chain_v[rows], out=chain_h[rows])
                if step + 1 < n_steps:
                    units.hidden.sample(wk, chain_h[rows], out=h[rows])

        bk.map_blocks(data.shape[0], run_chains)

    def reconstruct(self, bk, units, params, h, out):
        """The chain's visible state given ``h``, written into ``out``: a draw from p(v | h)."""
        units.sample_visible_into(bk, params, h, out=out)
