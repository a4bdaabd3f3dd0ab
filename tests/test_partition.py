"""log Z: the exact sum, AIS and reverse AIS, the scoring cache, pseudo-likelihood.

Known answers come from enumerating every joint state of tiny models.  The
MNIST-5k model with 20 hidden units is small enough for the exact sum, so AIS
is checked against it on a real trained model.  The agreement at the default
AIS settings (14,500 betas) is measured by benchmarks/bench_ais.py; the suite
uses fewer betas to stay fast.
"""

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neural_network import BernoulliRBM as SklearnBernoulliRBM

from skebm import BernoulliRBM, GaussianBernoulliRBM
from quality_data import binary_mnist_split
from tiny_models import all_states, joint_log_weights, make_model
from skebm import _partition
from skebm._backend import make_backend
from skebm._partition import (
    LogPartitionEstimate,
    ais_schedule,
    exact_log_partition,
    log_mean_exp_interval,
)



def brute_force_log_z(rbm):
    """logsumexp of -E(v, h) over every joint state."""
    return logsumexp(joint_log_weights(rbm)[0])


def brute_force_pseudo_log_likelihood(rbm, X):
    """sum_i log p(v_i | v_-i), one explicit flipped copy of X per feature."""
    free_energy = rbm.free_energy(X)
    total = np.zeros(X.shape[0])
    for i in range(X.shape[1]):
        flipped = X.copy()
        flipped[:, i] = 1 - flipped[:, i]
        # p(v_i | v_-i) = e^-F(v) / (e^-F(v) + e^-F(flip))
        total += -np.logaddexp(0, free_energy - rbm.free_energy(flipped))
    return total


@pytest.fixture(scope="module")
def mnist_20():
    """The issue-2 model: 784 x 20, trained on 4000 binarised MNIST digits."""
    X_train, X_test, _, _ = binary_mnist_split()
    rbm = BernoulliRBM(
        n_components=20, learning_rate=0.05, batch_size=20, n_iter=30, random_state=0
    ).fit(X_train)
    exact = rbm.estimate_log_partition("exact")
    return rbm, exact, X_test


# --- the exact sum ---------------------------------------------------------------
@pytest.mark.parametrize("n_visible, n_hidden", [(6, 3), (3, 7), (5, 5)])
def test_exact_log_partition_equals_sum_over_joint_states(n_visible, n_hidden):
    # (6, 3) enumerates the hidden layer, (3, 7) the visible one
    rbm = make_model(n_visible, n_hidden)
    expected = brute_force_log_z(rbm)
    assert rbm.estimate_log_partition("exact") == pytest.approx(expected, abs=1e-10)
    assert rbm.log_partition_estimate_.method == "exact"
    assert rbm.log_partition_estimate_.lower == rbm.log_partition_estimate_.upper


@pytest.mark.parametrize("layer", ["hidden", "visible"])
def test_exact_sum_streams_states_in_chunks(monkeypatch, layer):
    # chunks of 8 states: the sum crosses many chunk boundaries
    rbm = make_model(7, 6) if layer == "hidden" else make_model(6, 7)
    expected = brute_force_log_z(rbm)
    monkeypatch.setattr(_partition, "_CHUNK_STATES", 8)
    bk = make_backend(None, np.float64)
    params = rbm._device_params(bk)
    assert _partition.enumeration_layer(rbm._units, *params["W"].shape[::-1]) == layer
    assert exact_log_partition(rbm._units, bk, params) == pytest.approx(expected, abs=1e-10)


def test_exact_method_refuses_large_models_and_leaves_the_model_alone():
    rbm = make_model(25, 25)
    before = rbm.__dict__.copy()
    with pytest.raises(ValueError, match="method='ais'"):
        rbm.estimate_log_partition("exact")
    assert set(rbm.__dict__) == set(before)


# --- AIS -------------------------------------------------------------------------
def test_default_schedule_is_dense_near_one():
    betas = ais_schedule()
    assert betas.shape == (14500,) and betas[0] == 0.0 and betas[-1] == 1.0
    assert np.all(np.diff(betas) > 0)
    assert np.sum(betas <= 0.5) == pytest.approx(500, abs=2)
    assert np.sum((betas > 0.5) & (betas <= 0.9)) == pytest.approx(4000, abs=2)
    assert np.sum(betas > 0.9) == pytest.approx(10000, abs=2)
    # other sizes keep the shares
    small = ais_schedule(1450)
    assert np.sum(small > 0.9) == pytest.approx(1000, abs=2)
    with pytest.raises(ValueError, match="at least 2"):
        ais_schedule(1)


