"""The log partition function log Z of an RBM.

Written against the unit-math interface of :mod:`skebm._units`, so every
model gets it.  The exact value sums over all states of the smaller layer that
can be enumerated: the hidden layer always (the visible layer is summed out in
closed form by ``hidden_log_weight``), the visible layer when its units are
discrete.  States are streamed in chunks so memory stays bounded.
"""

import time
from dataclasses import dataclass

import numpy as np

from ._units.binary import BINARY

#: the exact sum is offered up to this many units in the enumerated layer
MAX_EXACT_UNITS = 20
#: states enumerated per chunk
_CHUNK_STATES = 2**12


def enumeration_layer(units, n_visible, n_hidden):
    """Which layer the exact sum runs over: "hidden", "visible", or None.

    The layer with fewer states, if it has at most ``2**MAX_EXACT_UNITS``
    (visible units count their valid states: categorical ones the product
    of their levels).
    """
    candidates = []
    if units.hidden.discrete:
        candidates.append(("hidden", units.hidden.n_states(n_hidden)))
    if units.discrete:
        candidates.append(("visible", units.n_states(n_visible)))
    if not candidates:
        return None
    layer, size = min(candidates, key=lambda c: c[1])
    return layer if size <= 2**MAX_EXACT_UNITS else None


def exact_log_partition_cost(units, n_visible, n_hidden):
    """Terms of the exact log Z: enumerated states times the other layer's units."""
    costs = [float("inf")]
    if units.hidden.discrete:
        costs.append(float(units.hidden.n_states(n_hidden)) * n_visible)
    if units.discrete:
        costs.append(float(units.n_states(n_visible)) * n_hidden)
    return min(costs)


def exact_log_partition(units, bk, params):
    """Exact log Z by enumerating the smaller enumerable layer.

    Raises
    ------
    ValueError
        If neither layer is small enough (see ``MAX_EXACT_UNITS``).
    """
    n_hidden, n_visible = params["W"].shape
    layer = enumeration_layer(units, n_visible, n_hidden)
    if layer is None:
        raise ValueError(
            f"The exact log partition function needs a layer of at most "
            f"{MAX_EXACT_UNITS} enumerable units; this model has {n_hidden} hidden "
            f"and {n_visible} visible units. Use method='ais'."
        )
    n_units, layer_units = (n_hidden, units.hidden) if layer == "hidden" else (n_visible, units)
    n_states = layer_units.n_states(n_units)
    chunk_totals = []
    for start in range(0, n_states, _CHUNK_STATES):
        stop = min(start + _CHUNK_STATES, n_states)
        states = bk.asarray(layer_units.states(start, stop, n_units))
        if layer == "hidden":
            log_weights = units.hidden_log_weight(bk, params, states)
        else:
            log_weights = -units.free_energy(bk, params, states)
        chunk_totals.append(bk.item(bk.logsumexp(log_weights)))
    return float(np.logaddexp.reduce(chunk_totals))


# ---------------------------------------------------------------------------
# annealed importance sampling
# ---------------------------------------------------------------------------
#: default number of inverse temperatures (Salakhutdinov & Murray 2008)
DEFAULT_N_BETAS = 14500
#: default number of parallel AIS chains
DEFAULT_N_CHAINS = 100
#: Gibbs steps at beta = 1 that reverse chains take before annealing down
REVERSE_BURN_IN = 1000
#: seed used when no random_state is given, so that AIS is deterministic
DEFAULT_SEED = 0
#: the default schedule's knots: a share of the temperatures -> beta.  500 of
#: 14,500 temperatures cover [0, 0.5], 4,000 cover [0.5, 0.9] and 10,000 cover
#: [0.9, 1], where the tempered models change fastest; other ``n_betas`` keep
#: these shares.
_SCHEDULE_SHARES = np.array([0.0, 500.0, 4500.0, 14500.0]) / 14500.0
_SCHEDULE_BETAS = np.array([0.0, 0.5, 0.9, 1.0])


