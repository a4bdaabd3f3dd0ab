"""Real-valued and mixed tables: likelihood, imputation and synthetic rows against scikit-learn.

Parts (``--part``):

``likelihood``
    Held-out log-likelihood per row on digits, breast_cancer and wine:
    VarianceThreshold, then StandardScaler fitted on the 75% split
    (``train_test_split(test_size=0.25, random_state=seed)``).  One
    full-covariance Gaussian, GaussianMixture with n_components and
    covariance type chosen by 3-fold CV, a diagonal Gaussian RBM, the
    whitened one (``whiten=True``), and CovarianceRBM (hidden units that
    set the covariance too; exact maximum likelihood) with 8 and 12 units and
    one category, with its defaults (8 units beside a categorical unit of 3
    states), and with 8 units beside a categorical unit whose number of
    states (1-4) 3-fold CV chooses, as it chooses the mixture's components.
    ``--seeds 0 1 2`` prints a table per seed.
``impute``
    RMSE of the filled entries on standardised breast_cancer, wine and
    diabetes at 10%, 30% and 50% missing completely at random and 30%
    missing at random (the other columns' entries missing with probability
    rising with the first column's value), mean of 3 draws of the holes:
    SimpleImputer, KNNImputer, IterativeImputer, IterativeImputer with a
    random forest (the MissForest recipe) and RBMImputer with its
    defaults.  Then binarised digits with the bottom half missing in a
    quarter of the rows: the default against ``visible_units="bernoulli"``.
``paired``
    The two 10% MCAR settings where RBMImputer is not the best (wine against
    MissForest, diabetes against IterativeImputer), entry by entry: the mean
    difference of the squared errors and its standard error.
``penguins``
    The Palmer penguins (species, island, sex, year as categories; four
    measurements): 20% of the entries of the complete rows missing, filled
    by RBMImputer (defaults) and by scikit-learn's imputers on an encoded
    table (categories as codes, rounded back); RMSE of the standardised
    measurements and accuracy of the filled categories.  Then synthetic
    rows from a TableRBM fitted on 75% of the rows against the held-out
    25%: skebm.sample_quality's classifier two-sample tests, and the same
    for rows drawn column by column from the training marginals.

Prints tables; asserts nothing.  One thread is the reference
(``OMP_NUM_THREADS=1``).

    python benchmarks/real_tables.py --part likelihood
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.ensemble import RandomForestRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.feature_selection import VarianceThreshold
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

from skebm import CovarianceRBM, GaussianBernoulliRBM, RBMImputer, TableRBM, sample_quality

LOADERS = {"digits": load_digits, "breast_cancer": load_breast_cancer, "wine": load_wine,
           "diabetes": load_diabetes}
RBM_SETTINGS = {
    "diagonal Gaussian RBM (16 hidden, learned sigma, centered, 200 epochs)": dict(
        n_components=16, learn_sigma=True, centered=True, n_iter=200),
    "whitened, fixed sigma (whiten=True, 16 hidden, centered, 200 epochs)": dict(
        n_components=16, centered=True, n_iter=200, whiten=True),
    "whitened, learned sigma, learning_rate 0.05": dict(
        n_components=16, learn_sigma=True, centered=True, n_iter=200, whiten=True,
        learning_rate=0.05),
}
CATEGORY_GRID = [1, 2, 3, 4]
CATEGORIES_LABEL = f"CovarianceRBM, 8 hidden, n_categories in {CATEGORY_GRID} by 3-fold CV"
COVARIANCE_SETTINGS = {
    "CovarianceRBM, 8 hidden, one category": dict(n_components=8, n_categories=1),
    "CovarianceRBM, 12 hidden, one category": dict(n_components=12, n_categories=1),
    "CovarianceRBM, 8 hidden, 3 categories (defaults)": dict(n_components=8),
}


def standardised_split(name, seed):
    X = LOADERS[name]().data
    train, test = train_test_split(X, test_size=0.25, random_state=seed)
    keep = VarianceThreshold().fit(train)
    scaler = StandardScaler().fit(keep.transform(train))
    return scaler.transform(keep.transform(train)), scaler.transform(keep.transform(test))


def cv_gaussian_mixture(train, seed):
    """GaussianMixture with n_components and covariance type chosen by 3-fold CV (fitted search)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GridSearchCV(
            GaussianMixture(random_state=seed),
            {"n_components": [1, 2, 3, 4, 6, 8],
             "covariance_type": ["full", "tied", "diag", "spherical"]},
            cv=3,
        ).fit(train)  # fmt: skip


