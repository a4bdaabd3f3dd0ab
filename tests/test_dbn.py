"""DBN and DBNClassifier: exact answers by enumeration, the estimator contract."""

import itertools

import numpy as np
import pytest
from scipy.special import expit, logsumexp
from scipy.stats import norm
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from skebm import DBN, BernoulliRBM, DBNClassifier, GaussianBernoulliRBM


def all_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def softplus(x):
    return np.logaddexp(0, x)


@pytest.fixture(scope="module")
def binary_data(suite_seed):
    """Binary rows with structure: two noisy prototypes over 6 units."""
    rng = np.random.default_rng(suite_seed)
    prototypes = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 1, 1]], dtype=float)
    rows = prototypes[rng.integers(0, 2, size=200)]
    flips = rng.random(rows.shape) < 0.1
    return np.abs(rows - flips)


def top_log_marginal(rbm, h):
    """log p(h) of the top RBM's visible layer, by enumerating its hidden layer."""
    W, a, b = rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_
    log_z = logsumexp(
        [
            -(-a @ v - softplus(b + W @ v).sum())
            for v in all_states(W.shape[1])
        ]
    )
    return h @ a + softplus(h @ W.T + b).sum(axis=1) - log_z


def bernoulli_log_conditional(rbm, v, h):
    """log p(v | h) of a binary RBM's visible units (rows of v and h paired)."""
    x = h @ rbm.components_ + rbm.intercept_visible_
    return (v * x - softplus(x)).sum(axis=1)


def exact_two_layer(dbn, v):
    """Brute force: exact log p(v) and the exact variational bound, per row."""
    lower, top = dbn.rbms_
    h1 = all_states(lower.n_components)
    log_prior = top_log_marginal(top, h1)
    log_p, bound = [], []
    for row in v:
        rows = np.repeat(row[None, :], len(h1), axis=0)
        log_joint = bernoulli_log_conditional(lower, rows, h1) + log_prior
        log_p.append(logsumexp(log_joint))
        q1 = expit(lower.intercept_hidden_ + lower.components_ @ row)
        log_q = (h1 * np.log(q1) + (1 - h1) * np.log1p(-q1)).sum(axis=1)
        bound.append(np.sum(np.exp(log_q) * (log_joint - log_q)))
    return np.array(log_p), np.array(bound)


@pytest.fixture(scope="module")
def tiny_dbn(binary_data, suite_seed):
    return DBN(
        hidden_layer_sizes=(4, 3), n_iter=30, learning_rate=0.05, random_state=suite_seed
    ).fit(binary_data)


# ----------------------------------------------------------------------------
# the likelihood bound
# ----------------------------------------------------------------------------
def test_bound_is_below_exact_log_likelihood_and_close(tiny_dbn, binary_data):
    X = binary_data[:40]
    log_p, bound = exact_two_layer(tiny_dbn, X)
    score = tiny_dbn.score_samples(X)
    # the summed expectation is the exact bound
    np.testing.assert_allclose(score, bound, rtol=0, atol=1e-9)
    assert np.all(score <= log_p + 1e-9)
    # the up-pass posterior is close to the true one: the gap is small (over
    # 20 seeds of data and training it was 0.002 to 0.115 nats)
    assert np.mean(log_p - score) < 0.5
    assert np.mean(log_p) - np.mean(score) > 0  # and it is a real gap, not identity