def ais_schedule(n_betas=DEFAULT_N_BETAS):
    """The inverse temperatures 0 = beta_0 < ... < beta_{n-1} = 1 of AIS.

    Piecewise linear: the first 500/14500 of the points cover [0, 0.5], the
    next 4000/14500 cover [0.5, 0.9] and the last 10000/14500 cover [0.9, 1].

    Parameters
    ----------
    n_betas : int, default=14500
        Number of inverse temperatures, both ends included (at least 2).

    Returns
    -------
    betas : ndarray of shape (n_betas,)
        Increasing, from exactly 0.0 to exactly 1.0.
    """
    if n_betas < 2:
        raise ValueError(f"AIS needs at least 2 inverse temperatures, got n_betas={n_betas}.")
    grid = np.linspace(0.0, 1.0, n_betas)
    return np.interp(grid, _SCHEDULE_SHARES, _SCHEDULE_BETAS)


@dataclass(frozen=True)
class LogPartitionEstimate:
    """How a model's log partition function was obtained, with its uncertainty.

    Attributes
    ----------
    method : {"exact", "ais"}
        How ``log_z`` was computed.
    log_z : float
        The estimate of log Z in nats (the value ``score_samples`` uses).
    lower, upper : float
        The +-3 standard-error interval of the AIS estimate: ``log`` of the
        mean importance weight minus / plus three standard errors of that mean
        (``lower`` is ``-inf`` when the mean minus three standard errors is not
        positive).  Both equal ``log_z`` for the exact sum.
    reverse : float or None
        log Z from reverse AIS (annealing from the model down to the base
        model): a stochastic *upper* bound on log Z, hence a conservative
        log-likelihood.  None when not computed (exact sums, or
        ``reverse=False``).
    n_chains, n_betas : int or None
        The AIS settings; None for the exact sum.
    seconds : float
        Wall-clock time of the computation.
    """

    method: str
    log_z: float
    lower: float
    upper: float
    reverse: float | None
    n_chains: int | None
    n_betas: int | None
    seconds: float


def log_mean_exp_interval(log_weights, n_se=3.0):
    """logmeanexp of the weights and the log of (mean -+ ``n_se`` standard errors).

    The weights are normalised by their maximum before exponentiating, so the
    mean and its standard error are computed without overflow in float64.
    """
    log_weights = np.asarray(log_weights, dtype=np.float64)
    shift = log_weights.max()
    weights = np.exp(log_weights - shift)
    mean = weights.mean()
    se = weights.std(ddof=1) / np.sqrt(weights.size) if weights.size > 1 else 0.0
    low = mean - n_se * se
    with np.errstate(divide="ignore"):
        lower = shift + (np.log(low) if low > 0 else -np.inf)
    return shift + np.log(mean), lower, shift + np.log(mean + n_se * se)