def cv_covariance_rbm(train, seed):
    """CovarianceRBM (8 hidden) with n_categories chosen by 3-fold CV (fitted search)."""
    return GridSearchCV(CovarianceRBM(8, random_state=seed),
                        {"n_categories": CATEGORY_GRID}, cv=3).fit(train)  # fmt: skip


def part_likelihood(seeds):
    names = ["digits", "breast_cancer", "wine"]
    rows = {}
    for seed in seeds:
        for name in names:
            train, test = standardised_split(name, seed)
            one = GaussianMixture(1, covariance_type="full", random_state=seed).fit(train)
            rows.setdefault("one full-covariance Gaussian", {})[name] = one.score(test)
            search = cv_gaussian_mixture(train, seed)
            chosen = search.best_params_
            rows.setdefault("GaussianMixture chosen by 3-fold CV", {})[name] = (
                f"{search.best_estimator_.score(test):.2f} ({chosen['n_components']}, "
                f"{chosen['covariance_type']})"
            )
            models = [(label, GaussianBernoulliRBM, settings)
                      for label, settings in RBM_SETTINGS.items()]  # fmt: skip
            models += [(label, CovarianceRBM, settings)
                       for label, settings in COVARIANCE_SETTINGS.items()]  # fmt: skip
            for label, cls, settings in models:
                start = time.perf_counter()
                rbm = cls(**settings, random_state=seed).fit(train)
                rows.setdefault(label, {})[name] = (
                    f"{rbm.score(test):.2f} ({time.perf_counter() - start:.0f}s)"
                )
            # the categorical unit's size chosen the way the mixture's is
            start = time.perf_counter()
            search = cv_covariance_rbm(train, seed)
            rows.setdefault(CATEGORIES_LABEL, {})[name] = (
                f"{search.best_estimator_.score(test):.2f} "
                f"({search.best_params_['n_categories']}, {time.perf_counter() - start:.0f}s)"
            )
        print(f"held-out log-likelihood per row, seed {seed} (nats)")
        print(f"  {'model':72s}" + "".join(f"{n:>20s}" for n in names))
        for label, values in rows.items():
            cells = [v if isinstance(v, str) else f"{v:.2f}" for v in (values[n] for n in names)]
            print(f"  {label:72s}" + "".join(f"{c:>20s}" for c in cells))


def holes(X, rate, kind, rng):
    if kind == "mcar":
        return rng.random(X.shape) < rate
    # missing at random: the other columns' entries go missing with a
    # probability rising with the (always observed) first column, rate on average
    pressure = 1.0 / (1.0 + np.exp(-2.0 * X[:, :1]))
    mask = rng.random(X.shape) < np.clip(2.0 * rate * pressure, 0.0, 1.0)
    mask[:, 0] = False
    return mask


IMPUTERS = {
    "SimpleImputer": lambda: SimpleImputer(),
    "KNNImputer": lambda: KNNImputer(),
    "IterativeImputer": lambda: IterativeImputer(max_iter=25, random_state=0),
    "MissForest": lambda: IterativeImputer(
        RandomForestRegressor(n_estimators=50, random_state=0), max_iter=5, random_state=0
    ),
    "RBMImputer": lambda: RBMImputer(random_state=0),
}


