"""GaussianBernoulliRBM against exact answers: enumeration of the hidden layer and numerical integration."""

import itertools
import pickle

import numpy as np
import pytest
from scipy import integrate
from scipy.special import expit, logsumexp
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tiny_models import ais_interval

from skebm import DivergenceError, GaussianBernoulliRBM
from skebm._backend import make_backend
from skebm._units.gaussian import LEARNED_VARIANCE_RANGE


def all_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def make_model(n_visible, n_hidden, scale=1.0, seed=0, learn_sigma=False):
    """A fitted-looking GaussianBernoulliRBM with random parameters."""
    rng = np.random.default_rng(seed)
    rbm = GaussianBernoulliRBM(
        n_components=n_hidden, n_iter=0, learn_sigma=learn_sigma, random_state=seed
    )
    rbm.fit(rng.normal(size=(5, n_visible)))
    rbm.components_ = rng.normal(0, scale, size=(n_hidden, n_visible))
    rbm.intercept_visible_ = rng.normal(0, scale, size=n_visible)
    rbm.intercept_hidden_ = rng.normal(0, scale, size=n_hidden)
    rbm.sigma_ = rng.uniform(0.5, 1.5, size=n_visible)
    return rbm


def energy(rbm, v, h):
    """E(v, h) written out from the definition, for rows v and h."""
    W, a, b, s = rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_, rbm.sigma_
    return (
        (((v - a) ** 2) / (2 * s**2)).sum(axis=-1)
        - h @ b
        - np.einsum("...j,ji,...i->...", h, W, v / s**2)
    )


def reference_free_energy(rbm, V):
    """-log sum_h exp(-E(v, h)) by enumerating h."""
    H = all_states(rbm.n_components)
    return -logsumexp(-energy(rbm, V[:, None, :], H[None, :, :]), axis=1)


def mixture(rbm):
    """The exact marginal p(v): weights p(h) and means a + W^T h of its Gaussians.

    p(h) is proportional to the integral of exp(-E(v, h)) over v, taken here by
    completing the square independently of the package's closed form.
    """
    W, a, b, s = rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_, rbm.sigma_
    H = all_states(rbm.n_components)
    means = a + H @ W
    log_w = H @ b + ((means**2 - a**2) / (2 * s**2)).sum(axis=1)
    return np.exp(log_w - logsumexp(log_w)), means, H


# ---------------------------------------------------------------------------
# exact answers
# ---------------------------------------------------------------------------
def test_free_energy_matches_enumeration_over_hidden():
    rbm = make_model(3, 4)
    V = np.random.default_rng(1).normal(0, 2, size=(20, 3))
    np.testing.assert_allclose(rbm.free_energy(V), reference_free_energy(rbm, V), atol=1e-10)


def test_log_partition_matches_numerical_integration_one_visible():
    rbm = make_model(1, 3, scale=1.5)
    value, _ = integrate.quad(
        lambda x: np.exp(-reference_free_energy(rbm, np.array([[x]]))[0]), -np.inf, np.inf
    )
    assert rbm.estimate_log_partition(method="exact") == pytest.approx(np.log(value), abs=1e-8)


def test_log_partition_and_density_match_numerical_integration_two_visible():
    rbm = make_model(2, 3)
    # Simpson's rule on a fine grid; the density is below 1e-20 outside the box
    grid = np.linspace(-15.0, 15.0, 1201)
    xx, yy = np.meshgrid(grid, grid, indexing="ij")
    points = np.column_stack([xx.ravel(), yy.ravel()])
    density = np.exp(-reference_free_energy(rbm, points)).reshape(xx.shape)
    value = integrate.simpson(integrate.simpson(density, x=grid, axis=1), x=grid)
    log_z = rbm.estimate_log_partition(method="exact")
    assert log_z == pytest.approx(np.log(value), abs=1e-8)
    # so the scores are a normalised density
    V = np.array([[0.3, -1.2], [2.0, 0.5]])
    np.testing.assert_allclose(rbm.score_samples(V), -reference_free_energy(rbm, V) - np.log(value), atol=1e-8)