class _Annealer:
    """Chains that move along the geometric path between base model and model.

    The tempered model at inverse temperature ``beta`` is
    ``units.interpolate(base, params, beta)``: visible-side parameters mixed,
    weights and hidden bias scaled by ``beta``.  Its hidden activation is
    therefore ``beta * x`` with ``x = b + W v~`` the model's, and its visible
    activation is ``a_beta + W^T (beta h)``: the loop computes ``x`` once per
    visible state and never rescales ``W``.  The log unnormalised probability
    of ``v`` at ``beta`` is ``-visible_energy_beta(v) + sum_j softplus(beta x_j)``.
    """

    def __init__(self, units, bk, params, base):
        self.units = units
        self.bk = bk
        self.params = params
        self.base = base
        self.n_hidden = params["W"].shape[0]
        # only the visible side of the tempered models is needed in the loop:
        # interpolating a copy without weights keeps W out of every step
        self._visible_side = dict(params, W=0.0, b=0.0)

    def tempered_visible(self, beta):
        """Visible-side parameters of the tempered model, with the model's W."""
        tempered = self.units.interpolate(self.bk, self.base, self._visible_side, beta)
        tempered["W"] = self.params["W"]
        tempered["b"] = self.params["b"]
        return tempered

    def base_log_partition(self):
        return float(
            self.units.base_log_partition(
                self.bk, self.units.interpolate(self.bk, self.base, self.params, 0.0),
                self.n_hidden,
            )
        )

    def sample_base(self, n_chains):
        """Exact draws from the base model (beta = 0): hidden units play no part."""
        bk = self.bk
        return self.units.sample_visible(
            bk, self.tempered_visible(0.0), bk.zeros((n_chains, self.n_hidden))
        )

    def anneal(self, v, betas, progress=None):
        """Run chains from ``v`` (drawn at ``betas[0]``) through ``betas``.

        Returns the float64 log importance weights
        ``sum_k log f_{k+1}(v_k) - log f_k(v_k)``, whose mean exponential
        estimates ``Z(betas[-1]) / Z(betas[0])``, and the final visible states.
        ``progress(fraction)``, if given, is called at the start (0.0) and
        after each tenth of the temperatures.
        """
        bk, units, params = self.bk, self.units, self.params
        if units.hidden is not BINARY:
            return self._anneal_any_hidden(v, betas, progress)
        shape = (v.shape[0], self.n_hidden)
        x, abs_x, pos_x = bk.empty(shape), bk.empty(shape), bk.empty(shape)
        exp_new, exp_old, h = bk.empty(shape), bk.empty(shape), bk.empty(shape)
        log_w = 0.0
        tempered_old = self.tempered_visible(float(betas[0]))
        visible_old = units.visible_energy(bk, tempered_old, v)
        for beta_old, beta_new, more in _annealing_steps(betas, progress):
            tempered_new = self.tempered_visible(beta_new)
            visible_new = units.visible_energy(bk, tempered_new, v)
            units.hidden_activation(bk, params, v, out=x)
            # For beta >= 0, softplus(beta x) = beta max(x, 0) + log(1 + e^(-beta |x|)):
            # no overflow, and the difference between two betas takes one log.
            bk.clip(x, 0.0, None, out=pos_x)
            abs_x[...] = pos_x
            abs_x *= 2.0
            abs_x -= x  # |x| = 2 max(x, 0) - x
            exp_new[...] = abs_x
            exp_new *= -beta_new
            bk.exp(exp_new, out=exp_new)
            exp_old[...] = abs_x
            exp_old *= -beta_old
            bk.exp(exp_old, out=exp_old)
            if more:
                # P(h = 1 | v) at beta_new from the same exponential e = e^(-beta |x|):
                # sigmoid(beta x) = 1 / (1 + e) for x >= 0 and e / (1 + e) otherwise
                h[...] = bk.where(x >= 0, 1.0, exp_new)
            exp_new += 1.0
            exp_old += 1.0
            if more:
                h /= exp_new
            exp_new /= exp_old
            bk.log(exp_new, out=exp_new)
            step = bk.row_sums_float64(exp_new)
            step += bk.row_sums_float64(pos_x) * (beta_new - beta_old)
            step -= bk.as_float64(visible_new - visible_old)
            log_w = log_w + step
            if more:
                bk.bernoulli(h, out=h)
                h *= beta_new  # the tempered weights are beta W
                v = units.sample_visible(bk, tempered_new, h)
                visible_old = units.visible_energy(bk, tempered_new, v)
        return np.asarray(bk.to_numpy(log_w), dtype=np.float64), v

    def _anneal_any_hidden(self, v, betas, progress=None):
        """:meth:`anneal` for any hidden-unit type, through its ``log_partition``.

        The tempered model ``p_beta(v, h)`` has the tempered visible biases,
        the input ``beta x`` of the hidden units and their own energy in
        full (the base and the model share it), so ``log f_beta(v) =
        -visible_energy_beta(v) + hidden.log_partition(beta x)``.
        """
        bk, units, params, hidden = self.bk, self.units, self.params, self.units.hidden
        log_w = 0.0
        visible_old = units.visible_energy(bk, self.tempered_visible(float(betas[0])), v)
        for beta_old, beta_new, more in _annealing_steps(betas, progress):
            tempered_new = self.tempered_visible(beta_new)
            x = units.hidden_activation(bk, params, v)
            step = bk.as_float64(
                hidden.log_partition(bk, beta_new * x) - hidden.log_partition(bk, beta_old * x)
            )
            step -= bk.as_float64(units.visible_energy(bk, tempered_new, v) - visible_old)
            log_w = log_w + step
            if more:
                h = hidden.sample_from_input(bk, beta_new * x)
                v = units.sample_visible(bk, tempered_new, beta_new * h)
                visible_old = units.visible_energy(bk, tempered_new, v)
        return np.asarray(bk.to_numpy(log_w), dtype=np.float64), v