def test_sampled_bound_uses_common_random_numbers(binary_data, suite_seed):
    # 14 intermediate units: too many to sum, so the bound is sampled
    dbn = DBN(hidden_layer_sizes=(14, 3), n_iter=10, learning_rate=0.05, n_chains=None,
              layer_input="probability", random_state=suite_seed)  # fmt: skip
    dbn.fit(binary_data)
    X = binary_data[:12]
    score = dbn.score_samples(X)
    log_p, bound = exact_two_layer(dbn, X)
    # The exact bound lies below log p(v).  The sampled one is a Monte Carlo
    # estimate of it: over 20 seeds of data and training its rows were at most
    # 0.041 nats off (0.1 is the bar).  Whether it too lies below log p(v)
    # depends on the draws: the exact gap (0.002 to 0.015 nats on average over
    # the rows) is smaller than the Monte Carlo error of that average
    # (0.011), and over those seeds it lay above in 4 of 20.
    assert np.all(bound <= log_p + 1e-9)
    np.testing.assert_allclose(score, bound, atol=0.1)
    # every row sees the same draws, whoever else is scored with it
    np.testing.assert_array_equal(score[3:4], dbn.score_samples(X[3:4]))
    np.testing.assert_array_equal(score[::-1], dbn.score_samples(X[::-1]))
    np.testing.assert_array_equal(score, dbn.score_samples(X))


def test_one_layer_bound_is_the_rbm_log_likelihood(binary_data):
    dbn = DBN(hidden_layer_sizes=(5,), n_iter=5, random_state=0).fit(binary_data)
    rbm = dbn.rbms_[0]
    np.testing.assert_allclose(dbn.score_samples(binary_data), rbm.score_samples(binary_data))
    # and that is the exact log-likelihood by enumeration
    W, a, b = rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_
    log_weights = binary_data @ a + softplus(binary_data @ W.T + b).sum(axis=1)
    log_z = logsumexp([v @ a + softplus(W @ v + b).sum() for v in all_states(6)])
    np.testing.assert_allclose(dbn.score_samples(binary_data), log_weights - log_z)


def test_gaussian_first_layer_bound(binary_data):
    rng = np.random.default_rng(1)
    X = binary_data + rng.normal(0, 0.3, size=binary_data.shape)
    dbn = DBN(hidden_layer_sizes=(4, 3), visible_units="gaussian", n_iter=5, random_state=0)
    dbn.fit(X)
    lower, top = dbn.rbms_
    assert isinstance(lower, GaussianBernoulliRBM) and isinstance(top, BernoulliRBM)
    h1 = all_states(4)
    log_prior = top_log_marginal(top, h1)
    var = lower.sigma_**2
    for row in X[:5]:
        mean = lower.intercept_visible_ + h1 @ lower.components_
        log_cond = -0.5 * (((row - mean) ** 2) / var + np.log(2 * np.pi * var)).sum(axis=1)
        log_p = logsumexp(log_cond + log_prior)
        q1 = expit(lower.intercept_hidden_ + lower.components_ @ (row / var))
        log_q = (h1 * np.log(q1) + (1 - h1) * np.log1p(-q1)).sum(axis=1)
        bound = np.sum(np.exp(log_q) * (log_cond + log_prior - log_q))
        score = dbn.score_samples(row[None, :])[0]
        assert score == pytest.approx(bound, abs=1e-8)
        assert score <= log_p + 1e-9


# ----------------------------------------------------------------------------
# passes, shapes and ranges
# ----------------------------------------------------------------------------
def test_shapes_and_ranges(tiny_dbn, binary_data):
    H = tiny_dbn.transform(binary_data)
    assert H.shape == (200, 3) and H.min() >= 0 and H.max() <= 1
    np.testing.assert_allclose(
        H, tiny_dbn.rbms_[1].transform(tiny_dbn.rbms_[0].transform(binary_data))
    )
    means = tiny_dbn.sample(7, n_steps=20, random_state=0)
    assert means.shape == (7, 6) and means.min() >= 0 and means.max() <= 1
    draws = tiny_dbn.sample(7, n_steps=20, random_state=0, return_mean=False)
    assert set(np.unique(draws)) <= {0.0, 1.0}
    np.testing.assert_array_equal(means, tiny_dbn.sample(7, n_steps=20, random_state=0))
    stepped = tiny_dbn.gibbs(binary_data[:9])
    assert stepped.shape == (9, 6) and set(np.unique(stepped)) <= {0.0, 1.0}
    back = tiny_dbn.inverse_transform(H[:9])
    assert back.shape == (9, 6) and back.min() >= 0 and back.max() <= 1
    assert tiny_dbn.get_feature_names_out().tolist() == ["dbn0", "dbn1", "dbn2"]


