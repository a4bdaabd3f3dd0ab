"""A new visible unit type is one class and one registration line.

The spin units below (v_i in {-1, +1}) are written here, outside the
library, against the unit interface alone; every estimator method, exact log Z
over either layer, AIS and the DBN then work for them.  They were the
prototype of the library's own :class:`skebm.SpinRBM` (tested in
``test_spin.py``); kept here under a name of their own, they show that a unit
type needs nothing else, and the two independent write-ups must agree.
"""

import numpy as np
import pytest
from scipy.special import logsumexp
from tiny_models import all_spins, all_states, spin_joint_log_weights

from skebm import DBN, SpinRBM
from skebm._backend import make_backend
from skebm._base import BaseRBM
from skebm._dbn import RBM_BY_VISIBLE_UNITS
from skebm._partition import exact_log_partition
from skebm._units import BINARY, VisibleUnits


class PrototypeSpinUnits(VisibleUnits):
    """Visible spins, p(v_i = +1 | h) = sigmoid(2 (a_i + (W^T h)_i)); E = -a.v - b.h - h.W.v."""

    name = "spin_prototype"
    discrete = True

    def scale_visible(self, bk, params, v):
        return v

    def mean_visible(self, bk, params, h):
        return 2.0 * bk.sigmoid(2.0 * self.visible_activation(bk, params, h)) - 1.0

    def sample_visible(self, bk, params, h):
        return self.sample_visible_given(bk, params, self.visible_activation(bk, params, h))

    def sample_visible_given(self, bk, params, x, out=None):
        spins = 2.0 * bk.bernoulli(bk.sigmoid(2.0 * x)) - 1.0
        if out is None:
            return spins
        out[...] = spins
        return out

    def visible_energy(self, bk, params, v):
        return -bk.matmul(v, params["a"])

    def hidden_log_weight(self, bk, params, h):
        # sum over v_i = +-1 of exp(v_i x_i) = 2 cosh(x_i) = exp(softplus(2 x_i) - x_i)
        x = self.visible_activation(bk, params, h)
        return bk.matmul(h, params["b"]) + (bk.softplus(2.0 * x) - x).sum(axis=1)

    def independent_log_partition(self, bk, params):
        a = params["a"]
        return (bk.softplus(2.0 * a) - a).sum()

    def visible_gradients(self, bk, params, v_pos, h_pos, v_neg, h_neg):
        return {"a": v_pos.mean(axis=0) - v_neg.mean(axis=0)}

    def initial_params(self, X_stats, n_hidden, rng):
        return {"a": np.arctanh(np.clip(X_stats["mean"], -0.99, 0.99))}

    def base_params(self, params, X_stats):
        return self.initial_params(X_stats, 0, None)

    def n_states(self, n_units):
        return BINARY.n_states(n_units)

    def states(self, start, stop, n_units):
        return 2.0 * BINARY.states(start, stop, n_units) - 1.0


class PrototypeSpinRBM(BaseRBM):
    """An RBM of visible spins and binary hidden units."""

    _units = PrototypeSpinUnits()


def two_phases(seed):
    """300 rows of 8 spins, all up or all down, each spin flipped with probability 0.1."""
    rng = np.random.default_rng(seed)
    X = np.where(rng.random((300, 1)) < 0.5, -1.0, 1.0) * np.ones((1, 8))
    return np.where(rng.random(X.shape) < 0.1, -X, X)


def brute_force_log_z(rbm):
    """log sum over every (v, h) of exp(-E(v, h)), by enumerating both layers."""
    return logsumexp(spin_joint_log_weights(rbm)[0])


def test_a_registered_unit_type_trains_and_scores_exactly(suite_seed, monkeypatch):
    monkeypatch.setitem(RBM_BY_VISIBLE_UNITS, "spin_prototype", PrototypeSpinRBM)
    gains = []
    for seed in range(3 * suite_seed, 3 * suite_seed + 3):
        spins = two_phases(seed)
        rbm = PrototypeSpinRBM(n_components=3, n_iter=20, learning_rate=0.05, random_state=seed)
        initial = PrototypeSpinRBM(n_components=3, n_iter=0, random_state=seed).fit(spins)
        gains.append(rbm.fit(spins).score(spins) - initial.score(spins))
    # Training on two phases gains far more than seed noise.  Over 12 seeds one
    # run gained 1.86 +- 0.56 nats a row (a run can stall: the smallest gain
    # was 0.50), so the mean of three is 1.86 +- 0.32, and the bar is five of
    # those below it; a model that learns nothing gains 0.
    assert np.mean(gains) > 0.25, gains
    exact = brute_force_log_z(rbm)
    assert rbm.estimate_log_partition(method="exact") == pytest.approx(exact, abs=1e-10)
    # the visible layer (8 spins) enumerates too; both sums are log Z
    bk = make_backend(None, np.float64)
    layer = rbm._layer(bk)
    visible = layer.units.states(0, 2**8, 8)
    assert logsumexp(-bk.to_numpy(layer.free_energy(visible))) == pytest.approx(exact, abs=1e-10)
    assert exact_log_partition(rbm._units, bk, layer.params) == pytest.approx(exact, abs=1e-10)
    assert set(np.unique(rbm.sample(50, n_steps=10, random_state=0))) <= {-1.0, 1.0}
    # the DBN takes the new type by its registered name
    dbn = DBN(hidden_layer_sizes=(4, 2), visible_units="spin_prototype", n_iter=2,
              random_state=0)
    assert isinstance(dbn.fit(spins).rbms_[0], PrototypeSpinRBM)


def test_the_prototype_and_the_library_spin_units_agree():
    prototype = PrototypeSpinRBM(n_components=3, n_iter=0, random_state=0).fit(two_phases(0))
    library = SpinRBM(n_components=3, n_iter=0, random_state=0).fit(two_phases(0))
    rng = np.random.default_rng(0)
    W, a, b = rng.normal(size=(3, 8)), rng.normal(size=8), rng.normal(size=3)
    for rbm in (prototype, library):
        rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_ = W, a, b
    V, H = all_spins(8), all_states(3)
    for method, rows in (("free_energy", V), ("transform", V), ("score_samples", V),
                         ("inverse_transform", H)):
        np.testing.assert_allclose(getattr(prototype, method)(rows),
                                   getattr(library, method)(rows), atol=1e-10, err_msg=method)
