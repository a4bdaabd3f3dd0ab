"""Rectified (truncated-Gaussian) hidden units against known answers.

A tiny model's every quantity is computed here independently: integrals over
each hidden unit by numerical quadrature (``scipy.integrate.quad``), sums
over the visible states by enumeration.  The library must agree with them:
conditionals, free energy, exact log Z, the log-likelihood gradient, long
chains, AIS, and the draws of the hidden units.
"""

import itertools

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import logsumexp

from skebm import BernoulliRBM, GaussianBernoulliRBM
from skebm._backend import make_backend
from skebm._units import RECTIFIED

N_VISIBLE, N_HIDDEN = 4, 3


def tiny_model(seed, scale=1.0, n_visible=N_VISIBLE, n_hidden=N_HIDDEN):
    rng = np.random.default_rng(seed)
    states = visible_states(n_visible)
    rbm = BernoulliRBM(n_components=n_hidden, hidden_units="rectified", n_iter=0,
                       random_state=seed).fit(states)
    rbm.components_ = rng.normal(0, scale, size=(n_hidden, n_visible))
    rbm.intercept_visible_ = rng.normal(0, scale, size=n_visible)
    rbm.intercept_hidden_ = rng.normal(0, scale, size=n_hidden)
    return rbm


def visible_states(n_visible=N_VISIBLE):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n_visible)))


def log_integral(x, power=0):
    """log int_0^inf h**power exp(x h - h**2 / 2) dh, by quadrature."""
    peak = max(x, 0.0)
    # the integrand is below e^-70 of its peak outside peak +- 12 (and h >= 0)
    value, _ = integrate.quad(
        lambda h: h**power * np.exp(x * h - 0.5 * h * h - (x * peak - 0.5 * peak * peak)),
        max(peak - 12.0, 0.0), peak + 12.0, epsabs=0, epsrel=1e-12, limit=200,
    )  # fmt: skip
    return np.log(value) + x * peak - 0.5 * peak * peak


def quadrature_free_energy(rbm, v):
    x = rbm.intercept_hidden_ + rbm.components_ @ v
    return -rbm.intercept_visible_ @ v - sum(log_integral(xj) for xj in x)


def test_free_energy_log_z_and_likelihood_match_quadrature(suite_seed):
    rbm = tiny_model(suite_seed)
    states = visible_states()
    free = np.array([quadrature_free_energy(rbm, v) for v in states])
    np.testing.assert_allclose(rbm.free_energy(states), free, rtol=1e-9, atol=1e-9)
    log_z = logsumexp(-free)
    assert rbm.estimate_log_partition(method="exact") == pytest.approx(log_z, abs=1e-9)
    np.testing.assert_allclose(rbm.score_samples(states), -free - log_z, atol=1e-9)


def test_conditional_mean_and_draws_are_the_truncated_normal(suite_seed):
    rbm = tiny_model(suite_seed, scale=2.0)
    states = visible_states()
    x = rbm.intercept_hidden_ + states @ rbm.components_.T
    expected = np.exp(np.vectorize(lambda s: log_integral(s, 1))(x)
                      - np.vectorize(log_integral)(x))
    np.testing.assert_allclose(rbm.transform(states), expected, rtol=1e-8, atol=1e-12)
    # far into both tails, where the direct formulas lose digits
    bk = make_backend(None, np.float64, seed=suite_seed)
    extreme = np.array([[-60.0, -25.0, -19.0, -8.5, 0.0, 9.0, 40.0]])
    means = RECTIFIED.mean(bk, extreme)
    reference = np.exp(np.vectorize(lambda s: log_integral(s, 1))(extreme)
                       - np.vectorize(log_integral)(extreme))
    np.testing.assert_allclose(means, reference, rtol=1e-5)
    np.testing.assert_allclose(RECTIFIED.input_of_mean(bk, means), extreme, rtol=1e-6, atol=1e-9)
    # draws given the mean: a Kolmogorov-Smirnov test per input value
    for value in (-20.0, -3.0, -0.5, 0.0, 1.5, 6.0):
        mean = RECTIFIED.mean(bk, np.full((4000, 1), value))
        draws = RECTIFIED.sample(bk, mean)[:, 0]
        assert draws.min() >= 0.0
        law = stats.truncnorm(a=-value, b=np.inf, loc=value)
        assert stats.kstest(draws, law.cdf).pvalue > 1e-4, value


