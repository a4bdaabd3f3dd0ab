"""Fast PCD, centering and learning-rate schedules against their written-out definitions."""

import itertools

import numpy as np
import pytest

from skebm import BernoulliRBM, GaussianBernoulliRBM
from skebm._backend import make_backend
from skebm._optim import SCHEDULES, Centering
from skebm._samplers.fpcd import FastPersistentContrastiveDivergence
from skebm._training.trainer import StepBuffers, Trainer


def random_phases(bk, rng, n_data, n_chains, n_visible, n_hidden):
    buffers = StepBuffers(bk, n_data, n_chains, n_visible, n_hidden, hidden_sample=False)
    buffers.visible[...] = (rng.random(buffers.visible.shape) < 0.4).astype(float)
    buffers.hidden[...] = rng.random(buffers.hidden.shape)
    return buffers


def small_model(rng, n_visible=5, n_hidden=3, cls=BernoulliRBM, **settings):
    X = (rng.random((30, n_visible)) < 0.4).astype(float)
    rbm = cls(n_components=n_hidden, n_iter=0, random_state=0, **settings).fit(X)
    rbm.components_ = rng.normal(0, 0.5, rbm.components_.shape)
    rbm.intercept_hidden_ = rng.normal(0, 0.5, n_hidden)
    return rbm


# --- centering ----------------------------------------------------------------------
def test_centered_update_with_zero_offsets_is_the_ordinary_update(suite_seed):
    rng = np.random.default_rng(suite_seed)
    rbm = small_model(rng, learning_rate=0.1)
    bk = make_backend(None, np.float64)
    results = []
    for centering in (None, Centering(rate=0.0)):
        params = {k: v.copy() for k, v in rbm._device_params(bk).items()}
        state = {"optimizer": {k: np.zeros_like(v) for k, v in params.items()}}
        state["offsets"] = {"visible": np.zeros(5), "hidden": np.zeros(3)}
        trainer = Trainer(rbm._units, None, rbm._trainer().optimizer, n_gibbs_steps=1,
                          batch_size=6, centering=centering)
        buffers = random_phases(bk, np.random.default_rng(suite_seed + 1), 6, 4, 5, 3)
        trainer.apply_update(bk, params, state, buffers, 1.0)
        results.append(params)
    for key in ("W", "a", "b"):
        np.testing.assert_allclose(results[1][key], results[0][key], rtol=0, atol=1e-15)


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_centered_update_is_gradient_ascent_in_the_centered_parameters(cls, suite_seed):
    rng = np.random.default_rng(suite_seed)
    rbm = small_model(rng, cls=cls, learning_rate=0.1)
    bk = make_backend(None, np.float64)
    params = {k: v.copy() for k, v in rbm._device_params(bk).items()}
    W, a, b = params["W"].copy(), params["a"].copy(), params["b"].copy()
    mu, lam = rng.random(5), rng.random(3)
    buffers = random_phases(bk, rng, 6, 4, 5, 3)
    v_data, h_data = buffers.data.copy(), buffers.data_hidden.copy()
    v_model, h_model = buffers.chain_visible.copy(), buffers.chain_hidden.copy()
    units = rbm._units
    scale = units.scale_visible(bk, params, np.ones((1, 5)))[0]  # v~ = v * scale
    precondition = units.weight_gradient_visible(bk, params, np.ones((1, 5)))[0] / scale

    # the centered energy -(v - mu).a_c - (h - lam).b_c - (h - lam)^T W (v~ - mu~),
    # with a_c = a + W^T lam and b_c = b + W mu~, and its (preconditioned) gradient
    def centered_moment(v, h):
        return (h - lam).T @ ((v - mu) * scale) / len(v)

    a_c, b_c = a + lam @ W, b + W @ (mu * scale)
    grad_w = (centered_moment(v_data, h_data) - centered_moment(v_model, h_model)) * precondition
    lr = rbm.learning_rate
    W_new = W + lr * grad_w
    a_c_new = a_c + lr * units.visible_gradients(
        bk, params, v_data, h_data, v_model, h_model
    )["a"]
    b_c_new = b_c + lr * (h_data.mean(axis=0) - h_model.mean(axis=0))
    expected = {"W": W_new, "a": a_c_new - lam @ W_new, "b": b_c_new - W_new @ (mu * scale)}

    state = {"optimizer": {k: np.zeros_like(v) for k, v in params.items()},
             "offsets": {"visible": mu.copy(), "hidden": lam.copy()}}
    trainer = Trainer(units, None, rbm._trainer().optimizer, n_gibbs_steps=1, batch_size=6,
                      centering=Centering(rate=0.0))
    trainer.apply_update(bk, params, state, buffers, 1.0)
    for key, value in expected.items():
        np.testing.assert_allclose(params[key], value, rtol=1e-12, atol=1e-13, err_msg=key)


