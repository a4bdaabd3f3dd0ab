"""RBMImputer: scikit-learn's imputer idiom over clamped RBM sampling."""

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skebm import BernoulliRBM, GaussianBernoulliRBM, RBMImputer


def prototype_rows(seed, n_rows=600, missing_rate=0.3):
    """Binary rows near one of three random 16-bit prototypes, and the same with holes."""
    rng = np.random.default_rng(seed)
    rows = (rng.random((3, 16)) < 0.5)[rng.integers(0, 3, n_rows)]
    X = np.where(rng.random(rows.shape) < 0.05, ~rows, rows).astype(float)
    holes = rng.random(X.shape) < missing_rate
    return X, np.where(holes, np.nan, X), holes


def test_imputer_fills_only_the_missing_entries_and_keeps_the_idiom(suite_seed):
    X, X_missing, holes = prototype_rows(suite_seed, n_rows=200)
    imputer = RBMImputer(visible_units="bernoulli", n_components=8, n_iter=6,
                         add_indicator=True, random_state=suite_seed).fit(X_missing)
    assert isinstance(imputer.rbm_, BernoulliRBM)
    out = imputer.transform(X_missing)
    assert out.shape == (200, 32) and not np.isnan(out).any()
    np.testing.assert_array_equal(out[:, :16][~holes], X[~holes])
    np.testing.assert_array_equal(out[:, 16:], holes.astype(float))
    names = imputer.get_feature_names_out()
    assert list(names[:2]) == ["x0", "x1"] and names[16].startswith("missingindicator")
    # a numeric placeholder works like NaN
    marked = np.where(holes, -1.0, X)
    numeric = RBMImputer(missing_values=-1.0, visible_units="bernoulli", n_components=8,
                         n_iter=6, random_state=suite_seed).fit(marked)
    assert not np.any(numeric.transform(marked) == -1.0)
    # draws are 0/1 where the units are binary, means lie between
    drawn = RBMImputer(visible_units="bernoulli", n_components=8, n_iter=6,
                       sample_posterior=True, random_state=suite_seed).fit_transform(X_missing)
    assert set(np.unique(drawn)) <= {0.0, 1.0}


def test_imputer_learns_the_columns_relations_from_incomplete_rows(suite_seed):
    # The observed bits of a row tell its prototype, and so its missing bits,
    # which the column mean cannot: trained on rows with 30% of their entries
    # missing, the RBM's error on them is far below the mean's.  Over 8 seeds
    # its RMSE was 0.237 +- 0.014 against the mean's 0.431 +- 0.013; the bar
    # of 0.35 is six standard deviations from each.
    X, X_missing, holes = prototype_rows(suite_seed)
    imputer = RBMImputer(visible_units="bernoulli", n_components=8, n_iter=20,
                         learning_rate=0.2, random_state=suite_seed)
    filled = imputer.fit_transform(X_missing)
    mean_filled = SimpleImputer().fit_transform(X_missing)
    rmse = np.sqrt(np.mean((filled[holes] - X[holes]) ** 2))
    mean_rmse = np.sqrt(np.mean((mean_filled[holes] - X[holes]) ** 2))
    assert rmse < 0.35 < mean_rmse, (rmse, mean_rmse)


def test_imputer_in_a_searched_pipeline(suite_seed):
    rng = np.random.default_rng(suite_seed)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    X[rng.random(X.shape) < 0.2] = np.nan
    pipe = make_pipeline(RBMImputer(n_components=4, n_iter=4, n_steps=20, burn_in=5,
                                    random_state=0), LogisticRegression())
    search = GridSearchCV(pipe, {"rbmimputer__n_components": [2, 4]}, cv=2).fit(X, y)
    assert search.best_estimator_.predict(X).shape == (120,)
    imputer = RBMImputer(n_components=4, n_iter=2, n_steps=10, burn_in=2, random_state=0)
    assert isinstance(imputer.fit(X).rbm_, GaussianBernoulliRBM)
    pandas = pytest.importorskip("pandas")
    frame = imputer.set_output(transform="pandas").fit_transform(
        pandas.DataFrame(X, columns=list("abcd"))
    )
    assert list(frame.columns) == list("abcd") and not frame.isna().any().any()