def part_impute(seeds):
    print("RMSE of the filled entries, standardised columns, mean of 3 draws of the holes")
    print(f"  {'data':15s}{'holes':10s}" + "".join(f"{n:>18s}" for n in IMPUTERS))
    for name in ["breast_cancer", "wine", "diabetes"]:
        X = StandardScaler().fit_transform(LOADERS[name]().data)
        for rate, kind in [(0.1, "mcar"), (0.3, "mcar"), (0.5, "mcar"), (0.3, "mar")]:
            errors = {label: [] for label in IMPUTERS}
            for draw in range(3):
                mask = holes(X, rate, kind, np.random.default_rng(draw))
                incomplete = np.where(mask, np.nan, X)
                for label, make in IMPUTERS.items():
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        filled = make().fit_transform(incomplete)
                    errors[label].append(np.sqrt(np.mean((filled[mask] - X[mask]) ** 2)))
            means = {label: np.mean(e) for label, e in errors.items()}
            best = min(means, key=means.get)
            cells = [f"{v:.3f}{'*' if label == best else ' '}" for label, v in means.items()]
            print(f"  {name:15s}{f'{rate:.0%} {kind}':10s}" + "".join(f"{c:>18s}" for c in cells),
                  flush=True)
    # binarised digits: the default picks Bernoulli units
    digits = (load_digits().data / 16 > 0.5).astype(float)
    rng = np.random.default_rng(0)
    rows = rng.random(len(digits)) < 0.25
    incomplete = digits.copy()
    incomplete[np.ix_(rows, np.arange(32, 64))] = np.nan
    mask = np.isnan(incomplete)
    for label, imputer in [("default", RBMImputer(random_state=0)),
                           ("visible_units='bernoulli'", RBMImputer(visible_units="bernoulli",
                                                                    random_state=0))]:
        filled = imputer.fit_transform(incomplete)
        print(f"  binarised digits, bottom half of 25% of the rows missing, RBMImputer {label}: "
              f"RMSE {np.sqrt(np.mean((filled[mask] - digits[mask]) ** 2)):.3f} "
              f"(units {imputer.visible_units_})")


def part_paired(seeds):
    """The 10% MCAR settings RBMImputer loses, entry by entry against the winner."""
    print("10% MCAR, the three draws of --part impute: per-entry squared error of RBMImputer "
          "minus the rival's, mean and standard error")
    for name, rival in [("wine", "MissForest"), ("diabetes", "IterativeImputer")]:
        X = StandardScaler().fit_transform(LOADERS[name]().data)
        differences = []
        for draw in range(3):
            mask = holes(X, 0.1, "mcar", np.random.default_rng(draw))
            incomplete = np.where(mask, np.nan, X)
            errors = {}
            for label in ("RBMImputer", rival):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    errors[label] = (IMPUTERS[label]().fit_transform(incomplete)[mask]
                                     - X[mask]) ** 2  # fmt: skip
            differences.append(errors["RBMImputer"] - errors[rival])
        differences = np.concatenate(differences)
        standard_error = differences.std(ddof=1) / np.sqrt(len(differences))
        print(f"  {name:10s} against {rival:18s} {differences.mean():+.4f} +- "
              f"{standard_error:.4f} ({len(differences)} entries)")


# --- the penguins ----------------------------------------------------------------------------
MEASUREMENTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORIES = ["species", "island", "sex", "year"]


def penguins():
    from palmerpenguins import load_penguins

    table = load_penguins().dropna().reset_index(drop=True)
    for column in CATEGORIES:
        table[column] = table[column].astype("category")
    return table


def encoded(table, scaler=None):
    """Numbers for scikit-learn's imputers and classifiers: measurements scaled, categories coded."""
    numbers = table[MEASUREMENTS].to_numpy(dtype=float)
    scaler = scaler or StandardScaler().fit(numbers)
    codes = np.column_stack([table[c].cat.codes.replace(-1, np.nan) for c in CATEGORIES])
    return np.column_stack([scaler.transform(numbers), codes]).astype(float), scaler


def one_hot(table, scaler, reference):
    """Scaled measurements and one-hot categories (the two-sample tests' features)."""
    numbers = scaler.transform(table[MEASUREMENTS].to_numpy(dtype=float))
    dummies = [
        (np.asarray(table[c].astype(object))[:, None] == np.asarray(reference[c].cat.categories,
                                                                       dtype=object)).astype(float)
        for c in CATEGORIES
    ]
    return np.column_stack([numbers, *dummies])


