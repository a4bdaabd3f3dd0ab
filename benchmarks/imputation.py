"""RBMImputer against scikit-learn's imputers, in one run.

1. Binarised 8x8 digits, 30% of pixels missing at random: RMSE of the
   imputed values on the missing pixels, accuracy of the rounded value, and
   the accuracy of a logistic regression (fitted on complete training
   digits) on the imputed test digits.
2. Binarised digits with the bottom half missing: RMSE and rounded accuracy.
3. Standardised breast_cancer, 20% missing at random: RMSE, mean of three
   draws of the missing entries.

Imputers: SimpleImputer(mean), KNNImputer, IterativeImputer and RBMImputer
(fitted on the incomplete rows themselves).  One BLAS thread.

Run: ``python benchmarks/imputation.py``; ``--seeds 1 2 3`` repeats the
digits comparisons of RBMImputer and KNNImputer (the default 5 neighbours,
and 15) over those seeds of the holes and of the RBM.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skebm import RBMImputer


def imputers(binary):
    rbm = RBMImputer(visible_units="bernoulli" if binary else "gaussian", random_state=0)
    return {
        "SimpleImputer(mean)": SimpleImputer(),
        "KNNImputer": KNNImputer(),
        "IterativeImputer": IterativeImputer(max_iter=10, random_state=0),
        "RBMImputer": rbm,
    }


def score(name, imputer, X_true, X_missing, holes, classifier=None, y=None):
    start = time.perf_counter()
    filled = imputer.fit_transform(X_missing)
    seconds = time.perf_counter() - start
    rmse = np.sqrt(np.mean((filled[holes] - X_true[holes]) ** 2))
    line = f"  {name:20s} RMSE {rmse:.4f}"
    if set(np.unique(X_true)) <= {0.0, 1.0}:
        rounded = np.mean((filled[holes] > 0.5) == (X_true[holes] > 0.5))
        line += f"  rounded accuracy {rounded:.4f}"
    if classifier is not None:
        line += f"  classifier accuracy {classifier.score(filled, y):.4f}"
    print(line + f"  ({seconds:.1f} s)", flush=True)


def main():
    warnings.simplefilter("ignore")
    threadpool_limits(1)
    rng = np.random.default_rng(0)
    digits = load_digits()
    X = (digits.data / 16 > 0.5).astype(float)
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=0.3, random_state=0, stratify=digits.target
    )
    classifier = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    print(f"digits, complete test rows: classifier accuracy {classifier.score(X_test, y_test):.4f}")
    holes = rng.random(X.shape) < 0.3
    print("binarised digits, 30% of pixels missing at random (all 1797 rows):")
    for name, imputer in imputers(True).items():
        score(name, imputer, X, np.where(holes, np.nan, X), holes)
    print("binarised digits, 30% missing, test rows only (the classifier's accuracy):")
    test_holes = rng.random(X_test.shape) < 0.3
    stacked = np.vstack([X_train, np.where(test_holes, np.nan, X_test)])
    for name, imputer in imputers(True).items():
        filled = imputer.fit_transform(stacked)[len(X_train):]
        rmse = np.sqrt(np.mean((filled[test_holes] - X_test[test_holes]) ** 2))
        print(f"  {name:20s} RMSE {rmse:.4f}  classifier accuracy "
              f"{classifier.score(filled, y_test):.4f}", flush=True)
    print("binarised digits, bottom half missing in the test rows:")
    bottom = np.zeros(X_test.shape, dtype=bool)
    bottom[:, 32:] = True
    stacked = np.vstack([X_train, np.where(bottom, np.nan, X_test)])
    for name, imputer in imputers(True).items():
        filled = imputer.fit_transform(stacked)[len(X_train):]
        rmse = np.sqrt(np.mean((filled[bottom] - X_test[bottom]) ** 2))
        rounded = np.mean((filled[bottom] > 0.5) == (X_test[bottom] > 0.5))
        print(f"  {name:20s} RMSE {rmse:.4f}  rounded accuracy {rounded:.4f}", flush=True)
    cancer = StandardScaler().fit_transform(load_breast_cancer().data)
    print("standardised breast_cancer, 20% missing at random (three draws of the holes):")
    errors = {}
    for draw in range(3):
        holes = np.random.default_rng(100 + draw).random(cancer.shape) < 0.2
        for name, imputer in imputers(False).items():
            filled = imputer.fit_transform(np.where(holes, np.nan, cancer))
            errors.setdefault(name, []).append(
                np.sqrt(np.mean((filled[holes] - cancer[holes]) ** 2))
            )
    for name, rmse in errors.items():
        print(f"  {name:20s} RMSE {np.mean(rmse):.4f} (draws: "
              + ", ".join(f"{r:.4f}" for r in rmse) + ")", flush=True)


def over_seeds(seeds):
    """RMSE of RBMImputer and KNNImputer on digits, per seed of the holes and of the RBM."""
    warnings.simplefilter("ignore")
    threadpool_limits(1)
    digits = load_digits()
    X = (digits.data / 16 > 0.5).astype(float)
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0,
                                       stratify=digits.target)
    bottom = np.zeros(X_test.shape, dtype=bool)
    bottom[:, 32:] = True
    stacked = np.vstack([X_train, np.where(bottom, np.nan, X_test)])

    def rmse(filled, holes, truth):
        return np.sqrt(np.mean((filled[holes] - truth[holes]) ** 2))

    print("RMSE on binarised digits: 30% missing at random (all rows) | bottom half missing")
    for seed in seeds:
        holes = np.random.default_rng(seed).random(X.shape) < 0.3
        incomplete = np.where(holes, np.nan, X)
        line = f"  seed {seed}:"
        for name, imputer in [
            ("RBMImputer", RBMImputer(visible_units="bernoulli", random_state=seed)),
            ("KNN(5)", KNNImputer()),
            ("KNN(15)", KNNImputer(n_neighbors=15)),
        ]:
            at_random = rmse(imputer.fit_transform(incomplete), holes, X)
            half = rmse(imputer.fit_transform(stacked)[len(X_train):], bottom, X_test)
            line += f"  {name} {at_random:.4f} | {half:.4f}"
        print(line, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*",
                        help="repeat the digits comparison over these seeds instead")
    args = parser.parse_args()
    if args.seeds:
        over_seeds(args.seeds)
    else:
        main()
