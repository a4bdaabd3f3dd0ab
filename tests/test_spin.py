"""SpinRBM (visible spins in {-1, +1}) against exact answers from enumerating tiny models.

The exact answers are computed from the energy E(v, h) = -a.v - b.h - h.W.v
alone, by summing over every joint state (``spin_joint_log_weights``), never
from the conditionals or free energies the library implements; AIS is held to
the library's exact log Z, which the first test holds to that double sum.
"""

import warnings

import numpy as np
import pytest
from scipy.special import expit, logsumexp
from scipy.stats import chisquare

from skebm import DBN, BernoulliRBM, SpinRBM
from tiny_models import (
    ais_interval,
    all_spins,
    all_states,
    make_spin_model,
    spin_joint_log_weights,
)

KEYS = {"W": "components_", "a": "intercept_visible_", "b": "intercept_hidden_"}


def joint_distribution(rbm):
    """p(v, h) as a (2^n_visible, 2^n_hidden) table, with the spin states V and hidden H."""
    neg_energy, V, H = spin_joint_log_weights(rbm)
    return np.exp(neg_energy - logsumexp(neg_energy)), V, H


def state_index(spins):
    """The row of each spin vector in ``all_spins`` (counting order, -1 before +1)."""
    bits = (np.asarray(spins) > 0).astype(int)
    return bits @ (2 ** np.arange(bits.shape[1])[::-1])


# --- the distribution ------------------------------------------------------------------
@pytest.mark.parametrize("n_visible, n_hidden", [(4, 3), (3, 5)])
def test_log_partition_and_likelihood_match_double_enumeration(n_visible, n_hidden):
    # (4, 3) enumerates the hidden layer, (3, 5) the visible one
    rbm = make_spin_model(n_visible, n_hidden)
    neg_energy, V, _ = spin_joint_log_weights(rbm)
    log_z = logsumexp(neg_energy)
    assert rbm.estimate_log_partition(method="exact") == pytest.approx(log_z, abs=1e-10)
    log_p = logsumexp(neg_energy, axis=1) - log_z
    np.testing.assert_allclose(rbm.score_samples(V), log_p, atol=1e-10)
    assert np.exp(rbm.score_samples(V)).sum() == pytest.approx(1.0, abs=1e-12)


def test_free_energy_is_minus_log_sum_over_hidden():
    rbm = make_spin_model(4, 3, scale=2.0)
    neg_energy, V, _ = spin_joint_log_weights(rbm)
    np.testing.assert_allclose(rbm.free_energy(V), -logsumexp(neg_energy, axis=1), atol=1e-12)


def test_conditionals_match_the_joint_distribution():
    rbm = make_spin_model(4, 3, scale=1.5)
    joint, V, H = joint_distribution(rbm)
    # P(h_j = 1 | v) from the table
    np.testing.assert_allclose(rbm.transform(V), (joint @ H) / joint.sum(axis=1)[:, None],
                               atol=1e-12)
    # E[v | h] from the table: the conditional expectation of spins, in [-1, 1]
    mean_v = (joint.T @ V) / joint.sum(axis=0)[:, None]
    np.testing.assert_allclose(rbm.inverse_transform(H), mean_v, atol=1e-12)
    # and p(v_i = +1 | h) = sigmoid(2 (a_i + (W^T h)_i)), as documented
    p_up = (joint.T @ (V > 0)) / joint.sum(axis=0)[:, None]
    x = rbm.intercept_visible_ + H @ rbm.components_
    np.testing.assert_allclose(p_up, expit(2 * x), atol=1e-12)
    np.testing.assert_allclose(mean_v, np.tanh(x), atol=1e-12)


def test_pseudo_log_likelihood_is_the_sum_of_exact_single_spin_conditionals():
    rbm = make_spin_model(4, 3, scale=1.5)
    joint, V, _ = joint_distribution(rbm)
    p_v = joint.sum(axis=1)
    expected = np.zeros(len(V))
    for i in range(V.shape[1]):
        flipped = V.copy()
        flipped[:, i] *= -1
        expected += np.log(p_v / (p_v + p_v[state_index(flipped)]))
    np.testing.assert_allclose(rbm.pseudo_log_likelihood(V), expected, atol=1e-10)


