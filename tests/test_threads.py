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
def test_cd_step_in_blocks_follows_the_exact_cd_gradient(n_jobs, k):
    # 3 threads over 2 hidden units leave one block empty: still exact
    rbm = make_model(3, 2, scale=1.5, seed=3)
    expected = exact_gradients(rbm, DATA, k)
    X = np.repeat(DATA, 20000, axis=0)
    lr = 1e-3
    rbm.set_params(method="cd", n_gibbs_steps=k, learning_rate=lr, batch_size=len(X), n_jobs=n_jobs)
    start = rbm.components_.copy()
    rbm.partial_fit(X)
    np.testing.assert_allclose((rbm.components_ - start) / lr, expected, atol=0.015)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_pcd_step_from_data_driven_chains_follows_the_exact_cd1_gradient(n_jobs):
    # Chains whose hidden states are drawn from p(h | v) of the data rows make
    # one PCD-1 step an unbiased estimate of the exact CD-1 gradient.
    rbm = make_model(3, 2, scale=1.5, seed=3)
    expected = exact_gradients(rbm, DATA, 1)
    X = np.repeat(DATA, 20000, axis=0)
    rng = np.random.default_rng(1)
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
    rng = np.random.default_rng(0)
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
        state = {"velocity": {key: np.full(value.shape, 0.1) for key, value in params.items()}}
        state["chains"] = np.zeros((n_chains, n_hidden))
        buffers = rbm._step_buffers(bk, state, n_data, n_visible)
        buffers.visible[...] = np.random.default_rng(2).random(buffers.visible.shape)
        buffers.hidden[...] = np.random.default_rng(3).random(buffers.hidden.shape)
        with bk.threads():
            rbm._apply_update(bk, params, state, buffers, step_scale=0.75)
        results.append(params)
    for params in results[1:]:
        for key in params:
            np.testing.assert_allclose(params[key], results[0][key], rtol=1e-12, atol=1e-15)


def test_n_jobs_one_is_the_default_path_and_two_is_reproducible():
    X = (np.random.default_rng(0).random((200, 12)) < 0.3).astype(float)
    fits = {
        n_jobs: BernoulliRBM(n_components=5, n_iter=3, random_state=0, n_jobs=n_jobs).fit(X)
        for n_jobs in (None, 1, 2)
    }
    np.testing.assert_array_equal(fits[None].components_, fits[1].components_)
    again = BernoulliRBM(n_components=5, n_iter=3, random_state=0, n_jobs=2).fit(X)
    np.testing.assert_array_equal(fits[2].components_, again.components_)
    # blocks draw from their own streams: another model, just as good
    assert not np.array_equal(fits[2].components_, fits[1].components_)
    assert abs(fits[2].score(X) - fits[1].score(X)) < 0.5


def test_parallel_training_raises_the_exact_likelihood_for_both_unit_types():
    rng = np.random.default_rng(0)
    prototypes = rng.random((3, 10)) < 0.5
    X = (prototypes[rng.integers(0, 3, 600)] ^ (rng.random((600, 10)) < 0.05)).astype(float)
    untrained = BernoulliRBM(n_components=4, n_iter=0, random_state=0).fit(X)
    trained = BernoulliRBM(n_components=4, n_iter=30, random_state=0, n_jobs=2).fit(X)
    assert trained.score(X) > untrained.score(X) + 1.0

    Z = X * 2.0 + rng.normal(0, 0.3, X.shape)
    untrained = GaussianBernoulliRBM(n_components=4, n_iter=0, random_state=0).fit(Z)
    settings = dict(n_components=4, n_iter=20, learning_rate=0.05, random_state=0)
    trained = GaussianBernoulliRBM(**settings, n_jobs=2).fit(Z)
    assert trained.score(Z) > untrained.score(Z) + 0.4  # one thread: + 0.78


def test_blas_threads_and_the_thread_pool_are_released_after_fit():
    X = np.random.default_rng(0).random((100, 8))
    before_blas = [lib["num_threads"] for lib in threadpool_info()]
    before_threads = threading.active_count()
    rbm = BernoulliRBM(n_components=3, n_iter=2, random_state=0, n_jobs=3).fit(X)
    rbm.partial_fit(X)
    assert [lib["num_threads"] for lib in threadpool_info()] == before_blas
    assert threading.active_count() == before_threads


@pytest.mark.parametrize("n_jobs", [2, 3])
def test_ais_in_chain_blocks_agrees_with_the_exact_log_partition(n_jobs):
    rbm = make_model(12, 10, scale=0.7)
    exact = rbm.estimate_log_partition("exact")
    rbm.set_params(n_jobs=n_jobs)
    log_z = rbm.estimate_log_partition("ais", n_betas=1000, random_state=0)
    est = rbm.log_partition_estimate_
    assert est.n_chains == 100
    assert abs(log_z - exact) < 0.12
    assert abs(est.reverse - exact) < 0.12
    assert est.lower - 0.02 <= exact <= est.upper + 0.02
    # reproducible, and reverse chains may start from data rows as well
    assert rbm.estimate_log_partition("ais", n_betas=1000, random_state=0) == log_z
    data = tiny_models.all_states(12)[::37]
    rbm.estimate_log_partition("ais", n_betas=300, random_state=0, reverse_start=data)
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
