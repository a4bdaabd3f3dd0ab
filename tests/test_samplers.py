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
    with pytest.raises(InvalidParameterError, match="'cd', 'pcd'"):
        BernoulliRBM(method="data").fit(X)
    monkeypatch.setitem(SAMPLERS, "data", DataAsModelSamples())
    BernoulliRBM(method="data", n_iter=1).fit(X)
