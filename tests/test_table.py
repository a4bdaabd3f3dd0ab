"""TableRBM: known answers by enumeration on a tiny mixed model, and tables in and out.

The tiny model has one binary column, one categorical column of three
levels and one real column, and three hidden units.  Summing the hidden
units and the discrete columns out and integrating the real one in closed
form gives its exact conditionals, free energy, log Z and distribution,
which the estimator's must match.
"""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logsumexp, softmax
from scipy.stats import multivariate_normal
from sklearn.base import clone

from model_state import assert_rejected_without_change
from skebm import DBN, TableRBM
from skebm._backend import make_backend
from tiny_models import ais_interval

LEVELS = np.array(["a", "b", "c"], dtype=object)


def tiny_table(seed, n_rows=300):
    rng = np.random.default_rng(seed)
    size = rng.normal(size=n_rows)
    return pd.DataFrame({
        "flag": size + rng.normal(scale=0.5, size=n_rows) > 0,
        "level": pd.Categorical(rng.choice(LEVELS, size=n_rows), categories=LEVELS),
        "size": size,
    })


@pytest.fixture
def tiny(suite_seed):
    """A fitted 3-hidden-unit model with random parameters set by hand (no whitening)."""
    table = tiny_table(suite_seed)
    rbm = TableRBM(n_components=3, n_iter=0, whiten=False, random_state=suite_seed).fit(table)
    rng = np.random.default_rng(suite_seed + 1)
    rbm.components_ = rng.normal(scale=0.8, size=(3, 5))
    rbm.intercept_hidden_ = rng.normal(scale=0.5, size=3)
    rbm.intercept_visible_ = rng.normal(scale=0.5, size=5)
    rbm.sigma_ = np.array([0.7])
    return rbm, table


def by_hand(rbm):
    """Weights split by column, and the exact log Z of the model by enumeration."""
    W, a, b, s = rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_, rbm.sigma_[0]
    parts = {"flag": (W[:, 0], a[0]), "level": (W[:, 1:4], a[1:4]), "size": (W[:, 4], a[4])}
    log_terms = []
    for h in itertools.product((0.0, 1.0), repeat=3):
        h = np.array(h)
        w_flag, a_flag = parts["flag"]
        w_level, a_level = parts["level"]
        w_size, a_size = parts["size"]
        mean = a_size + h @ w_size
        log_terms.append(
            h @ b
            + np.logaddexp(0.0, a_flag + h @ w_flag)
            + logsumexp(a_level + h @ w_level)
            + 0.5 * np.log(2 * np.pi * s**2) + (mean**2 - a_size**2) / (2 * s**2)
        )
    return parts, logsumexp(log_terms)


def visible_of(table):
    """The visible rows of the tiny table: flag, one-hot level, size."""
    level = (table["level"].to_numpy(dtype=object)[:, None] == LEVELS).astype(float)
    return np.column_stack([table["flag"].astype(float), level, table["size"]])


def test_hidden_conditional_free_energy_and_likelihood(tiny):
    rbm, table = tiny
    s = rbm.sigma_[0]
    v = visible_of(table[:20])
    scaled = v.copy()
    scaled[:, 4] /= s**2
    activation = rbm.intercept_hidden_ + scaled @ rbm.components_.T
    np.testing.assert_allclose(rbm.transform(table[:20]), expit(activation), rtol=1e-10)
    energy = -v[:, :4] @ rbm.intercept_visible_[:4] + (v[:, 4] - rbm.intercept_visible_[4]) ** 2 / (
        2 * s**2
    )
    free_energy = energy - np.logaddexp(0.0, activation).sum(axis=1)
    np.testing.assert_allclose(rbm.free_energy(table[:20]), free_energy, rtol=1e-10)
    _, log_z = by_hand(rbm)
    assert rbm.estimate_log_partition("exact") == pytest.approx(log_z, rel=1e-12)
    np.testing.assert_allclose(rbm.score_samples(table[:20]), -free_energy - log_z, rtol=1e-10)
    # AIS lands within five of its standard errors of the exact value
    rbm.estimate_log_partition("ais", n_chains=200, n_betas=2000, reverse=False, random_state=0)
    low, high = ais_interval(rbm.log_partition_estimate_, 5)
    assert low <= log_z <= high


def test_visible_conditionals(tiny):
    rbm, _ = tiny
    bk = make_backend(None, np.float64, seed=0)
    layer = rbm._layer(bk)
    h = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    mean = layer.mean_visible(h)
    parts, _ = by_hand(rbm)
    np.testing.assert_allclose(mean[:, 0], expit(parts["flag"][1] + h @ parts["flag"][0]))
    np.testing.assert_allclose(
        mean[:, 1:4], softmax(parts["level"][1] + h @ parts["level"][0], axis=1)
    )
    np.testing.assert_allclose(mean[:, 4], parts["size"][1] + h @ parts["size"][0])