def test_hidden_conditional_matches_enumeration():
    rbm = make_model(3, 4)
    V = np.random.default_rng(2).normal(size=(6, 3))
    H = all_states(4)
    neg_energy = -energy(rbm, V[:, None, :], H[None, :, :])
    posterior = np.exp(neg_energy - logsumexp(neg_energy, axis=1, keepdims=True))
    np.testing.assert_allclose(rbm.transform(V), posterior @ H, atol=1e-12)
    W, b, s = rbm.components_, rbm.intercept_hidden_, rbm.sigma_
    np.testing.assert_allclose(rbm.transform(V), expit(b + (V / s**2) @ W.T), atol=1e-12)


def test_visible_conditional_matches_integration_one_visible():
    # p(v | h) = exp(-E(v, h)) / integral: its mass, mean and variance by quad
    rbm = make_model(1, 3, scale=1.5)
    s = rbm.sigma_[0]
    for h in all_states(3):
        weight = lambda x, p=0: x**p * np.exp(-energy(rbm, np.array([x]), h))
        mass = integrate.quad(weight, -np.inf, np.inf)[0]
        mean = integrate.quad(weight, -np.inf, np.inf, args=(1,))[0] / mass
        second = integrate.quad(weight, -np.inf, np.inf, args=(2,))[0] / mass
        assert rbm.inverse_transform(h[None])[0, 0] == pytest.approx(mean, abs=1e-8)
        assert second - mean**2 == pytest.approx(s**2, rel=1e-7)


def test_hidden_log_weight_is_the_visible_integral():
    rbm = make_model(1, 2)
    units = rbm._units
    bk = make_backend(None, np.float64)
    params = rbm._device_params(bk)
    H = all_states(2)
    closed = units.hidden_log_weight(bk, params, H)
    for h, value in zip(H, closed):
        mass = integrate.quad(lambda x: np.exp(-energy(rbm, np.array([x]), h)), -np.inf, np.inf)[0]
        assert value == pytest.approx(np.log(mass), abs=1e-9)
    # the AIS base model: W = 0, b = 0
    base = dict(params, W=np.zeros_like(params["W"]), b=np.zeros(2))
    assert units.independent_log_partition(bk, base) == pytest.approx(
        np.log(np.sqrt(2 * np.pi) * rbm.sigma_).sum() , abs=1e-12
    )


def test_long_chains_match_exact_marginal_moments(suite_seed):
    rbm = make_model(2, 3, scale=1.0, seed=3)
    weights, means, _ = mixture(rbm)
    exact_mean = weights @ means
    exact_var = weights @ (means**2 + rbm.sigma_**2) - exact_mean**2
    samples = rbm.sample(4000, n_steps=100, random_state=suite_seed)
    n = samples.shape[0]
    # 5 standard errors of the mean; the variance's error from the 4th moment
    assert np.all(np.abs(samples.mean(axis=0) - exact_mean) < 5 * np.sqrt(exact_var / n))
    centred = samples - exact_mean
    fourth = (centred**4).mean(axis=0)
    assert np.all(np.abs(samples.var(axis=0) - exact_var) < 5 * np.sqrt(fourth / n) + 1e-3)


def test_visible_samples_are_draws_not_means(suite_seed):
    rbm = make_model(2, 3, seed=4)
    rbm.random_state_ = np.random.RandomState(suite_seed)  # the draws of gibbs
    h = np.zeros((1, 3))
    rbm.components_[:] = 0.0  # then v ~ Normal(a, sigma^2) whatever h is
    n = 20000
    draws = rbm.gibbs(np.zeros((n, 2)))
    # five standard errors: sigma / sqrt(n) for the mean, about
    # sigma / sqrt(2 n) (0.005 sigma) for the standard deviation
    mean_error = np.abs(draws.mean(axis=0) - rbm.intercept_visible_)
    assert np.all(mean_error < 5 * rbm.sigma_ / np.sqrt(n))
    np.testing.assert_allclose(draws.std(axis=0), rbm.sigma_, rtol=5 / np.sqrt(2 * n))
    assert rbm.inverse_transform(h).shape == (1, 2)