def test_samples_follow_the_generative_model(tiny_dbn, suite_seed):
    """Visible marginal of many samples against the exact model marginal."""
    lower, top = tiny_dbn.rbms_
    h1 = all_states(4)
    prior = np.exp(top_log_marginal(top, h1))
    exact_mean = prior @ expit(h1 @ lower.components_ + lower.intercept_visible_)
    sampled = tiny_dbn.sample(4000, n_steps=50, random_state=suite_seed)
    # independent chains: within five standard errors of the mean (over 20
    # seeds the largest of the six deviations was 1.7 standard errors)
    se = sampled.std(axis=0, ddof=1) / np.sqrt(len(sampled))
    assert np.all(np.abs(sampled.mean(axis=0) - exact_mean) < 5 * se)


def test_layers_train_on_the_layer_below(tiny_dbn, binary_data):
    lower, top = tiny_dbn.rbms_
    assert lower.n_features_in_ == 6 and top.n_features_in_ == 4
    # the same layer trained alone on the lower layer's probabilities is identical
    alone = clone(top).fit(lower.transform(binary_data))
    np.testing.assert_array_equal(alone.components_, top.components_)
    assert lower.random_state != top.random_state


def test_upper_layers_learn_from_fresh_binary_draws(suite_seed, monkeypatch):
    from skebm._dbn import SampledInputRBM
    from skebm._training.trainer import Trainer

    seen = []
    apply_update = Trainer.apply_update

    def recording(self, bk, params, state, buffers, step_scale):
        seen.append(bk.to_numpy(buffers.data).copy())
        apply_update(self, bk, params, state, buffers, step_scale)

    monkeypatch.setattr(Trainer, "apply_update", recording)
    probabilities = np.full((400, 5), 0.3)
    SampledInputRBM(n_components=3, batch_size=20, n_iter=2, random_state=suite_seed).fit(
        probabilities
    )
    draws = np.concatenate(seen)
    # every update saw binary states drawn with the rows' probabilities: their
    # rate is within five binomial standard errors (0.036) of 0.3
    assert draws.shape == (800, 5) and set(np.unique(draws)) == {0.0, 1.0}
    assert abs(draws.mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / draws.size)


@pytest.mark.parametrize("layer_input, upper_class", [("sample", "SampledInputRBM"),
                                                      ("probability", "BernoulliRBM")])
def test_layer_input_picks_what_upper_layers_learn_from(binary_data, layer_input, upper_class):
    dbn = DBN(hidden_layer_sizes=(4, 3, 2), n_iter=1, layer_input=layer_input, random_state=0)
    dbn.fit(binary_data)
    assert type(dbn.rbms_[0]).__name__ == "BernoulliRBM"
    assert [type(r).__name__ for r in dbn.rbms_[1:]] == [upper_class] * 2
    assert all(isinstance(r, BernoulliRBM) for r in dbn.rbms_)


def test_partial_fit_streams_every_layer(binary_data):
    dbn = DBN(hidden_layer_sizes=(4, 3), batch_size=20, random_state=0)
    for chunk in np.array_split(binary_data, 4):
        dbn.partial_fit(chunk)
    assert [rbm.n_samples_seen_ for rbm in dbn.rbms_] == [200, 200]
    assert dbn.transform(binary_data).shape == (200, 3)


def test_same_seed_same_network(binary_data):
    first = DBN(hidden_layer_sizes=(4, 3), n_iter=2, random_state=3).fit(binary_data)
    second = DBN(hidden_layer_sizes=(4, 3), n_iter=2, random_state=3).fit(binary_data)
    for a, b in zip(first.rbms_, second.rbms_):
        np.testing.assert_array_equal(a.components_, b.components_)


