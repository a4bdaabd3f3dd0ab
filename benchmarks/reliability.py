"""Reliability of training: early stopping, streamed Gaussian fits, float32 vs float64.

Three parts, one ``--part`` each:

* ``early_stopping``: binarised digits (``load_digits().data > 7``), 25% held
  out (``train_test_split(test_size=0.25, random_state=0)``), a 16-hidden
  ``BernoulliRBM(learning_rate=0.05)`` per seed, (a) ``n_iter=100`` with
  ``early_stopping=True, validation_fraction=0.1`` (``n_iter_no_change`` and
  ``tol`` at their defaults; the best epoch's parameters are restored) and (b)
  ``n_iter=30`` without early stopping or a validation split.  Per seed: the
  exact held-out log-likelihood (``score``; the 2^16 hidden states are
  enumerated) in nats per image, epochs run (``n_iter_``), the kept epoch
  (``best_epoch_``), seconds, and (a) - (b).  Model (a) trains on 90% of
  the training rows, (b) on all of them.
* ``gaussian_streaming``: breast cancer (``load_breast_cancer``, 30
  features), the same split, ``StandardScaler`` fitted on the training rows,
  ``GaussianBernoulliRBM(n_components=8, learning_rate=0.01, batch_size=10)``
  with fixed sigma: ``fit`` with ``n_iter=E`` against E passes of
  ``partial_fit`` over the training rows sorted by feature 0 and cut into four
  equal chunks (``np.array_split``), each chunk once per pass.  Per seed and
  E: the exact held-out log-density (2^8 hidden states enumerated) of both
  and their difference, and after streaming the largest
  ``|sigma_ - X_train.std(0)|`` and ``|feature_mean_ - X_train.mean(0)|``
  (sigma follows the running statistics of every row seen, so both should be
  rounding error).
* ``dtype``: the first 100 digits min-max scaled to [0, 1],
  ``BernoulliRBM(n_iter=5)`` (256 hidden units) fitted on float64 and on a
  float32 copy with the same seed.  Per seed: the largest absolute and
  relative (``|c32 - c64| / |c64|``, entry by entry) difference of
  ``components_``, the largest difference of ``transform`` of the training
  rows, and ``np.allclose(c32, c64, rtol=1e-3, atol=1e-5)``.

Prints a table per part and writes JSON with ``--json``.  Asserts nothing.

    python benchmarks/reliability.py                       # all parts
    python benchmarks/reliability.py --part early_stopping --seeds 0 1 2 3 4
    python benchmarks/reliability.py --part gaussian_streaming --passes 1 5
    python benchmarks/reliability.py --part dtype --json reliability.json
"""

import argparse
import json
import os
import platform
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler, minmax_scale

import skebm
from skebm import BernoulliRBM, GaussianBernoulliRBM


def _timed_fit(rbm, fit):
    start = time.perf_counter()
    fit(rbm)
    return time.perf_counter() - start


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _cell(value, spec):
    """``format(value, spec)``, or a dash as wide when value is None."""
    if value is None:
        return "-".rjust(int(spec.lstrip("+").split(".")[0].rstrip("dfes")))
    return format(value, spec)


def _line(cells):
    """One table line from (value, format spec) pairs, one space apart."""
    return " ".join(_cell(value, spec) for value, spec in cells)


def early_stopping_part(seeds):
    X = (load_digits().data > 7).astype(np.float64)
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    variants = {
        "early": dict(n_iter=100, early_stopping=True, validation_fraction=0.1),
        "fixed": dict(n_iter=30),
    }
    rows = []
    for seed in seeds:
        row = {"seed": seed}
        for name, settings in variants.items():
            rbm = BernoulliRBM(
                n_components=16, learning_rate=0.05, random_state=seed, **settings
            )
            seconds = _timed_fit(rbm, lambda model: model.fit(X_train))
            best = getattr(rbm, "best_epoch_", None)
            kept = [r for r in rbm.history_ if r["epoch"] == best]
            at_best = kept[0].get("validation_log_likelihood") if kept else None
            row[name] = {
                "test": float(rbm.score(X_test)),  # exact: 2^16 hidden states
                "n_iter_": int(rbm.n_iter_),
                "best_epoch_": None if best is None else int(best),
                "validation_at_best": None if at_best is None else float(at_best),
                "seconds": seconds,
            }
        row["difference"] = row["early"]["test"] - row["fixed"]["test"]
        rows.append(row)
        print(f"  done: seed {seed}", flush=True)
    mean = {"difference": _mean([r["difference"] for r in rows])}
    for name in variants:
        for key in ("test", "n_iter_", "best_epoch_", "validation_at_best", "seconds"):
            mean[f"{name}_{key}"] = _mean([r[name][key] for r in rows])
    return {"n_train": X_train.shape[0], "n_test": X_test.shape[0],
            "rows": rows, "mean": mean}


