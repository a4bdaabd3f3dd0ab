"""Log-likelihood of RBMs trained on MNIST-5k: exact log Z, AIS and reverse AIS.

Two parts, both at the default AIS settings (100 chains, 14,500 inverse
temperatures) unless told otherwise:

* ``small``: a 784x20 model (the smaller layer can be enumerated), AIS and
  reverse AIS against the exact log Z over several seeds;
* ``large``: a 784x500 model trained briefly, its held-out AIS log-likelihood,
  the reverse (conservative) bound and the seconds they took.

Prints a table and writes JSON (``--json``).  It asserts nothing about speed.

    python benchmarks/bench_ais.py                # both parts
    python benchmarks/bench_ais.py --part large --threads 1
"""

import argparse
import json
import os
import platform
import time

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from skebm import BernoulliRBM

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist_5k.csv.gz")


def load_mnist(path, dtype):
    table = pd.read_csv(path, header=None).to_numpy()
    X = (table[:, :784] / 255.0 > 0.5).astype(dtype)
    y = table[:, 784]
    return train_test_split(X, y, test_size=1000, random_state=0, stratify=y)


def small_part(X_train, X_test, seeds, n_betas):
    rbm = BernoulliRBM(
        n_components=20, learning_rate=0.05, batch_size=20, n_iter=30, random_state=0
    )
    start = time.perf_counter()
    rbm.fit(X_train)
    fit_seconds = time.perf_counter() - start
    exact = rbm.estimate_log_partition("exact")
    exact_seconds = rbm.log_partition_estimate_.seconds
    rows = []
    for seed in seeds:
        cpu_start = time.process_time()
        rbm.estimate_log_partition("ais", n_betas=n_betas, random_state=seed)
        cpu_seconds = time.process_time() - cpu_start
        est = rbm.log_partition_estimate_
        rows.append(
            {
                "seed": seed,
                "ais_minus_exact": est.log_z - exact,
                "lower_minus_exact": est.lower - exact,
                "upper_minus_exact": est.upper - exact,
                "reverse_minus_exact": est.reverse - exact,
                "seconds": est.seconds,
                "cpu_seconds": cpu_seconds,
            }
        )
        print(
            f"  seed {seed}: AIS - exact {rows[-1]['ais_minus_exact']:+.4f}  "
            f"interval [{rows[-1]['lower_minus_exact']:+.4f}, "
            f"{rows[-1]['upper_minus_exact']:+.4f}]  reverse - exact "
            f"{rows[-1]['reverse_minus_exact']:+.4f}  ({est.seconds:.1f} s, "
            f"{cpu_seconds:.1f} CPU s)",
            flush=True,
        )
    free_energy = rbm.free_energy(X_test).mean()
    return {
        "model": "784x20, float64",
        "fit_seconds": fit_seconds,
        "exact_log_z": exact,
        "exact_seconds": exact_seconds,
        "held_out_log_likelihood_exact": float(-free_energy - exact),
        "n_betas": n_betas,
        "runs": rows,
        "max_abs_ais_error": max(abs(r["ais_minus_exact"]) for r in rows),
    }