def test_centered_and_uncentered_energies_differ_by_a_constant():
    # re-centering (moving the offsets) leaves the model as it is: the centered
    # energy with a_c = a + W^T lam, b_c = b + W mu is the uncentered one plus
    # a constant, for every joint state
    rng = np.random.default_rng(0)
    W, a, b = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3)
    mu, lam = rng.random(4), rng.random(3)
    a_c, b_c = a + lam @ W, b + W @ mu
    gaps = []
    for v in itertools.product([0.0, 1.0], repeat=4):
        for h in itertools.product([0.0, 1.0], repeat=3):
            v, h = np.array(v), np.array(h)
            energy = -(v @ a) - (h @ b) - h @ W @ v
            centered = -((v - mu) @ a_c) - ((h - lam) @ b_c) - (h - lam) @ W @ (v - mu)
            gaps.append(centered - energy)
    assert np.ptp(gaps) < 1e-12


def test_centered_training_learns_and_publishes_an_ordinary_rbm(suite_seed):
    rng = np.random.default_rng(suite_seed)
    X = (rng.random((300, 8)) < np.linspace(0.1, 0.9, 8)).astype(float)
    rbm = BernoulliRBM(n_components=4, centered=True, n_iter=5, random_state=suite_seed).fit(X)
    offsets = rbm.training_state_["offsets"]
    # the visible offset follows the data's means (a running mean, rate 0.01,
    # started at them): within 0.1 of every column's mean
    assert np.abs(offsets["visible"] - X.mean(axis=0)).max() < 0.1
    assert offsets["hidden"].shape == (4,)
    assert np.isfinite(rbm.score(X))
    # continuing keeps the offsets
    rbm.partial_fit(X[:50])
    assert rbm.training_state_["offsets"]["visible"].shape == (8,)


# --- fast PCD ----------------------------------------------------------------------------
def test_fpcd_without_fast_steps_is_pcd(suite_seed):
    X = (np.random.default_rng(suite_seed).random((120, 7)) < 0.3).astype(float)
    settings = dict(n_components=4, n_iter=3, random_state=suite_seed)
    pcd = BernoulliRBM(method="pcd", **settings).fit(X)
    fpcd = BernoulliRBM(method="fpcd", fast_learning_rate=0.0, **settings).fit(X)
    np.testing.assert_array_equal(fpcd.components_, pcd.components_)
    np.testing.assert_array_equal(fpcd.h_samples_, pcd.h_samples_)


def test_fast_weights_decay_by_the_stated_factor():
    rng = np.random.default_rng(0)
    rbm = small_model(rng)
    bk = make_backend(None, np.float64)
    params = rbm._device_params(bk)
    sampler = FastPersistentContrastiveDivergence(fast_learning_rate=0.5, fast_decay=0.95)
    state = {"sampler": {k: np.ones_like(params[k]) for k in ("W", "a", "b")}}
    buffers = random_phases(bk, rng, 6, 4, 5, 3)
    buffers.hidden[...] = 0.0  # no gradient: the fast weights only decay
    zero = {"a": np.zeros(5), "b": np.zeros(3)}
    for _ in range(20):
        sampler.after_update(bk, rbm._units, params, state, buffers, zero)
    for value in state["sampler"].values():
        np.testing.assert_allclose(value, 0.95**20)


def test_fast_weights_never_reach_the_fitted_parameters(monkeypatch, suite_seed):
    X = (np.random.default_rng(suite_seed).random((120, 7)) < 0.3).astype(float)
    slow = []
    apply_update = Trainer.apply_update

    def recording(self, bk, params, state, buffers, step_scale):
        apply_update(self, bk, params, state, buffers, step_scale)
        slow.append(params["W"].copy())

    monkeypatch.setattr(Trainer, "apply_update", recording)
    rbm = BernoulliRBM(n_components=4, method="fpcd", n_iter=2, random_state=suite_seed).fit(X)
    fast = rbm.training_state_["sampler"]["W"]
    assert np.abs(fast).max() > 1e-3  # the fast weights did move the chains
    np.testing.assert_array_equal(rbm.components_, slow[-1])


