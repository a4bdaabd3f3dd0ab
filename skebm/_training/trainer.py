"""The training loop: epochs of mini-batch updates, monitored, checkpointed, stopped early.

A :class:`Trainer` runs the updates of an RBM given its parts: the unit
math (:mod:`skebm._units`), a sampler of the negative phase
(:mod:`skebm._samplers`) and an optimiser (:mod:`skebm._optim`), on a
backend (:mod:`skebm._backend`).  It knows nothing of estimators: the
caller hands it the training state and says, through plain callables, how to
publish a finished epoch, checkpoint it and put a kept one back.

The training state is a dict of backend arrays the trainer updates in place:
``params`` (the unit math's parameter dict) and ``state``, a dict keyed by
part: ``"chains"`` (the persistent chains' hidden states), ``"optimizer"``,
and ``"sampler"`` and ``"offsets"`` (centering) where those parts keep
state; each part builds and reads its own entry, the trainer never looks
inside.

Stages, each a method: :meth:`Trainer.train_step` (one update from the
mini-batch in the step buffers), :meth:`Trainer.train_pass` (the batches of
one pass over rows in an order), :meth:`Trainer.train_blocks` (a pass over a
dask array, block by block), :meth:`Trainer.run_epochs` (``fit``'s epochs)
and :meth:`Trainer.run_chunk` (one ``partial_fit`` call).  After every epoch
or chunk the trainer checks for divergence and writes a record
(:data:`RECORD_KEYS`) to the history.
"""

import time
import warnings

import numpy as np

from .._backend import make_backend
from .._data import (
    MONITOR_ROWS,
    batches,
    column_stats,
    dense_rows,
    head_rows,
    is_dask_array,
    resident,
    row_blocks,
)
from .._exceptions import DivergenceError, caller_stacklevel
from .._partition import exact_log_partition, exact_log_partition_cost
from .early_stopping import validation_score

#: every key a training record (an entry of ``history_``) may hold
RECORD_KEYS = {
    "epoch": "the epoch (fit) or call (partial_fit) number, counted from 1",
    "time": "seconds the epoch or call took",
    "learning_rate": "the step size of the epoch (see learning_rate_schedule)",
    "n_samples": "rows of the chunk (partial_fit only)",
    "reconstruction_error": "mean squared distance of the monitored rows to E[v | P(h | v)]",
    "free_energy": "mean free energy of the monitored training rows",
    "validation_free_energy": "mean free energy of the held-out rows",
    "free_energy_gap": "validation_free_energy - free_energy: grows with over-fitting",
    "log_likelihood": "mean log p of the monitored training rows (exact log Z, when cheap)",
    "validation_log_likelihood": "mean log p of the held-out rows (exact log Z, when cheap)",
    "restored": "True on the epoch that early stopping kept",
    "swap_rates": "parallel tempering: the epoch's swap rate of each neighbouring pair",
    "inverse_temperatures": "parallel tempering: the ladder at the end of the epoch",
}

#: with held-out rows, the per-epoch monitor also reports log-likelihoods when
#: the exact log Z costs at most this many unit-state terms (enumerated
#: states times the units of the other layer: 2**16 hidden states of an
#: 8x8 image, about 0.1 s), so that monitoring never dominates an epoch
MONITOR_EXACT_COST = 2**22
#: rows of each chunk that partial_fit's record describes (a few products of
#: this many rows: under 1% of a pass over a chunk of thousands)
PARTIAL_FIT_MONITOR_ROWS = 100
#: a chunk whose feature means lie this many standard deviations from those
#: seen before counts as "far outside the range seen so far"
FAR_OUTSIDE_SIGMAS = 10.0


def initial_params(units, stats, n_hidden, dtype, rng):
    """Hinton's initialisation: weights N(0, 0.01), hidden biases 0, the units' own rest.

    NumPy arrays of ``dtype``; ``stats`` are the training data's column
    statistics, from which the unit type sets its visible parameters (and
    may rescale the weights, :meth:`~skebm._units.base.VisibleUnits.scale_initial_weights`).
    """
    n_features = stats["mean"].shape[0]
    params = {
        "W": rng.normal(0.0, 0.01, size=(n_hidden, n_features)),
        "b": np.zeros(n_hidden),
    }
    params.update(units.initial_params(stats, n_hidden, rng))
    params = {key: np.asarray(value, dtype=dtype) for key, value in params.items()}
    units.scale_initial_weights(params)
    return params


