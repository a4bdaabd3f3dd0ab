"""Training in parallel row blocks (``n_jobs`` > 1) against exact answers."""

import threading

import numpy as np
import pytest
from scipy.special import expit
from threadpoolctl import threadpool_info

from skebm import BernoulliRBM, GaussianBernoulliRBM
from skebm._backend import NumpyBackend
import tiny_models
from test_bernoulli import exact_gradients, make_model

DATA = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0]], dtype=float)


@pytest.mark.parametrize("n_jobs", [2, 3])
@pytest.mark.parametrize("k", [1, 2])
def test_cd_step_in_blocks_follows_the_exact_cd_gradient(n_jobs, k, suite_seed):
    # 3 threads over 2 hidden units leave one block empty: still exact.  Over
    # 20 seeds each entry was off by at most 0.0021 (one standard deviation):
    # the bar of 0.015 is seven of them
    rbm = make_model(3, 2, scale=1.5, seed=3, random_state=suite_seed)
    expected = exact_gradients(rbm, DATA, k)
    X = np.repeat(DATA, 20000, axis=0)
    lr = 1e-3
    rbm.set_params(method="cd", n_gibbs_steps=k, learning_rate=lr, batch_size=len(X), n_jobs=n_jobs)
    start = rbm.components_.copy()
    rbm.partial_fit(X)
    np.testing.assert_allclose((rbm.components_ - start) / lr, expected, atol=0.015)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_pcd_step_from_data_driven_chains_follows_the_exact_cd1_gradient(n_jobs, suite_seed):
    # Chains whose hidden states are drawn from p(h | v) of the data rows make
    # one PCD-1 step an unbiased estimate of the exact CD-1 gradient (off by
    # at most 0.0017, one standard deviation over 20 seeds; the bar is 0.015).
    rbm = make_model(3, 2, scale=1.5, seed=3, random_state=suite_seed)
    expected = exact_gradients(rbm, DATA, 1)
    X = np.repeat(DATA, 20000, axis=0)
    rng = np.random.default_rng(suite_seed + 1)
    p_h = expit(X @ rbm.components_.T + rbm.intercept_hidden_)
    rbm.h_samples_ = (rng.random(p_h.shape) < p_h).astype(float)
    lr = 1e-3
    rbm.set_params(method="pcd", learning_rate=lr, batch_size=len(X), n_jobs=n_jobs)
    start = rbm.components_.copy()
    rbm.partial_fit(X)
    np.testing.assert_allclose((rbm.components_ - start) / lr, expected, atol=0.015)


@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.5, 1e-2)])
def test_update_is_the_same_arithmetic_in_every_block_split(momentum, weight_decay):
    # the parameter update itself draws nothing: any split gives the same numbers
    n_data, n_chains, n_visible, n_hidden = 6, 4, 5, 7
    rbm = BernoulliRBM(n_components=n_hidden, momentum=momentum, weight_decay=weight_decay)
    results = []
    for n_threads in (1, 2, 3, 7):
        bk = NumpyBackend(np.float64, seed=0, n_threads=n_threads)
        params = {
            "W": np.random.default_rng(1).normal(size=(n_hidden, n_visible)),
            "a": np.zeros(n_visible),
            "b": np.zeros(n_hidden),
        }
        state = {"optimizer": {key: np.full(value.shape, 0.1) for key, value in params.items()}}
        state["chains"] = np.zeros((n_chains, n_hidden))
        buffers = rbm._trainer().step_buffers(bk, state, n_data, n_visible)
        buffers.visible[...] = np.random.default_rng(2).random(buffers.visible.shape)
        buffers.hidden[...] = np.random.default_rng(3).random(buffers.hidden.shape)
        with bk.threads():
            rbm._trainer().apply_update(bk, params, state, buffers, step_scale=0.75)
        results.append(params)
    for params in results[1:]:
        for key in params:
            np.testing.assert_allclose(params[key], results[0][key], rtol=1e-12, atol=1e-15)


def test_n_jobs_one_is_the_default_path_and_two_is_reproducible(suite_seed):
    X = (np.random.default_rng(suite_seed).random((200, 12)) < 0.3).astype(float)
    params = dict(n_components=5, n_iter=3, random_state=suite_seed)
    fits = {n_jobs: BernoulliRBM(**params, n_jobs=n_jobs).fit(X) for n_jobs in (None, 1, 2)}
    np.testing.assert_array_equal(fits[None].components_, fits[1].components_)
    again = BernoulliRBM(**params, n_jobs=2).fit(X)
    np.testing.assert_array_equal(fits[2].components_, again.components_)
    # blocks draw from their own streams: another model, just as good (over
    # 20 seeds the scores of one and two threads differed by at most 0.015
    # nats, as much as those of two seeds; the bar is 0.5)
    assert not np.array_equal(fits[2].components_, fits[1].components_)
    assert abs(fits[2].score(X) - fits[1].score(X)) < 0.5