def test_spin_and_bernoulli_models_agree_under_the_change_of_variables():
    # v = 2x - 1 turns -E_spin(v, h) = a.v + b.h + h.W.v into
    # 2a.x + (b - W 1).h + h.(2W).x - sum(a): a BernoulliRBM on x with
    # W' = 2W, a' = 2a, b' = b - W.sum(axis=1), whose Z is the spin model's
    # times exp(sum(a)); every row has the same probability under both
    spin = make_spin_model(5, 4, scale=1.5, seed=7)
    W, a, b = spin.components_, spin.intercept_visible_, spin.intercept_hidden_
    V = all_spins(5)
    X = (V + 1) / 2
    bernoulli = BernoulliRBM(n_components=4, n_iter=0).fit(X)
    bernoulli.components_, bernoulli.intercept_visible_ = 2 * W, 2 * a
    bernoulli.intercept_hidden_ = b - W.sum(axis=1)
    np.testing.assert_allclose(spin.score_samples(V), bernoulli.score_samples(X), atol=1e-10)
    assert spin.estimate_log_partition("exact") == pytest.approx(
        bernoulli.estimate_log_partition("exact") - a.sum(), abs=1e-10)
    np.testing.assert_allclose(spin.free_energy(V), bernoulli.free_energy(X) + a.sum(),
                               atol=1e-10)
    np.testing.assert_allclose(spin.transform(V), bernoulli.transform(X), atol=1e-12)
    H = all_states(4)
    np.testing.assert_allclose(spin.inverse_transform(H),
                               2 * bernoulli.inverse_transform(H) - 1, atol=1e-12)


# --- learning --------------------------------------------------------------------------
DATA = np.array([[1, 1, -1], [-1, 1, 1], [1, -1, -1]], dtype=float)


def exact_gradients(rbm, X, k=None):
    """Exact mean gradients (W, a, b) of the log-likelihood (k=None) or of CD-k's update.

    Both phases are moments of h v^T, v and h, with h drawn from p(h | v) and
    v from the data (positive) and from the model or the data after k Gibbs
    steps (negative); all from the joint table.
    """
    joint, V, H = joint_distribution(rbm)
    p_h_given_v = joint / joint.sum(axis=1, keepdims=True)
    mean_h = p_h_given_v @ H

    def moments(weights):
        return {"W": (mean_h * weights[:, None]).T @ V, "a": weights @ V, "b": weights @ mean_h}

    data = np.bincount(state_index(X), minlength=len(V)) / len(X)
    if k is None:
        model = joint.sum(axis=1)
    else:
        # the Gibbs transition over visible states: sum_h p(h | v) p(v' | h)
        p_v_given_h = (joint / joint.sum(axis=0, keepdims=True)).T
        model = data @ np.linalg.matrix_power(p_h_given_v @ p_v_given_h, k)
    positive, negative = moments(data), moments(model)
    return {key: positive[key] - negative[key] for key in KEYS}


def step_per_learning_rate(rbm, X, learning_rate):
    """The change of every parameter over one ``partial_fit(X)``, divided by the step size."""
    before = {key: getattr(rbm, name).copy() for key, name in KEYS.items()}
    rbm.set_params(learning_rate=learning_rate).partial_fit(X)
    return {key: (getattr(rbm, name) - before[key]) / learning_rate
            for key, name in KEYS.items()}


def flat(gradients):
    return np.concatenate([gradients[key].ravel() for key in KEYS])


def test_cd_gradient_approaches_the_likelihood_gradient():
    rbm = make_spin_model(3, 2, scale=1.5, seed=3)
    likelihood = flat(exact_gradients(rbm, DATA))
    errors = {k: np.abs(flat(exact_gradients(rbm, DATA, k)) - likelihood).max()
              for k in (1, 3, 200)}
    # CD's bias shrinks as the chains run longer and vanishes in the limit
    assert errors[1] > 0.1
    assert errors[1] > errors[3] > errors[200]
    assert errors[200] < 1e-8
    # biased, CD-1 still points uphill
    cd1 = flat(exact_gradients(rbm, DATA, 1))
    assert cd1 @ likelihood > 0.5 * np.linalg.norm(cd1) * np.linalg.norm(likelihood)