def test_gradient_matches_the_exact_log_likelihood_gradient(suite_seed):
    rbm = tiny_model(suite_seed, scale=0.5)
    rng = np.random.default_rng(suite_seed)
    data = visible_states()[rng.integers(0, 2**N_VISIBLE, 30)]
    states = visible_states()
    p = np.exp(rbm.score_samples(states))
    h_data, h_states = rbm.transform(data), rbm.transform(states)
    # d mean log p / dW = E_data[E[h|v] v^T] - sum_v p(v) E[h|v] v^T
    analytic = h_data.T @ data / len(data) - (h_states * p[:, None]).T @ states

    def mean_log_likelihood(W):
        rbm.components_ = W
        return rbm.score(data)

    W0 = rbm.components_.copy()
    numeric = np.zeros_like(W0)
    step = 1e-5
    for index in np.ndindex(*W0.shape):
        shift = np.zeros_like(W0)
        shift[index] = step
        numeric[index] = (mean_log_likelihood(W0 + shift) - mean_log_likelihood(W0 - shift)) / (
            2 * step
        )
    np.testing.assert_allclose(numeric, analytic, atol=1e-6)
    # the training core's gradient is that formula with chain rows in place of p
    rbm.components_ = W0
    bk = make_backend(None, np.float64, seed=0)
    units = rbm._units
    grads = units.gradients(bk, rbm._device_params(bk), data, h_data, states, h_states)
    np.testing.assert_allclose(
        grads["W"], h_data.T @ data / len(data) - h_states.T @ states / len(states)
    )


def test_long_chains_reproduce_the_exact_distribution(suite_seed):
    rbm = tiny_model(suite_seed, scale=1.0)
    states = visible_states()
    p = np.exp(rbm.score_samples(states))
    draws = rbm.sample(4000, n_steps=40, random_state=suite_seed)
    codes = draws @ (2 ** np.arange(N_VISIBLE - 1, -1, -1))
    counts = np.bincount(codes.astype(int), minlength=len(states))
    assert stats.chisquare(counts, p * counts.sum()).pvalue > 1e-4
    tempered = rbm.sample(2000, n_steps=20, method="pt", n_temperatures=4,
                          random_state=suite_seed)
    codes = tempered @ (2 ** np.arange(N_VISIBLE - 1, -1, -1))
    counts = np.bincount(codes.astype(int), minlength=len(states))
    assert stats.chisquare(counts, p * counts.sum()).pvalue > 1e-4


def test_ais_brackets_the_exact_log_partition(suite_seed):
    rbm = tiny_model(suite_seed, n_visible=10, n_hidden=6)
    exact = rbm.estimate_log_partition(method="exact")
    rbm.estimate_log_partition(method="ais", n_chains=200, n_betas=2000,
                               random_state=suite_seed)
    estimate = rbm.log_partition_estimate_
    assert estimate.lower <= exact <= estimate.upper, (estimate, exact)


@pytest.mark.parametrize("method", ["cd", "pcd", "fpcd", "pt"])
@pytest.mark.parametrize("centered", [False, True])
def test_training_learns_with_every_sampler(suite_seed, method, centered):
    # two noisy prototypes of 10 pixels: the trained model must score the
    # held-out rows far above the model it started from
    rng = np.random.default_rng(suite_seed)
    prototypes = np.array([[1.0] * 5 + [0.0] * 5, [0.0] * 5 + [1.0] * 5])

    def draw(n):
        rows = prototypes[rng.integers(0, 2, n)]
        return np.where(rng.random(rows.shape) < 0.1, 1.0 - rows, rows)

    train, test = draw(300), draw(300)
    settings = dict(n_components=4, hidden_units="rectified", method=method,
                    centered=centered, learning_rate=0.05, random_state=suite_seed)
    start = BernoulliRBM(**settings, n_iter=0).fit(train).score(test)
    trained = BernoulliRBM(**settings, n_iter=30).fit(train)
    # independent pixels with the data's means reach about -6.8 nats; the
    # two-prototype structure is worth about 3 more
    assert trained.score(test) > start + 1.0
    assert trained.score(test) > -6.5