def test_long_chains_match_the_exact_distribution(tiny):
    rbm, _ = tiny
    parts, log_z = by_hand(rbm)
    s = rbm.sigma_[0]
    # exact p(flag, level) and E[size | flag, level] by enumeration of h
    probability = np.zeros((2, 3))
    size_sum = np.zeros((2, 3))
    for h in itertools.product((0.0, 1.0), repeat=3):
        h = np.array(h)
        mean = parts["size"][1] + h @ parts["size"][0]
        gauss = 0.5 * np.log(2 * np.pi * s**2) + (mean**2 - parts["size"][1] ** 2) / (2 * s**2)
        for flag, level in itertools.product(range(2), range(3)):
            log_w = (
                h @ rbm.intercept_hidden_ + flag * (parts["flag"][1] + h @ parts["flag"][0])
                + parts["level"][1][level] + h @ parts["level"][0][:, level] + gauss
            )
            weight = np.exp(log_w - log_z)
            probability[flag, level] += weight
            size_sum[flag, level] += weight * mean
    assert probability.sum() == pytest.approx(1.0)
    n = 20000
    draws = rbm.sample(n, n_steps=60, random_state=0)
    flags = draws["flag"].to_numpy().astype(int)
    levels = pd.Categorical(draws["level"], categories=LEVELS).codes
    counts = np.zeros((2, 3))
    np.add.at(counts, (flags, levels), 1)
    # every cell within 5 multinomial standard errors
    spread = np.sqrt(probability * (1 - probability) / n)
    assert np.all(np.abs(counts / n - probability) < 5 * spread + 1e-3)
    expected_size = size_sum.sum()
    size_sd = np.sqrt(draws["size"].var() / n)
    assert abs(draws["size"].mean() - expected_size) < 5 * size_sd


def test_tables_in_and_out(suite_seed):
    table = tiny_table(suite_seed)
    table["count"] = np.arange(len(table)) % 2  # integers 0/1: binary
    table["name"] = np.where(table["size"] > 0, "up", "down")  # strings: categorical
    rbm = TableRBM(n_components=4, n_iter=3, random_state=suite_seed).fit(table)
    assert rbm.column_types_ == ["binary", "categorical", "gaussian", "binary", "categorical"]
    drawn = rbm.sample(7, random_state=0)
    assert list(drawn.columns) == list(table.columns)
    assert list(drawn.dtypes) == list(table.dtypes)
    assert set(drawn["level"]) <= set(LEVELS) and set(drawn["count"]) <= {0, 1}
    holes = table[:5].copy()
    holes["size"] = holes["size"].where(np.arange(5) % 2 == 0)
    holes["level"] = holes["level"].where(np.arange(5) % 2 == 1)
    filled = rbm.conditional_mean(holes, random_state=0)
    assert not filled.isna().any().any()
    observed = holes.notna()
    pd.testing.assert_frame_equal(filled[observed["size"]][["size"]],
                                  table[:5][observed["size"]][["size"]])
    draws = rbm.conditional_sample(holes, n_samples=3, random_state=0)
    assert len(draws) == 3 and all(list(d.dtypes) == list(table.dtypes) for d in draws)
    # given types override the inference; a DBN takes the table too
    given = TableRBM(n_components=2, n_iter=1, column_types={"count": "gaussian"}).fit(table)
    assert given.column_types_[3] == "gaussian"
    assert clone(given).get_params()["column_types"] == {"count": "gaussian"}
    dbn = DBN((4, 2), visible_units="table", n_iter=1, random_state=0).fit(table)
    assert list(dbn.sample(2, random_state=0).columns) == list(table.columns)


def test_bad_tables_are_refused_without_change(suite_seed):
    table = tiny_table(suite_seed)
    rbm = TableRBM(n_components=2, n_iter=1, random_state=suite_seed).fit(table)
    gaps = table.copy()
    gaps.loc[0, "size"] = np.nan
    assert_rejected_without_change(rbm, lambda: rbm.fit(gaps), "missing value in column 'size'")
    unknown = table[:3].copy()
    unknown["level"] = ["a", "b", "z"]
    assert_rejected_without_change(rbm, lambda: rbm.transform(unknown), "unknown categories")
    words = table.copy()
    words["size"] = "big"
    rbm.set_params(column_types=["binary", "categorical", "gaussian"])
    assert_rejected_without_change(rbm, lambda: rbm.fit(words), "not numbers")
    rbm.set_params(column_types=["binary", "gaussian"])
    assert_rejected_without_change(rbm, lambda: rbm.fit(table), "column_types has 2 entries")


def test_whitened_real_columns_zero_weights_are_the_gaussian_of_the_table(suite_seed):
    rng = np.random.default_rng(suite_seed + 100)  # not tiny_table's stream
    table = tiny_table(suite_seed)
    table["weight"] = 3.0 * table["size"] + rng.normal(scale=0.5, size=len(table))
    rbm = TableRBM(n_components=3, n_iter=0, random_state=suite_seed).fit(table)
    rbm.components_[:] = 0.0
    rbm.intercept_visible_[-2:] = 0.0
    rbm.sigma_[:] = 1.0
    real = table[["size", "weight"]].to_numpy()
    whitening = rbm.whitening_
    covariance = (whitening.eigenvectors * whitening.eigenvalues) @ whitening.eigenvectors.T
    # the ML covariance, floored by a millionth of the mean variance
    np.testing.assert_allclose(covariance, np.cov(real.T, bias=True), atol=1e-4)
    a = rbm.intercept_visible_
    # W = 0: independent columns, the real ones the ML Gaussian of the two
    expected = (
        np.where(table["flag"], a[0], 0.0) - np.logaddexp(0.0, a[0])
        + a[1:4][pd.Categorical(table["level"], categories=LEVELS).codes] - logsumexp(a[1:4])
        + multivariate_normal(real.mean(axis=0), covariance).logpdf(real)
    )
    np.testing.assert_allclose(rbm.score_samples(table), expected, atol=1e-5)
    # the conditional mean of a missing real entry is the Gaussian regression on the other
    holes = table[:3].copy()
    holes["weight"] = np.nan
    filled = rbm.conditional_mean(holes, n_steps=3, burn_in=0, random_state=0)
    slope = covariance[0, 1] / covariance[0, 0]
    np.testing.assert_allclose(
        filled["weight"], real[:, 1].mean() + slope * (real[:3, 0] - real[:, 0].mean()), atol=1e-5
    )