# ----------------------------------------------------------------------------
# parameters
# ----------------------------------------------------------------------------
def test_tuple_parameters_round_trip(binary_data):
    dbn = DBN(hidden_layer_sizes=(5, 3), learning_rate=(0.05, 0.02), n_iter=(2, 1),
              method=("pcd", "cd"), n_chains=(None, 7), random_state=0)  # fmt: skip
    params = dbn.get_params()
    assert params["learning_rate"] == (0.05, 0.02) and params["n_iter"] == (2, 1)
    copy = clone(dbn)
    assert copy.get_params() == params
    copy.set_params(learning_rate=(0.1, None), hidden_layer_sizes=(4, 2))
    assert copy.learning_rate == (0.1, None) and dbn.learning_rate == (0.05, 0.02)
    dbn.fit(binary_data)
    assert [r.learning_rate for r in dbn.rbms_] == [0.05, 0.02]
    assert [r.n_iter_ for r in dbn.rbms_] == [2, 1]
    assert [r.method for r in dbn.rbms_] == ["pcd", "cd"]
    assert [r.n_chains for r in dbn.rbms_] == [None, 7]
    assert dbn.rbms_[0].h_samples_.shape == (dbn.rbms_[0].batch_size, 5)
    copy.fit(binary_data)
    # None keeps the layer's own default
    assert copy.rbms_[1].learning_rate == BernoulliRBM().learning_rate
    assert dbn.get_params() == params  # fitting changed no parameter


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(learning_rate=(0.1, 0.1, 0.1)), "learning_rate has 3 values but"),
        (dict(n_iter=(1,)), "n_iter has 1 values but"),
        (dict(hidden_layer_sizes=(4, 0)), "hidden_layer_sizes must be"),
        (dict(hidden_layer_sizes=()), "hidden_layer_sizes must be"),
        (dict(momentum=(0.5, 2.0)), "Layer 1"),
    ],
)
def test_bad_parameters_are_explained(binary_data, params, message):
    params = {"hidden_layer_sizes": (4, 3), **params}
    dbn = DBN(**params)
    with pytest.raises(ValueError, match=message):
        dbn.fit(binary_data)
    assert not hasattr(dbn, "rbms_")
    with pytest.raises(ValueError, match=message):
        DBNClassifier(**params).fit(binary_data, binary_data[:, 0])


def test_grid_search_over_layers_and_per_layer_learning_rate(suite_seed):
    X, y = load_digits(n_class=3, return_X_y=True)
    X = X[:300] / 16.0
    y = y[:300]
    pipe = Pipeline([
        ("dbn", DBN(n_iter=20, random_state=suite_seed)),
        ("logistic", LogisticRegression(C=100, max_iter=1000)),
    ])  # fmt: skip
    grid = GridSearchCV(
        pipe,
        {
            "dbn__hidden_layer_sizes": [(16,), (16, 8)],
            "dbn__learning_rate": [(0.05, 0.05), (0.1, 0.01)],
        },
        cv=2,
        error_score="raise",
    )
    # a one-layer network cannot take two learning rates: that grid point errors
    with pytest.raises(ValueError, match="learning_rate has 2 values"):
        grid.fit(X, y)
    grid.set_params(param_grid=[
        {"dbn__hidden_layer_sizes": [(16,)], "dbn__learning_rate": [0.05, 0.1]},
        {"dbn__hidden_layer_sizes": [(16, 8)], "dbn__learning_rate": [(0.05, 0.05), (0.1, 0.01)]},
    ])  # fmt: skip
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    best = grid.best_estimator_.named_steps["dbn"]
    assert best.hidden_layer_sizes == grid.best_params_["dbn__hidden_layer_sizes"]
    rates = best.learning_rate if isinstance(best.learning_rate, tuple) else (best.learning_rate,)
    assert [r.learning_rate for r in best.rbms_] == list(rates)
    assert grid.best_score_ > 0.8  # 0.94 to 0.96 over 10 seeds