def part_penguins(seeds):
    table = penguins()
    print(f"Palmer penguins: {len(table)} complete rows, {len(MEASUREMENTS)} measurements, "
          f"categories {CATEGORIES}")
    complete, scaler = encoded(table)
    n_numbers = len(MEASUREMENTS)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        mask = rng.random(table.shape) < 0.2
        frame = table.copy()
        for j, column in enumerate(table.columns):
            frame[column] = frame[column].mask(mask[:, j])
        order = [table.columns.get_loc(c) for c in MEASUREMENTS + CATEGORIES]
        mask_encoded = mask[:, order]
        incomplete, _ = encoded(frame, scaler)
        results = {}
        start = time.perf_counter()
        filled = RBMImputer(random_state=seed).fit_transform(frame)
        seconds = time.perf_counter() - start
        filled_encoded, _ = encoded(filled, scaler)
        results[f"RBMImputer (defaults: a TableRBM, {seconds:.0f}s)"] = filled_encoded
        for label, imputer in [("SimpleImputer (mean / most frequent)", None),
                               ("KNNImputer", KNNImputer()),
                               ("IterativeImputer", IterativeImputer(max_iter=25, random_state=0))]:
            if imputer is None:
                numbers = SimpleImputer().fit_transform(incomplete[:, :n_numbers])
                codes = SimpleImputer(strategy="most_frequent").fit_transform(
                    incomplete[:, n_numbers:])
                results[label] = np.column_stack([numbers, codes])
            else:
                out = imputer.fit_transform(incomplete)
                levels = [len(table[c].cat.categories) for c in CATEGORIES]
                out[:, n_numbers:] = np.clip(np.round(out[:, n_numbers:]), 0, np.array(levels) - 1)
                results[label] = out
        print(f"  seed {seed}: 20% of the entries missing")
        print(f"    {'imputer':46s}{'RMSE (scaled)':>16s}{'category accuracy':>20s}")
        for label, out in results.items():
            numeric = mask_encoded[:, :n_numbers]
            rmse = np.sqrt(np.mean((out[:, :n_numbers][numeric] - complete[:, :n_numbers][numeric]) ** 2))
            discrete = mask_encoded[:, n_numbers:]
            accuracy = np.mean(out[:, n_numbers:][discrete] == complete[:, n_numbers:][discrete])
            print(f"    {label:46s}{rmse:16.3f}{accuracy:20.3f}")
        # synthetic rows
        train, test = train_test_split(table, test_size=0.25, random_state=seed)
        start = time.perf_counter()
        model = TableRBM(n_components=32, n_iter=300, learning_rate=0.02, method="pt",
                         random_state=seed).fit(train)
        fit_seconds = time.perf_counter() - start
        synthetic = model.sample(len(test) * 3, n_steps=500, method="pt", random_state=seed)
        marginals = pd.DataFrame({
            c: train[c].sample(len(synthetic), replace=True, random_state=seed + k).to_numpy()
            for k, c in enumerate(table.columns)
        }).astype(train.dtypes.to_dict())
        train_scaler = StandardScaler().fit(train[MEASUREMENTS].to_numpy(dtype=float))
        real = one_hot(test, train_scaler, table)
        for label, rows in [(f"TableRBM samples (32 hidden, PT, fit {fit_seconds:.0f}s)", synthetic),
                            ("independent column marginals", marginals)]:
            quality = sample_quality(one_hot(rows, train_scaler, table), real,
                                     train=one_hot(train, train_scaler, table), random_state=seed)
            print(f"    synthetic rows: {label}")
            print("      " + quality.summary().replace("\n", "\n      "))


PARTS = {"likelihood": part_likelihood, "impute": part_impute, "paired": part_paired,
         "penguins": part_penguins}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=[*PARTS, "all"], default="all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    for name, part in PARTS.items():
        if args.part in (name, "all"):
            print(f"== {name}")
            part(args.seeds)


if __name__ == "__main__":
    main()