def test_gradient_is_the_preconditioned_likelihood_gradient(suite_seed):
    """Training statistics with exact model samples vs finite differences of the exact likelihood.

    The 400,000 exact draws leave a Monte Carlo error of at most 0.0016 (one
    standard deviation over 20 seeds) in each statistic: the bars of 0.02
    (0.01 for the hidden bias, whose error is 0.0003) are over ten of them.
    """
    rbm = make_model(2, 3, scale=0.7, seed=5, learn_sigma=True)
    X = np.random.default_rng(0).normal(0.5, 1.3, size=(7, 2))
    rng = np.random.default_rng(suite_seed)
    weights, means, H = mixture(rbm)
    # exact draws from the model: a component, then its Gaussian
    n = 400_000
    comp = rng.choice(len(weights), size=n, p=weights)
    v_neg = means[comp] + rng.normal(size=(n, 2)) * rbm.sigma_
    units = rbm._units
    bk = make_backend(None, np.float64)
    params = rbm._device_params(bk)
    grads = units.gradients(
        bk, params, X, units.mean_hidden(bk, params, X), v_neg, units.mean_hidden(bk, params, v_neg)
    )

    def mean_log_likelihood(**changes):
        model = make_model(2, 3, scale=0.7, seed=5, learn_sigma=True)
        for name, value in changes.items():
            setattr(model, name, value)
        return model.score(X)

    eps = 1e-5
    var = rbm.sigma_**2
    for (j, i) in [(0, 0), (2, 1)]:
        W = rbm.components_.copy()
        W[j, i] += eps
        up = mean_log_likelihood(components_=W)
        W[j, i] -= 2 * eps
        numeric = (up - mean_log_likelihood(components_=W)) / (2 * eps)
        assert grads["W"][j, i] == pytest.approx(numeric * var[i], abs=0.02)
    for i in range(2):
        a = rbm.intercept_visible_.copy()
        a[i] += eps
        up = mean_log_likelihood(intercept_visible_=a)
        a[i] -= 2 * eps
        numeric = (up - mean_log_likelihood(intercept_visible_=a)) / (2 * eps)
        assert grads["a"][i] == pytest.approx(numeric * var[i], abs=0.02)
        # d/d(log s^2) via sigma = exp(z / 2)
        z = np.log(var)
        z[i] += eps
        up = mean_log_likelihood(sigma_=np.exp(z / 2))
        z[i] -= 2 * eps
        numeric = (up - mean_log_likelihood(sigma_=np.exp(z / 2))) / (2 * eps)
        assert grads["log_var"][i] == pytest.approx(numeric, abs=0.02)
    b = rbm.intercept_hidden_.copy()
    b[1] += eps
    up = mean_log_likelihood(intercept_hidden_=b)
    b[1] -= 2 * eps
    numeric = (up - mean_log_likelihood(intercept_hidden_=b)) / (2 * eps)
    assert grads["b"][1] == pytest.approx(numeric, abs=0.01)


def test_ais_matches_exact_log_partition(suite_seed):
    rbm = make_model(6, 10, scale=0.5, seed=6)
    exact = rbm.estimate_log_partition(method="exact")
    estimate = rbm.estimate_log_partition(
        method="ais", n_chains=100, n_betas=2000, random_state=suite_seed
    )
    # over 30 seeds single runs were off by 0.005 +- 0.042 nat (forward) and
    # 0.000 +- 0.047 (reverse), at most 0.099: the bars are five of those
    # standard deviations, and the exact value lies within five of the
    # estimator's own standard errors
    assert estimate == pytest.approx(exact, abs=0.21)
    reverse = rbm.log_partition_estimate_.reverse
    assert reverse == pytest.approx(exact, abs=0.24)
    lower, upper = ais_interval(rbm.log_partition_estimate_, 5)
    assert lower <= exact <= upper


# ---------------------------------------------------------------------------
# sigma, scale, constant features
# ---------------------------------------------------------------------------
def test_fixed_sigma_is_the_training_standard_deviation():
    X = np.random.default_rng(7).normal([0, 10, -3], [1.0, 20.0, 0.1], size=(200, 3))
    rbm = GaussianBernoulliRBM(n_components=4, n_iter=3, random_state=0).fit(X)
    assert rbm.sigma_.shape == (3,)
    np.testing.assert_allclose(rbm.sigma_, X.std(axis=0), rtol=1e-12)


