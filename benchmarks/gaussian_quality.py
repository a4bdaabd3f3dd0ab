"""Held-out log-likelihood of GaussianBernoulliRBM on scikit-learn's digits.

The data: ``load_digits`` (1797 8x8 images), 25% held out
(``train_test_split(test_size=0.25, random_state=0)``), pixels constant in the
training rows dropped, ``StandardScaler`` fitted on the training rows.  Every
figure is a mean log-density in nats per image of the *scaled* held-out data
(subtract ``sum(log(scaler.scale_))``, printed too, for the original pixels).

Three parts:

* ``small``: 12 hidden units, exact log Z (the hidden layer is enumerated),
  fixed and learned sigma, against the independent per-feature Gaussian fitted
  by maximum likelihood to the same training rows;
* ``large``: 256 hidden units, log Z by AIS (forward: optimistic on average)
  and reverse AIS (conservative on average), fixed and learned sigma;
* ``stability``: ``learn_sigma=True`` at learning rates 0.001, 0.01, 0.1 and
  1.0: whether training ends finite or stops with ``DivergenceError``.

Prints a table per part and writes JSON with ``--json``.  Asserts nothing.

    python benchmarks/gaussian_quality.py                 # all parts
    python benchmarks/gaussian_quality.py --part small
"""

import argparse
import json
import platform
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skebm
from skebm import DivergenceError, GaussianBernoulliRBM


def load_data():
    X = load_digits().data
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    keep = X_train.std(axis=0) > 0
    scaler = StandardScaler().fit(X_train[:, keep])
    return (
        scaler.transform(X_train[:, keep]),
        scaler.transform(X_test[:, keep]),
        int((~keep).sum()),
        float(np.log(scaler.scale_).sum()),
    )


def independent_gaussian(X_train, X_test):
    """Mean held-out log-density of per-feature Gaussians fitted to X_train."""
    mean, var = X_train.mean(axis=0), X_train.var(axis=0)
    log_density = -0.5 * np.log(2 * np.pi * var) - (X_test - mean) ** 2 / (2 * var)
    return float(log_density.sum(axis=1).mean())


def small_part(X_train, X_test, n_iter):
    rows = [{"model": "independent Gaussian", "test": independent_gaussian(X_train, X_test),
             "train": independent_gaussian(X_train, X_train)}]
    for learn_sigma in (False, True):
        start = time.perf_counter()
        rbm = GaussianBernoulliRBM(
            n_components=12, learning_rate=0.01, n_iter=n_iter, learn_sigma=learn_sigma,
            random_state=0,
        ).fit(X_train)
        seconds = time.perf_counter() - start
        rows.append({
            "model": f"RBM 12 hidden, learn_sigma={learn_sigma}",
            "test": rbm.score(X_test),  # exact: 2^12 hidden states enumerated
            "train": rbm.score(X_train),
            "fit_seconds": seconds,
            "sigma_range": [float(rbm.sigma_.min()), float(rbm.sigma_.max())],
        })
    return rows


def large_part(X_train, X_test, n_iter, learning_rate):
    rows = []
    for learn_sigma in (False, True):
        start = time.perf_counter()
        rbm = GaussianBernoulliRBM(
            n_components=256, learning_rate=learning_rate, n_iter=n_iter,
            learn_sigma=learn_sigma, random_state=0,
        ).fit(X_train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        log_z = rbm.estimate_log_partition(method="ais", random_state=0)
        ais_seconds = time.perf_counter() - start
        estimate = rbm.log_partition_estimate_
        free_test = float(rbm.free_energy(X_test).mean())
        free_train = float(rbm.free_energy(X_train).mean())
        rows.append({
            "model": f"RBM 256 hidden, learn_sigma={learn_sigma}",
            "test": -free_test - log_z,
            "test_reverse": -free_test - estimate.reverse,
            "train": -free_train - log_z,
            "log_z": log_z,
            "log_z_reverse": estimate.reverse,
            "fit_seconds": fit_seconds,
            "ais_seconds": ais_seconds,
        })
        print(f"  done: {rows[-1]['model']}: AIS {rows[-1]['test']:.3f}", flush=True)
    return rows


def stability_part(X_train, n_iter):
    rows = []
    for n_components in (12, 256):
        for learning_rate in (0.001, 0.01, 0.1, 1.0):
            rbm = GaussianBernoulliRBM(
                n_components=n_components, learning_rate=learning_rate, n_iter=n_iter,
                learn_sigma=True, random_state=0,
            )
            try:
                rbm.fit(X_train)
            except DivergenceError as exc:
                outcome, message = "DivergenceError", str(exc)
                finite = not hasattr(rbm, "components_")  # nothing left behind
            else:
                params = (rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_, rbm.sigma_)
                finite = all(np.all(np.isfinite(p)) for p in params)
                outcome = "trained"
                message = f"final reconstruction error {rbm.history_[-1]['reconstruction_error']:.3f}"
            rows.append({"n_components": n_components, "learning_rate": learning_rate,
                         "outcome": outcome, "no_non_finite_state": finite, "detail": message})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["all", "small", "large", "stability"], default="all")
    parser.add_argument("--n-iter", type=int, default=50, help="epochs of the 12-hidden models")
    parser.add_argument("--large-n-iter", type=int, default=20, help="epochs of the 256-hidden models")
    parser.add_argument("--large-learning-rate", type=float, default=0.003)
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()

    X_train, X_test, n_dropped, log_scale = load_data()
    print(f"digits: {X_train.shape[0]} training / {X_test.shape[0]} held-out rows, "
          f"{X_train.shape[1]} features ({n_dropped} constant pixels dropped); "
          f"sum(log scale_) = {log_scale:.3f} nats")
    results = {"platform": platform.platform(), "skebm": skebm.__version__,
               "n_features": X_train.shape[1], "sum_log_scale": log_scale}
    if args.part in ("all", "small"):
        rows = small_part(X_train, X_test, args.n_iter)
        results["small"] = rows
        print(f"\nExact held-out log-likelihood, nats per image (12-hidden models: {args.n_iter} epochs)")
        print(f"{'model':38s} {'held-out':>10s} {'train':>10s}")
        for row in rows:
            print(f"{row['model']:38s} {row['test']:10.3f} {row['train']:10.3f}")
    if args.part in ("all", "large"):
        rows = large_part(X_train, X_test, args.large_n_iter, args.large_learning_rate)
        results["large"] = rows
        print(f"\nAIS held-out log-likelihood, nats per image (256 hidden, {args.large_n_iter} epochs, "
              f"learning_rate={args.large_learning_rate}; 100 chains, 14,500 temperatures)")
        print(f"{'model':38s} {'AIS':>10s} {'reverse':>10s} {'train':>10s} {'fit s':>7s} {'AIS s':>7s}")
        for row in rows:
            print(f"{row['model']:38s} {row['test']:10.3f} {row['test_reverse']:10.3f} "
                  f"{row['train']:10.3f} {row['fit_seconds']:7.1f} {row['ais_seconds']:7.1f}")
    if args.part in ("all", "stability"):
        rows = stability_part(X_train, n_iter=5)
        results["stability"] = rows
        print("\nlearn_sigma=True, 5 epochs: outcome per learning rate")
        for row in rows:
            print(f"hidden={row['n_components']:4d} lr={row['learning_rate']:<6g} {row['outcome']:16s} "
                  f"no non-finite state left: {row['no_non_finite_state']}  ({row['detail'][:90]})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