# ----------------------------------------------------------------------------
# the classifier
# ----------------------------------------------------------------------------
# The accuracy bars below hold by far for every seed: over 10 seeds of the
# split and the network the accuracies were 0.971 +- 0.008 (64 units, 3
# epochs; bar 0.93), 0.969 +- 0.010 (two classes; bar 0.8), 0.966 +- 0.007
# (dropout; bar 0.9) and 0.961 +- 0.007 (refit; bar 0.9).
@pytest.fixture(scope="module")
def digits_split(suite_seed):
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.3, random_state=suite_seed)


def test_classifier_learns_digits(digits_split, suite_seed):
    X_train, X_test, y_train, y_test = digits_split
    clf = DBNClassifier(hidden_layer_sizes=(64,), n_iter=3, random_state=suite_seed)
    clf.fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.93
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X_test))
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert [w.shape for w in clf.coefs_] == [(64, 64), (64, 10)]


def test_unlabelled_rows_only_pretrain(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    y_partial = y_train.copy()
    y_partial[200:] = -1
    clf = DBNClassifier(hidden_layer_sizes=(32,), n_iter=2, random_state=0)
    clf.fit(X_train, y_partial)
    assert -1 not in clf.classes_ and len(clf.classes_) == 10
    assert clf.dbn_.rbms_[0].n_samples_seen_ == len(X_train)
    assert set(clf.predict(X_test)) <= set(clf.classes_)
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X_train, np.full(len(X_train), -1))


def test_minus_one_beside_a_single_label_is_a_class(digits_split, suite_seed):
    # -1/+1 coding of a binary problem: -1 cannot mark unlabelled rows here,
    # since the other labels would leave a single class to learn
    X_train, X_test, y_train, y_test = digits_split
    binary = np.where(y_train < 5, -1, 1)
    clf = DBNClassifier(hidden_layer_sizes=(32,), n_iter=2, random_state=suite_seed)
    clf.fit(X_train, binary)
    np.testing.assert_array_equal(clf.classes_, [-1, 1])
    assert clf.score(X_test, np.where(y_test < 5, -1, 1)) > 0.8


def test_classifier_on_torch_matches_its_own_quality(digits_split, suite_seed):
    pytest.importorskip("torch")
    X_train, X_test, y_train, y_test = digits_split
    clf = DBNClassifier(hidden_layer_sizes=(32,), n_iter=2, device="cpu", random_state=suite_seed)
    clf.fit(X_train, y_train)
    assert all(isinstance(w, np.ndarray) for w in clf.coefs_)
    assert clf.score(X_test, y_test) > 0.9

# scikit-learn's common checks run over every public estimator in test_common.py


# ----------------------------------------------------------------------------
# fine-tuning: gradients against finite differences, dropout, refit
# ----------------------------------------------------------------------------
def _small_network(rng, sizes=(5, 4, 3, 3)):
    weights = [rng.normal(0, 0.7, size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 0.3, size=b) for b in sizes[1:]]
    x = rng.random((6, sizes[0]))
    targets = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=6)]
    return weights, biases, x, targets


