"""How fitting behaves: early stopping, warm starts, streaming, dtypes, divergence, progress.

Where a claim is exact (the kept model is the one trained for the best
number of epochs, sigma is the std of every row seen), it is checked exactly
against an independent computation.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.preprocessing import minmax_scale

from skebm import DBN, BernoulliRBM, DivergenceError, GaussianBernoulliRBM
from skebm._backend import make_backend


@pytest.fixture(scope="module")
def digits():
    return (load_digits().data[:300] > 7).astype(float)


# ---------------------------------------------------------------------------
# early stopping
# ---------------------------------------------------------------------------
def test_early_stopping_keeps_the_best_epoch_exactly(digits, suite_seed):
    # a constant rate: the kept epoch is compared with a shorter complete run,
    # whose linear schedule would decay on another horizon
    settings = dict(
        n_components=6, learning_rate=0.3, validation_fraction=0.2, random_state=suite_seed,
        learning_rate_schedule="constant",
    )
    stopped = BernoulliRBM(
        n_iter=40, early_stopping=True, n_iter_no_change=3, tol=0.0, **settings
    ).fit(digits)
    scores = [record["validation_log_likelihood"] for record in stopped.history_]
    best = stopped.best_epoch_
    assert scores[best - 1] == max(scores)
    assert [r["epoch"] for r in stopped.history_ if r.get("restored")] == [best]
    # stopped after n_iter_no_change (3) epochs without a new best, or at n_iter
    new_best = [epoch for epoch, s in enumerate(scores, 1) if s == max(scores[:epoch])]
    assert stopped.n_iter_ == min(40, new_best[-1] + 3)
    # the kept parameters are those of a run of ``best`` epochs, bit for bit
    reference = BernoulliRBM(n_iter=best, **settings).fit(digits)
    for name in ("components_", "intercept_hidden_", "intercept_visible_", "h_samples_"):
        np.testing.assert_array_equal(getattr(stopped, name), getattr(reference, name))


def test_early_stopping_patience_ignores_improvements_below_tol(digits):
    settings = dict(n_components=4, validation_fraction=0.2, random_state=1, n_iter=15)
    model = BernoulliRBM(early_stopping=True, n_iter_no_change=2, tol=1e9, **settings)
    model.fit(digits)
    # nothing improves by a billion nats: the patience runs out after epoch 1 + 2
    assert model.n_iter_ == 3
    assert model.best_epoch_ in (1, 2, 3)


def test_without_early_stopping_nothing_is_restored(digits):
    model = BernoulliRBM(n_components=4, n_iter=3, validation_fraction=0.2).fit(digits)
    assert model.best_epoch_ is None
    assert not any(record.get("restored") for record in model.history_)


def test_partial_fit_rejects_early_stopping(digits):
    model = BernoulliRBM(n_components=4, random_state=0).partial_fit(digits)
    model.set_params(early_stopping=True, validation_fraction=0.1)
    with pytest.raises(ValueError, match="partial_fit holds none out"):
        model.partial_fit(digits)
    assert model.n_iter_ == 1


# ---------------------------------------------------------------------------
# partial_fit counts, warm_start
# ---------------------------------------------------------------------------
def test_partial_fit_advances_n_iter_and_records_history(digits):
    model = BernoulliRBM(n_components=4, random_state=0)
    for call, chunk in enumerate(np.array_split(digits, 3), start=1):
        model.partial_fit(chunk)
        assert model.n_iter_ == call
        assert len(model.history_) == call
        assert model.history_[-1]["epoch"] == call
        assert model.history_[-1]["n_samples"] == chunk.shape[0]
    assert model.n_samples_seen_ == digits.shape[0]


def test_warm_start_continues_the_fitted_model(digits):
    model = BernoulliRBM(n_components=5, n_iter=3, random_state=0).fit(digits)
    before = {k: getattr(model, k) for k in ("components_", "h_samples_")}
    # zero more epochs: exactly the same model
    model.set_params(warm_start=True, n_iter=0).fit(digits)
    for key, value in before.items():
        np.testing.assert_array_equal(getattr(model, key), value)
    assert model.n_iter_ == 3
    model.set_params(n_iter=2).fit(digits)
    assert model.n_iter_ == 5
    assert [r["epoch"] for r in model.history_] == [1, 2, 3, 4, 5]
    assert not np.array_equal(model.components_, before["components_"])
    # without warm_start the same call starts anew
    fresh = model.set_params(warm_start=False).fit(digits)
    assert fresh.n_iter_ == 2


def test_warm_start_refuses_data_of_another_width(digits):
    model = BernoulliRBM(n_components=5, n_iter=1, warm_start=True).fit(digits)
    with pytest.raises(ValueError, match="warm_start=False"):
        model.fit(digits[:, :10])
    assert model.n_features_in_ == digits.shape[1]


# ---------------------------------------------------------------------------
# streaming statistics of Gaussian units
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("learn_sigma", [False, True])
def test_streamed_gaussian_statistics_cover_every_row_seen(learn_sigma):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5)) * [1.0, 2.0, 0.5, 3.0, 1.0] + [0, 1, 2, 3, 4]
    X = X[np.argsort(X[:, 0])]  # chunks sorted by a feature: each one unrepresentative
    model = GaussianBernoulliRBM(
        n_components=3, learning_rate=0.001, learn_sigma=learn_sigma, random_state=0
    )
    for chunk in np.array_split(X, 4):
        model.partial_fit(chunk)
    np.testing.assert_allclose(model.feature_mean_, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(model.feature_var_, X.var(axis=0), rtol=1e-10)
    if learn_sigma:
        # a learned sigma stays within its bounds around the std of all rows
        ratio = model.sigma_ / X.std(axis=0)
        assert np.all((ratio >= np.sqrt(1e-2) - 1e-9) & (ratio <= np.sqrt(1e1) + 1e-9))
    else:
        np.testing.assert_allclose(model.sigma_, X.std(axis=0), rtol=1e-10)


# ---------------------------------------------------------------------------
# float32 and float64 draw the same random numbers
# ---------------------------------------------------------------------------
def test_backends_draw_the_same_numbers_for_both_dtypes():
    draws = {}
    for dtype in (np.float32, np.float64):
        bk = make_backend(None, dtype, seed=3)
        p = np.linspace(0, 1, 1000).astype(dtype)
        draws[dtype] = (bk.uniform((50,)), bk.normal((50,)), bk.bernoulli(p), bk.permutation(20))
    for a, b in zip(draws[np.float32], draws[np.float64]):
        np.testing.assert_array_equal(a.astype(np.float64), b.astype(np.float64))


def test_float32_and_float64_fits_agree_within_float32_rounding(suite_seed):
    X = minmax_scale(load_digits().data[:50])
    # a sample differs only when a uniform falls between the float32 and
    # float64 roundings of its probability (about 1e-7 apart): with ~7,000
    # draws here that happens in fewer than one fit in a thousand
    settings = dict(n_components=8, n_iter=1, random_state=suite_seed)
    c64 = BernoulliRBM(**settings).fit(X).components_
    c32 = BernoulliRBM(**settings).fit(X.astype(np.float32)).components_
    assert c32.dtype == np.float32
    np.testing.assert_allclose(c32, c64, rtol=1e-3, atol=1e-5)


# ---------------------------------------------------------------------------
# divergence is never silent
# ---------------------------------------------------------------------------
def test_bernoulli_training_that_blows_up_raises(digits):
    with pytest.raises(DivergenceError, match="learning_rate too large.*e.g. 100"):
        BernoulliRBM(n_components=16, learning_rate=1e3, n_iter=3, random_state=0).fit(
            digits
        )


def test_weights_growing_on_data_outside_the_unit_range_warn(digits):
    # Bernoulli units cannot match a mean above 1: the weights grow without
    # bound by construction, which is the data's fault and only warned about
    model = BernoulliRBM(n_components=8, learning_rate=0.05, n_iter=2, random_state=0)
    model.fit(digits)
    with pytest.warns(UserWarning) as record:
        model.partial_fit(digits * 1000)
    messages = [str(w.message) for w in record]
    assert any("values in [0, 1]" in m for m in messages)
    assert any("growing without bound: data outside the [0, 1] range" in m for m in messages)
    assert all(w.filename == __file__ for w in record)
    assert model.n_iter_ == 3


def test_divergence_on_a_chunk_unlike_the_rows_seen_names_the_shift(digits):
    model = BernoulliRBM(n_components=8, n_iter=2, random_state=0).fit(digits)
    assert model.feature_var_[0] == 0  # the corner pixel is always off
    model.set_params(learning_rate=1e4)
    with pytest.raises(DivergenceError, match="far outside the range seen so far"):
        model.partial_fit(np.ones((50, digits.shape[1])))


def test_gaussian_sigma_follows_a_shifted_chunk_instead_of_diverging():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    model = GaussianBernoulliRBM(n_components=4, random_state=0).partial_fit(X)
    model.partial_fit(X * 1e7 + 1e8)
    np.testing.assert_allclose(
        model.sigma_, np.vstack([X, X * 1e7 + 1e8]).std(axis=0), rtol=1e-9
    )


# ---------------------------------------------------------------------------
# warnings once, at the caller
# ---------------------------------------------------------------------------
def test_range_warning_is_given_once_per_fit_and_points_at_the_caller(recwarn):
    X = np.random.default_rng(0).random((30, 4)) * 3
    model = BernoulliRBM(n_components=2, n_iter=1, random_state=0).fit(X)
    model.transform(X)
    model.score_samples(X)
    warned = [w for w in recwarn if "values in [0, 1]" in str(w.message)]
    assert len(warned) == 1
    assert warned[0].filename == __file__
    model.fit(X)  # a new fit may warn again
    assert len([w for w in recwarn if "values in [0, 1]" in str(w.message)]) == 2


# ---------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------
def test_dbn_progress_names_each_layer(digits, capsys):
    DBN(hidden_layer_sizes=(4, 3), n_iter=2, verbose=1, random_state=0).fit(digits)
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("[DBN layer 1/2] epoch") for line in lines) == 2
    assert sum(line.startswith("[DBN layer 2/2] epoch") for line in lines) == 2


def test_verbose_two_reports_within_the_epoch(digits, capsys):
    BernoulliRBM(n_components=4, n_iter=1, verbose=1).fit(digits)
    assert "batch" not in capsys.readouterr().out
    BernoulliRBM(n_components=4, n_iter=1, verbose=2).fit(digits)
    out = capsys.readouterr().out
    assert "batch 30/30" in out and "epoch 1/1" in out


def test_verbose_reports_ais_progress(digits, capsys):
    model = BernoulliRBM(
        n_components=25, n_iter=1, ais_n_betas=101, ais_n_chains=10, random_state=0
    ).fit(digits[:, :30])
    capsys.readouterr()
    model.set_params(verbose=1).score(digits[:, :30])
    out = capsys.readouterr().out
    assert "AIS estimate of log Z: 10 chains x 101 temperatures" in out
    assert "AIS forward  50%" in out


# ---------------------------------------------------------------------------
# the fused update is the reference gradient step
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_fused_update_is_the_reference_gradient_step(cls, suite_seed):
    from skebm._training.trainer import StepBuffers

    rng = np.random.default_rng(suite_seed)
    n_data, n_chains, n_visible, n_hidden = 6, 5, 7, 4
    X = rng.random((40, n_visible))
    extra = {"learn_sigma": True} if cls is GaussianBernoulliRBM else {}
    lr, decay = 0.05, 0.01
    rbm = cls(n_components=n_hidden, n_iter=0, learning_rate=lr, weight_decay=decay,
              random_state=suite_seed, **extra).fit(X)
    rbm.components_ = rng.normal(0, 0.3, rbm.components_.shape)
    bk = make_backend(None, np.float64)
    params = {key: value.copy() for key, value in rbm._device_params(bk).items()}
    buffers = StepBuffers(bk, n_data, n_chains, n_visible, n_hidden, hidden_sample=False)
    buffers.visible[...] = rng.random(buffers.visible.shape)
    buffers.hidden[...] = rng.random(buffers.hidden.shape)
    phases = [
        array.copy()
        for array in (buffers.data, buffers.data_hidden, buffers.chain_visible, buffers.chain_hidden)
    ]
    reference = rbm._units.gradients(bk, params, *phases)
    reference["W"] = reference["W"] - decay * params["W"]
    expected = {key: params[key] + lr * reference[key] for key in reference}
    state = {"optimizer": {key: np.zeros_like(value) for key, value in params.items()}}
    rbm._trainer().apply_update(bk, params, state, buffers, 1.0)
    for key, value in expected.items():
        # float64 rounding of a few sums of a dozen terms
        np.testing.assert_allclose(params[key], value, rtol=1e-12, atol=1e-14, err_msg=key)
