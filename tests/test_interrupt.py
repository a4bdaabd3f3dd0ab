"""Ctrl-C during training: the model stays at a consistent, resumable point.

Before the first epoch of a fit completes, that point is the estimator as it
was before the call (unfitted if it was); after, the last completed epoch.

The interrupts here are real: a ``KeyboardInterrupt`` raised from inside the
training loop (the N-th mini-batch update, or the end-of-epoch monitoring)
of a real model, exactly where a SIGINT would surface.  Training is
deterministic for a fixed ``random_state``, so "the last completed epoch" is
checked against an uninterrupted model trained for that many epochs.
"""

import copy

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV

from skebm import BernoulliRBM

DEVICES = [None]
try:  # the same contract holds on the torch backend
    import torch  # noqa: F401

    DEVICES.append("cpu")
except ImportError:  # pragma: no cover - torch is a test dependency
    pass

N_ROWS, BATCH = 120, 10  # 12 updates per epoch
# a constant rate: the tests compare an interrupted fit of n epochs with a
# complete fit of fewer, whose linear schedule would decay on another horizon
PARAMS = dict(
    n_components=6, batch_size=BATCH, momentum=0.5, learning_rate=0.05, random_state=3,
    learning_rate_schedule="constant",
)


def interrupt_stage(model, trainer, stage, counter, at):
    """Make the ``at``-th call of ``trainer.<stage>`` raise KeyboardInterrupt.

    Calls are counted on the model (attribute ``counter``), across fits.
    """
    run = getattr(trainer, stage)

    def interrupted(*args, **kwargs):
        setattr(model, counter, getattr(model, counter, 0) + 1)
        if getattr(model, counter) == at:
            raise KeyboardInterrupt
        return run(*args, **kwargs)

    setattr(trainer, stage, interrupted)
    return trainer


class InterruptedRBM(BernoulliRBM):
    """A BernoulliRBM whose N-th training update is interrupted by the user."""

    interrupt_at_update = None

    def _trainer(self, **kwargs):
        return interrupt_stage(
            self, super()._trainer(**kwargs), "train_step", "_updates", self.interrupt_at_update
        )


class InterruptedMonitorRBM(BernoulliRBM):
    """A BernoulliRBM interrupted while monitoring the end of an epoch."""

    interrupt_at_epoch = None

    def _trainer(self, **kwargs):
        return interrupt_stage(
            self, super()._trainer(**kwargs), "monitor", "_monitored", self.interrupt_at_epoch
        )


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    prototypes = rng.random((3, 16)) < 0.5
    rows = prototypes[rng.integers(0, 3, N_ROWS)]
    flips = rng.random(rows.shape) < 0.1
    return (rows ^ flips).astype(np.float64)


def fitted_state(model):
    """Every fitted attribute, RandomState as its state, history without times."""
    skip = set(model.get_params(deep=False)) | {"_updates", "_monitored"}
    state = {}
    for key, value in model.__dict__.items():
        if key in skip or key.startswith("interrupt_at"):
            continue
        if isinstance(value, np.random.RandomState):
            value = value.get_state()
        elif key == "history_":
            value = [{k: v for k, v in r.items() if k != "time"} for r in value]
        state[key] = copy.deepcopy(value)
    return state


def assert_same_state(actual, expected):
    assert actual.keys() == expected.keys()
    for key in expected:
        _assert_equal(actual[key], expected[key], key)


