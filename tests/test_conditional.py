"""Clamped sampling against exact conditionals of tiny, enumerable models."""

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

from skebm import BernoulliRBM, GaussianBernoulliRBM

OBSERVED = {0: 1.0, 2: 0.0}  # feature -> value; features 1, 3, 4 are missing
MISSING = [1, 3, 4]


def tiny_bernoulli(seed):
    rng = np.random.default_rng(seed)
    X = (rng.random((40, 5)) < 0.5).astype(float)
    rbm = BernoulliRBM(n_components=3, n_iter=0, random_state=0).fit(X)
    rbm.components_ = rng.normal(0, 2.5, (3, 5))
    rbm.intercept_visible_ = rng.normal(0, 1, 5)
    rbm.intercept_hidden_ = rng.normal(0, 1, 3)
    return rbm


def exact_conditional(rbm):
    """p(v_missing | v_observed) over the 8 completions, in itertools.product order."""
    completions = np.array(list(itertools.product([0.0, 1.0], repeat=len(MISSING))))
    rows = np.zeros((len(completions), 5))
    for feature, value in OBSERVED.items():
        rows[:, feature] = value
    rows[:, MISSING] = completions
    log_p = -rbm.free_energy(rows)
    return completions, np.exp(log_p - logsumexp(log_p))


def incomplete_row():
    row = np.full((1, 5), np.nan)
    for feature, value in OBSERVED.items():
        row[0, feature] = value
    return row


def chi_square(counts, probabilities):
    expected = counts.sum() * probabilities
    kept = expected >= 5
    return (((counts - expected) ** 2 / expected)[kept]).sum(), kept.sum() - 1


def test_clamped_draws_fit_the_exact_conditional(suite_seed):
    rbm = tiny_bernoulli(suite_seed)
    completions, conditional = exact_conditional(rbm)
    n = 4000
    draws = rbm.conditional_sample(incomplete_row(), n_samples=n, n_steps=40,
                                   random_state=suite_seed)[:, 0, :]
    for feature, value in OBSERVED.items():
        assert np.all(draws[:, feature] == value)  # observed entries stay clamped
    index = (draws[:, MISSING] @ (2 ** np.arange(len(MISSING) - 1, -1, -1))).astype(int)
    counts = np.bincount(index, minlength=len(completions))
    chi2, dof = chi_square(counts, conditional)
    # under the exact conditional, chi2 exceeds its mean + 6 sd with probability < 1e-4
    assert chi2 < dof + 6 * np.sqrt(2 * dof), (chi2, dof)


def test_the_goodness_of_fit_test_fails_on_a_sampler_that_ignores_the_clamp(suite_seed):
    # a model whose hidden units tie each missing feature to an observed one:
    # the conditional is far from the marginal, and the same test that the
    # clamped draws pass rejects draws from the marginal
    rbm = tiny_bernoulli(0)
    rbm.components_ = 4.0 * np.array([[1.0, 1.0, 0, 0, 0], [-1.0, 0, 0, 1.0, 0],
                                      [1.0, 0, 0, 0, 1.0]])
    rbm.intercept_visible_ = np.array([0.0, -2.0, 0.0, 0.0, -2.0])
    rbm.intercept_hidden_ = np.array([-4.0, 0.0, -4.0])
    completions, conditional = exact_conditional(rbm)
    n = 4000
    clamped = rbm.conditional_sample(incomplete_row(), n_samples=n, n_steps=40,
                                     random_state=suite_seed)[:, 0, MISSING]
    unclamped = rbm.sample(n, n_steps=40, random_state=suite_seed)[:, MISSING]
    weights = 2 ** np.arange(len(MISSING) - 1, -1, -1)
    for draws, should_pass in ((clamped, True), (unclamped, False)):
        counts = np.bincount((draws @ weights).astype(int), minlength=len(completions))
        chi2, dof = chi_square(counts, conditional)
        assert (chi2 < dof + 6 * np.sqrt(2 * dof)) == should_pass, (chi2, dof)


def test_conditional_mean_is_the_exact_conditional_expectation(suite_seed):
    rbm = tiny_bernoulli(suite_seed)
    completions, conditional = exact_conditional(rbm)
    exact = conditional @ completions
    copies = np.repeat(incomplete_row(), 200, axis=0)
    estimates = rbm.conditional_mean(copies, n_steps=100, burn_in=20,
                                     random_state=suite_seed)[:, MISSING]
    # 200 independent chains: their spread gives the standard error of the mean
    se = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates)) + 1e-12
    assert np.all(np.abs(estimates.mean(axis=0) - exact) < 5 * se + 1e-3), (
        estimates.mean(axis=0), exact, se)
    assert np.all(rbm.conditional_mean(copies[:1])[:, [0, 2]] == [[1.0, 0.0]])