def test_interval_is_log_of_mean_plus_minus_three_standard_errors():
    log_w = np.log([1.0, 2.0, 3.0, 4.0]) + 1000.0  # would overflow exp() as they are
    log_mean, lower, upper = log_mean_exp_interval(log_w)
    se = np.std([1.0, 2.0, 3.0, 4.0], ddof=1) / 2.0
    assert log_mean == pytest.approx(1000.0 + np.log(2.5))
    assert upper == pytest.approx(1000.0 + np.log(2.5 + 3 * se))
    assert lower == pytest.approx(1000.0 + np.log(2.5 - 3 * se))
    # mean 3.25, three standard errors 6.75: no lower end
    assert log_mean_exp_interval(np.log([1.0, 1.0, 1.0, 10.0]))[1] == -np.inf


@pytest.mark.parametrize("n_visible, n_hidden, dtype", [(12, 10, np.float64), (10, 14, np.float32)])
def test_ais_and_reverse_ais_agree_with_exact_on_small_models(n_visible, n_hidden, dtype):
    rbm = make_model(n_visible, n_hidden, scale=0.7)
    exact = rbm.estimate_log_partition("exact")
    for key in ("components_", "intercept_visible_", "intercept_hidden_"):
        setattr(rbm, key, getattr(rbm, key).astype(dtype))
    log_z = rbm.estimate_log_partition("ais", n_betas=1000, random_state=0)
    est = rbm.log_partition_estimate_
    assert est.method == "ais" and (est.n_chains, est.n_betas) == (100, 1000)
    # random weights of this size make a rugged model: 1,000 betas leave single
    # runs within ~0.1 nat, and the +-3 se interval covers the exact value
    assert abs(log_z - exact) < 0.12
    assert abs(est.reverse - exact) < 0.12
    assert est.lower <= log_z <= est.upper
    assert est.lower - 0.02 <= exact <= est.upper + 0.02


def test_ais_is_within_a_tenth_of_a_nat_on_a_trained_mnist_model(mnist_20):
    # default settings (14,500 betas) are measured in benchmarks/bench_ais.py;
    # here 2,000 betas, forward only, keep the suite fast
    rbm, exact, _ = mnist_20
    log_z = rbm.estimate_log_partition("ais", n_betas=2000, reverse=False, random_state=0)
    assert abs(log_z - exact) < 0.1


def test_forward_and_reverse_ais_bracket_the_exact_value():
    # Forward AIS underestimates log Z on average and reverse AIS overestimates
    # it.  Over five seeds each lies on its side of the exact value up to a
    # margin of 0.05 nat (the spread of single runs at 1,000 betas on this
    # rugged random model is about 0.03 nat).
    rbm = make_model(12, 10, scale=0.7)
    exact = rbm.estimate_log_partition("exact")
    margin = 0.05
    for seed in range(5):
        rbm.estimate_log_partition("ais", n_betas=1000, random_state=seed)
        est = rbm.log_partition_estimate_
        assert est.log_z <= exact + margin, (seed, est)
        assert est.reverse >= exact - margin, (seed, est)


def test_reverse_ais_can_start_from_data_rows(mnist_20):
    # Data rows are not draws from the model, so this reverse estimate is no
    # bound (on this model it lands several nats below the exact log Z): the
    # option exists for models that fit their data, and is checked for wiring.
    rbm, exact, X_test = mnist_20
    rbm.estimate_log_partition("ais", n_betas=200, reverse_start=X_test[:300], random_state=0)
    from_data = rbm.log_partition_estimate_.reverse
    assert np.isfinite(from_data)
    rbm.estimate_log_partition("ais", n_betas=200, random_state=0)
    assert rbm.log_partition_estimate_.reverse != from_data
    with pytest.raises(ValueError, match="784 features"):
        rbm.estimate_log_partition("ais", n_betas=200, reverse_start=X_test[:, :10])