def large_part(X_train, X_test, n_chains, n_betas, n_jobs=None):
    rbm = BernoulliRBM(
        n_components=500, learning_rate=0.05, batch_size=100, n_iter=10, random_state=0,
        n_jobs=n_jobs,
    )
    start = time.perf_counter()
    rbm.fit(X_train)
    fit_seconds = time.perf_counter() - start
    cpu_start = time.process_time()
    log_z = rbm.estimate_log_partition("ais", n_chains=n_chains, n_betas=n_betas)
    cpu_both = time.process_time() - cpu_start
    est = rbm.log_partition_estimate_
    free_energy = rbm.free_energy(X_test)
    start = time.perf_counter()
    pll = rbm.pseudo_log_likelihood(X_test).mean()
    pll_seconds = time.perf_counter() - start
    forward_seconds_alone = None
    start, cpu_start = time.perf_counter(), time.process_time()
    rbm.estimate_log_partition("ais", n_chains=n_chains, n_betas=n_betas, reverse=False)
    forward_seconds_alone = time.perf_counter() - start
    cpu_forward = time.process_time() - cpu_start
    mean_f = float(free_energy.mean())
    return {
        "model": f"784x500, {rbm.components_.dtype}",
        "n_jobs": n_jobs,
        "fit_seconds": fit_seconds,
        "n_chains": n_chains,
        "n_betas": n_betas,
        "log_z_ais": log_z,
        "log_z_interval": [est.lower, est.upper],
        "log_z_reverse": est.reverse,
        "held_out_log_likelihood_ais": -mean_f - log_z,
        "held_out_log_likelihood_interval": [-mean_f - est.upper, -mean_f - est.lower],
        "held_out_log_likelihood_reverse": -mean_f - est.reverse,
        "seconds_forward_and_reverse": est.seconds,
        "seconds_forward_only": forward_seconds_alone,
        # CPU seconds of this process: on a busy shared machine the wall time
        # measures the neighbours too; with --threads 1 this is the time the
        # same work takes on one idle core
        "cpu_seconds_forward_and_reverse": cpu_both,
        "cpu_seconds_forward_only": cpu_forward,
        "held_out_pseudo_log_likelihood": float(pll),
        "pseudo_log_likelihood_seconds": pll_seconds,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["small", "large", "both"], default="both")
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--n-chains", type=int, default=100)
    parser.add_argument("--n-betas", type=int, default=14500)
    parser.add_argument("--seeds", type=int, default=3, help="AIS seeds of the small part")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: library's)")
    parser.add_argument(
        "--n-jobs", type=int, default=None,
        help="n_jobs of the 784x500 model: AIS chains in parallel blocks (default: None)",
    )
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()

    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    results = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_average_at_start": os.getloadavg(),
        "blas_threads": args.threads,
    }
    if args.part in ("small", "both"):
        X_train, X_test, _, _ = load_mnist(args.data, np.float64)
        print(f"784x20 model, AIS with {args.n_betas} betas vs exact log Z:", flush=True)
        small = small_part(X_train, X_test, list(range(args.seeds)), args.n_betas)
        results["small"] = small
        print(
            f"  exact log Z {small['exact_log_z']:.4f} ({small['exact_seconds']:.1f} s), "
            f"held-out log-likelihood {small['held_out_log_likelihood_exact']:.3f} nats; "
            f"max |AIS - exact| {small['max_abs_ais_error']:.4f}"
        )
    if args.part in ("large", "both"):
        X_train, X_test, _, _ = load_mnist(args.data, np.float32)
        large = large_part(X_train, X_test, args.n_chains, args.n_betas, args.n_jobs)
        results["large"] = large
        lo, hi = large["held_out_log_likelihood_interval"]
        print(f"784x500 model (fit {large['fit_seconds']:.1f} s, float32, n_jobs={args.n_jobs}):")
        print(
            f"  held-out log-likelihood, AIS     {large['held_out_log_likelihood_ais']:.3f} "
            f"nats  (+-3 se: [{lo:.3f}, {hi:.3f}])"
        )
        print(
            f"  held-out log-likelihood, reverse {large['held_out_log_likelihood_reverse']:.3f} "
            "nats  (conservative)"
        )
        print(f"  held-out pseudo-log-likelihood  {large['held_out_pseudo_log_likelihood']:.3f} nats")
        print(
            f"  AIS seconds: forward + reverse {large['seconds_forward_and_reverse']:.1f}, "
            f"forward only {large['seconds_forward_only']:.1f} "
            f"({args.n_chains} chains, {args.n_betas} betas)"
        )
        print(
            f"  AIS CPU seconds of this process: forward + reverse "
            f"{large['cpu_seconds_forward_and_reverse']:.1f}, forward only "
            f"{large['cpu_seconds_forward_only']:.1f}"
        )
    results["load_average_at_end"] = os.getloadavg()
    print(f"load average: start {results['load_average_at_start']}, end {results['load_average_at_end']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