def test_gaussian_conditional_mean_mixes_the_right_normals(suite_seed):
    # p(v_m | v_o) = sum_h p(h | v_o) Normal(a_m + (W^T h)_m, s_m^2), and
    # log p(h | v_o) = b.h + sum_o v_o (W^T h)_o / s_o^2
    #                  + sum_m ((a_m + (W^T h)_m)^2 - a_m^2) / (2 s_m^2) + const
    rng = np.random.default_rng(suite_seed)
    X = rng.normal(size=(50, 3))
    rbm = GaussianBernoulliRBM(n_components=3, n_iter=0, random_state=0).fit(X)
    rbm.components_ = rng.normal(0, 1.0, (3, 3))
    rbm.intercept_visible_ = rng.normal(0, 0.5, 3)
    rbm.intercept_hidden_ = rng.normal(0, 0.5, 3)
    rbm.sigma_ = np.array([0.8, 1.2, 1.0])
    observed, missing = [0], [1, 2]
    row = np.array([[0.7, np.nan, np.nan]])
    hidden = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
    a, W, s2 = rbm.intercept_visible_, rbm.components_, rbm.sigma_**2
    shift = hidden @ W  # (W^T h) for every hidden state
    log_weight = (
        hidden @ rbm.intercept_hidden_
        + (row[0, observed] * shift[:, observed] / s2[observed]).sum(axis=1)
        + (((a[missing] + shift[:, missing]) ** 2 - a[missing] ** 2) / (2 * s2[missing])).sum(axis=1)
    )
    weight = np.exp(log_weight - logsumexp(log_weight))
    exact = weight @ (a[missing] + shift[:, missing])
    estimates = rbm.conditional_mean(np.repeat(row, 200, axis=0), n_steps=100, burn_in=20,
                                     random_state=suite_seed)[:, missing]
    se = estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
    assert np.all(np.abs(estimates.mean(axis=0) - exact) < 5 * se + 1e-3), (
        estimates.mean(axis=0), exact, se)
    # and the draws' spread around that mean is the mixture's: its variance is
    # s^2 plus the variance of the means over p(h | v_o)
    draws = rbm.conditional_sample(row, n_samples=4000, n_steps=30,
                                   random_state=suite_seed)[:, 0, missing]
    mixture_var = s2[missing] + weight @ (a[missing] + shift[:, missing]) ** 2 - exact**2
    # the sample variance of 4000 draws has a relative sd of about sqrt(2/4000) = 2.2%
    np.testing.assert_allclose(draws.var(axis=0), mixture_var, rtol=6 * np.sqrt(2 / 4000) * 1.5)


def test_conditional_methods_reject_bad_settings():
    rbm = tiny_bernoulli(0)
    with pytest.raises(ValueError, match="n_samples"):
        rbm.conditional_sample(incomplete_row(), n_samples=0)
    with pytest.raises(ValueError, match="burn_in"):
        rbm.conditional_mean(incomplete_row(), burn_in=-1)
    with pytest.raises(ValueError, match="n_steps must be at least 1"):
        rbm.conditional_mean(incomplete_row(), n_steps=0)
    with pytest.raises(ValueError, match="features"):
        rbm.conditional_mean(np.full((1, 4), np.nan))


def test_clamped_tempering_crosses_between_the_modes_of_a_conditional(suite_seed):
    # 8 free units in two modes 8 flips apart (the first four on, or the last
    # four), and an observed unit; the conditional puts 0.72 on the first mode,
    # and Gibbs chains started at the data's means stay in the other one
    states = np.array(list(itertools.product([0.0, 1.0], repeat=9)))
    rbm = BernoulliRBM(n_components=1, n_iter=0, random_state=0).fit(states)
    rbm.components_ = np.array([[8.0, 8, 8, 8, -8, -8, -8, -8, 0]])
    rbm.intercept_visible_ = np.array([-3.0, -3, -3, -3, 3, 3, 3, 3, 0])
    rbm.intercept_hidden_ = np.array([-6.7])
    log_p = -rbm.free_energy(states)
    conditional = np.exp(log_p - logsumexp(log_p))  # the dummy unit is independent
    first_mode = (conditional * (states[:, :4].mean(axis=1) > 0.5)).sum()
    row = np.full((1, 9), np.nan)
    row[0, 8] = 1.0
    n = 2000
    se = np.sqrt(first_mode * (1 - first_mode) / n)
    tempered = rbm.conditional_sample(row, n_samples=n, n_steps=100, method="pt",
                                      random_state=suite_seed)[:, 0, :]
    gibbs = rbm.conditional_sample(row, n_samples=n, n_steps=1000,
                                   random_state=suite_seed)[:, 0, :]
    assert np.all(tempered[:, 8] == 1.0)
    assert abs((tempered[:, :4].mean(axis=1) > 0.5).mean() - first_mode) < 5 * se
    assert abs((gibbs[:, :4].mean(axis=1) > 0.5).mean() - first_mode) > 20 * se