def test_parallel_training_raises_the_exact_likelihood_for_both_unit_types(suite_seed):
    # One training run can stall in a poor optimum or end on a bad step (with
    # two threads, 1 of 20 runs of each kind lowered the likelihood), so the
    # gain is checked on the mean of five seeds.  Bernoulli: noisy copies of
    # three prototypes, the untrained model 1.58 nats below the generating
    # distribution; over 40 seeds a run closed 0.80 +- 0.16 of that gap, so
    # the mean of five is 0.80 +- 0.07 and the bar of 0.4 is over five of
    # those below.  Gaussian (the rows doubled, plus noise): a run gained
    # 0.71 +- 0.22 nats over 40 seeds, the mean of five 0.71 +- 0.10, and the
    # bar is 0.2 (one thread: the same, 0.70 +- 0.23).
    X, log_p = tiny_models.noisy_prototypes(0)
    untrained = BernoulliRBM(n_components=4, n_iter=0, random_state=0).fit(X).score(X)
    gap = log_p.mean() - untrained
    Z = X * 2.0 + np.random.default_rng(123).normal(0, 0.3, X.shape)
    untrained_z = GaussianBernoulliRBM(n_components=4, n_iter=0, random_state=0).fit(Z).score(Z)
    closed, gains = [], []
    for seed in range(5 * suite_seed, 5 * suite_seed + 5):
        rbm = BernoulliRBM(n_components=4, n_iter=30, random_state=seed, n_jobs=2)
        closed.append((rbm.fit(X).score(X) - untrained) / gap)
        settings = dict(n_components=4, n_iter=20, learning_rate=0.05, random_state=seed)
        gains.append(GaussianBernoulliRBM(**settings, n_jobs=2).fit(Z).score(Z) - untrained_z)
    assert np.mean(closed) > 0.4, closed
    assert np.mean(gains) > 0.2, gains


def test_blas_threads_and_the_thread_pool_are_released_after_fit():
    X = np.random.default_rng(0).random((100, 8))
    before_blas = [lib["num_threads"] for lib in threadpool_info()]
    before_threads = threading.active_count()
    rbm = BernoulliRBM(n_components=3, n_iter=2, random_state=0, n_jobs=3).fit(X)
    rbm.partial_fit(X)
    assert [lib["num_threads"] for lib in threadpool_info()] == before_blas
    assert threading.active_count() == before_threads


@pytest.mark.parametrize("n_jobs", [2, 3])
def test_ais_in_chain_blocks_agrees_with_the_exact_log_partition(n_jobs, suite_seed):
    rbm = make_model(12, 10, scale=0.7)
    exact = rbm.estimate_log_partition("exact")
    rbm.set_params(n_jobs=n_jobs)
    log_z = rbm.estimate_log_partition("ais", n_betas=1000, random_state=suite_seed)
    est = rbm.log_partition_estimate_
    assert est.n_chains == 100
    # as on one thread (test_partition): over 30 seeds, with 2 or 3 blocks,
    # single runs had a standard deviation of at most 0.034 nat (forward) and
    # 0.031 (reverse); the bars are five of them, and the exact value lies
    # within five of the estimator's own standard errors
    assert abs(log_z - exact) < 0.17
    assert abs(est.reverse - exact) < 0.16
    lower, upper = tiny_models.ais_interval(est, 5)
    assert lower <= exact <= upper, (exact, est)
    # reproducible, and reverse chains may start from data rows as well
    assert rbm.estimate_log_partition("ais", n_betas=1000, random_state=suite_seed) == log_z
    data = tiny_models.all_states(12)[::37]
    rbm.estimate_log_partition("ais", n_betas=300, random_state=suite_seed, reverse_start=data)
    assert np.isfinite(rbm.log_partition_estimate_.reverse)


def test_score_cache_keeps_apart_estimates_of_different_n_jobs():
    rbm = make_model(12, 10, scale=0.7)
    rbm.set_params(log_partition_method="ais", ais_n_betas=300, random_state=0)
    X = tiny_models.all_states(12)[:5]
    serial = rbm.score(X)
    rbm.set_params(n_jobs=2)
    parallel = rbm.score(X)
    assert parallel != serial
    assert rbm.score(X) == parallel


def test_n_jobs_none_ignores_an_enclosing_joblib_context():
    # a search's workers run fits inside joblib's context: same model as here
    from joblib import parallel_config

    X = (np.random.default_rng(0).random((100, 8)) < 0.4).astype(float)
    alone = BernoulliRBM(n_components=3, n_iter=2, random_state=0).fit(X)
    with parallel_config(n_jobs=2):
        inside = BernoulliRBM(n_components=3, n_iter=2, random_state=0).fit(X)
    np.testing.assert_array_equal(alone.components_, inside.components_)


@pytest.mark.parametrize("n_jobs", [0, 1.5, "2"])
def test_bad_n_jobs_is_rejected(n_jobs):
    with pytest.raises((ValueError, TypeError), match="n_jobs"):
        BernoulliRBM(n_jobs=n_jobs).fit(np.zeros((5, 3)))
