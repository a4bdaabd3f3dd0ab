"""CategoricalRBM: categorical visible units, held to brute-force enumeration of tiny models."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp, softmax
from scipy.stats import chisquare

from skebm import DBN, BernoulliRBM, CategoricalRBM
from skebm._backend import make_backend
from skebm._units import BINARY
from skebm._units.categorical import CategoricalVisible

LEVELS = (2, 3, 2)


def tiny_model(n_hidden, seed, scale=1.0, levels=LEVELS):
    """A CategoricalRBM with random parameters over features of ``levels`` levels."""
    rng = np.random.default_rng(seed)
    rows = np.array(list(itertools.product(*[range(k) for k in levels])))
    rbm = CategoricalRBM(n_components=n_hidden, n_iter=0, random_state=seed).fit(rows)
    n_visible = sum(levels)
    rbm.components_ = rng.normal(0, scale, size=(n_hidden, n_visible))
    rbm.intercept_visible_ = rng.normal(0, scale, size=n_visible)
    rbm.intercept_hidden_ = rng.normal(0, scale, size=n_hidden)
    return rbm


def valid_rows(levels=LEVELS):
    """Every row of categories, and its one-hot encoding, in mixed-radix order."""
    rows = np.array(list(itertools.product(*[range(k) for k in levels])))
    one_hot = np.hstack([np.eye(k)[rows[:, f]] for f, k in enumerate(levels)])
    return rows, one_hot


def joint_log_weights(rbm):
    """-E(v, h) over every valid v (rows) and every h (columns)."""
    _, V = valid_rows()
    H = BINARY.states(0, 2**rbm.n_components, rbm.n_components)
    W, a, b = rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_
    return V @ a[:, None] + (H @ b)[None, :] + V @ W.T @ H.T, V, H


@pytest.mark.parametrize("n_hidden", [2, 5])
def test_log_partition_free_energy_and_likelihood_match_enumeration(suite_seed, n_hidden):
    # 2 hidden units: log Z sums over the hidden layer; 5 (32 states): over
    # the 12 valid visible rows.  Both must equal the double sum.
    rbm = tiny_model(n_hidden, suite_seed)
    log_w, V, _ = joint_log_weights(rbm)
    exact = logsumexp(log_w)
    assert rbm.estimate_log_partition(method="exact") == pytest.approx(exact, abs=1e-10)
    rows, _ = valid_rows()
    np.testing.assert_allclose(rbm.free_energy(rows), -logsumexp(log_w, axis=1), atol=1e-10)
    log_p = rbm.score_samples(rows)
    np.testing.assert_allclose(log_p, logsumexp(log_w, axis=1) - exact, atol=1e-10)
    assert logsumexp(log_p) == pytest.approx(0.0, abs=1e-10)


def test_conditionals_match_enumeration(suite_seed):
    rbm = tiny_model(3, suite_seed)
    log_w, V, H = joint_log_weights(rbm)
    rows, _ = valid_rows()
    # p(h_j = 1 | v): the marginal of the joint over h given each v
    p_h_given_v = softmax(log_w, axis=1) @ H
    np.testing.assert_allclose(rbm.transform(rows), p_h_given_v, atol=1e-10)
    # p(level | h): each feature's marginal of p(v | h), which enumerates only valid rows
    p_v_given_h = softmax(log_w, axis=0).T @ V
    np.testing.assert_allclose(rbm.level_probabilities(H), p_v_given_h, atol=1e-10)
    for group in rbm._units.groups:
        np.testing.assert_allclose(p_v_given_h[:, group].sum(axis=1), 1.0)
    most_probable = rbm.inverse_transform(H)
    for f, group in enumerate(rbm._units.groups):
        np.testing.assert_array_equal(most_probable[:, f], p_v_given_h[:, group].argmax(axis=1))


def test_pseudo_log_likelihood_matches_enumeration(suite_seed):
    rbm = tiny_model(3, suite_seed)
    rows, _ = valid_rows()
    log_p = dict(zip(map(tuple, rows), rbm.score_samples(rows)))
    expected = []
    for row in rows:
        total = 0.0
        for f, k in enumerate(LEVELS):
            options = [tuple(row[:f]) + (level,) + tuple(row[f + 1 :]) for level in range(k)]
            total += log_p[tuple(row)] - logsumexp([log_p[o] for o in options])
        expected.append(total)
    np.testing.assert_allclose(rbm.pseudo_log_likelihood(rows), expected, atol=1e-10)


def test_states_are_the_valid_rows_only():
    units = CategoricalVisible(LEVELS)
    assert units.n_states(sum(LEVELS)) == 12
    _, one_hot = valid_rows()
    np.testing.assert_array_equal(units.states(0, 12, 7), one_hot)
    np.testing.assert_array_equal(units.states(5, 9, 7), one_hot[5:9])


def test_gradient_matches_the_exact_log_likelihood_gradient(suite_seed):
    # The data-minus-model statistics of the unit math, with the negative
    # phase from chains of the model, against the exact gradient of the mean
    # log-likelihood (data statistics minus the model's, by enumeration).
    rbm = tiny_model(3, suite_seed, scale=0.5)
    log_w, V, H = joint_log_weights(rbm)
    rng = np.random.default_rng(suite_seed)
    rows, one_hot = valid_rows()
    data = one_hot[rng.integers(0, 12, 40)]
    p_h_data = 1 / (1 + np.exp(-(data @ rbm.components_.T + rbm.intercept_hidden_)))
    joint = softmax(log_w.ravel()).reshape(log_w.shape)
    exact_w = p_h_data.T @ data / len(data) - H.T @ joint.T @ V
    # the same from the model's own samples, 4000 chains of 50 steps
    n_chains = 4000
    samples = rbm._validate_X(rbm.sample(n_chains, n_steps=50, random_state=suite_seed),
                              reset=False)
    bk = make_backend(None, np.float64)
    layer = rbm._layer(bk)
    grads = layer.units.gradients(
        bk, layer.params, data, p_h_data, samples, layer.mean_hidden(samples)
    )
    # each entry of the chain term is a mean of n_chains values in [0, 1]:
    # standard error at most 0.5 / sqrt(n_chains); five of them
    np.testing.assert_allclose(grads["W"], exact_w, atol=5 * 0.5 / np.sqrt(n_chains))
    exact_a = data.mean(axis=0) - joint.sum(axis=1) @ V
    np.testing.assert_allclose(grads["a"], exact_a, atol=5 * 0.5 / np.sqrt(n_chains))


def test_long_chains_reproduce_the_exact_distribution(suite_seed):
    rbm = tiny_model(3, suite_seed)
    log_w, _, _ = joint_log_weights(rbm)
    p_rows = softmax(logsumexp(log_w, axis=1))
    rows, _ = valid_rows()
    index = {tuple(r): i for i, r in enumerate(rows)}
    for method in ("gibbs", "pt"):
        samples = rbm.sample(3000, n_steps=40, random_state=suite_seed, method=method)
        counts = np.bincount([index[tuple(s)] for s in samples], minlength=12)
        # a wrong sampler is rejected by this test: a p-value of 1e-4 is a
        # false alarm once in 10,000 runs
        assert chisquare(counts, p_rows * counts.sum()).pvalue > 1e-4, method
        assert chisquare(counts, np.full(12, counts.sum() / 12)).pvalue < 1e-4


def test_ais_brackets_the_exact_log_partition(suite_seed):
    rbm = tiny_model(4, suite_seed, scale=1.0)
    exact = rbm.estimate_log_partition(method="exact")
    rbm.estimate_log_partition(method="ais", n_chains=200, n_betas=2000,
                               random_state=suite_seed)
    estimate = rbm.log_partition_estimate_
    assert estimate.lower <= exact <= estimate.upper, (estimate, exact)


def two_profiles(seed, n_rows=400):
    """Rows of 5 features with 3 levels: one of two profiles, each entry resampled w.p. 0.1."""
    rng = np.random.default_rng(seed)
    profiles = np.array([[0, 1, 2, 0, 1], [2, 0, 1, 2, 2]])
    rows = profiles[rng.integers(0, 2, n_rows)]
    noise = rng.random(rows.shape) < 0.1
    return np.where(noise, rng.integers(0, 3, rows.shape), rows)


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("method", ["cd", "pcd", "fpcd", "pt"])
def test_learns_more_than_independent_categoricals(suite_seed, method, centered):
    X_train, X_test = two_profiles(suite_seed), two_profiles(suite_seed + 100, 200)
    rbm = CategoricalRBM(n_components=4, n_iter=30, learning_rate=0.1, method=method,
                         centered=centered, random_state=suite_seed).fit(X_train)
    # the product of the training marginals, smoothed as the model's biases are
    marginal = 0.0
    for f in range(X_train.shape[1]):
        freq = (np.bincount(X_train[:, f], minlength=3) + 0.01) / (len(X_train) + 0.03)
        marginal += np.log(freq[X_test[:, f]]).mean()
    # The profiles carry about 2 nats a row over the marginals (each row's
    # five entries agree on a profile); a model that learned nothing scores
    # the marginals, up to a few hundredths.  Over seeds 0-7 PCD gained
    # 1.74-2.01 nats (mean 1.83, sd 0.10), and over seeds 0-3 every method,
    # centered or not, 1.58-1.95; the bar of 0.7 is nine sd below the mean.
    assert rbm.score(X_test) > marginal + 0.7, (rbm.score(X_test), marginal)
    samples = rbm.sample(200, n_steps=50, random_state=suite_seed)
    assert samples.shape == (200, 5) and set(np.unique(samples)) <= {0, 1, 2}


def test_categories_like_scikit_learn_encoders(suite_seed):
    X = np.array([["red", "S"], ["blue", "M"], ["red", "L"], ["green", "M"]] * 10, dtype=object)
    rbm = CategoricalRBM(n_components=2, n_iter=2, random_state=suite_seed).fit(X)
    assert [list(c) for c in rbm.categories_] == [["blue", "green", "red"], ["L", "M", "S"]]
    assert rbm.components_.shape == (2, 6) and rbm.n_features_in_ == 2
    sampled = rbm.sample(5, random_state=0)
    assert set(sampled[:, 0]) <= {"blue", "green", "red"}
    with pytest.raises(ValueError, match="unknown categories.*handle_unknown='ignore'"):
        rbm.transform([["purple", "S"]])
    ignoring = CategoricalRBM(n_components=2, n_iter=2, handle_unknown="ignore",
                              random_state=0).fit(X)
    assert ignoring.transform([["purple", "S"]]).shape == (1, 2)
    assert ignoring.score_samples([["purple", "S"], ["red", "S"]])[0] == -np.inf
    # given categories, including one never seen
    given = CategoricalRBM(n_components=2, n_iter=2, categories=[
        ["blue", "green", "red", "purple"], ["S", "M", "L"]], random_state=0).fit(X)
    assert given.components_.shape == (2, 7)
    assert np.isfinite(given.score_samples([["purple", "L"]])).all()


def test_pandas_categoricals_keep_their_declared_levels():
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({
        "size": pandas.Categorical(["S", "M", "S", "M"] * 5, categories=["S", "M", "L"]),
        "count": [0, 1, 2, 1] * 5,
    })
    rbm = CategoricalRBM(n_components=2, n_iter=2, random_state=0).fit(frame)
    assert list(rbm.categories_[0]) == ["S", "M", "L"]
    assert list(rbm.categories_[1]) == [0, 1, 2]
    assert list(rbm.feature_names_in_) == ["size", "count"]
    assert rbm.transform(frame).shape == (20, 2)


def test_conditional_sampling_matches_the_exact_conditional(suite_seed):
    rbm = tiny_model(3, suite_seed)
    log_w, _, _ = joint_log_weights(rbm)
    log_p = logsumexp(log_w, axis=1)
    rows, _ = valid_rows()
    # feature 1 (3 levels) missing, features 0 and 2 observed as 1 and 0
    given = (rows[:, 0] == 1) & (rows[:, 2] == 0)
    exact = softmax(log_p[given])
    query = np.array([[1.0, np.nan, 0.0]])
    draws = rbm.conditional_sample(query, n_samples=3000, n_steps=30, random_state=suite_seed)
    assert np.all(draws[:, 0, 0] == 1) and np.all(draws[:, 0, 2] == 0)
    counts = np.bincount(draws[:, 0, 1].astype(int), minlength=3)
    assert chisquare(counts, exact * counts.sum()).pvalue > 1e-4
    mean = rbm.conditional_mean(query, n_steps=2000, burn_in=20, random_state=suite_seed)
    group = rbm._units.groups[1]
    # Rao-Blackwellised means of 2000 correlated steps: well inside 0.05
    np.testing.assert_allclose(mean[0, group], exact, atol=0.05)


def test_bad_input_names_the_fix_and_leaves_the_model_as_it_was(suite_seed):
    X = two_profiles(suite_seed, 60)
    rbm = CategoricalRBM(n_components=2, n_iter=1, random_state=0).fit(X)
    before = rbm.components_.copy()
    with pytest.raises(ValueError, match="NaN"):
        rbm.fit(np.where(X == 0, np.nan, X))
    with pytest.raises(TypeError, match="sparse"):
        import scipy.sparse as sp

        rbm.fit(sp.csr_matrix(X))
    with pytest.raises(ValueError, match="one list per column"):
        CategoricalRBM(categories=[[0, 1, 2]]).fit(X)
    np.testing.assert_array_equal(rbm.components_, before)
    assert rbm.n_features_in_ == 5


def test_one_hot_bernoulli_rbm_wastes_probability_on_invalid_rows(suite_seed):
    # The BernoulliRBM on the one-hot encoding gives probability to rows
    # with several levels of a feature on (or none); the categorical model
    # gives all of it to valid rows: over every valid row its probabilities
    # sum to 1, the Bernoulli model's to less.
    X = two_profiles(suite_seed, 300)[:, :3]
    rows, one_hot = valid_rows((3, 3, 3))
    categorical = CategoricalRBM(n_components=3, n_iter=10, random_state=0).fit(X)
    encoded = np.hstack([np.eye(3)[X[:, f]] for f in range(3)])
    bernoulli = BernoulliRBM(n_components=3, n_iter=10, random_state=0).fit(encoded)
    assert np.exp(logsumexp(categorical.score_samples(rows))) == pytest.approx(1.0)
    assert np.exp(logsumexp(bernoulli.score_samples(one_hot))) < 0.99


def test_a_dbn_takes_a_table_of_categories(suite_seed):
    X_train, X_test = two_profiles(suite_seed), two_profiles(suite_seed + 100, 200)
    dbn = DBN(hidden_layer_sizes=(8, 4), visible_units="categorical", n_iter=20,
              random_state=suite_seed).fit(X_train)
    assert isinstance(dbn.rbms_[0], CategoricalRBM)
    assert dbn.transform(X_test).shape == (200, 4)
    # rows out are rows of levels
    for rows in (dbn.sample(20, n_steps=20, random_state=0), dbn.gibbs(X_test[:20]),
                 dbn.inverse_transform(dbn.transform(X_test[:20]))):
        assert rows.shape == (20, 5) and set(np.unique(rows)) <= {0, 1, 2}
    # the bound of a one-layer stack is its RBM's exact log-likelihood;
    # two layers bound the same rows from below by a finite amount
    single = DBN(hidden_layer_sizes=(8,), visible_units="categorical", n_iter=20,
                 random_state=suite_seed).fit(X_train)
    np.testing.assert_allclose(single.score_samples(X_test), single.rbms_[0].score_samples(X_test))
    assert np.isfinite(dbn.score(X_test))
    strings = np.array([["a", "b"], ["b", "a"]] * 20, dtype=object)
    small = DBN(hidden_layer_sizes=(3, 2), visible_units="categorical", n_iter=2,
                random_state=0).fit(strings)
    assert set(small.sample(4, random_state=0).ravel()) <= {"a", "b"}


def test_numpy_and_torch_agree(suite_seed):
    pytest.importorskip("torch")
    rbm = tiny_model(3, suite_seed)
    rows, _ = valid_rows()
    expected = (rbm.free_energy(rows), rbm.estimate_log_partition(method="exact"),
                rbm.level_probabilities(rbm.transform(rows)))
    rbm.set_params(device="cpu")
    np.testing.assert_allclose(rbm.free_energy(rows), expected[0], atol=1e-10)
    assert rbm.estimate_log_partition(method="exact") == pytest.approx(expected[1], abs=1e-10)
    np.testing.assert_allclose(rbm.level_probabilities(rbm.transform(rows)), expected[2],
                               atol=1e-10)
    samples = rbm.sample(50, n_steps=5, random_state=0)
    assert samples.shape == (50, 3) and samples[:, 1].max() <= 2


def test_warm_start_refuses_another_width_or_other_categories(suite_seed):
    X = two_profiles(suite_seed, 60)
    rbm = CategoricalRBM(n_components=2, n_iter=1, warm_start=True, random_state=0).fit(X)
    shape = rbm.components_.shape
    for other in (X[:, :-1], np.hstack([X, X[:, :1]])):
        with pytest.raises(ValueError, match="features, but the fitted model.*warm_start=False"):
            rbm.fit(other)
        assert rbm.n_features_in_ == X.shape[1] and rbm.components_.shape == shape
    rbm.set_params(categories=[[0, 1, 2, 3]] * X.shape[1])
    with pytest.raises(ValueError, match="categories differs from the fitted categories_"):
        rbm.fit(X)
    # handle_unknown="ignore" is for scoring: training rows must hold known levels
    rbm.set_params(categories="auto", handle_unknown="ignore")
    with pytest.raises(ValueError, match="unknown categories.*warm_start=False"):
        rbm.fit(np.where(X == 0, 7, X))
    assert rbm.sample(2, random_state=0).shape == (2, X.shape[1])


@pytest.mark.parametrize("marker", [pd.NA, None, np.nan])
def test_pandas_missing_markers_are_missing_entries_not_levels(suite_seed, marker):
    rng = np.random.default_rng(suite_seed)
    levels = np.array(["x", "y", "z"])
    table = pd.DataFrame({
        "letter": pd.array(levels[rng.integers(0, 3, 80)], dtype="string"),
        "count": pd.array(rng.integers(0, 2, 80), dtype="Int64"),
    })  # fmt: skip
    rbm = CategoricalRBM(n_components=3, n_iter=5, handle_unknown="ignore", random_state=0)
    rbm.fit(table)
    assert [list(c) for c in rbm.categories_] == [["x", "y", "z"], [0, 1]]
    gaps = table.head(4).astype(object)
    gaps.iloc[0, 0] = marker
    gaps.iloc[1, 1] = marker
    with pytest.raises(ValueError, match="missing values.*conditional_sample"):
        rbm.fit(gaps)
    probabilities = rbm.conditional_mean(gaps, n_steps=50, random_state=0)
    for group in rbm._units.groups:
        np.testing.assert_allclose(probabilities[:, group].sum(axis=1), 1.0)
    draws = rbm.conditional_sample(gaps, n_samples=200, n_steps=5, random_state=0)
    # the missing letter is drawn among its levels, not always the first one
    assert set(draws[:, 0, 0]) == {"x", "y", "z"}
    assert set(draws[:, 1, 1]) == {0, 1}