@pytest.mark.parametrize("k", [1, 3])
def test_cd_step_follows_the_exact_cd_gradient(k, suite_seed):
    rbm = make_spin_model(3, 2, scale=1.5, seed=3, random_state=suite_seed)
    expected = exact_gradients(rbm, DATA, k)
    X = np.repeat(DATA, 20000, axis=0)
    rbm.set_params(method="cd", n_gibbs_steps=k, batch_size=len(X))
    step = step_per_learning_rate(rbm, X, 1e-3)
    # each entry is a mean over 60,000 chains of values in [-1, 1] minus the
    # exact positive phase: its standard deviation is at most 1/sqrt(60000) =
    # 0.0041, and the bar is six of those (over 20 seeds the largest error
    # of any entry was 0.0075)
    for key in KEYS:
        np.testing.assert_allclose(step[key], expected[key], atol=0.025, err_msg=key)


def test_pcd_step_follows_the_exact_likelihood_gradient(suite_seed):
    rbm = make_spin_model(3, 2, scale=1.5, seed=3, random_state=suite_seed)
    expected = exact_gradients(rbm, DATA)
    rbm.set_params(method="pcd", n_chains=20000, n_gibbs_steps=1, batch_size=len(DATA))
    # steps too small to move the model let the persistent chains reach it
    for _ in range(30):
        step_per_learning_rate(rbm, DATA, 1e-12)
    step = step_per_learning_rate(rbm, DATA, 1e-3)
    # chains that persist make one Gibbs step's update the likelihood
    # gradient, not CD-1's (0.18 off here): each entry is a mean over 20,000
    # chains of values in [-1, 1], standard deviation at most 0.0071, and the
    # bar is six of those (over 20 seeds the largest error was 0.011)
    for key in KEYS:
        np.testing.assert_allclose(step[key], expected[key], atol=0.042, err_msg=key)


def test_training_on_two_phases_raises_the_exact_likelihood(suite_seed):
    rng = np.random.default_rng(suite_seed)
    # 8 spins all up or all down, each flipped with probability 0.1
    X = np.where(rng.random((400, 1)) < 0.5, -1.0, 1.0) * np.ones((1, 8))
    X = np.where(rng.random(X.shape) < 0.1, -X, X)
    untrained = SpinRBM(n_components=3, n_iter=0, random_state=suite_seed).fit(X).score(X)
    rbm = SpinRBM(n_components=3, n_iter=20, learning_rate=0.02, method="pt",
                  random_state=suite_seed).fit(X)
    # the untrained model, independent spins of the columns' means, scores
    # about -8 log 2 = -5.55 nats a row, the distribution the rows come from
    # -3.29: 2.26 nats to gain.  Over 20 seeds training gained 2.21 +- 0.11
    # (at least 1.94); the bar is ten standard deviations below, and a model
    # that learns nothing gains 0
    assert rbm.score(X) - untrained > 1.0
    assert set(np.unique(rbm.sample(20, n_steps=5, random_state=0))) <= {-1.0, 1.0}


# --- sampling ---------------------------------------------------------------------------
def test_long_chains_reproduce_the_model_distribution(suite_seed):
    # A chi-square test at p > 1e-4 fails one seed in 10,000 when the chains
    # draw from the model; the same counts reject a slightly different model
    rbm = make_spin_model(4, 3, seed=1)
    joint, _, _ = joint_distribution(rbm)
    samples = rbm.sample(20000, n_steps=50, random_state=suite_seed)
    assert set(np.unique(samples)) == {-1.0, 1.0}
    counts = np.bincount(state_index(samples), minlength=16)
    assert chisquare(counts, joint.sum(axis=1) * counts.sum()).pvalue > 1e-4
    other = make_spin_model(4, 3, seed=1)
    other.components_[0, 0] += 0.5
    p_other = joint_distribution(other)[0].sum(axis=1)
    assert chisquare(counts, p_other * counts.sum()).pvalue < 1e-20


