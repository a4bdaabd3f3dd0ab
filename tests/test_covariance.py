"""CovarianceRBM against known answers: brute-force sums over h, quadrature over x, the Gaussian."""

import itertools

import numpy as np
import pytest
from scipy.special import expit, logsumexp
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture

from skebm import CovarianceRBM, DivergenceError
from skebm._covariance import (
    category_columns,
    data_expectations,
    minus_free_energy,
    model_expectations,
    tied_mixture_start,
    within_span,
)
from skebm._whitening import COVARIANCE_FLOOR
from model_state import assert_rejected_without_change


def random_params(rng, n_components, n_features, scale=0.6, n_categories=1):
    n_columns = category_columns(n_categories)
    return {
        "covariance_components": scale * rng.normal(size=(n_components, n_features)),
        "components": scale * rng.normal(size=(n_components, n_features)),
        "intercept_visible": 0.3 * rng.normal(size=n_features),
        "intercept_hidden": 0.3 * rng.normal(size=n_components),
        "log_sigma": 0.2 * rng.normal(size=n_features),
        "categorical_components": scale * rng.normal(size=(n_columns, n_features)),
        "intercept_categorical": 0.3 * rng.normal(size=n_columns),
        "category_log_scale": 0.3 * rng.normal(size=n_columns),
    }


def tiny_model(seed=0, n_components=2, n_features=2, n_categories=1):
    """A fitted CovarianceRBM whose parameters are then set to random values (correlated X)."""
    rng = np.random.default_rng(seed)
    mixing = np.array([[1.0, 0.0], [0.8, 0.5]])[:n_features, :n_features]
    X = rng.normal(size=(300, n_features)) @ mixing + [1.0, -2.0][:n_features]
    model = CovarianceRBM(n_components, n_categories=n_categories, n_iter=1,
                          validation_fraction=None, random_state=seed)  # fmt: skip
    model.fit(X)
    model._publish(random_params(rng, n_components, n_features, n_categories=n_categories))
    return model


def precision_given(params, state):
    """exp(-2 t_j) (diag(exp(-2 s)) + sum_k h_k c_k c_k'), written out."""
    n_components = len(params["covariance_components"])
    h, one_hot = state[:n_components], state[n_components:]
    precision = np.diag(np.exp(-2 * params["log_sigma"]))
    for k, on in enumerate(h):
        c = params["covariance_components"][k]
        precision = precision + on * np.outer(c, c)
    return precision * np.exp(-2 * one_hot @ params["category_log_scale"])


def energy(params, u, state):
    """E(u, h, category) written out from its definition; ``state`` is h, then the one-hot."""
    n_components = len(params["covariance_components"])
    h, one_hot = state[:n_components], state[n_components:]
    precision = precision_given(params, state)
    return (0.5 * u @ precision @ u - params["intercept_visible"] @ u
            - h @ params["components"] @ u - params["intercept_hidden"] @ h
            - one_hot @ params["categorical_components"] @ u
            - one_hot @ params["intercept_categorical"])  # fmt: skip


def all_states(n, n_categories=1):
    """Every state: n binary units, then (with more than one category) a one-hot category."""
    categories = np.eye(category_columns(n_categories)) if n_categories > 1 else [np.empty(0)]
    return [np.concatenate([np.array(h, dtype=float), one_hot])
            for h in itertools.product([0, 1], repeat=n) for one_hot in categories]  # fmt: skip


def exact_moments(model):
    """E[x] and E[x x'] of the model, summing its Gaussians p(x | h) weighed by the exact p(h)."""
    params = model._params()
    P_inverse = model.whitening_.inverse
    log_weights, means, seconds = [], [], []
    K = model.n_components
    for state in all_states(K, model.n_categories):
        h, one_hot = state[:K], state[K:]
        precision = precision_given(params, state)
        linear = (params["intercept_visible"] + h @ params["components"]
                  + one_hot @ params["categorical_components"])  # fmt: skip
        covariance = np.linalg.inv(precision)
        mean_u = covariance @ linear
        bias = h @ params["intercept_hidden"] + one_hot @ params["intercept_categorical"]
        log_weights.append(bias - 0.5 * np.linalg.slogdet(precision)[1] + 0.5 * linear @ mean_u)
        mean_x = model.whitening_.mean + P_inverse @ mean_u
        means.append(mean_x)
        seconds.append(P_inverse @ covariance @ P_inverse.T + np.outer(mean_x, mean_x))
    weights = np.exp(np.array(log_weights) - logsumexp(log_weights))
    return np.tensordot(weights, means, axes=1), np.tensordot(weights, seconds, axes=1)


