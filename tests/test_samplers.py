"""The sampler registry: a new negative phase is one class and one registration."""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skebm import BernoulliRBM, GaussianBernoulliRBM
from skebm._samplers import SAMPLERS


class DataAsModelSamples:
    """A sampler whose "model samples" are the data rows themselves.

    The positive and negative phases are then equal, so the log-likelihood
    gradient is exactly zero: training must leave the initial parameters
    where they are, up to the rounding of the fused product's sum.
    """

    persistent = False

    def n_negative(self, n_chains, n_data):
        return n_data

    def step(self, bk, units, params, state, buffers, n_steps):
        units.mean_hidden(bk, params, buffers.data, out=buffers.data_hidden)
        buffers.chain_visible[...] = buffers.data
        buffers.chain_hidden[...] = buffers.data_hidden


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_a_registered_sampler_drives_training(cls, monkeypatch):
    monkeypatch.setitem(SAMPLERS, "data", DataAsModelSamples())
    X = (np.random.default_rng(0).random((60, 7)) < 0.4).astype(float)
    settings = dict(n_components=5, learning_rate=0.5, random_state=0)
    trained = cls(method="data", n_iter=3, **settings).fit(X)
    initial = cls(method="data", n_iter=0, **settings).fit(X)
    for name in ("components_", "intercept_hidden_", "intercept_visible_"):
        np.testing.assert_allclose(
            getattr(trained, name), getattr(initial, name), rtol=0, atol=1e-12
        )
    # and the built-in samplers do move them
    moved = cls(method="pcd", n_iter=3, **settings).fit(X)
    assert not np.allclose(moved.components_, initial.components_)


def test_method_accepts_exactly_the_registered_samplers(monkeypatch):
    X = np.zeros((4, 3))
    with pytest.raises(InvalidParameterError, match="'cd', 'cd_mean', 'pcd'"):
        BernoulliRBM(method="data").fit(X)
    monkeypatch.setitem(SAMPLERS, "data", DataAsModelSamples())
    BernoulliRBM(method="data", n_iter=1).fit(X)


@pytest.mark.parametrize("n_steps", [1, 3])
def test_mean_reconstruction_cd_uses_the_visible_means(n_steps):
    from skebm._backend import make_backend
    from skebm._samplers.cd import ContrastiveDivergence
    from skebm._training.trainer import StepBuffers

    rng = np.random.default_rng(0)
    X = (rng.random((8, 6)) < 0.5).astype(float)
    rbm = BernoulliRBM(n_components=4, n_iter=0, random_state=0).fit(X)
    rbm.components_ = rng.normal(size=(4, 6))
    units, results = rbm._units, {}
    for method in ("cd", "cd_mean"):
        bk = make_backend(None, np.float64, seed=3)  # the same hidden draws for both
        params = rbm._device_params(bk)
        buffers = StepBuffers(bk, 8, 8, 6, 4, hidden_sample=True)
        buffers.data[...] = X
        SAMPLERS[method]().step(bk, units, params, {}, buffers, n_steps)
        results[method] = buffers
    mean, plain = results["cd_mean"], results["cd"]
    np.testing.assert_array_equal(mean.data_hidden, plain.data_hidden)
    # the reconstruction is E[v | h] of the last hidden draw, not a draw
    bk = make_backend(None, np.float64, seed=0)
    expected = units.mean_visible(bk, rbm._device_params(bk), mean.hidden_sample)
    np.testing.assert_allclose(mean.chain_visible, expected)
    assert np.all((mean.chain_visible > 0) & (mean.chain_visible < 1))
    np.testing.assert_allclose(
        mean.chain_hidden, units.mean_hidden(bk, rbm._device_params(bk), mean.chain_visible)
    )
    if n_steps == 1:
        # one step: the same first hidden draw as plain CD
        np.testing.assert_array_equal(mean.hidden_sample, plain.hidden_sample)
    assert isinstance(SAMPLERS["cd_mean"], type) and issubclass(
        SAMPLERS["cd_mean"], ContrastiveDivergence
    )