class StepBuffers:
    """The work arrays of one training update, allocated once per fit.

    ``visible`` stacks the mini-batch rows (``data``) over the chains' visible
    states (``chain_visible``) and ``hidden`` their P(h = 1 | v), so that one
    matrix product serves both phases and one more gives the whole weight
    gradient; ``row_weights`` (+1/n_data, -1/n_chains) turn it into the
    difference of the two means.
    """

    def __init__(self, bk, n_pos, n_neg, n_visible, n_hidden, hidden_sample):
        self.visible = bk.empty((n_pos + n_neg, n_visible))
        self.hidden = bk.empty((n_pos + n_neg, n_hidden))
        self.data, self.chain_visible = self.visible[:n_pos], self.visible[n_pos:]
        self.data_hidden, self.chain_hidden = self.hidden[:n_pos], self.hidden[n_pos:]
        weights = np.concatenate([np.full(n_pos, 1.0 / n_pos), np.full(n_neg, -1.0 / n_neg)])
        self.row_weights = bk.asarray(weights[:, None])
        # CD's hidden sample of the data rows, which starts its chains
        self.hidden_sample = bk.empty((n_pos, n_hidden)) if hidden_sample else None


class Trainer:
    """Mini-batch training of one RBM by its sampler and optimiser.

    Parameters
    ----------
    units : VisibleUnits
        The unit math.
    sampler : object
        The negative phase (see :mod:`skebm._samplers`).
    optimizer : object
        The update rule (see :mod:`skebm._optim`).
    n_gibbs_steps : int
        Gibbs steps of the sampler per update.
    batch_size : int
        Rows per update.
    batch_transform : callable or None, default=None
        ``batch_transform(bk, batch)`` rewrites each mini-batch in place
        before its update (a DBN's upper layers draw binary states).
    learning_rate : float, default=None
        Named in divergence messages.
    name : str, default="RBM"
        The model named in messages.
    label : str, default=None
        The tag of progress lines; ``name`` when None.
    verbose : int, default=0
        1 prints a line per epoch; 2 also progress within each epoch.
    sparsity : Sparsity or None, default=None
        Pull the hidden units' mean activity towards a target
        (:class:`~skebm._optim.Sparsity`); None adds nothing.
    centering : Centering or None, default=None
        Take centered gradients (:class:`~skebm._optim.Centering`); the
        offsets are ``state["offsets"]``.
    schedule : callable or None, default=None
        ``schedule(epoch)`` is the learning rate of an epoch (counted from 1
        within the run); None keeps the optimiser's.
    """

    def __init__(
        self,
        units,
        sampler,
        optimizer,
        *,
        n_gibbs_steps,
        batch_size,
        batch_transform=None,
        learning_rate=None,
        name="RBM",
        label=None,
        verbose=0,
        centering=None,
        sparsity=None,
        schedule=None,
    ):
        self.units = units
        self.sampler = sampler
        self.optimizer = optimizer
        self.n_gibbs_steps = n_gibbs_steps
        self.batch_size = batch_size
        self.batch_transform = batch_transform
        self.learning_rate = learning_rate
        self.name = name
        self.label = label or name
        self.verbose = verbose
        self.centering = centering
        self.sparsity = sparsity
        self.schedule = schedule

    # --- the training state -------------------------------------------------------
    def new_state(self, bk, params, X, rows, n_chains, stats):
        """The state of a new model: a new optimiser state, chains started from the data.

        ``stats`` are the training rows' column statistics; samplers that
        keep more than the chains start their own state from them.
        """
        state = {
            "optimizer": self.optimizer.init_state(bk, params, self.units.learned_keys(params)),
            "chains": self.initial_chains(bk, params, X, rows, n_chains),
        }
        if hasattr(self.sampler, "init_state"):
            state["sampler"] = self.sampler.init_state(
                bk, self.units, params, state["chains"], stats
            )
        if self.centering is not None:
            state["offsets"] = self.centering.init_state(bk, params, stats)
        if self.sparsity is not None:
            state["sparsity"] = self.sparsity.init_state(
                bk, params, self.units.hidden.mean_at_zero
            )
        return state

    def resume_state(self, bk, params, saved, X, rows, n_chains, stats):
        """The state of a model that continues, from what it ``saved`` (NumPy arrays).

        ``saved`` holds ``"chains"``, and may hold the optimiser's own
        ``"optimizer"`` state, the sampler's ``"sampler"`` state and
        centering's ``"offsets"`` (missing, or not fitting, ones start anew);
        all are copied.  Chains are drawn anew when their number is no
        longer ``n_chains``.
        """
        chains = saved["chains"]
        state = {
            "optimizer": self.optimizer.resume_state(
                bk, params, saved.get("optimizer"), self.units.learned_keys(params)
            )
        }
        if chains.shape[0] != n_chains:
            state["chains"] = self.initial_chains(bk, params, X, rows, n_chains)
        else:
            state["chains"] = bk.copy(chains)
        if hasattr(self.sampler, "resume_state"):
            state["sampler"] = self.sampler.resume_state(
                bk, self.units, params, saved.get("sampler"), state["chains"], stats
            )
        if self.centering is not None:
            state["offsets"] = self.centering.resume_state(
                bk, params, saved.get("offsets"), stats
            )
        if self.sparsity is not None:
            state["sparsity"] = self.sparsity.resume_state(
                bk, params, saved.get("sparsity"), self.units.hidden.mean_at_zero
            )
        return state

    def initial_chains(self, bk, params, X, rows, n_chains):
        """Persistent chains start from hidden samples driven by random data rows.

        ``rows`` (sorted indices, or None for all) restricts the choice to
        those rows of X; rows repeat when there are fewer than ``n_chains``.
        """
        n_rows = X.shape[0] if rows is None else len(rows)
        picks = bk.permutation(n_rows)[:n_chains]
        picks = np.resize(picks, n_chains)
        if rows is not None:
            picks = rows[picks]
        v = bk.asarray(dense_rows(X, np.sort(picks)))
        return self.units.hidden.sample(bk, self.units.mean_hidden(bk, params, v))

    # --- one update ------------------------------------------------------------
    def step_buffers(self, bk, state, n_rows, n_visible):
        """The work arrays of an update from ``n_rows`` rows, made once per fit."""
        cache = state.setdefault("buffers", {})
        if n_rows not in cache:
            cache[n_rows] = StepBuffers(
                bk,
                n_rows,
                self.sampler.n_negative(state["chains"].shape[0], n_rows),
                n_visible,
                state["chains"].shape[1],
                hidden_sample=not self.sampler.persistent,
            )
        return cache[n_rows]

    def train_step(self, bk, params, state, buffers, step_scale):
        """One update from the mini-batch in ``buffers.data``.

        ``step_scale`` is the batch's share of a full batch, so that a short
        last batch moves the parameters in proportion to the data it holds.
        Everything happens in the preallocated ``buffers``: the batch goes
        through ``batch_transform``, the sampler fills the negative phase, and
        the optimiser takes the step.

        The weight gradient, mean(h v_w^T) over the data rows minus over the
        chains (``v_w`` the units' ``weight_gradient_visible``), is one
        product of the stacked arrays, ``hidden`` with its rows weighted
        +1/n_data and -1/n_chains, added straight into the weights (or the
        optimiser's state) by its fused step, for every unit type.
        ``units.gradients`` is the same step written out, the reference the
        tests hold this one to.
        """
        if self.batch_transform is not None:
            self.batch_transform(bk, buffers.data)
        self.sampler.step(bk, self.units, params, state, buffers, self.n_gibbs_steps)
        self.apply_update(bk, params, state, buffers, step_scale)

    def apply_update(self, bk, params, state, buffers, step_scale):
        """The optimiser's step from the phases the sampler left in ``buffers``."""
        units = self.units
        phases = (buffers.data, buffers.data_hidden, buffers.chain_visible, buffers.chain_hidden)
        grads = units.visible_gradients(bk, params, *phases)
        ours = state["optimizer"]
        if self.sparsity is not None:
            # before centering and the weighting of the fused step change the rows
            activity = buffers.data_hidden.mean(axis=0)
        visible_w = units.weight_gradient_visible(bk, params, buffers.visible)
        if self.centering is not None:
            centered = self.centering.center(
                bk, units, params, state["offsets"], buffers, visible_w
            )
        grads["b"] = self.optimizer.fused_weight_step(
            bk, params, ours, buffers.hidden, buffers.row_weights, visible_w, step_scale
        )
        if self.sparsity is not None:
            self.sparsity.adjust(bk, state["sparsity"], activity, grads)
        self.optimizer.update_params(bk, params, ours, grads, step_scale)
        if self.centering is not None:
            self.centering.finish(bk, params, state["offsets"], centered)
        units.clip_params(bk, params)
        if hasattr(self.sampler, "after_update"):
            self.sampler.after_update(bk, units, params, state, buffers, grads)

    def set_learning_rate(self, epoch):
        """The schedule's learning rate for ``epoch`` (from 1), given to the optimiser."""
        if self.schedule is not None:
            self.optimizer.learning_rate = self.schedule(epoch)

    # --- passes over the data ----------------------------------------------------
    def train_pass(self, bk, params, state, X, order):
        """One pass over the rows ``order`` of X, ``batch_size`` rows per update."""
        batch_size = self.batch_size
        on_device = bk.holds(X)
        if on_device:
            order = bk.index(order)  # one copy per pass
        n_batches = -(-len(order) // batch_size)
        report_every = max(1, n_batches // 10) if self.verbose > 1 else 0
        begin = time.perf_counter()
        for batch, start, rows in batches(order, batch_size):
            if not on_device:
                rows = np.sort(rows)  # sequential reads from memory maps
            buffers = self.step_buffers(bk, state, len(rows), X.shape[1])
            bk.gather_rows(X, rows, out=buffers.data)
            self.train_step(bk, params, state, buffers, len(rows) / batch_size)
            if report_every and (batch % report_every == 0 or batch == n_batches):
                elapsed = time.perf_counter() - begin
                print(
                    f"[{self.label}]   batch {batch}/{n_batches}  {elapsed:.2f}s  "
                    f"{min(start + batch_size, len(order)) / elapsed:.0f} rows/s"
                )

    def train_blocks(self, bk, params, state, X, shuffle):
        """One pass over a dask array, one computed row block at a time.

        With ``shuffle`` the blocks come in a random order and the rows of
        each block are shuffled; batches do not cross block boundaries.
        """
        n_blocks = X.numblocks[0]
        block_order = bk.permutation(n_blocks) if shuffle else np.arange(n_blocks)
        for block in row_blocks(X, block_order):
            n_rows = block.shape[0]
            order = bk.permutation(n_rows) if shuffle else np.arange(n_rows)
            self.train_pass(bk, params, state, block, order)

    # --- fit and partial_fit -----------------------------------------------------
    def run_epochs(
        self,
        bk,
        params,
        state,
        X,
        rows,
        X_val,
        *,
        first_epoch,
        n_epochs,
        history,
        publish,
        checkpoint,
        early_stopping=None,
        restore=None,
    ):
        """The epochs of ``fit`` over X, or over its rows ``rows`` (sorted indices).

        Every epoch visits the training rows in a new random order (a dask
        array: its blocks in a random order, rows shuffled within each), then
        checks for divergence, calls ``publish(params, state, epoch)``,
        appends its record to ``history`` (monitoring up to ``MONITOR_ROWS``
        training rows, and the held-out rows ``X_val`` when given), and calls
        ``checkpoint()``.  With ``early_stopping`` (an
        :class:`~skebm._training.early_stopping.EarlyStopping`) training stops when
        it says so, and ``restore(best_state, best_epoch)`` puts the best
        epoch back at the end.
        """
        monitor_rng = bk.host_rng()
        n_rows = X.shape[0] if rows is None else len(rows)
        monitor_rows = np.sort(monitor_rng.permutation(n_rows)[: min(n_rows, MONITOR_ROWS)])
        if rows is not None:
            monitor_rows = rows[monitor_rows]
        X_monitor = dense_rows(X, monitor_rows)
        if X_val is not None and X_val.shape[0] > MONITOR_ROWS:
            X_val = X_val[:MONITOR_ROWS]
        X_resident = resident(bk, X)
        last_epoch = first_epoch + n_epochs - 1
        with bk.threads():
            for epoch in range(first_epoch, last_epoch + 1):
                start = time.perf_counter()
                self.set_learning_rate(epoch - first_epoch + 1)
                if is_dask_array(X_resident):
                    self.train_blocks(bk, params, state, X_resident, shuffle=True)
                else:
                    order = bk.permutation(n_rows)
                    if rows is not None:
                        order = rows[order]
                    self.train_pass(bk, params, state, X_resident, order)
                self.check_divergence(bk, params, X_monitor)
                publish(params, state, epoch)
                record = self._record(bk, params, state, epoch, start, X_monitor, X_val)
                self._log(history, record, last_epoch)
                stop = early_stopping is not None and early_stopping.update(
                    epoch, validation_score(record)
                )
                checkpoint()
                if stop:
                    break
        if early_stopping is not None and early_stopping.best_state is not None:
            restore(early_stopping.best_state, early_stopping.best_epoch)
            for record in history:
                if record["epoch"] == early_stopping.best_epoch:
                    record["restored"] = True
            if self.verbose:
                print(
                    f"[{self.label}] early stopping: kept epoch {early_stopping.best_epoch} "
                    f"of {epoch} (best held-out score {early_stopping.best_score:.4f})"
                )

    def run_chunk(self, bk, params, state, X, *, epoch, history, publish, seen=None):
        """One ``partial_fit`` call: a pass over the chunk X in its own order.

        ``seen`` holds the column statistics of the rows trained on before
        (None for the first chunk), so that a divergence caused by a chunk
        far outside them is named as such.  Then ``publish(params, state,
        epoch)`` and a record of the chunk's first rows in ``history``.
        """
        start = time.perf_counter()
        self.set_learning_rate(epoch)
        with bk.threads():
            if is_dask_array(X):
                self.train_blocks(bk, params, state, X, shuffle=False)
            else:
                self.train_pass(bk, params, state, X, np.arange(X.shape[0]))
        self.check_divergence(bk, params, X, seen)
        publish(params, state, epoch)
        record = self._record(
            bk, params, state, epoch, start, head_rows(X, PARTIAL_FIT_MONITOR_ROWS), None,
            n_samples=int(X.shape[0]),
        )  # fmt: skip
        self._log(history, record, None)

    def _record(self, bk, params, state, epoch, start, X_monitor, X_val, **extra):
        """The record of an epoch or chunk that began at ``start`` (see RECORD_KEYS)."""
        record = {
            "epoch": epoch,
            "time": time.perf_counter() - start,
            "learning_rate": self.optimizer.learning_rate,
            **extra,
        }
        record.update(self.monitor(bk, params, X_monitor, X_val))
        record.update(self.sampler_record(state))
        return record

    def _log(self, history, record, last_epoch):
        history.append(record)
        if self.verbose:
            print(format_record(self.label, record, last_epoch))

    # --- monitoring ----------------------------------------------------------------
    def sampler_record(self, state):
        """What the sampler reports of the epoch (e.g. swap rates), or nothing."""
        if hasattr(self.sampler, "record"):
            return self.sampler.record(state)
        return {}

    def monitor(self, bk, params, X_monitor, X_val):
        """Per-epoch figures: reconstruction error, mean free energy, the gap.

        With held-out rows, and where the exact log Z is cheap (at most
        ``MONITOR_EXACT_COST`` terms), also the mean log-likelihood of the
        monitored training rows and of the held-out ones.
        """
        units = self.units
        v = bk.asarray(X_monitor)
        h = units.mean_hidden(bk, params, v)
        recon = units.mean_visible(bk, params, h)
        record = {
            "reconstruction_error": bk.item(((v - recon) ** 2).sum(axis=1).mean()),
            "free_energy": bk.item(units.free_energy(bk, params, v).mean()),
        }
        if X_val is None:
            return record
        v_val = bk.asarray(dense_rows(X_val, slice(None)))
        record["validation_free_energy"] = bk.item(units.free_energy(bk, params, v_val).mean())
        # F(val) - F(train) = log p(train) - log p(val): Z cancels, so a
        # growing gap is over-fitting that needs no partition function.
        record["free_energy_gap"] = record["validation_free_energy"] - record["free_energy"]
        n_hidden, n_visible = params["W"].shape
        if exact_log_partition_cost(units, n_visible, n_hidden) <= MONITOR_EXACT_COST:
            host = make_backend(None, np.float64)
            log_z = exact_log_partition(
                units, host, {k: host.asarray(bk.to_numpy(p)) for k, p in params.items()}
            )
            record["log_likelihood"] = -record["free_energy"] - log_z
            record["validation_log_likelihood"] = -record["validation_free_energy"] - log_z
        return record

    # --- divergence ------------------------------------------------------------------
    def check_divergence(self, bk, params, X, seen=None):
        """Raise ``DivergenceError`` naming the likely cause when training blew up.

        ``X`` holds rows just trained on; when they lie far from ``seen`` (the
        feature statistics of the rows seen before this call), that is named
        as the cause, before the learning rate.  Data outside the range the
        units model (already warned about when it was passed) makes finite
        weights grow without bound by construction, and only warns.
        """
        found = divergence_problem(bk, self.units, params)
        if found is None:
            return
        problem, finite = found
        stats = column_stats(head_rows(X, MONITOR_ROWS))
        range_hint = self.units.range_hint(stats)
        if range_hint and finite:
            warnings.warn(
                f"{self.name}'s weights are growing without bound: {range_hint}.",
                UserWarning,
                stacklevel=caller_stacklevel(),
            )
            return
        causes = [self.units.divergence_advice(self.learning_rate, params["W"].shape[0])]
        data_hint = range_hint or shift_hint(stats, seen)
        if data_hint:
            causes.insert(0, data_hint)
        raise DivergenceError(
            f"Training of {self.name} diverged: {problem} at "
            f"learning_rate={self.learning_rate}. Likely cause: "
            + "; or ".join(causes)
            + ". The model was left as it was before this call."
        )


def divergence_problem(bk, units, params):
    """``(what has blown up, whether every parameter is still finite)`` or None."""
    for key, value in params.items():
        if not bk.all_finite(value):
            return f"parameter {key!r} became non-finite", False
    largest = units.largest_scaled_weight(bk, params)
    if largest > units.max_scaled_weight:
        return (
            f"the weights grew to {largest:.3g} (max |W_ji|{units.weight_scale_name}; "
            f"bound {units.max_scaled_weight:g})"
        ), True
    return None


def shift_hint(stats, seen):
    """'data far outside the range seen so far' when it is, else ''."""
    if seen is None:
        return ""
    scale = np.sqrt(np.maximum(seen["var"], 1e-12))
    shift = float(np.max(np.abs(stats["mean"] - seen["mean"]) / scale))
    if shift <= FAR_OUTSIDE_SIGMAS:
        return ""
    return (
        f"data far outside the range seen so far (feature means up to "
        f"{shift:.3g} standard deviations from those of the rows seen "
        "before): scale new data as the training data was"
    )


def format_record(label, record, n_epochs):
    """One progress line; ``n_epochs`` None for partial_fit's open-ended count."""
    count = f"{record['epoch']}" if n_epochs is None else f"{record['epoch']}/{n_epochs}"
    parts = [
        f"[{label}] {'call' if n_epochs is None else 'epoch'} {count}",
        f"{record['time']:.2f}s",
        f"recon {record['reconstruction_error']:.4f}",
        f"F(train) {record['free_energy']:.3f}",
    ]
    if "free_energy_gap" in record:
        parts.append(f"F(val) {record['validation_free_energy']:.3f}")
        parts.append(f"gap {record['free_energy_gap']:.3f}")
    if "log_likelihood" in record:
        parts.append(f"LL(train) {record['log_likelihood']:.3f}")
    if "validation_log_likelihood" in record:
        parts.append(f"LL(val) {record['validation_log_likelihood']:.3f}")
    return "  ".join(parts)