@pytest.mark.parametrize("n_categories", [1, 3])
def test_free_energy_and_hidden_probabilities_sum_the_energy_over_every_hidden_state(
    n_categories,
):
    model = tiny_model(n_components=3, n_categories=n_categories)
    params = model._params()
    X = np.random.default_rng(1).normal(size=(6, 2))
    U = model.whitening_.apply(X)
    states = all_states(3, n_categories)
    for x, u, free_energy, on in zip(X, U, model.free_energy(X), model.transform(X)):
        minus_energies = np.array([-energy(params, u, state) for state in states])
        # F(x) = F(u) - log |det P|: p(x) = p(u) |det P|
        assert free_energy == pytest.approx(
            -logsumexp(minus_energies) - model.whitening_.log_det, rel=1e-12
        )
        weights = np.exp(minus_energies - logsumexp(minus_energies))
        np.testing.assert_allclose(on, weights @ np.array(states), rtol=1e-10)


@pytest.mark.parametrize("n_categories", [1, 3])
def test_the_density_integrates_to_one_over_x(n_categories):
    # log Z summed over h must make exp(score_samples) a density in the data's own units
    model = tiny_model(seed=3, n_categories=n_categories)
    step = 0.02
    grid = np.arange(-12, 12, step)
    mean = model.whitening_.mean
    xs, ys = np.meshgrid(grid + mean[0], grid + mean[1])
    X = np.column_stack([xs.ravel(), ys.ravel()])
    total = np.exp(model.score_samples(X)).sum() * step**2
    assert total == pytest.approx(1.0, abs=1e-6)


def test_with_zero_weights_it_is_the_training_rows_full_covariance_gaussian():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3)) @ rng.normal(size=(3, 3)) + [5.0, -1.0, 2.0]
    model = CovarianceRBM(3, n_categories=1, n_iter=1, validation_fraction=None,
                          random_state=0).fit(X)
    zero = {key: np.zeros_like(value) for key, value in model._params().items()}
    zero["intercept_hidden"] = rng.normal(size=3)  # the biases alone cancel in log Z
    model._publish(zero)
    covariance = np.cov(X.T, bias=True)
    # the whitening's floor on the eigenvalues, a millionth of the mean variance
    covariance += COVARIANCE_FLOOR * np.mean(np.diag(covariance)) * np.eye(3)
    gaussian = multivariate_normal(X.mean(axis=0), covariance)
    np.testing.assert_allclose(model.score_samples(X[:20]), gaussian.logpdf(X[:20]), rtol=1e-10)


@pytest.mark.parametrize("n_categories", [1, 3])
def test_the_training_gradient_is_that_of_the_exact_log_likelihood(n_categories):
    rng = np.random.default_rng(2)
    params = random_params(rng, 3, 4, n_categories=n_categories)
    U = rng.normal(size=(40, 4))

    def log_likelihood(p):
        return np.mean(minus_free_energy(p, U)) - model_expectations(p, gradient=False)[0]

    data = data_expectations(params, U)
    model = model_expectations(params, gradient=True)[1]
    for key, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[key][index] += 1e-6
            down[key][index] -= 1e-6
            numeric[index] = (log_likelihood(up) - log_likelihood(down)) / 2e-6
        np.testing.assert_allclose(data[key] - model[key], numeric, atol=1e-7)


@pytest.mark.parametrize("n_categories", [1, 3])
def test_inverse_transform_of_a_hidden_state_is_the_mean_of_x_given_it(n_categories):
    model = tiny_model(n_components=3, n_categories=n_categories)
    params = model._params()
    states = np.array(all_states(3, n_categories))
    for state, mean in zip(states, model.inverse_transform(states)):
        h, one_hot = state[:3], state[3:]
        precision = precision_given(params, state)
        linear = (params["intercept_visible"] + h @ params["components"]
                  + one_hot @ params["categorical_components"])  # fmt: skip
        mean_u = np.linalg.solve(precision, linear)
        np.testing.assert_allclose(mean, model.whitening_.invert(mean_u), rtol=1e-10)