def print_early_stopping(result):
    print(f"\nEarly stopping, binarised digits ({result['n_train']} training / "
          f"{result['n_test']} held-out rows), 16 hidden, learning_rate=0.05")
    print("(a) n_iter=100, early_stopping=True, validation_fraction=0.1 "
          "(n_iter_no_change=10, tol=1e-3)")
    print("(b) n_iter=30, no early stopping")
    print("exact held-out log-likelihood, nats per image; val@best: the validation "
          "log-likelihood of the kept epoch")
    print(_line([("seed", ">5s"), ("(a) test", ">10s"), ("n_iter_", ">8s"),
                 ("best", ">5s"), ("val@best", ">9s"), ("s", ">6s"), ("", "s"),
                 ("(b) test", ">10s"), ("n_iter_", ">8s"), ("s", ">6s"), ("", "s"),
                 ("(a)-(b)", ">9s")]))
    for row in result["rows"]:
        a, b = row["early"], row["fixed"]
        print(_line([(row["seed"], "5d"), (a["test"], "10.3f"), (a["n_iter_"], "8d"),
                     (a["best_epoch_"], "5d"), (a["validation_at_best"], "9.3f"),
                     (a["seconds"], "6.2f"), ("", "s"), (b["test"], "10.3f"),
                     (b["n_iter_"], "8d"), (b["seconds"], "6.2f"), ("", "s"),
                     (row["difference"], "+9.3f")]))
    m = result["mean"]
    print(_line([("mean", ">5s"), (m["early_test"], "10.3f"),
                 (m["early_n_iter_"], "8.1f"), (m["early_best_epoch_"], "5.1f"),
                 (m["early_validation_at_best"], "9.3f"),
                 (m["early_seconds"], "6.2f"), ("", "s"), (m["fixed_test"], "10.3f"),
                 (m["fixed_n_iter_"], "8.1f"), (m["fixed_seconds"], "6.2f"), ("", "s"),
                 (m["difference"], "+9.3f")]))


def gaussian_streaming_part(seeds, passes):
    X, _ = load_breast_cancer(return_X_y=True)
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    chunks = np.array_split(X_train[np.argsort(X_train[:, 0], kind="stable")], 4)
    std, mean = X_train.std(axis=0), X_train.mean(axis=0)
    settings = dict(n_components=8, learning_rate=0.01, batch_size=10)
    rows, means = [], {}
    for n_passes in passes:
        group = []
        for seed in seeds:
            fitted = GaussianBernoulliRBM(
                n_iter=n_passes, random_state=seed, **settings
            )
            fit_seconds = _timed_fit(fitted, lambda model: model.fit(X_train))

            def stream(model):
                for _ in range(n_passes):
                    for chunk in chunks:
                        model.partial_fit(chunk)

            streamed = GaussianBernoulliRBM(random_state=seed, **settings)
            stream_seconds = _timed_fit(streamed, stream)
            fit_test = float(fitted.score(X_test))  # exact: 2^8 hidden states
            stream_test = float(streamed.score(X_test))
            group.append({
                "passes": n_passes, "seed": seed,
                "fit_test": fit_test, "stream_test": stream_test,
                "difference": stream_test - fit_test,
                "stream_sigma_error": float(np.max(np.abs(streamed.sigma_ - std))),
                "stream_mean_error": float(
                    np.max(np.abs(streamed.feature_mean_ - mean))
                ),
                "fit_sigma_error": float(np.max(np.abs(fitted.sigma_ - std))),
                "fit_seconds": fit_seconds, "stream_seconds": stream_seconds,
            })
        rows += group
        means[str(n_passes)] = {
            key: _mean([r[key] for r in group])
            for key in group[0] if key not in ("passes", "seed")
        }
        print(f"  done: {n_passes} pass(es)", flush=True)
    return {"n_train": X_train.shape[0], "n_test": X_test.shape[0],
            "chunk_rows": [int(c.shape[0]) for c in chunks],
            "rows": rows, "mean": means}


def print_gaussian_streaming(result, passes):
    print(f"\nStreamed GaussianBernoulliRBM, breast cancer standardised "
          f"({result['n_train']} training / {result['n_test']} held-out rows, "
          "30 features),")
    print("8 hidden, learning_rate=0.01, batch_size=10, fixed sigma: fit(n_iter=E) "
          "vs E passes of partial_fit")
    print(f"over 4 chunks of the training rows sorted by feature 0 (rows "
          f"{result['chunk_rows']}), each chunk once per pass")
    print("exact held-out log-density, nats per row; after streaming: sigma err = "
          "max |sigma_ - X_train.std(0)|,")
    print("mean err = max |feature_mean_ - X_train.mean(0)| (on the mean lines: the "
          "largest over seeds)")
    print(_line([("E", ">3s"), ("seed", ">5s"), ("fit", ">10s"), ("stream", ">10s"),
                 ("stream-fit", ">11s"), ("sigma err", ">10s"), ("mean err", ">10s"),
                 ("fit s", ">6s"), ("stream s", ">8s")]))
    for n_passes in passes:
        group = [r for r in result["rows"] if r["passes"] == n_passes]
        for row in group:
            print(_line([(n_passes, "3d"), (row["seed"], "5d"),
                         (row["fit_test"], "10.3f"), (row["stream_test"], "10.3f"),
                         (row["difference"], "+11.3f"),
                         (row["stream_sigma_error"], "10.2e"),
                         (row["stream_mean_error"], "10.2e"),
                         (row["fit_seconds"], "6.2f"),
                         (row["stream_seconds"], "8.2f")]))
        m = result["mean"][str(n_passes)]
        print(_line([(n_passes, "3d"), ("mean", ">5s"), (m["fit_test"], "10.3f"),
                     (m["stream_test"], "10.3f"), (m["difference"], "+11.3f"),
                     (max(r["stream_sigma_error"] for r in group), "10.2e"),
                     (max(r["stream_mean_error"] for r in group), "10.2e"),
                     (m["fit_seconds"], "6.2f"), (m["stream_seconds"], "8.2f")]))


