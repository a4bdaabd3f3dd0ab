"""Parallel tempering: chains at a ladder of temperatures that swap states."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from .._parameters import Parameter

#: step of the ladder's log-gaps per swap round, towards the target swap rate
LADDER_STEP = 0.05
#: weight of the newest swap round in the running swap rates
RATE_SMOOTHING = 0.1


N_TEMPERATURES = Parameter(
    "n_temperatures",
    10,
    [Interval(Integral, 2, None, closed="left")],
    """\
n_temperatures : int, default=10
    ``method="pt"``: replicas of the chains, at inverse temperatures from
    1 (the model) down to 0 (independent units with the data's means).""",
)

SWAP_TARGET = Parameter(
    "swap_target",
    0.3,
    [Interval(Real, 0, 1, closed="neither"), None],
    """\
swap_target : float or None, default=0.3
    ``method="pt"``: the swap rate between neighbouring replicas that the
    ladder of temperatures is tuned to as training runs; None keeps the
    ladder evenly spaced.""",
)


class ParallelTempering:
    """Parallel tempering (Desjardins et al. 2010; Cho, Raiko & Ilin 2010).

    ``n_temperatures`` replicas of the ``n_chains`` persistent chains run at
    inverse temperatures ``1 = beta_0 > beta_1 > ... >= 0``.  The model at
    ``beta`` lies on the geometric path from the base model (independent
    visible units with the training data's means, as AIS uses) to the model:
    visible biases ``(1 - beta) a_base + beta a``, weights and hidden biases
    times ``beta``, other visible parameters (sigma) the model's.  Hot
    replicas move freely between the modes of the model; swaps hand their
    states down to the model's chains (``beta = 1``), which are the
    negative phase.

    Every update runs ``n_steps`` Gibbs sweeps of all replicas at once (one
    matrix product each way for all temperatures), then one round of swaps
    between neighbours: the pairs (0, 1), (2, 3), ... on even updates, (1, 2),
    (3, 4), ... on odd ones.  Chain ``c`` of replicas ``k`` and ``k + 1``
    swaps with probability ``min(1, exp(-F_k(v') - F_{k+1}(v) + F_k(v) +
    F_{k+1}(v')))``, the Metropolis rule that keeps every replica's
    distribution invariant (``F_k`` the free energy at ``beta_k``, ``v`` and
    ``v'`` the two states).

    The ladder starts evenly spaced from 1 to 0.  With ``swap_target`` set it
    is tuned as it runs: each pair's swap rate is a running average
    (weight 0.1 for the newest round), and after every round each gap
    ``beta_k - beta_{k+1}`` is multiplied by ``exp(0.05 (rate_k - swap_target))``,
    so that pairs that swap too often move apart and pairs that rarely
    swap move together, towards the same rate everywhere; ``beta_0`` stays
    1, and when the gaps sum to more than 1 they are scaled down so that
    the hottest replica is the base model itself.  ``swap_target=None``
    keeps the ladder fixed.  See :mod:`skebm._samplers` for the contract.

    Parameters
    ----------
    n_temperatures : int, default=10
        Replicas, the model included.
    swap_target : float or None, default=0.3
        The swap rate the ladder is tuned to; None keeps it evenly spaced.
    """

    parameters = (N_TEMPERATURES, SWAP_TARGET)
    persistent = True

    def __init__(self, n_temperatures=10, swap_target=0.3):
        self.n_temperatures = n_temperatures
        self.swap_target = swap_target
        self._buffers = {}

    def n_negative(self, n_chains, n_data):
        return n_chains

    # --- state ------------------------------------------------------------------
    def init_state(self, bk, units, params, chains, stats):
        """Every replica starts from the model's chains; an evenly spaced ladder."""
        return self._ladder_state(
            bk.tile_rows(chains, self.n_temperatures), bk, units, params, stats
        )

    def _ladder_state(self, hidden, bk, units, params, stats, betas=None):
        """Replicas' hidden states ``hidden`` on a ladder (evenly spaced when ``betas`` is None)."""
        n_pairs = self.n_temperatures - 1
        return {
            "hidden": hidden,
            "betas": (
                np.linspace(1.0, 0.0, self.n_temperatures)
                if betas is None else np.array(betas, dtype=np.float64)
            ),
            "swap_rates": np.full(n_pairs, np.nan),
            "swaps": np.zeros((2, n_pairs)),
            "base_a": bk.asarray(units.base_params(_host(bk, params), stats)["a"]),
            "round": np.zeros(1),
        }

    def resume_state(self, bk, units, params, saved, chains, stats):
        fresh = self.init_state(bk, units, params, chains, stats)
        if saved is None or "betas" not in saved or len(saved["betas"]) != self.n_temperatures:
            return fresh
        if tuple(saved["hidden"].shape) != tuple(fresh["hidden"].shape):
            return fresh
        fresh.update(
            hidden=bk.copy(saved["hidden"]),
            betas=np.array(saved["betas"], dtype=np.float64),
            swap_rates=np.array(saved["swap_rates"], dtype=np.float64),
            round=np.array(saved["round"], dtype=np.float64),
        )
        return fresh

    def record(self, state):
        """The epoch's swap rate of each neighbouring pair, and the ladder."""
        ours = state["sampler"]
        accepted, tried = ours["swaps"]
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.where(tried > 0, accepted / np.maximum(tried, 1), np.nan)
        ours["swaps"] = np.zeros_like(ours["swaps"])
        return {
            "swap_rates": [float(rate) for rate in rates],
            "inverse_temperatures": [float(beta) for beta in ours["betas"]],
        }

    # --- one update -----------------------------------------------------------------
    def step(self, bk, units, params, state, buffers, n_steps):
        ours = state["sampler"]
        chains = state["chains"]
        n_chains = chains.shape[0]
        visible, activation = self.sweep(bk, units, params, ours, n_steps)
        self.swap(bk, units, params, ours, visible, activation)
        units.mean_hidden(bk, params, buffers.data, out=buffers.data_hidden)
        buffers.chain_visible[...] = visible[:n_chains]
        units.hidden.mean(bk, activation[:n_chains], out=buffers.chain_hidden)
        self.draw_hidden(bk, units, ours, activation)
        chains[...] = ours["hidden"][:n_chains]

    def sweep(self, bk, units, params, ours, n_steps, clamp=None):
        """``n_steps`` Gibbs sweeps of every replica from its hidden state.

        Returns the visible states and their hidden activations ``b + W v~``
        (at ``beta = 1``), one row per chain and replica, replica by replica.
        ``clamp`` (``(fixed, free)``, see :meth:`sample`) holds observed
        visible units at their values in every replica.
        """
        hidden = ours["hidden"]
        n_rows = hidden.shape[0]
        beta_rows = self._beta_rows(bk, ours["betas"], n_rows)
        visible_bias = bk.repeat_rows(
            self._tempered_bias(bk, params, ours), n_rows // self.n_temperatures
        )
        visible = self._scratch(bk, "visible", (n_rows, params["W"].shape[1]))
        activation = self._scratch(bk, "activation", (n_rows, params["W"].shape[0]))
        for step in range(n_steps):
            if step:
                self.draw_hidden(bk, units, ours, activation, beta_rows)
            bk.matmul(hidden * beta_rows, params["W"], out=visible)
            visible += visible_bias
            units.sample_visible_given(bk, params, visible, out=visible)
            if clamp is not None:
                visible *= clamp[1]
                visible += clamp[0]
            units.hidden_activation(bk, params, visible, out=activation)
        return visible, activation

    def draw_hidden(self, bk, units, ours, activation, beta_rows=None):
        """New hidden states of every replica from its (untempered) activations.

        ``beta_rows``: each row's inverse temperature, a column; None makes
        it from the ladder.
        """
        if beta_rows is None:
            beta_rows = self._beta_rows(bk, ours["betas"], activation.shape[0])
        hidden = ours["hidden"]
        units.hidden.sample_from_input(bk, activation * beta_rows, out=hidden)

    def swap(self, bk, units, params, ours, visible, activation, tune=True):
        """One round of swaps between neighbouring replicas (states exchanged in place).

        With ``tune`` (and ``swap_target`` set) the ladder then takes one
        tuning step.
        """
        betas = ours["betas"]
        n_chains = visible.shape[0] // self.n_temperatures
        first = int(ours["round"][0]) % 2
        ours["round"][0] += 1
        biases = self._tempered_bias(bk, params, ours)
        for k in range(first, self.n_temperatures - 1, 2):
            low, high = slice(k * n_chains, (k + 1) * n_chains), slice(
                (k + 1) * n_chains, (k + 2) * n_chains
            )
            log_ratio = swap_log_ratio(
                bk, units, params, (biases[k], biases[k + 1]), (betas[k], betas[k + 1]),
                (visible[low], visible[high]), (activation[low], activation[high]),
            )
            accept = bk.uniform((n_chains,)) < bk.exp(bk.clip(log_ratio, -700.0, 0.0))
            keep = accept[:, None]
            for array in (visible, activation):
                low_rows, high_rows = bk.copy(array[low]), bk.copy(array[high])
                array[low] = bk.where(keep, high_rows, low_rows)
                array[high] = bk.where(keep, low_rows, high_rows)
            rate = float(bk.to_numpy(accept).mean())
            ours["swaps"][0, k] += rate * n_chains
            ours["swaps"][1, k] += n_chains
            previous = ours["swap_rates"][k]
            ours["swap_rates"][k] = rate if np.isnan(previous) else (
                (1 - RATE_SMOOTHING) * previous + RATE_SMOOTHING * rate
            )
        if tune and self.swap_target is not None:
            ours["betas"] = tuned_ladder(betas, ours["swap_rates"], self.swap_target)

    # --- sampling a fitted model ------------------------------------------------------
    @classmethod
    def for_model(cls, model, n_temperatures=None):
        """Tempering for sampling the fitted ``model``.

        ``n_temperatures`` replicas (None: the model's own parameter) on the
        ladder the model's training tuned when it has that many rungs (else
        evenly spaced), tuned further by the model's ``swap_target``, from
        the base model of the training data's means.
        """
        n_temperatures = model.n_temperatures if n_temperatures is None else n_temperatures
        if not isinstance(n_temperatures, Integral) or n_temperatures < 2:
            raise ValueError(f"n_temperatures must be an integer >= 2, got {n_temperatures!r}.")
        tempering = cls(n_temperatures, model.swap_target)
        trained = getattr(model, "training_state_", {}).get("sampler", {}).get("betas")
        tempering.start_betas = (
            trained if trained is not None and len(trained) == n_temperatures else None
        )
        tempering.base_stats = model._base_rate_stats
        return tempering

    @property
    def n_replicas(self):
        """Rows each chain holds: one per temperature."""
        return self.n_temperatures

    def draw(self, bk, layer, n_chains, n_steps, clamp=None):
        """:meth:`sample` with the ladder and base model :meth:`for_model` found."""
        return self.sample(
            bk, layer.units, layer.params, self.base_stats(), n_chains, n_steps,
            self.start_betas, clamp=clamp,
        )  # fmt: skip

    def sample(self, bk, units, params, stats, n_chains, n_steps, betas=None, clamp=None):
        """Visible states of ``n_chains`` independent chains after ``n_steps`` sweeps.

        Every replica of every chain starts from a draw of the base model
        (independent visible units with the data's means, ``stats``), which
        covers the modes of the data evenly instead of the few where
        persistent chains happen to be.  Each sweep is one Gibbs step of all
        replicas and one round of swaps.  The ladder starts from ``betas``
        (evenly spaced when None); with ``swap_target`` it is tuned during
        the first half of the sweeps and then kept fixed, so that the
        second half samples a fixed chain.

        With ``clamp = (rows, missing)`` (backend arrays of ``n_chains``
        rows; ``missing`` 1.0 where an entry is free) the observed entries
        of every replica stay at ``rows``' values: the chains sample the
        conditional of the free entries, and since both states of a swap
        share the observed values, the swap rule is that of the conditional.
        """
        n_rows = self.n_temperatures * n_chains
        ours = self._ladder_state(
            bk.empty((n_rows, params["W"].shape[0])), bk, units, params, stats, betas
        )
        base_a = ours["base_a"]
        start = units.sample_visible_given(bk, params, bk.zeros((n_rows, base_a.shape[0])) + base_a)
        if clamp is not None:
            rows, missing = clamp
            free = bk.tile_rows(missing, self.n_temperatures)
            clamp = (bk.tile_rows(rows, self.n_temperatures) * (1.0 - free), free)
            start = start * clamp[1] + clamp[0]
        self.draw_hidden(bk, units, ours, units.hidden_activation(bk, params, start))
        visible = start
        for sweep in range(n_steps):
            visible, activation = self.sweep(bk, units, params, ours, 1, clamp)
            self.swap(bk, units, params, ours, visible, activation, tune=sweep < n_steps // 2)
            self.draw_hidden(bk, units, ours, activation)
        return visible[:n_chains]

    # --- helpers ----------------------------------------------------------------------
    def _tempered_bias(self, bk, params, ours):
        """The visible bias of every replica, ``(1 - beta) a_base + beta a``, one row each."""
        betas = bk.asarray(ours["betas"][:, None])
        return (1.0 - betas) * ours["base_a"][None, :] + betas * params["a"][None, :]

    def _beta_rows(self, bk, betas, n_rows):
        return bk.asarray(np.repeat(betas, n_rows // self.n_temperatures)[:, None])

    def _scratch(self, bk, name, shape):
        """A work array kept between updates (made anew when its shape changes)."""
        cache = self._buffers
        if cache.get(name) is None or tuple(cache[name].shape) != shape:
            cache[name] = bk.empty(shape)
        return cache[name]


def swap_log_ratio(bk, units, params, biases, betas, visible, activation):
    """log of the Metropolis ratio of swapping the states of two replicas, per chain.

    ``biases``, ``betas``: the visible bias and inverse temperature of the
    colder and the hotter replica; ``visible``, ``activation``: their states
    and hidden activations ``b + W v~``.  With ``log p_k`` the unnormalised
    log-probability at replica k, ``log p_0(v_1) + log p_1(v_0) - log p_0(v_0)
    - log p_1(v_1)``; normalising constants cancel.
    """

    def log_p(state, replica):
        tempered = dict(params, a=biases[replica])
        return units.hidden.log_partition(
            bk, float(betas[replica]) * activation[state]
        ) - units.visible_energy(bk, tempered, visible[state])

    return log_p(1, 0) + log_p(0, 1) - log_p(0, 0) - log_p(1, 1)


def tuned_ladder(betas, swap_rates, target):
    """The ladder after one tuning step towards ``target`` swap rates (see ParallelTempering)."""
    gaps = -np.diff(betas)
    known = ~np.isnan(swap_rates)
    gaps[known] *= np.exp(LADDER_STEP * (swap_rates[known] - target))
    gaps = np.maximum(gaps, 1e-6)
    if gaps.sum() > 1.0:
        gaps /= gaps.sum()
    return np.concatenate([[1.0], np.maximum(1.0 - np.cumsum(gaps), 0.0)])


def _host(bk, params):
    return {key: bk.to_numpy(value) for key, value in params.items()}