def _assert_equal(a, b, where):
    if isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for k in b:
            _assert_equal(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(b, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_equal(x, y, f"{where}[{i}]")
    elif isinstance(b, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
        assert a.dtype == b.dtype, where
    else:
        assert a == b, where


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("update", [1, 12])
def test_fit_interrupted_in_its_first_epoch_leaves_the_model_unfitted(X, device, update):
    model = InterruptedRBM(n_iter=5, device=device, **PARAMS)
    model.interrupt_at_update = update
    with pytest.raises(KeyboardInterrupt):
        model.fit(X)
    with pytest.raises(NotFittedError):
        model.transform(X)
    assert set(vars(model)) <= set(model.get_params()) | {"_updates", "interrupt_at_update"}


@pytest.mark.parametrize("device", DEVICES)
def test_refit_interrupted_in_its_first_epoch_keeps_the_previous_model(X, device):
    model = InterruptedRBM(n_iter=2, device=device, **PARAMS).fit(X)
    before = fitted_state(model)
    model.interrupt_at_update = model._updates + 5
    with pytest.raises(KeyboardInterrupt):
        model.fit(X[::-1])
    assert_same_state(fitted_state(model), before)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("update, completed", [(13, 1), (30, 2)])
def test_fit_interrupt_keeps_last_completed_epoch(X, device, update, completed):
    model = InterruptedRBM(n_iter=5, device=device, **PARAMS)
    model.interrupt_at_update = update
    with pytest.raises(KeyboardInterrupt):
        model.fit(X)
    reference = BernoulliRBM(n_iter=completed, device=device, **PARAMS).fit(X)
    # parameters, chains, momentum, history, random state: all from one moment
    assert model.n_iter_ == completed
    assert len(model.history_) == completed
    assert_same_state(fitted_state(model), fitted_state(reference))


@pytest.mark.parametrize("device", DEVICES)
def test_fit_interrupt_while_monitoring_rolls_back_to_previous_epoch(X, device):
    model = InterruptedMonitorRBM(n_iter=5, device=device, **PARAMS)
    model.interrupt_at_epoch = 3  # parameters of epoch 3 were already published
    with pytest.raises(KeyboardInterrupt):
        model.fit(X)
    reference = BernoulliRBM(n_iter=2, device=device, **PARAMS).fit(X)
    assert model.n_iter_ == 2
    assert_same_state(fitted_state(model), fitted_state(reference))


def test_interrupted_model_is_usable_and_resumable(X):
    model = InterruptedRBM(n_iter=5, **PARAMS)
    model.interrupt_at_update = 40  # during epoch 4
    with pytest.raises(KeyboardInterrupt):
        model.fit(X)
    assert model.n_iter_ == 3
    H = model.transform(X)
    assert H.shape == (N_ROWS, PARAMS["n_components"])
    assert np.all((H >= 0) & (H <= 1))
    assert np.all(np.isfinite(model.score_samples(X)))

    # resuming continues from the kept chains and momentum
    model.interrupt_at_update = None
    before = fitted_state(model)
    model.partial_fit(X)
    assert model.n_samples_seen_ == 2 * N_ROWS
    assert not np.array_equal(model.components_, before["components_"])
    assert np.all(np.isfinite(model.components_))
    # what partial_fit started from is exactly the interrupted state
    resumed = BernoulliRBM(n_iter=3, **PARAMS).fit(X).partial_fit(X)
    np.testing.assert_array_equal(model.components_, resumed.components_)
    np.testing.assert_array_equal(model.h_samples_, resumed.h_samples_)
    np.testing.assert_array_equal(model.training_state_["optimizer"]["W"], resumed.training_state_["optimizer"]["W"])


def test_interrupt_before_training_leaves_previous_model(X, monkeypatch):
    from skebm._training.trainer import Trainer

    model = InterruptedRBM(n_iter=2, **PARAMS).fit(X)
    before = fitted_state(model)

    def interrupted_chains(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "new_state", interrupted_chains)  # set-up, before any epoch
    with pytest.raises(KeyboardInterrupt):
        model.fit(X[::-1])
    monkeypatch.undo()
    assert_same_state(fitted_state(model), before)


@pytest.mark.parametrize("device", DEVICES)
def test_partial_fit_interrupt_keeps_state_from_before_the_call(X, device):
    model = InterruptedRBM(device=device, **PARAMS).partial_fit(X[:60])
    before = fitted_state(model)
    updates_so_far = model._updates
    model.interrupt_at_update = updates_so_far + 3  # mid-chunk
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X[60:])
    assert_same_state(fitted_state(model), before)

    # the chunk applied again gives what it would have without the interrupt
    model.interrupt_at_update = None
    model.partial_fit(X[60:])
    reference = (
        BernoulliRBM(device=device, **PARAMS).partial_fit(X[:60]).partial_fit(X[60:])
    )
    assert_same_state(fitted_state(model), fitted_state(reference))


def test_first_partial_fit_interrupted_leaves_model_unfitted(X):
    model = InterruptedRBM(**PARAMS)
    model.interrupt_at_update = 2
    with pytest.raises(KeyboardInterrupt):
        model.partial_fit(X)
    assert not hasattr(model, "components_")
    assert not hasattr(model, "random_state_")
    model.interrupt_at_update = None
    model._updates = 0
    model.partial_fit(X)
    reference = BernoulliRBM(**PARAMS).partial_fit(X)
    np.testing.assert_array_equal(model.components_, reference.components_)


def test_grid_search_stops_on_interrupt(X):
    class InterruptedInSearch(InterruptedRBM):
        interrupt_at_update = 5  # a class attribute survives clone()

    model = InterruptedInSearch(n_iter=2, **PARAMS)
    search = GridSearchCV(model, {"learning_rate": [0.01, 0.05]}, cv=2, n_jobs=1)
    with pytest.raises(KeyboardInterrupt):
        search.fit(X)
