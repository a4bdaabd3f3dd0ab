"""Unsupervised features for a classifier: skebm's RBM features against a kernel approximation.

The gallery's protocol (``examples/plot_digit_classification.py``): the 8x8
digits and their copies nudged by one pixel in four directions, min-max
scaled, a fifth held out (``random_state=0``), and a LogisticRegression
(``C=6000``, newton-cg) on the features, which never saw the labels.  Each
row is the test accuracy for ``--seeds`` seeds of the feature extractor, its
mean, and the extractor's fit time on this machine (run it with one BLAS
thread, ``OMP_NUM_THREADS=1``, to compare with the figures in the user guide).

    OMP_NUM_THREADS=1 python benchmarks/features.py [--seeds 0 1 2] [--json PATH]
"""

import argparse
import json
import time

import numpy as np
from scipy import ndimage
from sklearn.datasets import load_digits
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skebm import BernoulliRBM

#: the feature recipe of the user guide, and the variants that show which part pays
RECIPE = dict(
    n_components=512, method="cd_mean", sparsity_target=0.1, sparsity_cost=0.1,
    learning_rate=0.06, min_learning_rate=0.0, n_iter=40,
)  # fmt: skip
EXTRACTORS = {
    "Nystroem(256 RBF components, gamma 0.2)": lambda seed: Nystroem(
        n_components=256, gamma=0.2, random_state=seed
    ),
    "Nystroem(512 RBF components, gamma 0.2)": lambda seed: Nystroem(
        n_components=512, gamma=0.2, random_state=seed
    ),
    "BernoulliRBM 256, PCD, lr 0.06, 20 epochs": lambda seed: BernoulliRBM(
        n_components=256, learning_rate=0.06, n_iter=20, random_state=seed
    ),
    "recipe with method='pcd'": lambda seed: BernoulliRBM(
        **{**RECIPE, "method": "pcd"}, random_state=seed
    ),
    "recipe with method='cd' (sampled reconstructions)": lambda seed: BernoulliRBM(
        **{**RECIPE, "method": "cd"}, random_state=seed
    ),
    "recipe without sparsity": lambda seed: BernoulliRBM(
        **{**RECIPE, "sparsity_target": None}, random_state=seed
    ),
    "recipe with 20 epochs": lambda seed: BernoulliRBM(
        **{**RECIPE, "n_iter": 20}, random_state=seed
    ),
    "recipe centered, 20 epochs": lambda seed: BernoulliRBM(
        **{**RECIPE, "centered": True, "n_iter": 20}, random_state=seed
    ),
    "recipe with rectified hidden units": lambda seed: BernoulliRBM(
        **{**RECIPE, "hidden_units": "rectified", "learning_rate": 0.02}, random_state=seed
    ),
    "recipe: 512 hidden, cd_mean, sparsity 0.1, 40 epochs": lambda seed: BernoulliRBM(
        **RECIPE, random_state=seed
    ),
}


def gallery_split():
    digits = load_digits()
    shifts = [(-1, 0), (0, -1), (0, 1), (1, 0)]
    nudged = [ndimage.shift(digits.images, (0, dy, dx), order=0, cval=0.0) for dy, dx in shifts]
    X = np.concatenate([digits.images, *nudged]).reshape(-1, 64)
    y = np.concatenate([digits.target] * 5)
    X = (X - X.min(axis=0)) / (X.max(axis=0) + 1e-4)
    return train_test_split(X, y, test_size=0.2, random_state=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", help="run the rows whose name contains this text")
    parser.add_argument("--json", help="write the table as JSON to this path")
    args = parser.parse_args()
    X_train, X_test, y_train, y_test = gallery_split()
    rows = {}
    raw = LogisticRegression(C=100.0, solver="newton-cg", max_iter=1000).fit(X_train, y_train)
    rows["raw pixels (C=100)"] = {"accuracy": [raw.score(X_test, y_test)], "seconds": [0.0]}
    print(f"{'features + LogisticRegression':58s} {'accuracies':22s} mean    fit")
    print(f"{'raw pixels (C=100)':58s} {rows['raw pixels (C=100)']['accuracy'][0]:.4f}")
    for name, make in EXTRACTORS.items():
        if args.only and args.only not in name:
            continue
        accuracies, seconds = [], []
        for seed in args.seeds:
            start = time.perf_counter()
            extractor = make(seed).fit(X_train)
            seconds.append(time.perf_counter() - start)
            classifier = LogisticRegression(C=6000, solver="newton-cg", max_iter=1000)
            classifier.fit(extractor.transform(X_train), y_train)
            accuracies.append(classifier.score(extractor.transform(X_test), y_test))
        rows[name] = {"accuracy": accuracies, "seconds": seconds}
        listed = " ".join(f"{a:.4f}" for a in accuracies)
        print(f"{name:58s} {listed:22s} {np.mean(accuracies):.4f}  {np.mean(seconds):5.1f}s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