def assert_moments_match(model, draws):
    """Each mean and second moment of the draws within 5 standard errors of the exact one."""
    first, second = exact_moments(model)
    n = len(draws)
    np.testing.assert_array_less(
        np.abs(draws.mean(axis=0) - first), 5 * draws.std(axis=0) / np.sqrt(n)
    )
    products = draws[:, :, None] * draws[:, None, :]
    np.testing.assert_array_less(
        np.abs(products.mean(axis=0) - second), 5 * products.std(axis=0) / np.sqrt(n)
    )


@pytest.mark.parametrize("seed, n_categories", [(0, 1), (1, 1), (2, 3)])
def test_samples_are_exact_draws(seed, n_categories):
    model = tiny_model(seed=seed, n_components=3, n_categories=n_categories)
    assert_moments_match(model, model.sample(20000, random_state=seed))


@pytest.mark.parametrize("n_categories", [1, 3])
def test_a_gibbs_step_leaves_the_model_distribution_in_place(n_categories):
    model = tiny_model(seed=4, n_components=3, n_categories=n_categories)
    start = model.sample(20000, random_state=4)
    assert_moments_match(model, model.gibbs(model.gibbs(start)))


def test_it_beats_one_gaussian_where_the_covariance_changes_from_place_to_place():
    rng = np.random.default_rng(0)

    def draw(n):
        narrow = rng.normal(size=(n, 2)) * [1.0, 0.1]
        wide = rng.normal(size=(n, 2)) * [0.1, 1.0]
        return np.concatenate([narrow, wide])

    train, test = draw(300), draw(300)
    model = CovarianceRBM(2, n_categories=1, random_state=0).fit(train)
    gaussian = GaussianMixture(1, covariance_type="full").fit(train)
    # one Gaussian reads about -2.2 nats a row, the two true components -1.1; two units
    # reach -1.36 to -1.64 over seeds 0-5 (their precision terms add, so a state with both
    # off or both on keeps some weight): 0.54 to 0.79 nats above the Gaussian, against a
    # spread of about 0.05 nats in either figure
    assert model.score(test) > gaussian.score(test) + 0.3


def test_refit_trains_on_every_row_for_the_epochs_the_held_out_rows_chose():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(100, 2)) * [1.0, 0.2], rng.normal(size=(100, 2)) + 3.0])
    refitted = CovarianceRBM(2, n_iter=60, n_iter_no_change=20, random_state=0).fit(X)
    assert refitted.best_iter_ is not None and refitted.n_iter_ == refitted.best_iter_
    np.testing.assert_allclose(refitted.whitening_.mean, X.mean(axis=0))
    assert len(refitted.validation_scores_) >= refitted.best_iter_ + 1
    again = CovarianceRBM(2, n_iter=refitted.best_iter_, validation_fraction=None,
                          random_state=0)  # fmt: skip
    assert again.fit(X).n_iter_ == refitted.best_iter_
    kept = CovarianceRBM(2, n_iter=60, n_iter_no_change=20, refit=False, random_state=0).fit(X)
    # the best epoch's model, whitened by the 160 rows it was trained on
    assert not np.allclose(kept.whitening_.mean, X.mean(axis=0))
    assert kept.validation_scores_[kept.best_iter_] == max(kept.validation_scores_)


def test_partial_fit_continues_one_epoch_at_a_time():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    model = CovarianceRBM(2, batch_size=16, random_state=0)
    model.partial_fit(X)
    first = model.components_.copy()
    model.partial_fit(X[:32])
    assert model.n_iter_ == 2
    assert float(model.training_state_["steps"][0]) == 4 + 2
    assert not np.array_equal(first, model.components_)
    np.testing.assert_allclose(model.whitening_.mean, X.mean(axis=0))


def test_one_row_cannot_be_split_for_validation():
    model = CovarianceRBM(2, n_categories=1)
    with pytest.raises(ValueError, match="validation_fraction=None"):
        model.fit(np.ones((1, 3)))
    assert not any(key.endswith("_") for key in vars(model))
    single = CovarianceRBM(2, n_categories=1, n_iter=3, validation_fraction=None)
    assert single.fit(np.ones((1, 3))).n_iter_ == 3


