"""The sample-quality toolkit against cases whose answer is known."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from skebm import BernoulliRBM, sample_quality
from skebm._sample_quality import FREE_ENERGY_TEST

LOGISTIC = {"logistic": LogisticRegression()}


def test_samples_of_the_data_distribution_are_not_told_apart(suite_seed):
    rng = np.random.default_rng(suite_seed)
    real, samples = rng.normal(size=(600, 4)), rng.normal(size=(300, 4))
    test = sample_quality(samples, real, discriminators=LOGISTIC, random_state=suite_seed)
    test = test.tests["logistic"]
    # 600 pooled predictions: the accuracy's standard error is at most 0.0205
    assert abs(test.accuracy - 0.5) < 4 * 0.0205
    assert abs(test.floor - 0.5) < 4 * 0.0205
    assert test.n_rows == 600 and test.floor_rows == 600
    assert test.interval[0] < test.accuracy < test.interval[1]


def test_samples_of_another_distribution_are_told_apart(suite_seed):
    rng = np.random.default_rng(suite_seed)
    real, samples = rng.normal(size=(600, 3)), rng.normal(loc=1.0, size=(300, 3))
    test = sample_quality(samples, real, discriminators=LOGISTIC, random_state=suite_seed)
    # the Bayes accuracy is Phi(sqrt(3) / 2) = 0.807; 4 standard errors below it
    assert test.tests["logistic"].accuracy > 0.807 - 4 * 0.0205
    assert test.tests["logistic"].interval[0] > test.tests["logistic"].floor_interval[1]


def test_copies_of_training_rows_are_found(suite_seed):
    rng = np.random.default_rng(suite_seed)
    train, real = rng.normal(size=(500, 5)), rng.normal(size=(200, 5))
    copied = sample_quality(train[:200], real, train=train, discriminators=LOGISTIC,
                            floor=False)  # fmt: skip
    assert copied.copies == 1.0 and copied.closer_than_real == 1.0
    assert copied.real_copies == 0.0
    assert copied.sample_distances[0.5] == 0.0 < copied.real_distances[0.01]
    new = sample_quality(rng.normal(size=(200, 5)), real, train=train,
                         discriminators=LOGISTIC, floor=False)  # fmt: skip
    assert new.copies == 0.0
    # about 1% of new rows fall below real rows' 1% quantile; 200 rows, 4 SE
    assert new.closer_than_real < 0.01 + 4 * np.sqrt(0.01 * 0.99 / 200) + 0.02
    assert "copies of training rows: 0.000 of the samples, 0.000" in new.summary()


def _exact_draws(probabilities, states, n, rng):
    return states[rng.choice(len(states), size=n, p=probabilities)]


def test_the_free_energy_test_against_exact_draws(suite_seed):
    rng = np.random.default_rng(suite_seed)
    states = ((np.arange(2**6)[:, None] >> np.arange(6)) & 1).astype(float)
    rbm = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(states)
    weights = np.random.default_rng(1).normal(scale=2.0, size=(3, 6))
    rbm.components_, rbm.intercept_visible_ = weights, np.zeros(6)
    rbm.intercept_hidden_ = -0.5 * weights.sum(axis=1)
    log_p = -rbm.free_energy(states)
    model = np.exp(log_p - log_p.max())
    model /= model.sum()
    samples = _exact_draws(model, states, 300, rng)
    # real rows of the model itself: the free energy tells nothing
    same = sample_quality(samples, _exact_draws(model, states, 600, rng), model=rbm,
                          discriminators={}, random_state=suite_seed)  # fmt: skip
    test = same.tests[FREE_ENERGY_TEST]
    assert abs(test.accuracy - 0.5) < 4 * 0.0205 and abs(test.floor - 0.5) < 4 * 0.0205
    # real rows drawn uniformly: the best threshold on the free energy is
    # known by enumeration; a logistic regression on it must come near it
    uniform = np.full(len(states), 1 / len(states))
    order = np.argsort(log_p)[::-1]
    best = max(0.5 * (model[order[:k]].sum() + uniform[order[k:]].sum())
               for k in range(len(states) + 1))
    assert best > 0.7  # fixed weights: 0.733
    other = sample_quality(samples, _exact_draws(uniform, states, 600, rng), model=rbm,
                           discriminators={}, random_state=suite_seed)  # fmt: skip
    # 0.02 more: the logistic regression puts its threshold where the
    # likelihood is best, which need not be the most accurate one
    assert other.tests[FREE_ENERGY_TEST].accuracy > best - 4 * 0.0205 - 0.02
    assert list(other.tests) == [FREE_ENERGY_TEST]


def test_the_default_discriminators_and_the_summary():
    rng = np.random.default_rng(0)
    quality = sample_quality(rng.random((100, 6)) < 0.5, rng.random((250, 6)) < 0.5)
    assert list(quality.tests) == [
        "logistic regression", "random forest (500 trees)", "histogram gradient boosting",
    ]  # fmt: skip
    assert len(quality.summary().splitlines()) == 3


def test_bad_input_names_the_problem():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="samples have 3 features but real rows 4"):
        sample_quality(rng.random((50, 3)), rng.random((50, 4)))
    with pytest.raises(ValueError, match="too few"):
        sample_quality(rng.random((5, 3)), rng.random((50, 3)))
    with pytest.raises(TypeError, match="free_energy method"):
        sample_quality(rng.random((50, 3)), rng.random((50, 3)), model=LogisticRegression())
    with pytest.raises(NotFittedError):
        sample_quality(rng.random((50, 3)), rng.random((50, 3)), model=BernoulliRBM())
    fitted = BernoulliRBM(n_components=2, n_iter=1).fit(rng.random((20, 4)) < 0.5)
    with pytest.raises(ValueError, match="fitted on 4 features but the samples have 3"):
        sample_quality(rng.random((50, 3)), rng.random((50, 3)), model=fitted)
