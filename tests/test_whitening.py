"""GaussianBernoulliRBM(whiten=True): known answers in the original units.

The zero-weight model must be the maximum-likelihood full-covariance
Gaussian (its log-density, its conditionals, its draws); any model's
density must integrate to one over x (the log-determinant of the whitening
is in ``score_samples``); and the EM Gaussian of incomplete rows must be
the one of the complete rows where nothing is missing.
"""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from model_state import assert_rejected_without_change
from skebm import GaussianBernoulliRBM
from skebm._whitening import Whitening, gaussian_conditional_draw, gaussian_of_incomplete

COVARIANCE = np.array([[1.0, 0.8, 0.3], [0.8, 1.0, 0.5], [0.3, 0.5, 1.0]])


@pytest.fixture
def correlated(suite_seed):
    rng = np.random.default_rng(suite_seed)
    return rng.multivariate_normal([1.0, -2.0, 0.5], COVARIANCE * 4.0, size=400)


def zero_weight_model(X):
    """A whitened model with W = 0, a = 0, sigma = 1: the fitted Gaussian itself."""
    rbm = GaussianBernoulliRBM(n_components=3, whiten=True, n_iter=0, random_state=0).fit(X)
    rbm.components_[:] = 0.0
    rbm.intercept_visible_[:] = 0.0
    rbm.sigma_[:] = 1.0
    whitening = rbm.whitening_
    covariance = (whitening.eigenvectors * whitening.eigenvalues) @ whitening.eigenvectors.T
    return rbm, whitening.mean, covariance


def test_zero_weight_model_is_the_maximum_likelihood_gaussian(correlated):
    rbm, mean, covariance = zero_weight_model(correlated)
    np.testing.assert_allclose(mean, correlated.mean(axis=0))
    # the ML covariance, floored only by a millionth of the mean variance
    np.testing.assert_allclose(covariance, np.cov(correlated.T, bias=True), atol=1e-5)
    expected = multivariate_normal(mean, covariance).logpdf(correlated)
    np.testing.assert_allclose(rbm.score_samples(correlated), expected, atol=1e-9)


def test_conditional_mean_and_draws_are_the_gaussian_conditional(correlated):
    rbm, mean, covariance = zero_weight_model(correlated)
    rows = correlated[:4].copy()
    rows[:, 0] = np.nan
    rows[2:, 1] = np.nan  # two patterns: one missing entry, and two
    filled = rbm.conditional_mean(rows, n_steps=5, burn_in=0, random_state=0)
    for row, original in zip(filled, rows):
        missing = np.isnan(original)
        observed = ~missing
        gain = covariance[np.ix_(missing, observed)] @ np.linalg.inv(
            covariance[np.ix_(observed, observed)]
        )
        expected = mean[missing] + gain @ (original[observed] - mean[observed])
        np.testing.assert_allclose(row[missing], expected, atol=1e-9)
        np.testing.assert_array_equal(row[observed], original[observed])
    # draws: mean and variance of the conditional of row 0, within 5 standard errors
    n_draws = 4000
    draws = rbm.conditional_sample(rows[:1], n_samples=n_draws, n_steps=2, random_state=0)[:, 0, 0]
    observed = np.array([False, True, True])
    variance = covariance[0, 0] - covariance[0, observed] @ np.linalg.solve(
        covariance[np.ix_(observed, observed)], covariance[observed, 0]
    )
    assert abs(draws.mean() - filled[0, 0]) < 5 * np.sqrt(variance / n_draws)
    # the sample variance's standard error is about variance * sqrt(2 / n)
    assert abs(draws.var() - variance) < 5 * variance * np.sqrt(2 / n_draws)