def test_learned_sigma_moves_and_stays_in_range():
    X = StandardScaler().fit_transform(load_digits().data[:300, [20, 21, 28, 36, 44]])
    rbm = GaussianBernoulliRBM(n_components=8, n_iter=10, learn_sigma=True, random_state=0).fit(X)
    ratio = rbm.sigma_**2 / X.var(axis=0)
    assert not np.allclose(ratio, 1.0)
    assert np.all(ratio >= LEARNED_VARIANCE_RANGE[0] * (1 - 1e-12))
    assert np.all(ratio <= LEARNED_VARIANCE_RANGE[1] * (1 + 1e-12))


def test_training_is_scale_equivariant():
    """Unstandardised data trains like standardised data: same features, shifted density."""
    X = StandardScaler().fit_transform(load_digits().data[:200, 18:30])
    X = X[:, X.std(axis=0) > 0]
    scale = 1000.0
    for learn_sigma in (False, True):
        small = GaussianBernoulliRBM(8, n_iter=3, learn_sigma=learn_sigma, random_state=0).fit(X)
        large = GaussianBernoulliRBM(8, n_iter=3, learn_sigma=learn_sigma, random_state=0).fit(X * scale)
        np.testing.assert_allclose(large.transform(X * scale), small.transform(X), atol=1e-8)
        np.testing.assert_allclose(large.sigma_, small.sigma_ * scale, rtol=1e-8)
        # densities differ by the Jacobian of the scaling
        np.testing.assert_allclose(
            large.score_samples(X * scale), small.score_samples(X) - X.shape[1] * np.log(scale), atol=1e-6
        )


def test_constant_features_get_a_typical_variance():
    rng = np.random.default_rng(8)
    X = np.column_stack(
        [rng.normal(size=100), np.full(100, 3.0), rng.normal(0, 2, size=100), np.zeros(100),
         rng.normal(0, 5, size=100)]
    )
    for learn_sigma in (False, True):
        rbm = GaussianBernoulliRBM(4, n_iter=5, learn_sigma=learn_sigma, random_state=0).fit(X)
        assert np.all(np.isfinite(rbm.sigma_)) and np.all(rbm.sigma_ > 0)
        if not learn_sigma:
            typical = np.median(X.var(axis=0)[[0, 2, 4]])
            np.testing.assert_allclose(rbm.sigma_[[1, 3]], np.sqrt(typical))
            np.testing.assert_allclose(rbm.sigma_[[0, 2, 4]], X.std(axis=0)[[0, 2, 4]])
        scores = rbm.score_samples(np.vstack([X[:3], [[0.0, -50.0, 0.0, 7.0, 1.0]]]))
        assert np.all(np.isfinite(scores))
    all_constant = np.ones((10, 2))
    rbm = GaussianBernoulliRBM(2, n_iter=2, random_state=0).fit(all_constant)
    np.testing.assert_allclose(rbm.sigma_, 1.0)
    assert np.isfinite(rbm.score(all_constant))


# ---------------------------------------------------------------------------
# stability
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_scaled():
    X = load_digits().data
    X = X[:, X.std(axis=0) > 0]
    return StandardScaler().fit_transform(X)[:600]


@pytest.mark.parametrize("learning_rate", [0.001, 0.01, 0.1, 1.0])
def test_learned_sigma_trains_or_stops_cleanly(digits_scaled, learning_rate):
    rbm = GaussianBernoulliRBM(
        n_components=16, learning_rate=learning_rate, learn_sigma=True, n_iter=3, random_state=0
    )
    try:
        rbm.fit(digits_scaled)
    except DivergenceError as exc:
        message = str(exc)
        assert "learning_rate" in message and "smaller" in message
        assert not hasattr(rbm, "components_") and not hasattr(rbm, "sigma_")
        return
    for value in (rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_, rbm.sigma_):
        assert np.all(np.isfinite(value))
    assert np.isfinite(rbm.score(digits_scaled[:50]))