def test_ais_is_deterministic():
    rbm = make_model(12, 10, scale=0.7)
    first = rbm.estimate_log_partition("ais", n_betas=200, random_state=3)
    assert rbm.estimate_log_partition("ais", n_betas=200, random_state=3) == first
    assert rbm.estimate_log_partition("ais", n_betas=200, random_state=4) != first
    # no random_state: the estimator's int random_state, else seed 0
    rbm.set_params(random_state=None)
    default = rbm.estimate_log_partition("ais", n_betas=200)
    assert rbm.estimate_log_partition("ais", n_betas=200) == default
    assert rbm.estimate_log_partition("ais", n_betas=200, random_state=0) == default
    rbm.set_params(random_state=7)
    assert rbm.estimate_log_partition("ais", n_betas=200) == rbm.estimate_log_partition(
        "ais", n_betas=200, random_state=7
    )
    # the forward estimate does not depend on whether the reverse one is run
    assert rbm.estimate_log_partition("ais", n_betas=200, reverse=False) == (
        rbm.estimate_log_partition("ais", n_betas=200)
    )


def test_auto_sums_exactly_when_it_can_and_estimates_otherwise():
    small = make_model(30, 8)
    small.estimate_log_partition()
    assert small.log_partition_estimate_.method == "exact"
    large = make_model(30, 25)
    large.estimate_log_partition(n_betas=50, reverse=False)
    est = large.log_partition_estimate_
    assert isinstance(est, LogPartitionEstimate) and est.method == "ais"
    assert est.reverse is None and est.seconds > 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"method": "sample"}, "method must be"),
        ({"method": "ais", "n_chains": 1}, "n_chains must be an integer >= 2"),
        ({"method": "ais", "n_betas": 1.5}, "n_betas must be an integer >= 2"),
    ],
)
def test_bad_settings_raise_and_change_nothing(kwargs, message):
    rbm = make_model(5, 4)
    rbm.score(all_states(5))
    before = (rbm.log_partition_, rbm.log_partition_estimate_, rbm._log_partition_key)
    with pytest.raises(ValueError, match=message):
        rbm.estimate_log_partition(**kwargs)
    assert (rbm.log_partition_, rbm.log_partition_estimate_, rbm._log_partition_key) == before


# --- scoring and its cache -------------------------------------------------------------
def test_score_samples_uses_exact_log_z_and_caches_it():
    rbm = make_model(5, 4)
    V = all_states(5)
    expected = -rbm.free_energy(V) - brute_force_log_z(rbm)
    np.testing.assert_allclose(rbm.score_samples(V), expected, atol=1e-10)
    estimate = rbm.log_partition_estimate_
    rbm.score(V)
    assert rbm.log_partition_estimate_ is estimate  # not recomputed


def test_cache_follows_parameters_and_settings():
    rbm = make_model(30, 25).set_params(ais_n_betas=50, ais_n_chains=20)
    X = np.random.default_rng(0).integers(0, 2, size=(10, 30)).astype(float)
    rbm.score(X)
    estimate = rbm.log_partition_estimate_
    assert (estimate.method, estimate.n_chains, estimate.n_betas) == ("ais", 20, 50)
    rbm.score(X)
    assert rbm.log_partition_estimate_ is estimate

    rbm.set_params(ais_n_betas=60)  # a setting changed
    rbm.score(X)
    assert rbm.log_partition_estimate_.n_betas == 60
    estimate = rbm.log_partition_estimate_

    rbm.components_[0, 0] += 1.0  # a weight edited in place
    rbm.score(X)
    assert rbm.log_partition_estimate_ is not estimate
    estimate = rbm.log_partition_estimate_

    rbm.partial_fit(X)  # new parameters
    rbm.score(X)
    assert rbm.log_partition_estimate_ is not estimate

    rbm.set_params(log_partition_method="exact")
    with pytest.raises(ValueError, match="method='ais'"):
        rbm.score(X)


def test_explicit_estimate_with_the_scoring_settings_is_reused():
    rbm = make_model(30, 25).set_params(ais_n_betas=50, ais_n_chains=20, random_state=1)
    rbm.estimate_log_partition()
    estimate = rbm.log_partition_estimate_
    assert estimate.reverse is not None
    X = np.zeros((2, 30))
    rbm.score(X)
    assert rbm.log_partition_estimate_ is estimate