@pytest.mark.parametrize("hidden_units", ["binary", "rectified", ("binary", "rectified")])
@pytest.mark.parametrize("dropout", [False, True])
def test_backprop_gradients_match_finite_differences(dropout, hidden_units):
    from skebm._backend import make_backend
    from skebm._dbn_classifier import _backprop, _dropout_masks
    from skebm._units import HIDDEN_UNITS

    rng = np.random.default_rng(0)
    weights, biases, x, targets = _small_network(rng)
    names = hidden_units if isinstance(hidden_units, tuple) else (hidden_units,) * 2
    units = [HIDDEN_UNITS[name] for name in names]
    bk = make_backend(None, np.float64, seed=0)
    alpha = 0.01
    masks = _dropout_masks(bk, weights, x.shape[0], 0.2, 0.5) if dropout else None
    if dropout:
        # inverted dropout: a kept unit is scaled by 1 / keep, a dropped one is 0
        assert set(np.unique(masks[0])) <= {0.0, 1 / 0.8}
        assert set(np.unique(masks[1])) == {0.0, 2.0}
    grads, loss = _backprop(bk, weights, biases, units, x, targets, alpha, masks)
    params = weights + biases
    eps = 1e-6
    for param, grad in zip(params, grads):
        numeric = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + eps
            up = _backprop(bk, weights, biases, units, x, targets, alpha, masks)[1]
            param[index] = saved - eps
            down = _backprop(bk, weights, biases, units, x, targets, alpha, masks)[1]
            param[index] = saved
            numeric[index] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    # the loss is the mean cross-entropy of the (thinned) network plus the penalty
    h = x * masks[0] if dropout else x
    for k, (w, b) in enumerate(zip(weights, biases)):
        z = h @ w + b
        if k + 1 < len(weights):
            mean = expit(z) if names[k] == "binary" else z + norm.pdf(z) / norm.cdf(z)
            h = mean * (masks[k + 1] if dropout else 1.0)
    log_p = z - logsumexp(z, axis=1, keepdims=True)
    expected = -(targets * log_p).sum(axis=1).mean() + 0.5 * alpha * sum((w**2).sum() for w in weights)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)


def test_dropout_masks_keep_the_expected_input(suite_seed):
    from skebm._backend import make_backend
    from skebm._dbn_classifier import _dropout_masks

    bk = make_backend(None, np.float64, seed=suite_seed)
    weights = [np.zeros((50, 40)), np.zeros((40, 3))]
    masks = _dropout_masks(bk, weights, 2000, 0.0, 0.3)
    assert masks[0] is None and masks[1].shape == (2000, 40)
    assert set(np.unique(masks[1])) == {0.0, 1 / 0.7}
    # each unit is kept with probability 0.7 and scaled by 1 / 0.7: mean 1.
    # Both rates within five standard errors of the 80,000 independent draws
    # (0.0116 for the mean, whose draws have variance 0.3 / 0.7; 0.0081 for the
    # share of zeros)
    n = masks[1].size
    assert abs(masks[1].mean() - 1.0) < 5 * np.sqrt(0.3 / 0.7 / n)
    assert abs((masks[1] == 0).mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)


def test_dropout_trains_and_predicts_deterministically(digits_split, suite_seed):
    X_train, X_test, y_train, y_test = digits_split
    clf = DBNClassifier(hidden_layer_sizes=(32,), n_iter=2, dropout=0.2, input_dropout=0.1,
                        fine_tune_n_iter=40, random_state=suite_seed)  # fmt: skip
    clf.fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.9
    np.testing.assert_array_equal(clf.predict_proba(X_test), clf.predict_proba(X_test))


def test_refit_trains_on_every_labelled_row_for_the_chosen_epochs(digits_split, suite_seed):
    X_train, X_test, y_train, y_test = digits_split
    params = dict(hidden_layer_sizes=(32,), n_iter=2, fine_tune_n_iter=30, n_iter_no_change=5,
                  random_state=suite_seed)  # fmt: skip
    held_out = DBNClassifier(refit=False, **params).fit(X_train, y_train)
    refitted = DBNClassifier(refit=True, **params).fit(X_train, y_train)
    # the same pretraining and the same early-stopping run choose the epochs
    assert refitted.validation_scores_ == held_out.validation_scores_
    assert refitted.best_validation_score_ == held_out.best_validation_score_
    best_epoch = refitted.n_iter_
    assert len(refitted.loss_curve_) == best_epoch
    assert refitted.validation_scores_[best_epoch - 1] == refitted.best_validation_score_
    # without refit the run went on past the best epoch, and kept other weights
    assert held_out.n_iter_ >= best_epoch
    assert not np.array_equal(held_out.coefs_[0], refitted.coefs_[0])
    assert refitted.score(X_test, y_test) > 0.9
    # without a held-out split there is nothing to refit
    plain = DBNClassifier(refit=True, early_stopping=False, **params).fit(X_train, y_train)
    assert plain.n_iter_ == 30 and plain.validation_scores_ == []


