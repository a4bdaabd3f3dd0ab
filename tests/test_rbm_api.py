"""The BernoulliRBM's estimator contract: drop-in for sklearn's, streaming, dtypes, errors."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neural_network import BernoulliRBM as SklearnBernoulliRBM
from sklearn.pipeline import Pipeline

from skebm import BernoulliRBM


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    prototypes = rng.random((3, 12)) < 0.5
    return (prototypes[rng.integers(0, 3, 90)] ^ (rng.random((90, 12)) < 0.1)).astype(float)


def fitted_state(rbm):
    return {
        key: (value.copy() if isinstance(value, np.ndarray) else value)
        for key, value in vars(rbm).items()
        if key.endswith("_") and not key.endswith("__") and key != "random_state_"
    }


def assert_same_state(before, rbm):
    after = fitted_state(rbm)
    assert before.keys() == after.keys()
    for key in before:
        if isinstance(before[key], np.ndarray):
            np.testing.assert_array_equal(before[key], after[key], err_msg=key)
        else:
            assert before[key] == after[key], key


def test_drop_in_parameters_and_attributes_match_sklearn(X):
    ours = BernoulliRBM().get_params()
    for name, default in SklearnBernoulliRBM().get_params().items():
        assert ours[name] == default, name
    rbm = BernoulliRBM(n_components=5, n_iter=2, random_state=0).fit(X)
    assert rbm.components_.shape == (5, 12)
    assert rbm.intercept_hidden_.shape == (5,)
    assert rbm.intercept_visible_.shape == (12,)
    assert rbm.h_samples_.shape == (10, 5)  # n_chains defaults to batch_size
    assert rbm.n_iter_ == 2


def test_fit_is_reproducible_and_seeds_matter(X):
    a = BernoulliRBM(n_components=5, n_iter=3, random_state=1).fit(X)
    b = BernoulliRBM(n_components=5, n_iter=3, random_state=1).fit(X)
    c = BernoulliRBM(n_components=5, n_iter=3, random_state=2).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)
    assert not np.allclose(a.components_, c.components_)


def test_partial_fit_returns_self_keeps_chains_and_honours_batch_size(X):
    class CountingRBM(BernoulliRBM):
        steps = 0

        def _trainer(self, **kwargs):
            trainer = super()._trainer(**kwargs)
            train_step = trainer.train_step

            def counted_step(*args, **kwargs):
                type(self).steps += 1
                return train_step(*args, **kwargs)

            trainer.train_step = counted_step
            return trainer

    rbm = CountingRBM(n_components=4, batch_size=10, random_state=0)
    assert rbm.partial_fit(X[:25]) is rbm
    assert CountingRBM.steps == 3  # 10 + 10 + 5 rows
    chains = rbm.h_samples_.copy()
    rbm.partial_fit(X[25:50])
    assert rbm.h_samples_.shape == chains.shape
    assert rbm.n_samples_seen_ == 50
    np.testing.assert_allclose(rbm.feature_mean_, X[:50].mean(axis=0))
    np.testing.assert_allclose(rbm.feature_var_, X[:50].var(axis=0))


def test_short_last_batch_takes_a_proportional_step(X):
    row = X[:1]
    steps = []
    for batch_size in (1, 10):
        rbm = BernoulliRBM(
            n_components=4, method="cd", n_chains=1, batch_size=batch_size, random_state=0
        ).set_params(n_iter=0)
        rbm.fit(row)
        # the one-row base rate saturates the visible biases; reset them so the
        # reconstruction differs from the data and the step is not zero
        rbm.intercept_visible_ = np.zeros(12)
        start = rbm.components_.copy()
        rbm.partial_fit(row)
        steps.append(rbm.components_ - start)
    assert np.abs(steps[0]).max() > 0
    np.testing.assert_allclose(steps[1], steps[0] / 10, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(X, dtype):
    rbm = BernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(X.astype(dtype))
    assert rbm.components_.dtype == dtype
    assert rbm.transform(X.astype(dtype)).dtype == dtype
    assert rbm.gibbs(X.astype(dtype)).dtype == dtype


def test_sparse_input_gives_the_dense_answers(X):
    dense = BernoulliRBM(n_components=4, n_iter=3, random_state=0).fit(X)
    sparse = BernoulliRBM(n_components=4, n_iter=3, random_state=0).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(sparse.components_, dense.components_, atol=1e-12)
    np.testing.assert_allclose(dense.transform(sp.csr_matrix(X)), dense.transform(X))
    np.testing.assert_allclose(dense.score_samples(sp.csr_matrix(X)), dense.score_samples(X))


def test_pandas_in_and_set_output_pandas_out(X):
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(12)])
    rbm = BernoulliRBM(n_components=3, n_iter=1, random_state=0).set_output(transform="pandas")
    out = rbm.fit(frame).transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["bernoullirbm0", "bernoullirbm1", "bernoullirbm2"]
    assert list(rbm.feature_names_in_) == list(frame.columns)


def test_history_and_free_energy_gap(X):
    rbm = BernoulliRBM(
        n_components=20, n_iter=5, validation_fraction=0.2, random_state=0
    ).fit(X)
    assert [r["epoch"] for r in rbm.history_] == [1, 2, 3, 4, 5]
    for record in rbm.history_:
        assert {"time", "reconstruction_error", "free_energy", "free_energy_gap"} <= record.keys()
        assert record["free_energy_gap"] == pytest.approx(
            record["validation_free_energy"] - record["free_energy"]
        )
    assert rbm.n_samples_seen_ == 72  # 18 rows held out


def test_early_stopping_stops_an_overfitting_model():
    rng = np.random.default_rng(0)
    X = (rng.random((60, 20)) < 0.5).astype(float)  # pure noise: any fit is over-fitting
    rbm = BernoulliRBM(
        n_components=50, learning_rate=0.1, n_iter=200, validation_fraction=0.3,
        early_stopping=True, n_iter_no_change=3, random_state=0,
    ).fit(X)
    assert rbm.n_iter_ < 200
    assert len(rbm.history_) == rbm.n_iter_


def test_early_stopping_needs_held_out_data(X):
    with pytest.raises(ValueError, match="validation_fraction"):
        BernoulliRBM(early_stopping=True).fit(X)


def test_verbose_prints_one_line_per_epoch(X, capsys):
    BernoulliRBM(n_components=3, n_iter=2, verbose=1, random_state=0).fit(X)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("[BernoulliRBM] epoch 1/2")


def test_out_of_range_values_warn_once_per_call(X):
    rbm = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rbm.transform(X * 3)
    assert [w.category for w in caught] == [UserWarning]
    assert "MinMaxScaler" in str(caught[0].message)


def test_sample_and_gibbs(X):
    rbm = BernoulliRBM(n_components=5, n_iter=3, random_state=0).fit(X)
    samples = rbm.sample(7, n_steps=20, random_state=0)
    assert samples.shape == (7, 12)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    np.testing.assert_array_equal(samples, rbm.sample(7, n_steps=20, random_state=0))
    assert rbm.gibbs(X).shape == X.shape


def test_score_is_mean_of_deterministic_score_samples(X):
    rbm = BernoulliRBM(n_components=5, n_iter=3, random_state=0).fit(X)
    first = rbm.score_samples(X)
    np.testing.assert_array_equal(first, rbm.score_samples(X))
    assert rbm.score(X) == pytest.approx(first.mean())
    np.testing.assert_allclose(rbm.score_samples(X[5:9]), first[5:9])


def test_log_partition_cache_follows_the_weights(X):
    rbm = BernoulliRBM(n_components=5, n_iter=3, random_state=0).fit(X)
    before = rbm.score(X)
    rbm.components_ = rbm.components_ * 2  # edited by hand: the cache must notice
    after = rbm.score(X)
    assert after != pytest.approx(before)
    V = np.array([[int(b) for b in np.binary_repr(i, 12)] for i in range(2**12)], float)
    assert np.exp(rbm.score_samples(V)).sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([[0.0, np.nan]]), "NaN"),
        (np.array([[0.0, np.inf]]), "infinity"),
        (np.array([["a", "b"]]), "could not convert|dtype"),
        (np.empty((0, 12)), "0 sample"),
        (np.zeros(12), "2D array"),
    ],
)
def test_bad_input_is_rejected_without_changing_the_model(X, bad, message):
    rbm = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X)
    before = fitted_state(rbm)
    for method in (rbm.fit, rbm.partial_fit, rbm.transform, rbm.score_samples):
        with pytest.raises(ValueError, match=message):
            method(bad)
        assert_same_state(before, rbm)


def test_wrong_number_of_features_is_named(X):
    rbm = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X)
    before = fitted_state(rbm)
    for method in (rbm.partial_fit, rbm.transform, rbm.gibbs, rbm.free_energy):
        with pytest.raises(ValueError, match="X has 5 features, but BernoulliRBM is expecting 12"):
            method(X[:, :5])
    assert_same_state(before, rbm)
    with pytest.raises(ValueError, match="H has 2 columns"):
        rbm.inverse_transform(np.zeros((1, 2)))


@pytest.mark.parametrize(
    "params",
    [
        {"n_components": 0},
        {"learning_rate": -1.0},
        {"method": "bogus"},
        {"momentum": 1.5},
        {"batch_size": 2.5},
        {"validation_fraction": 1.0},
    ],
)
def test_invalid_parameters_name_the_parameter(X, params):
    rbm = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X)
    before = fitted_state(rbm)
    name = next(iter(params))
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        rbm.set_params(**params).fit(X)
    assert_same_state(before, rbm)


def test_clone_and_pickle(X):
    rbm = BernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(X)
    assert clone(rbm).get_params() == rbm.get_params()
    restored = pickle.loads(pickle.dumps(rbm))
    np.testing.assert_array_equal(restored.transform(X), rbm.transform(X))
    np.testing.assert_array_equal(restored.score_samples(X), rbm.score_samples(X))


def test_grid_search_on_pipeline_and_on_the_rbm_alone(X):
    y = (X[:, 0] > 0.5).astype(int)
    pipe = Pipeline(
        [("rbm", BernoulliRBM(n_iter=3, random_state=0)), ("clf", LogisticRegression())]
    )
    search = GridSearchCV(pipe, {"rbm__n_components": [2, 6]}, cv=3).fit(X, y)
    assert search.best_params_["rbm__n_components"] in (2, 6)
    # no scorer: the RBM's own score, the held-out log-likelihood, decides.
    # Checked exactly, split by split, rather than by which model wins: the
    # winner of two close models depends on the seed.
    cv = KFold(3)
    alone = GridSearchCV(
        BernoulliRBM(n_iter=10, random_state=0), {"n_components": [1, 6]}, cv=cv
    ).fit(X)
    for index, params in enumerate(alone.cv_results_["params"]):
        for split, (train, test) in enumerate(cv.split(X)):
            model = BernoulliRBM(n_iter=10, random_state=0, **params).fit(X[train])
            assert alone.cv_results_[f"split{split}_test_score"][index] == pytest.approx(
                model.score(X[test]), abs=1e-12
            )
    scores = alone.cv_results_["mean_test_score"]
    assert alone.best_params_ == alone.cv_results_["params"][int(np.argmax(scores))]
    assert np.all(scores < 0)


@pytest.mark.parametrize("name", ["BernoulliRBM", "GaussianBernoulliRBM", "SpinRBM", "CategoricalRBM"])
def test_every_fitted_attribute_is_documented_once(name):
    import re

    import skebm

    cls = getattr(skebm, name)
    X = np.random.default_rng(0).integers(0, 2, size=(30, 4)).astype(float)
    if name == "SpinRBM":
        X = 2 * X - 1
    rbm = cls(n_components=3, n_iter=1, random_state=0).fit(X)
    rbm.score_samples(X[:2])  # computes log_partition_ and its estimate
    section = rbm.__doc__.split("Attributes\n    ----------\n")[1].split("See Also")[0]
    documented = [
        name.strip()
        for entry in re.findall(r"(?m)^    (\w[\w, ]*) : ", section)
        for name in entry.split(",")
    ]
    fitted = {key for key in vars(rbm) if key.endswith("_") and not key.startswith("_")}
    assert fitted <= set(documented), fitted - set(documented)
    assert len(documented) == len(set(documented))


@pytest.mark.parametrize("name", ["BernoulliRBM", "GaussianBernoulliRBM", "SpinRBM", "CategoricalRBM"])
def test_every_parameter_is_documented_once_in_signature_order(name):
    import inspect
    import re

    import skebm

    cls = getattr(skebm, name)
    section = cls.__doc__.split("Parameters\n    ----------\n")[1].split("\n    Attributes\n")[0]
    documented = re.findall(r"(?m)^    (\w+) : ", section)
    assert documented == list(inspect.signature(cls).parameters)
    # every declared constraint belongs to a parameter of the signature, and back
    assert set(cls._parameter_constraints) == set(documented)