def test_conditional_sampling_and_gaussian_visible_units(suite_seed):
    rbm = tiny_model(suite_seed)
    filled = rbm.conditional_mean([[1.0, np.nan, 0.0, np.nan]], n_steps=50, random_state=0)
    assert np.all((filled >= 0) & (filled <= 1)) and filled[0, 0] == 1.0
    X = np.random.default_rng(suite_seed).normal(size=(200, 3))
    gaussian = GaussianBernoulliRBM(n_components=3, hidden_units="rectified", n_iter=5,
                                    ais_n_betas=1000, random_state=0).fit(X)
    with pytest.raises(ValueError, match="method='ais'"):
        gaussian.estimate_log_partition(method="exact")  # no layer to enumerate
    assert np.isfinite(gaussian.score(X[:20]))
    assert np.all(gaussian.transform(X) >= 0)


def test_pseudo_log_likelihood_matches_the_free_energies_of_flips(suite_seed):
    rbm = tiny_model(suite_seed, scale=1.5)
    states = visible_states()
    free = {tuple(v): quadrature_free_energy(rbm, v) for v in states}
    expected = []
    for v in states:
        total = 0.0
        for i in range(N_VISIBLE):
            flipped = v.copy()
            flipped[i] = 1.0 - flipped[i]
            # log p(v_i | v_-i) = -log(1 + exp(F(v) - F(flip_i)))
            total -= np.logaddexp(0.0, free[tuple(v)] - free[tuple(flipped)])
        expected.append(total)
    np.testing.assert_allclose(rbm.pseudo_log_likelihood(states), expected, atol=1e-9)


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_a_changed_hidden_unit_type_never_meets_the_fitted_weights(how):
    X = visible_states()
    rbm = BernoulliRBM(n_components=3, hidden_units="rectified", n_iter=2, random_state=0)
    rbm.fit(X) if how == "warm_start" else rbm.partial_fit(X)
    features = rbm.transform(X)
    rbm.set_params(hidden_units="binary", warm_start=True)
    # inference keeps the fitted units; continuing training on other units is refused
    np.testing.assert_array_equal(rbm.transform(X), features)
    with pytest.raises(ValueError, match="hidden_units='binary' differs from the 'rectified'"):
        rbm.fit(X) if how == "warm_start" else rbm.partial_fit(X)
    assert rbm.hidden_units_ == "rectified"
    rbm.set_params(warm_start=False).fit(X)  # a new fit takes the new units
    assert rbm.hidden_units_ == "binary" and np.all(rbm.transform(X) < 1)


def test_rectified_visible_units_by_quadrature():
    """Log Z, p(v | h) and the free energy of rectified visible units, against integrals."""
    from scipy import integrate

    from skebm._dbn import RectifiedInputRBM

    rng = np.random.default_rng(0)
    X = np.abs(rng.normal(size=(40, 2)))
    rbm = RectifiedInputRBM(n_components=2, n_iter=0, random_state=0).fit(X)
    rbm.components_ = np.array([[0.8, -0.5], [-0.3, 0.6]])
    rbm.intercept_hidden_ = np.array([0.2, -0.4])
    rbm.intercept_visible_ = np.array([0.3, -0.2])
    W, b, a = rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_

    def unnormalised(v1, v2):
        v = np.array([v1, v2])
        return np.exp(a @ v - 0.5 * v @ v) * np.prod(1.0 + np.exp(b + W @ v))

    z, _ = integrate.dblquad(lambda y, x: unnormalised(x, y), 0, 12, 0, 12, epsabs=1e-11)
    assert rbm.estimate_log_partition("exact") == pytest.approx(np.log(z), abs=1e-6)
    points = np.array([[0.1, 0.2], [1.5, 0.7], [3.0, 2.0]])
    expected = [-np.log(unnormalised(*p)) for p in points]
    np.testing.assert_allclose(rbm.free_energy(points), expected, rtol=1e-10)
    # E[v | h]: a truncated Normal's mean, by quadrature
    h = np.array([[1.0, 0.0]])
    x = a + h @ W
    for i in range(2):
        mass, _ = integrate.quad(lambda v: np.exp(-0.5 * (v - x[0, i]) ** 2), 0, 30)
        first, _ = integrate.quad(lambda v: v * np.exp(-0.5 * (v - x[0, i]) ** 2), 0, 30)
        assert rbm.inverse_transform(h)[0, i] == pytest.approx(first / mass, rel=1e-8)
    with pytest.raises(ValueError, match="values >= 0"):
        rbm.transform(-points)