def test_rectified_top_layer_is_what_transform_and_the_classifier_compute(binary_data):
    from skebm._backend import make_backend
    from skebm._dbn_classifier import _forward, _layer_units, _pretrained_layers

    dbn = DBN((6, 4), hidden_units=("binary", "rectified"), n_iter=2, random_state=0)
    H = dbn.fit(binary_data).transform(binary_data)
    assert [rbm.hidden_units_ for rbm in dbn.rbms_] == ["binary", "rectified"]
    # E[h | v] of truncated Gaussians: positive, and not bounded by 1 as probabilities are
    assert H.min() > 0
    lower = dbn.rbms_[0].transform(binary_data)
    x = lower @ dbn.rbms_[1].components_.T + dbn.rbms_[1].intercept_hidden_
    np.testing.assert_allclose(H, x + norm.pdf(x) / norm.cdf(x), rtol=1e-10)
    # the classifier's forward pass starts from the same network
    coefs, intercepts = _pretrained_layers(dbn)
    bk = make_backend(None, np.float64)
    forward = _forward(bk, coefs + [np.zeros((4, 2))], intercepts + [np.zeros(2)],
                       _layer_units(dbn), binary_data)
    np.testing.assert_allclose(forward[2], H, rtol=1e-10)
    assert dbn.sample(3, random_state=0).shape == (3, binary_data.shape[1])
    assert np.all(np.isfinite(dbn.score_samples(binary_data[:5])))


def test_rectified_layers_stack_on_rectified_visible_units(binary_data):
    from skebm._dbn import RectifiedInputRBM

    for layer_input in ("sample", "probability"):
        dbn = DBN((6, 4), hidden_units="rectified", layer_input=layer_input, n_iter=2,
                  learning_rate=0.01, random_state=0).fit(binary_data)
        assert isinstance(dbn.rbms_[1], RectifiedInputRBM)
        assert dbn.transform(binary_data).min() > 0
        assert dbn.sample(3, random_state=0).shape == (3, binary_data.shape[1])
        # the bound: continuous intermediate states drawn, their entropy in closed form
        bound = dbn.score_samples(binary_data[:10])
        assert np.all(np.isfinite(bound)) and np.all(bound < 0)


def test_classifier_fine_tunes_through_rectified_units(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = DBNClassifier((32,), hidden_units="rectified", n_iter=3, fine_tune_n_iter=20,
                        random_state=0).fit(X_train, y_train)
    assert clf.dbn_.rbms_[0].hidden_units_ == "rectified"
    # chance is 0.1 on ten classes; the fine-tuned network is far above it
    assert clf.score(X_test, y_test) > 0.5


def test_classifier_fine_tunes_with_the_rbms_optimisers(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    settings = dict(hidden_layer_sizes=(64,), n_iter=3, fine_tune_n_iter=30, random_state=0)
    adam = DBNClassifier(fine_tune_optimizer="adam", fine_tune_learning_rate=1e-3,
                         **settings).fit(X_train, y_train)
    # chance is 0.1 on ten classes; Adam fine-tunes the pretrained stack far above it
    assert adam.score(X_test, y_test) > 0.8
    with pytest.raises(ValueError, match="fine_tune_optimizer"):
        DBNClassifier(fine_tune_optimizer="nesterov", **settings).fit(X_train, y_train)
