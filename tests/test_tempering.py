"""Parallel tempering against exact answers on tiny, enumerable models."""

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

from skebm import BernoulliRBM, GaussianBernoulliRBM
from skebm._backend import make_backend
from skebm._samplers.pt import swap_log_ratio, tuned_ladder

N_VISIBLE = 8


def two_mode_model():
    """8 binary units and one hidden unit: all-off (mass 0.2) or all-on (mass 0.8).

    The hidden unit switches every visible bias from -4 to +4, so the two
    modes are 8 flips apart: a Gibbs chain stays in the mode it starts in.
    """
    states = np.array(list(itertools.product([0.0, 1.0], repeat=N_VISIBLE)))
    rbm = BernoulliRBM(n_components=1, n_iter=0, random_state=0).fit(states)
    rbm.components_ = np.full((1, N_VISIBLE), 8.0)
    rbm.intercept_visible_ = np.full(N_VISIBLE, -4.0)
    rbm.intercept_hidden_ = np.array([-32.0 + np.log(4.0)])
    log_p = -rbm.free_energy(states)
    probabilities = np.exp(log_p - logsumexp(log_p))
    return rbm, states, probabilities


def test_pt_samples_the_exact_mode_masses_where_gibbs_does_not(suite_seed):
    rbm, states, probabilities = two_mode_model()
    on_mass = probabilities[states.mean(axis=1) > 0.5].sum()
    assert on_mass == pytest.approx(0.8, abs=1e-4)
    n = 2000
    tempered = rbm.sample(n, n_steps=100, method="pt", random_state=suite_seed)
    gibbs = rbm.sample(n, n_steps=100 * rbm.n_temperatures, random_state=suite_seed)
    # independent chains: the share in the on-mode is binomial, its standard
    # error sqrt(0.8 * 0.2 / 2000) = 0.009; PT is within five of them
    se = np.sqrt(on_mass * (1 - on_mass) / n)
    assert abs((tempered.mean(axis=1) > 0.5).mean() - on_mass) < 5 * se
    # Gibbs with as many sweeps (times the replicas) stays in the off-mode it
    # starts in: the chains never cross
    assert abs((gibbs.mean(axis=1) > 0.5).mean() - on_mass) > 50 * se


def test_pt_samples_fit_the_exact_distribution(suite_seed):
    # a goodness-of-fit test over the states of a tiny model with two modes
    rng = np.random.default_rng(suite_seed)
    states = np.array(list(itertools.product([0.0, 1.0], repeat=4)))
    rbm = BernoulliRBM(n_components=2, n_iter=0, random_state=0).fit(states)
    rbm.components_ = np.array([[5.0, 5.0, -5.0, -5.0], [-5.0, -5.0, 5.0, 5.0]])
    rbm.intercept_visible_ = rng.normal(0, 0.3, 4) - 2.5
    rbm.intercept_hidden_ = rng.normal(0, 0.3, 2) - 4.0
    log_p = -rbm.free_energy(states)
    probabilities = np.exp(log_p - logsumexp(log_p))
    n = 4000
    draws = rbm.sample(n, n_steps=60, method="pt", random_state=suite_seed)
    index = (draws @ (2 ** np.arange(3, -1, -1))).astype(int)
    observed = np.bincount(index, minlength=16)
    expected = n * probabilities
    # pooled chi-square over the states expected at least 5 times: under the
    # exact distribution it exceeds mean + 6 sd only with probability < 1e-4
    kept = expected >= 5
    chi2 = (((observed - expected) ** 2 / expected)[kept]).sum()
    dof = kept.sum() - 1
    assert chi2 < dof + 6 * np.sqrt(2 * dof), (chi2, dof)


def test_swaps_satisfy_detailed_balance():
    # for every pair of states and neighbouring temperatures:
    # p_k(v) p_k+1(v') A(swap) == p_k(v') p_k+1(v) A(swap back)
    rng = np.random.default_rng(0)
    states = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
    rbm = BernoulliRBM(n_components=2, n_iter=0, random_state=0).fit(states)
    rbm.components_ = rng.normal(0, 2, (2, 3))
    rbm.intercept_visible_ = rng.normal(0, 1, 3)
    rbm.intercept_hidden_ = rng.normal(0, 1, 2)
    bk = make_backend(None, np.float64)
    layer = rbm._layer(bk)
    base_a = rng.normal(0, 1, 3)
    betas = (0.7, 0.4)
    biases = tuple((1 - beta) * base_a + beta * layer.params["a"] for beta in betas)

    def tempered_probabilities(j):
        params = dict(layer.params, a=biases[j])
        params["W"] = betas[j] * params["W"]
        params["b"] = betas[j] * params["b"]
        log_p = -layer.units.free_energy(bk, params, states)
        return np.exp(log_p - logsumexp(log_p))

    p_cold, p_hot = tempered_probabilities(0), tempered_probabilities(1)
    first, second = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    v, w = states[first.ravel()], states[second.ravel()]
    act_v, act_w = layer.hidden_activation(v), layer.hidden_activation(w)
    forward = swap_log_ratio(bk, layer.units, layer.params, biases, betas, (v, w), (act_v, act_w))
    backward = swap_log_ratio(bk, layer.units, layer.params, biases, betas, (w, v), (act_w, act_v))
    flow = p_cold[first.ravel()] * p_hot[second.ravel()] * np.minimum(1, np.exp(forward))
    back = p_cold[second.ravel()] * p_hot[first.ravel()] * np.minimum(1, np.exp(backward))
    np.testing.assert_allclose(flow, back, rtol=1e-10, atol=1e-15)


def test_ladder_tuning_moves_gaps_towards_the_target():
    betas = np.linspace(1.0, 0.0, 5)
    rates = np.array([0.9, 0.3, 0.05, np.nan])
    tuned = tuned_ladder(betas, rates, 0.3)
    gaps, old = -np.diff(tuned), -np.diff(betas)
    assert tuned[0] == 1.0 and np.all(np.diff(tuned) < 0) and tuned[-1] >= 0
    assert gaps[0] > old[0] * 0.999 or np.isclose(gaps.sum(), 1.0)  # widened (or rescaled)
    assert gaps[2] / gaps[1] < old[2] / old[1]  # the rarely swapping pair moved closer
    assert gaps[1] / gaps[3] == pytest.approx(old[1] / old[3])  # on target / unknown: kept


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_pt_training_records_swap_rates_and_resumes(cls):
    rng = np.random.default_rng(0)
    X = (rng.random((200, 6)) < 0.3).astype(float)
    rbm = cls(n_components=3, method="pt", n_temperatures=4, n_iter=3, random_state=0,
              learning_rate=0.01).fit(X)
    record = rbm.history_[-1]
    assert len(record["swap_rates"]) == 3 and len(record["inverse_temperatures"]) == 4
    assert record["inverse_temperatures"][0] == 1.0
    assert all(0.0 <= rate <= 1.0 for rate in record["swap_rates"])
    assert rbm.h_samples_.shape == (10, 3)
    # partial_fit continues the replicas and the tuned ladder
    ladder = list(rbm.training_state_["sampler"]["betas"])
    rbm.partial_fit(X)
    assert rbm.history_[-1]["epoch"] == 4
    assert rbm.training_state_["sampler"]["betas"][0] == 1.0
    assert len(rbm.training_state_["sampler"]["betas"]) == len(ladder)