def test_gibbs_step_leaves_the_model_distribution_invariant(suite_seed):
    rbm = make_spin_model(4, 3, seed=2, random_state=suite_seed)
    joint, V, _ = joint_distribution(rbm)
    p_v = joint.sum(axis=1)
    start = V[np.random.default_rng(suite_seed).choice(len(V), size=5000, p=p_v)]
    moved = rbm.gibbs(start)
    assert not np.array_equal(moved, start)
    counts = np.bincount(state_index(moved), minlength=16)
    assert chisquare(counts, p_v * counts.sum()).pvalue > 1e-4


def exact_conditional(rbm, row):
    """The completions of ``row``'s missing entries (nan) and their exact probabilities."""
    joint, V, _ = joint_distribution(rbm)
    observed = ~np.isnan(row)
    matches = np.all(V[:, observed] == row[observed], axis=1)
    p = joint.sum(axis=1)[matches]
    return V[matches][:, ~observed], p / p.sum()


def test_conditional_draws_and_means_match_the_exact_conditional(suite_seed):
    rbm = make_spin_model(4, 3, scale=1.5, seed=4)
    row = np.array([1.0, np.nan, np.nan, -1.0])
    completions, p = exact_conditional(rbm, row)
    draws = rbm.conditional_sample(row[None], n_samples=20000, n_steps=30,
                                   random_state=suite_seed)[:, 0, :]
    np.testing.assert_array_equal(draws[:, [0, 3]], np.tile([1.0, -1.0], (20000, 1)))
    counts = np.bincount(state_index(draws[:, 1:3]), minlength=4)
    assert chisquare(counts, p * counts.sum()).pvalue > 1e-4
    # conditional_mean: the conditional expectation of the spins, in [-1, 1]
    exact = p @ completions
    estimates = rbm.conditional_mean(np.repeat(row[None], 200, axis=0), n_steps=100,
                                     burn_in=20, random_state=suite_seed)[:, 1:3]
    assert np.all(np.abs(estimates) <= 1.0)
    # 200 independent chains: their spread gives the standard error of the mean
    se = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates)) + 1e-12
    assert np.all(np.abs(estimates.mean(axis=0) - exact) < 5 * se + 1e-3), (
        estimates.mean(axis=0), exact, se)


def test_ais_holds_the_exact_log_partition_within_its_interval(suite_seed):
    rbm = make_spin_model(12, 10, scale=0.7)
    exact = rbm.estimate_log_partition("exact")
    log_z = rbm.estimate_log_partition("ais", n_betas=1000, random_state=suite_seed)
    est = rbm.log_partition_estimate_
    assert est.method == "ais"
    # within five of the estimator's own standard errors (see ais_interval),
    # and forward and reverse runs within five of their spread: over 20 seeds
    # they were off by +-0.061 and +-0.050 nat (at most 0.11); spins of
    # weights this size couple twice as strongly as 0/1 units do, so the
    # model is more rugged than test_partition's Bernoulli one
    lower, upper = ais_interval(est, 5)
    assert lower <= exact <= upper, (exact, est)
    assert abs(log_z - exact) < 0.3
    assert abs(est.reverse - exact) < 0.3


def test_torch_backend_computes_the_same_model(suite_seed):
    pytest.importorskip("torch")
    rbm = make_spin_model(4, 3, scale=1.5)
    on_torch = make_spin_model(4, 3, scale=1.5).set_params(device="cpu")
    V, H = all_spins(4), all_states(3)
    for method, rows in (("free_energy", V), ("transform", V), ("score_samples", V),
                         ("pseudo_log_likelihood", V), ("inverse_transform", H)):
        np.testing.assert_allclose(getattr(on_torch, method)(rows), getattr(rbm, method)(rows),
                                   atol=1e-10, err_msg=method)
    drawn = on_torch.sample(50, n_steps=5, random_state=suite_seed)
    assert set(np.unique(drawn)) <= {-1.0, 1.0}