def dtype_part(seeds):
    X64 = minmax_scale(load_digits().data[:100])
    X32 = X64.astype(np.float32)
    rows = []
    for seed in seeds:
        rbm64 = BernoulliRBM(n_iter=5, random_state=seed).fit(X64)
        rbm32 = BernoulliRBM(n_iter=5, random_state=seed).fit(X32)
        c64 = rbm64.components_
        c32 = rbm32.components_.astype(np.float64)
        diff = np.abs(c32 - c64)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = diff / np.abs(c64)
        t64 = rbm64.transform(X64)
        t32 = rbm32.transform(X32).astype(np.float64)
        rows.append({
            "seed": seed,
            "components_dtype": str(rbm32.components_.dtype),
            "max_abs": float(diff.max()),
            "max_rel": float(np.nanmax(relative)),
            "max_transform": float(np.max(np.abs(t32 - t64))),
            "allclose": bool(np.allclose(c32, c64, rtol=1e-3, atol=1e-5)),
            "max_abs_weight": float(np.abs(c64).max()),
        })
    return {"rows": rows}


def print_dtype(result):
    print("\nfloat32 vs float64: first 100 digits min-max scaled, "
          "BernoulliRBM(n_iter=5), 256 hidden")
    print("max rel = max |c32 - c64| / |c64| entry by entry; dT: transform of the rows")
    print(_line([("seed", ">5s"), ("c32 dtype", ">9s"), ("max |dW|", ">10s"),
                 ("max rel", ">10s"), ("max |dT|", ">10s"),
                 ("allclose(rtol=1e-3, atol=1e-5)", ">31s")]))
    rows = result["rows"]
    for row in rows:
        print(_line([(row["seed"], "5d"), (row["components_dtype"], ">9s"),
                     (row["max_abs"], "10.2e"), (row["max_rel"], "10.2e"),
                     (row["max_transform"], "10.2e"), (str(row["allclose"]), ">31s")]))
    n_close = sum(r["allclose"] for r in rows)
    print(_line([("max", ">5s"), ("", "9s"), (max(r["max_abs"] for r in rows), "10.2e"),
                 (max(r["max_rel"] for r in rows), "10.2e"),
                 (max(r["max_transform"] for r in rows), "10.2e"),
                 (f"{n_close} of {len(rows)}", ">31s")]))
    largest = max(r["max_abs_weight"] for r in rows)
    print(f"(largest |weight| over the float64 models: {largest:.3f})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parts = ["early_stopping", "gaussian_streaming", "dtype"]
    parser.add_argument("--part", default="all", choices=["all"] + parts)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="random_state values of the first two parts")
    parser.add_argument("--dtype-seeds", type=int, nargs="+", default=list(range(10)),
                        help="random_state values of the dtype part")
    parser.add_argument("--passes", type=int, nargs="+", default=[1, 5, 20],
                        help="epochs E of gaussian_streaming (n_iter=E vs E passes)")
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()

    load = list(os.getloadavg())
    results = {"platform": platform.platform(), "skebm": skebm.__version__,
               "numpy": np.__version__, "load_average_at_start": load}
    print(f"skebm {skebm.__version__}, numpy {np.__version__}; load average at start "
          + " ".join(f"{value:.2f}" for value in load))
    runs = {
        "early_stopping": (lambda: early_stopping_part(args.seeds),
                           print_early_stopping),
        "gaussian_streaming": (lambda: gaussian_streaming_part(args.seeds, args.passes),
                               lambda result: print_gaussian_streaming(result,
                                                                       args.passes)),
        "dtype": (lambda: dtype_part(args.dtype_seeds), print_dtype),
    }
    for name, (run, show) in runs.items():
        if args.part not in ("all", name):
            continue
        start = time.perf_counter()
        result = run()
        result["seconds"] = time.perf_counter() - start
        results[name] = result
        show(result)
        print(f"part seconds: {result['seconds']:.1f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