def test_training_epochs_are_split_into_em_rounds(suite_seed):
    X, X_missing, _ = prototype_rows(suite_seed, n_rows=60)
    # more rounds than epochs: one epoch a round, every epoch counted once
    imputer = RBMImputer(visible_units="bernoulli", n_components=4, n_iter=3, em_rounds=10,
                         random_state=suite_seed).fit(X_missing)
    assert imputer.rbm_.n_iter_ == 3
    # the earlier rounds keep the step, the last one decays it
    rounds = RBMImputer(visible_units="bernoulli", n_components=4, n_iter=6, em_rounds=2,
                        random_state=suite_seed).fit(X_missing)
    rates = [record["learning_rate"] for record in rounds.rbm_.history_]
    np.testing.assert_allclose(rates, [0.05, 0.05, 0.05, 0.05, 0.0275, 0.005])
    # complete rows need no redraws: one round, the schedule over all epochs
    complete = RBMImputer(visible_units="bernoulli", n_components=4, n_iter=4,
                          random_state=suite_seed).fit(X)
    rates = [record["learning_rate"] for record in complete.rbm_.history_]
    assert rates[0] == pytest.approx(0.05) and rates[-1] == pytest.approx(0.005)
    assert RBMImputer(n_iter=0, n_components=2).fit(X_missing).rbm_.n_iter_ == 0


def test_imputer_fills_spins_and_categories(suite_seed):
    # Spins: the prototypes as +-1.  Over 8 seeds the RMSE on the holes was
    # 0.465 +- 0.018 against the column mean's 0.863 +- 0.025 (twice the
    # 0/1 figures: spins are twice as far apart); the bar is ten sd from each.
    X, X_missing, holes = prototype_rows(suite_seed)
    spins, spins_missing = 2 * X - 1, 2 * X_missing - 1
    filled = RBMImputer(visible_units="spin", n_components=8, n_iter=20, learning_rate=0.05,
                        random_state=suite_seed).fit_transform(spins_missing)
    assert np.sqrt(np.mean((filled[holes] - spins[holes]) ** 2)) < 0.65
    assert filled.min() >= -1 and filled.max() <= 1
    # Categories: rows of 5 features with 3 levels, one of two profiles with
    # each entry redrawn w.p. 0.1, 30% missing.  The most probable level is
    # right for 0.889-0.939 of the holes over seeds 0-3 (knowing the profile,
    # 0.933 is the best possible); the most frequent level for 0.45-0.55.
    rng = np.random.default_rng(suite_seed)
    profiles = np.array([[0, 1, 2, 0, 1], [2, 0, 1, 2, 2]])
    rows = profiles[rng.integers(0, 2, 400)]
    table = np.where(rng.random(rows.shape) < 0.1, rng.integers(0, 3, rows.shape), rows)
    holes = rng.random(table.shape) < 0.3
    incomplete = np.where(holes, np.nan, table)
    imputer = RBMImputer(visible_units="categorical", n_components=8, n_iter=30,
                         random_state=suite_seed)
    filled = imputer.fit_transform(incomplete)
    assert np.mean(filled[holes] == table[holes]) > 0.75
    most_frequent = SimpleImputer(strategy="most_frequent").fit_transform(incomplete)
    assert np.mean(most_frequent[holes] == table[holes]) < 0.65
    drawn = imputer.set_params(sample_posterior=True).transform(incomplete)
    assert set(np.unique(filled)) <= {0, 1, 2} and set(np.unique(drawn)) <= {0, 1, 2}
    np.testing.assert_array_equal(drawn[~holes], table[~holes])


def test_categorical_imputer_errors_name_what_it_has():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, size=(60, 3)).astype(float)
    X[::5, 0] = np.nan
    imputer = RBMImputer(visible_units="categorical", n_components=3, n_iter=2, random_state=0)
    imputer.fit(X)
    with pytest.raises(ValueError, match=r"codes \[7.0\] in feature 0 that fit never saw") as info:
        imputer.transform([[7.0, np.nan, 1.0]])
    assert "categories=" not in str(info.value) and "handle_unknown" not in str(info.value)
    with pytest.raises(ValueError, match="OrdinalEncoder"):
        RBMImputer(visible_units="categorical").fit([["a", "b"], ["b", np.nan]])