def test_divergence_is_reported_and_rolled_back(digits_scaled):
    rbm = GaussianBernoulliRBM(n_components=256, learning_rate=1.0, n_iter=2, random_state=0)
    with pytest.raises(DivergenceError, match=r"learning_rate=1\.0.*smaller learning_rate"):
        rbm.fit(digits_scaled)
    assert not hasattr(rbm, "components_")
    # partial_fit: the fitted state before the call survives
    rbm = GaussianBernoulliRBM(n_components=256, random_state=0).partial_fit(digits_scaled[:100])
    before = {k: np.copy(v) for k, v in rbm.__dict__.items() if k.endswith("_") and isinstance(v, np.ndarray)}
    rbm.set_params(learning_rate=1.0)
    with pytest.raises(DivergenceError, match="smaller learning_rate"):
        for _ in range(5):
            rbm.partial_fit(digits_scaled)
    for key, value in before.items():
        np.testing.assert_array_equal(getattr(rbm, key), value)
    assert all(np.all(np.isfinite(v)) for v in before.values())


# ---------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------
def test_pipeline_after_scaler_and_grid_search():
    X = load_digits().data[:400]
    X = X[:, X.std(axis=0) > 0]
    pipe = make_pipeline(StandardScaler(), GaussianBernoulliRBM(8, n_iter=3, random_state=0))
    pipe.fit(X)
    assert pipe.transform(X).shape == (400, 8)
    scaler, rbm = pipe[0], pipe[-1]
    # the pipeline's score is the density of the scaled data
    assert pipe.score(X) == pytest.approx(rbm.score(scaler.transform(X)))
    search = GridSearchCV(pipe, {"gaussianbernoullirbm__n_components": [2, 8]}, cv=3)
    search.fit(X)
    assert search.best_params_["gaussianbernoullirbm__n_components"] in (2, 8)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_partial_fit_streams_and_pickles():
    X = StandardScaler().fit_transform(load_digits().data[:300, 20:30])
    rbm = GaussianBernoulliRBM(6, random_state=0, learn_sigma=True)
    for chunk in np.array_split(X, 3):
        rbm.partial_fit(chunk)
    assert rbm.n_samples_seen_ == 300
    np.testing.assert_allclose(rbm.feature_mean_, X.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(rbm.feature_var_, X.var(axis=0))
    clone = pickle.loads(pickle.dumps(rbm))
    np.testing.assert_array_equal(clone.sigma_, rbm.sigma_)
    assert clone.score(X) == rbm.score(X)


def test_torch_backend_agrees_with_numpy():
    pytest.importorskip("torch")
    rbm = make_model(3, 4)
    V = np.random.default_rng(9).normal(size=(10, 3))
    expected = rbm.free_energy(V)
    rbm.set_params(device="cpu")
    np.testing.assert_allclose(rbm.free_energy(V), expected, atol=1e-10)
    X = StandardScaler().fit_transform(load_digits().data[:200, 20:30])
    fitted = GaussianBernoulliRBM(4, n_iter=2, learn_sigma=True, device="cpu", random_state=0).fit(X)
    assert isinstance(fitted.sigma_, np.ndarray) and np.all(np.isfinite(fitted.sigma_))


def test_vanishing_variance_counts_as_constant_in_float32():
    # a spread of ~1e-38 would make the precision 1 / s^2 overflow float32
    X = np.array([[1.1754944e-38, 1.0], [0.0, 2.0]], dtype=np.float32)
    rbm = GaussianBernoulliRBM(n_components=2, n_iter=2, random_state=0).fit(X)
    assert all(np.all(np.isfinite(v)) for v in (rbm.components_, rbm.sigma_))
    assert np.all(np.isfinite(rbm.transform(X)))


def test_divergence_advice_suggests_a_step_below_the_stable_bound():
    X = np.random.default_rng(0).normal(size=(100, 4)) * 3
    rbm = GaussianBernoulliRBM(n_components=8, learning_rate=1000, n_iter=5, random_state=0)
    with pytest.raises(DivergenceError, match=r"0\.25 when all 8 are active") as info:
        rbm.fit(X)
    suggested = float(info.value.args[0].split("(e.g. ")[1].split(")")[0])
    assert suggested <= 0.25 / 2