def test_a_runaway_step_raises_and_leaves_the_fitted_model_as_it_was():
    X = np.random.default_rng(0).normal(size=(100, 3))
    model = CovarianceRBM(2, n_iter=5, random_state=0).fit(X)
    model.set_params(learning_rate=1e6, n_iter=50)
    assert_rejected_without_change(model, lambda: model.fit(X), "learning_rate",
                                   exceptions=(DivergenceError,))  # fmt: skip


def test_hidden_layers_beyond_the_sum_are_refused():
    with pytest.raises(ValueError, match="n_components"):
        CovarianceRBM(17).fit(np.zeros((10, 2)))


def test_transform_is_the_hidden_probabilities_and_names_its_columns():
    model = tiny_model()
    X = np.random.default_rng(0).normal(size=(5, 2))
    params = model._params()
    U = model.whitening_.apply(X)
    expected = expit(U @ params["components"].T + params["intercept_hidden"]
                     - 0.5 * (U @ params["covariance_components"].T) ** 2)  # fmt: skip
    np.testing.assert_allclose(model.transform(X), expected, rtol=1e-12)
    assert list(model.get_feature_names_out()) == ["covariancerbm0", "covariancerbm1"]


def test_held_out_rows_off_the_training_rows_span_are_found():
    rng = np.random.default_rng(0)
    plane = np.column_stack([rng.normal(size=(50, 2)), np.zeros(50)]) + [1.0, 2.0, 3.0]
    rows = np.array([[0.5, -1.0, 3.0], [0.0, 0.0, 3.5], [9.0, 9.0, 3.0]])
    np.testing.assert_array_equal(within_span(plane, rows), [True, False, True])


def test_a_column_constant_in_the_rows_it_trains_on_does_not_stop_training_at_once():
    # the held-out row with the column's only other value would score about -1e9 at
    # every epoch, so that no epoch could beat the first one; it is left out of the score
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=(200, 2)) * [1.0, 0.2], np.zeros(200)])
    X[:100] = X[:100] @ np.diag([0.2, 5.0, 1.0])
    model = CovarianceRBM(2, n_iter=100, n_iter_no_change=20, validation_fraction=0.2,
                          random_state=0)  # fmt: skip
    train, validation = model._split(len(X), np.random.RandomState(0))
    X[validation[0], 2] = 1.0
    model.fit(X)
    assert model.best_iter_ > 0
    assert max(model.validation_scores_) > -100


def conditional_by_quadrature(model, x0):
    """Mean and variance of x1 given x0 = x0, from the density on a fine grid of x1."""
    grid = model.whitening_.mean[1] + np.arange(-15, 15, 0.001)
    log_density = model.score_samples(np.column_stack([np.full_like(grid, x0), grid]))
    weights = np.exp(log_density - logsumexp(log_density))
    mean = weights @ grid
    return mean, weights @ (grid - mean) ** 2


@pytest.mark.parametrize("x0, n_categories", [(-1.5, 1), (0.3, 1), (2.0, 1), (0.3, 3)])
def test_conditional_mean_and_draws_match_the_density_integrated_over_the_gap(x0, n_categories):
    model = tiny_model(seed=5, n_components=3, n_categories=n_categories)
    mean, variance = conditional_by_quadrature(model, x0)
    row = np.array([[x0, np.nan]])
    assert model.conditional_mean(row)[0, 1] == pytest.approx(mean, abs=1e-6)
    draws = model.conditional_sample(row, n_samples=20000, random_state=0)[:, 0, :]
    assert np.all(draws[:, 0] == x0)
    assert abs(draws[:, 1].mean() - mean) < 5 * np.sqrt(variance / len(draws))
    # the sample variance's standard error, from the draws' fourth moment
    spread = np.sqrt(np.var((draws[:, 1] - mean) ** 2) / len(draws))
    assert abs(draws[:, 1].var() - variance) < 5 * spread


@pytest.mark.parametrize("n_categories", [1, 3])
def test_a_row_with_every_entry_missing_gets_the_model_mean_and_full_rows_stay(n_categories):
    model = tiny_model(seed=6, n_components=3, n_categories=n_categories)
    first, _ = exact_moments(model)
    X = np.array([[np.nan, np.nan], [0.5, -1.0]])
    filled = model.conditional_mean(X)
    np.testing.assert_allclose(filled[0], first, rtol=1e-9)
    np.testing.assert_array_equal(filled[1], X[1])
    np.testing.assert_array_equal(model.conditional_sample(X, n_samples=3)[:, 1], [X[1]] * 3)