def test_the_density_of_x_integrates_to_one(suite_seed):
    rng = np.random.default_rng(suite_seed)
    # two clusters on a slanted line: the hidden units have something to model
    centres = rng.choice([-1.5, 1.5], size=600)[:, None] * np.array([[1.0, 0.6]])
    X = centres + rng.normal(scale=0.4, size=(600, 2)) @ np.array([[1.0, 0.5], [0.0, 0.7]])
    rbm = GaussianBernoulliRBM(n_components=4, whiten=True, learn_sigma=True, n_iter=30,
                               learning_rate=0.05, random_state=suite_seed).fit(X)
    assert np.abs(rbm.components_).max() > 0.1  # a model, not the Gaussian alone
    grid = np.linspace(-8.0, 8.0, 401)
    step = grid[1] - grid[0]
    points = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2)
    total = np.exp(rbm.score_samples(points)).sum() * step**2
    # exact log Z (4 hidden units): only the quadrature's error remains
    assert abs(total - 1.0) < 1e-3


def test_samples_and_reconstructions_are_in_the_original_units(correlated):
    rbm, mean, covariance = zero_weight_model(correlated)
    samples = rbm.sample(3000, n_steps=2, random_state=0)
    np.testing.assert_allclose(samples.mean(axis=0), mean, atol=5 * np.sqrt(covariance.max() / 3000))
    # each covariance entry within 6 standard errors of the estimate
    spread = np.sqrt((covariance**2 + np.outer(np.diag(covariance), np.diag(covariance))) / 3000)
    assert np.all(np.abs(np.cov(samples.T, bias=True) - covariance) < 6 * spread)
    reconstruction = rbm.inverse_transform(rbm.transform(correlated[:5]))
    np.testing.assert_allclose(reconstruction, np.broadcast_to(mean, (5, 3)), atol=1e-9)
    assert rbm.gibbs(correlated[:5]).shape == (5, 3)


def test_warm_start_refuses_another_whiten_and_clamped_pt(correlated):
    rbm = GaussianBernoulliRBM(n_components=2, whiten=True, n_iter=1, random_state=0).fit(correlated)
    rbm.set_params(whiten=False, warm_start=True)
    assert_rejected_without_change(
        rbm, lambda: rbm.fit(correlated), "whiten=False differs from the fitted model"
    )
    rbm.set_params(whiten=True, warm_start=False)
    rows = correlated[:2].copy()
    rows[:, 0] = np.nan
    with pytest.raises(ValueError, match="use method='gibbs'"):
        rbm.conditional_sample(rows, method="pt")
    # a new fit without whitening drops it
    rbm.set_params(whiten=False).fit(correlated)
    assert not hasattr(rbm, "whitening_")


def test_em_gaussian_of_incomplete_rows(suite_seed):
    rng = np.random.default_rng(suite_seed)
    X = rng.multivariate_normal([1.0, 2.0, 3.0], COVARIANCE, size=20000)
    complete_mean, complete_covariance = gaussian_of_incomplete(X)
    np.testing.assert_allclose(complete_mean, X.mean(axis=0))
    np.testing.assert_allclose(complete_covariance, np.cov(X.T, bias=True), atol=1e-8)
    holes = X.copy()
    holes[rng.random(X.shape) < 0.3] = np.nan
    mean, covariance = gaussian_of_incomplete(holes)
    # ML from 20000 rows, 30% missing: within 0.05 of the truth (standard errors ~0.01)
    np.testing.assert_allclose(mean, [1.0, 2.0, 3.0], atol=0.05)
    np.testing.assert_allclose(covariance, COVARIANCE, atol=0.05)
    filled = gaussian_conditional_draw(holes, mean, covariance, rng)
    assert not np.isnan(filled).any()
    np.testing.assert_allclose(np.cov(filled.T), COVARIANCE, atol=0.05)


def test_whitening_round_trip_and_log_determinant(correlated):
    whitening = Whitening.of(correlated)
    u = whitening.apply(correlated)
    np.testing.assert_allclose(np.cov(u.T, bias=True), np.eye(3), atol=1e-5)
    np.testing.assert_allclose(whitening.invert(u), correlated, atol=1e-10)
    assert whitening.log_det == pytest.approx(-np.log(np.linalg.det(whitening.inverse)))