# --- schedules -----------------------------------------------------------------------------
def test_schedules_reach_their_endpoints():
    lr, floor = 0.1, 0.01
    assert SCHEDULES["constant"](lr, 7, 10, 0.5, floor) == lr
    assert SCHEDULES["linear"](lr, 1, 10, 0.5, floor) == lr
    assert SCHEDULES["linear"](lr, 10, 10, 0.5, floor) == pytest.approx(floor)
    assert SCHEDULES["linear"](lr, 25, 10, 0.5, floor) == pytest.approx(floor)
    assert SCHEDULES["invscaling"](lr, 1, 10, 0.5, floor) == lr
    assert SCHEDULES["invscaling"](lr, 4, 10, 0.5, floor) == pytest.approx(lr / 2)
    assert SCHEDULES["invscaling"](lr, 10**6, 10, 0.5, floor) == floor


def test_fit_steps_at_the_scheduled_rates():
    X = (np.random.default_rng(0).random((60, 5)) < 0.4).astype(float)
    rbm = BernoulliRBM(n_components=2, n_iter=5, learning_rate=0.1, min_learning_rate=0.02,
                       learning_rate_schedule="linear", random_state=0).fit(X)
    rates = [record["learning_rate"] for record in rbm.history_]
    np.testing.assert_allclose(rates, [0.1, 0.08, 0.06, 0.04, 0.02])
    rbm.set_params(learning_rate_schedule="invscaling", power_t=1.0, n_iter=3).fit(X)
    np.testing.assert_allclose([r["learning_rate"] for r in rbm.history_], [0.1, 0.05, 0.1 / 3])


# --- every part on both backends ---------------------------------------------------------------
try:
    import torch  # noqa: F401

    DEVICES = [None, "cpu"]
except ImportError:  # pragma: no cover - torch is a test dependency
    DEVICES = [None]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("settings", [dict(method="pt"), dict(method="fpcd"),
                                      dict(centered=True, learning_rate_schedule="invscaling")])
def test_new_samplers_and_rules_train_on_every_backend(device, settings, suite_seed):
    from scipy.special import logsumexp

    rng = np.random.default_rng(suite_seed)
    prototypes = rng.random((3, 10)) < 0.5
    rows = prototypes[rng.integers(0, 3, 600)]
    X = np.where(rng.random(rows.shape) < 0.05, ~rows, rows).astype(float)
    agree = (X[:, None, :] == prototypes[None]).sum(axis=2)
    generating = logsumexp(
        agree * np.log(0.95) + (10 - agree) * np.log(0.05) - np.log(3), axis=1
    ).mean()
    untrained = BernoulliRBM(n_components=4, n_iter=0, random_state=suite_seed).fit(X).score(X)
    rbm = BernoulliRBM(n_components=4, n_iter=20, learning_rate=0.2, device=device,
                       random_state=suite_seed, **settings).fit(X)
    assert all(isinstance(value, np.ndarray) for value in rbm._fitted_params().values())
    assert all(isinstance(value, np.ndarray)
               for part in rbm.training_state_.values() for value in part.values())
    # the share of the gap between the untrained model and the generating
    # mixture that training closes: over 10 seeds (NumPy) PT 0.91 +- 0.04,
    # FPCD 0.90 +- 0.04, centered with inverse scaling 0.75 +- 0.11; the bar
    # is at least five standard deviations below each
    closed = (rbm.score(X) - untrained) / (generating - untrained)
    assert closed > 0.2, closed
    drawn = rbm.sample(30, n_steps=20, method="pt", random_state=0)
    assert drawn.shape == (30, 10) and set(np.unique(drawn)) <= {0.0, 1.0}


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_floor_above_the_step_is_refused(method):
    X = (np.random.default_rng(0).random((20, 4)) < 0.5).astype(float)
    rbm = BernoulliRBM(n_components=2, n_iter=3, learning_rate=0.1, min_learning_rate=5.0)
    with pytest.raises(ValueError, match="min_learning_rate=5.0 is above learning_rate=0.1"):
        getattr(rbm, method)(X)
    assert not hasattr(rbm, "components_")