# --- the DBN's spin layer ----------------------------------------------------------------
def test_dbn_with_a_spin_layer_scores_its_exact_bound(suite_seed):
    rng = np.random.default_rng(suite_seed)
    X = np.where(rng.random((200, 5)) < np.linspace(0.2, 0.8, 5), 1.0, -1.0)
    dbn = DBN(hidden_layer_sizes=(3, 2), visible_units="spin", n_iter=5, learning_rate=0.05,
              random_state=suite_seed).fit(X)
    lower, top = dbn.rbms_
    assert isinstance(lower, SpinRBM)
    # log p(v, h1) = log p(v | h1) + log p_top(h1), with the spin conditional
    # written from the energy: p(v | h1) = prod_i exp(v_i x_i) / (2 cosh x_i)
    H1 = all_states(3)
    x = lower.intercept_visible_ + H1 @ lower.components_
    log_v_given_h = X @ x.T - np.logaddexp(x, -x).sum(axis=1)
    log_joint = log_v_given_h + top.score_samples(H1)
    q = lower.transform(X)
    log_q = np.log(np.where(H1[None] == 1, q[:, None], 1 - q[:, None])).sum(axis=2)
    bound = (np.exp(log_q) * (log_joint - log_q)).sum(axis=1)
    np.testing.assert_allclose(dbn.score_samples(X), bound, atol=1e-9)
    assert np.all(bound <= logsumexp(log_joint, axis=1) + 1e-9)
    drawn = dbn.sample(10, n_steps=5, random_state=0, return_mean=False)
    assert set(np.unique(drawn)) <= {-1.0, 1.0}
    means = dbn.sample(10, n_steps=5, random_state=0)  # E[v | h1], between the spins
    assert np.all(np.abs(means) < 1.0)
    with pytest.raises(ValueError, match="2 \\* X - 1"):
        DBN(hidden_layer_sizes=(3, 2), visible_units="spin").fit((X + 1) / 2)


# --- bad input -----------------------------------------------------------------------------
ZERO_ONE = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])


def test_zero_one_data_is_rejected_and_the_model_left_unchanged():
    with pytest.raises(ValueError, match=r"values in \{-1, \+1\}.*2 \* X - 1"):
        SpinRBM(n_components=2).fit(ZERO_ONE)
    unfitted = SpinRBM(n_components=2)
    with pytest.raises(ValueError, match="2 \\* X - 1"):
        unfitted.partial_fit(ZERO_ONE)
    assert not hasattr(unfitted, "components_") and not hasattr(unfitted, "n_features_in_")

    rbm = make_spin_model(3, 2)
    before = {key: value.copy() if isinstance(value, np.ndarray) else value
              for key, value in vars(rbm).items()}
    for call in (rbm.fit, rbm.partial_fit, rbm.transform, rbm.gibbs, rbm.free_energy,
                 rbm.score_samples, rbm.pseudo_log_likelihood):
        with pytest.raises(ValueError, match="2 \\* X - 1"):
            call(ZERO_ONE)
    incomplete = ZERO_ONE.copy()
    incomplete[0, 0] = np.nan
    for call in (rbm.conditional_sample, rbm.conditional_mean):
        with pytest.raises(ValueError, match="2 \\* X - 1"):
            call(incomplete)
    # the same data as spins is fine, and the model is as it was
    rbm.transform(2 * ZERO_ONE - 1)
    assert vars(rbm).keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(rbm, key), value, err_msg=key)


def test_spin_means_are_accepted_and_values_outside_warn():
    rbm = make_spin_model(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # means in [-1, 1], as BernoulliRBM takes probabilities; all +1 and
        # all 0 are spins and means, not 0/1 data
        rbm.transform([[0.5, -0.25, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
        SpinRBM(n_components=2, n_iter=1).fit([[0.3, -1.0], [1.0, 0.0]])
    with pytest.warns(UserWarning, match=r"means in \[-1, 1\].*2 \* X - 1"):
        SpinRBM(n_components=2, n_iter=1).fit([[3.0, -1.0], [1.0, 2.0]])
