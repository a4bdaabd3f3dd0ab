"""PCD-k: persistent chains that carry over from update to update."""


class PersistentContrastiveDivergence:
    """Persistent contrastive divergence (Tieleman 2008).

    ``chains`` holds the hidden states of ``n_chains`` chains that are never
    restarted: each update advances them ``n_steps`` Gibbs steps, ending on a
    visible state whose P(h = 1 | v) is the negative phase and from which
    the next hidden state is drawn.  See :mod:`skebm._samplers` for the
    contract.
    """

    parameters = ()
    persistent = True

    def n_negative(self, n_chains, n_data):
        return n_chains

    def chain_params(self, params, state):
        """The parameters the chains move under: the model's own."""
        return params

    def step(self, bk, units, params, state, buffers, n_steps):
        chains = state["chains"]
        chain_v, chain_h = buffers.chain_visible, buffers.chain_hidden
        n_data = buffers.data.shape[0]
        moving = self.chain_params(params, state)

        def advance_chains(wk, rows):
            for _ in range(n_steps - 1):
                units.sample_visible_into(wk, moving, chains[rows], out=chain_v[rows])
                units.mean_hidden(wk, moving, chain_v[rows], out=chain_h[rows])
                units.hidden.sample(wk, chain_h[rows], out=chains[rows])
            units.sample_visible_into(wk, moving, chains[rows], out=chain_v[rows])

        def hidden_probabilities(wk, rows):
            # the chains' states do not depend on the batch, so one product
            # gives P(h = 1 | v) of the data rows and of the chains together
            units.mean_hidden(wk, params, buffers.visible[rows], out=buffers.hidden[rows])
            chain_rows = slice(max(rows.start - n_data, 0), rows.stop - n_data)
            if chain_rows.start < chain_rows.stop:
                units.hidden.sample(wk, chain_h[chain_rows], out=chains[chain_rows])

        bk.map_blocks(chains.shape[0], advance_chains)
        bk.map_blocks(buffers.visible.shape[0], hidden_probabilities)