def test_grid_search_selects_by_held_out_log_likelihood():
    rng = np.random.default_rng(0)
    # two prototypes with noise: more hidden units model it better
    prototypes = rng.integers(0, 2, size=(4, 16))
    X = np.abs(prototypes[rng.integers(0, 4, 300)] - (rng.random((300, 16)) < 0.05)).astype(float)
    grid = {"n_components": [1, 6], "learning_rate": [0.05]}
    search = GridSearchCV(
        BernoulliRBM(n_iter=20, batch_size=10, random_state=0), grid, cv=KFold(3)
    ).fit(X)
    # the cross-validated score is the held-out log-likelihood, from the exact log Z
    for i, params in enumerate(search.cv_results_["params"]):
        fold_scores = []
        for train, test in KFold(3).split(X):
            rbm = BernoulliRBM(n_iter=20, batch_size=10, random_state=0, **params).fit(X[train])
            log_z = brute_force_log_z(rbm)
            fold_scores.append(np.mean(-rbm.free_energy(X[test]) - log_z))
        assert search.cv_results_["mean_test_score"][i] == pytest.approx(np.mean(fold_scores))
    assert search.best_params_["n_components"] == 6


def test_ais_settings_are_reachable_by_grid_search():
    X = np.random.default_rng(0).integers(0, 2, size=(60, 24)).astype(float)
    search = GridSearchCV(
        BernoulliRBM(n_components=22, n_iter=2, random_state=0, ais_n_chains=10),
        {"ais_n_betas": [20, 40]},
        cv=2,
    ).fit(X)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_
    best.score(X)
    assert best.log_partition_estimate_.n_betas == search.best_params_["ais_n_betas"]
    assert best.log_partition_estimate_.n_chains == 10


# --- pseudo-log-likelihood ---------------------------------------------------------------
def test_pseudo_log_likelihood_equals_explicit_flips():
    rbm = make_model(9, 5)
    X = np.vstack([all_states(9)[::7], [[0.3] * 9]])  # a fractional row is "flipped" to 1 - v
    np.testing.assert_allclose(
        rbm.pseudo_log_likelihood(X), brute_force_pseudo_log_likelihood(rbm, X), atol=1e-10
    )


def test_pseudo_log_likelihood_chunks_rows(monkeypatch):
    import skebm._base as base

    rbm = make_model(9, 5)
    X = all_states(9)[::5]
    whole = rbm.pseudo_log_likelihood(X)
    monkeypatch.setattr(base, "_FLIP_BLOCK", 1)  # one row per block
    np.testing.assert_allclose(rbm.pseudo_log_likelihood(X), whole, atol=1e-12)


def test_pseudo_log_likelihood_is_the_mean_of_sklearns_random_estimate():
    rbm = make_model(6, 4, scale=0.5)
    sk = SklearnBernoulliRBM(n_components=4)
    sk.components_ = rbm.components_
    sk.intercept_hidden_ = rbm.intercept_hidden_
    sk.intercept_visible_ = rbm.intercept_visible_
    sk.n_features_in_ = 6
    X = all_states(6)[::9]
    ours = rbm.pseudo_log_likelihood(X)
    # sklearn returns n_features * log sigmoid(F(flip_i) - F(v)) for a random i:
    # the mean over every i is our sum exactly, and over random draws it converges
    draws = []
    sk.random_state = np.random.RandomState(0)
    for _ in range(4000):
        draws.append(sk.score_samples(X))
    draws = np.array(draws)
    se = draws.std(axis=0) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - ours) < 4 * se + 1e-9)


def test_pseudo_log_likelihood_is_deterministic_and_validated():
    rbm = make_model(6, 4)
    X = all_states(6)
    np.testing.assert_array_equal(rbm.pseudo_log_likelihood(X), rbm.pseudo_log_likelihood(X))
    with pytest.raises(ValueError, match="6 features"):
        rbm.pseudo_log_likelihood(X[:, :3])


# --- other unit types get the same machinery ---------------------------------------------
def test_ais_works_for_gaussian_visible_units():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6)) @ rng.normal(size=(6, 30))
    rbm = GaussianBernoulliRBM(n_components=10, n_iter=5, random_state=0).fit(X)
    exact = rbm.estimate_log_partition("exact")
    log_z = rbm.estimate_log_partition("ais", n_betas=1000, random_state=0)
    assert abs(log_z - exact) < 0.05
    assert abs(rbm.log_partition_estimate_.reverse - exact) < 0.05
    with pytest.raises(TypeError, match="binary visible units"):
        rbm.pseudo_log_likelihood(X)