# --- the categorical hidden unit ---------------------------------------------------------------
def test_with_the_binary_units_off_the_start_is_the_tied_mixture_em_fits():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(150, 3)) + [4.0, 0.0, 0.0],
                        rng.normal(size=(150, 3)) - [0.0, 4.0, 1.0]]) @ rng.normal(size=(3, 3))
    whitening, components, intercepts = tied_mixture_start(X, 2, random_state=7)
    params = random_params(rng, 2, 3, n_categories=2)
    params.update(covariance_components=np.zeros((2, 3)), components=np.zeros((2, 3)),
                  intercept_visible=np.zeros(3), log_sigma=np.zeros(3),
                  categorical_components=components, intercept_categorical=intercepts,
                  category_log_scale=np.zeros(2))
    log_likelihood = (minus_free_energy(params, whitening.apply(X))
                      - model_expectations(params, gradient=False)[0] + whitening.log_det)
    mixture = GaussianMixture(2, covariance_type="tied", n_init=3, random_state=7).fit(X)
    # the whitening floors the shared covariance's eigenvalues at a millionth of its mean
    # variance, where EM adds 1e-6 to its diagonal: the two densities differ by about that
    np.testing.assert_allclose(log_likelihood, mixture.score_samples(X), rtol=1e-5)


def three_groups_sharing_one_covariance(rng, n):
    centres = np.array([[-4.0, 0.0], [0.0, 3.0], [4.0, 0.0]])
    shared = np.array([[1.0, 0.8], [0.8, 1.0]])
    X = centres[rng.integers(3, size=n)] + rng.multivariate_normal([0.0, 0.0], shared, size=n)
    true_log_density = logsumexp(
        [multivariate_normal(centre, shared).logpdf(X) for centre in centres], axis=0
    ) - np.log(3)
    return X, true_log_density


@pytest.mark.parametrize("seed", [0, 1])
def test_categories_hold_groups_that_share_a_covariance(seed):
    rng = np.random.default_rng(seed)
    train, _ = three_groups_sharing_one_covariance(rng, 300)
    test, true_log_density = three_groups_sharing_one_covariance(rng, 2000)
    grouped = CovarianceRBM(2, n_categories=3, random_state=seed).fit(train)
    plain = CovarianceRBM(2, n_categories=1, random_state=seed).fit(train)
    # over seeds 0-5 the categories come within 0.02-0.08 nats of the true density and
    # 0.34-0.42 above the model without them; the test means' standard error is about 0.02
    assert grouped.score(test) > true_log_density.mean() - 0.15
    assert grouped.score(test) > plain.score(test) + 0.2


def test_transform_adds_the_category_probabilities():
    model = tiny_model(n_categories=3)
    X = np.random.default_rng(0).normal(size=(5, 2))
    params = model._params()
    U = model.whitening_.apply(X)
    H = model.transform(X)
    assert H.shape == (5, 5)
    # p(h, j | u) by enumerating the energy: the units' and the categories' marginals
    states = np.array(all_states(2, 3))
    for u, row in zip(U, H):
        minus_energies = np.array([-energy(params, u, state) for state in states])
        np.testing.assert_allclose(row, np.exp(minus_energies - logsumexp(minus_energies))
                                   @ states, rtol=1e-10)  # fmt: skip
    assert len(model.get_feature_names_out()) == 5
    with pytest.raises(ValueError, match="2 units and 3 categories"):
        model.inverse_transform(H[:, :2])


def test_more_categories_than_rows_are_refused_without_change():
    model = CovarianceRBM(2, n_categories=4, validation_fraction=None)
    with pytest.raises(ValueError, match="at least one row per category"):
        model.fit(np.random.default_rng(0).normal(size=(3, 2)))
    assert not any(key.endswith("_") for key in vars(model))


def test_partial_fit_keeps_the_number_of_categories():
    X = np.random.default_rng(0).normal(size=(40, 2))
    model = CovarianceRBM(2, n_categories=2, random_state=0).partial_fit(X)
    model.set_params(n_categories=3)
    assert_rejected_without_change(model, lambda: model.partial_fit(X), "n_categories")