def test_imputer_verbose_reports_each_round(capsys):
    X = np.random.default_rng(0).normal(size=(40, 3))
    X[::4, 1] = np.nan
    RBMImputer(n_components=3, n_iter=4, em_rounds=2, verbose=1, random_state=0).fit_transform(X)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1:3] for line in lines[:2]] == [["round", "1/2"], ["round", "2/2"]]
    assert "filled 10 missing entries of 40 rows" in lines[2]


def mixed_table(seed, n_rows=400):
    rng = np.random.default_rng(seed)
    size = rng.normal(size=n_rows)
    table = pd.DataFrame({
        "size": size,
        "weight": 2.0 * size + rng.normal(scale=0.5, size=n_rows),
        "large": size > 0,
        "kind": pd.Categorical(np.where(size > 0.5, "big", "small")),
        "colour": rng.choice(["red", "green"], size=n_rows),
    })
    holes = table.copy()
    holes["large"] = holes["large"].astype("boolean")
    mask = rng.random(table.shape) < 0.2
    for j, column in enumerate(table.columns):
        holes.loc[mask[:, j], column] = None if holes[column].dtype == object else np.nan
    return table, holes, mask


def test_auto_fills_a_mixed_table_in_its_own_dtypes(suite_seed):
    table, holes, mask = mixed_table(suite_seed)
    imputer = RBMImputer(n_iter=100, random_state=suite_seed)
    filled = imputer.fit_transform(holes)
    assert imputer.visible_units_ == "table"
    assert isinstance(filled, pd.DataFrame) and list(filled.columns) == list(table.columns)
    assert list(filled.dtypes) == list(holes.dtypes)
    assert not filled.isna().any().any()
    observed = ~mask
    for j, column in enumerate(table.columns):
        kept = filled[column][observed[:, j]].astype(object).to_numpy()
        assert (kept == holes[column][observed[:, j]].astype(object).to_numpy()).all()
    assert set(filled["kind"]) <= {"big", "small"}
    # "kind" follows from size, weight and "large": filled far better than
    # the majority level (about 0.69), whose accuracy bounds a column-blind fill
    holes_kind = mask[:, 3]
    accuracy = (filled["kind"][holes_kind] == table["kind"][holes_kind]).mean()
    majority = table["kind"].value_counts(normalize=True).max()
    spread = np.sqrt(majority * (1 - majority) / holes_kind.sum())
    assert accuracy > majority + 3 * spread


def test_auto_picks_units_from_the_columns(suite_seed):
    rng = np.random.default_rng(suite_seed)
    binary = (rng.random((60, 4)) < 0.5).astype(float)
    real = rng.normal(size=(60, 4))
    for X, units in [(binary, "bernoulli"), (real, "gaussian"),
                     (np.column_stack([binary[:, :2], real[:, :2]]), "table")]:
        holes = X.copy()
        holes[::7, 1] = np.nan
        imputer = RBMImputer(n_components=4, n_iter=2, random_state=0)
        filled = imputer.fit_transform(holes)
        assert imputer.visible_units_ == units
        assert isinstance(filled, np.ndarray) and not np.isnan(filled).any()


def test_draws_reproduce_the_spread_of_the_missing_values(suite_seed):
    rng = np.random.default_rng(suite_seed)
    X = rng.multivariate_normal([0.0, 0.0, 0.0], [[1, 0.6, 0.3], [0.6, 1, 0.5], [0.3, 0.5, 1]],
                                size=1500)
    holes = X.copy()
    gaps = rng.random(len(X)) < 0.3
    holes[gaps, 0] = np.nan
    draws = RBMImputer(n_components=8, n_iter=20, sample_posterior=True,
                       random_state=suite_seed).fit_transform(holes)[gaps, 0]
    means = RBMImputer(n_components=8, n_iter=20, random_state=suite_seed).fit_transform(holes)[gaps, 0]
    truth = X[gaps, 0]
    # draws spread as the missing values do (a variance ratio's standard error
    # is about sqrt(2 / n) each, n ~ 450); means spread less (by the
    # conditional variance, here about 0.6 of it)
    ratio = draws.var() / truth.var()
    assert abs(ratio - 1.0) < 5 * np.sqrt(4.0 / gaps.sum())
    assert means.var() / truth.var() < 0.75