def _annealing_steps(betas, progress=None):
    """``(beta_old, beta_new, more)`` for each step of the schedule; ``more``: one follows.

    ``progress(fraction)``, if given, is called at the start (0.0) and after
    each tenth of the steps.
    """
    n_steps = len(betas) - 1
    report_every = max(1, n_steps // 10)
    for k in range(n_steps):
        if progress is not None and k % report_every == 0:
            progress(k / n_steps)
        yield float(betas[k]), float(betas[k + 1]), k + 1 < n_steps


def _block_progress(progress, run, chains):
    """The progress callback of one block of chains: only the first reports."""
    if progress is None or chains.start != 0:
        return None
    return lambda fraction: progress(run, fraction)


def ais_log_partition(
    units,
    make_bk,
    params,
    base,
    *,
    n_chains=DEFAULT_N_CHAINS,
    n_betas=DEFAULT_N_BETAS,
    reverse=True,
    reverse_start=None,
    seed=DEFAULT_SEED,
    progress=None,
):
    """log Z by annealed importance sampling, forward and (optionally) reverse.

    Parameters
    ----------
    units : VisibleUnits
        The model's unit math.
    make_bk : callable
        ``make_bk(seed)`` returns a backend on the model's device; the
        forward and the reverse run each get their own random stream, so the
        forward estimate does not depend on whether the reverse one is run.
    params : dict
        The model's parameters as arrays of that backend.
    base : dict
        Visible-side parameters of the base model (``units.base_params``).
    n_chains, n_betas : int
        Parallel chains, and inverse temperatures (see :func:`ais_schedule`).
    reverse : bool
        Also run reverse AIS for a conservative (upper) bound on log Z.
    reverse_start : ndarray of shape (n_rows, n_features) or None
        Rows the reverse chains start from (data, say), used as they are.
        None starts them from the forward chains' final states after
        ``REVERSE_BURN_IN`` more Gibbs steps at beta = 1.
    seed : int
        Seed of both runs.
    progress : callable or None
        ``progress(run, fraction)`` is called as the first block of chains
        starts (0.0) and passes each tenth of the schedule (``run`` is
        "forward" or "reverse"), so that long estimates show signs of life.

    Returns
    -------
    LogPartitionEstimate
    """
    start_time = time.perf_counter()
    # separate streams for the forward run, the reverse run and the reverse
    # run's choice of start rows, so that no two of them share random bits
    forward_seed, reverse_seed, start_seed = np.random.SeedSequence(seed).generate_state(3)
    betas = ais_schedule(n_betas)

    bk = make_bk(int(forward_seed))
    log_z_base = _Annealer(units, bk, params, base).base_log_partition()
    log_w = np.empty(n_chains)
    # float64 holds float32 states exactly, so the reverse run starts from them as drawn
    v_final = np.empty((n_chains, params["W"].shape[1]))

    def forward(wk, chains):
        annealer = _Annealer(units, wk, params, base)
        v = annealer.sample_base(chains.stop - chains.start)
        log_w[chains], v_end = annealer.anneal(
            v, betas, _block_progress(progress, "forward", chains)
        )
        v_final[chains] = wk.to_numpy(v_end)

    # chains are independent: blocks of them anneal in parallel threads
    # when the backend has several (``n_jobs``), with no exchange until the end
    with bk.threads():
        bk.map_blocks(n_chains, forward)
    log_ratio, lower, upper = log_mean_exp_interval(log_w)

    reverse_log_z = None
    if reverse:
        bk = make_bk(int(reverse_seed))
        if reverse_start is None:
            v_start = v_final
        else:
            rows = np.random.default_rng(int(start_seed)).permutation(
                reverse_start.shape[0]
            )
            v_start = reverse_start[np.resize(rows, n_chains)]
        log_w_reverse = np.empty(n_chains)

        def backward(wk, chains):
            v = wk.asarray(v_start[chains])
            if reverse_start is None:
                for _ in range(REVERSE_BURN_IN):
                    v, _ = units.gibbs_step(wk, params, v)
            annealer = _Annealer(units, wk, params, base)
            log_w_reverse[chains], _ = annealer.anneal(
                v, betas[::-1], _block_progress(progress, "reverse", chains)
            )

        with bk.threads():
            bk.map_blocks(n_chains, backward)
        # mean exp(log_w_reverse) estimates Z_base / Z; by Jensen's inequality the
        # log of it is too small on average, so this log Z is too large on average
        reverse_log_z = float(log_z_base - log_mean_exp_interval(log_w_reverse)[0])

    return LogPartitionEstimate(
        method="ais",
        log_z=float(log_z_base + log_ratio),
        lower=float(log_z_base + lower),
        upper=float(log_z_base + upper),
        reverse=reverse_log_z,
        n_chains=int(n_chains),
        n_betas=int(n_betas),
        seconds=time.perf_counter() - start_time,
    )
