"""
Training on data larger than memory
===================================

An RBM does not need its training data in memory.  ``partial_fit`` trains on
one chunk of rows at a time and carries the persistent chains, momentum and
feature statistics over to the next chunk, so a data set stored on disk as a
``numpy.memmap`` streams through it in memory bounded by the chunk and the
model.  A dask array goes straight to ``fit``, which computes its blocks one
at a time in every epoch and never holds the whole array.

This example writes 10,000 noisy binary digits to a memmap file, streams
them through ``partial_fit`` for a few passes, does the same through ``fit``
on a dask array built over the same file, and compares both with ordinary
in-memory training: the held-out log-likelihood per pass, and the peak of
Python/NumPy allocations while training (tracemalloc).
"""

import os
import tempfile
import tracemalloc
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from skebm import BernoulliRBM  # noqa: E402

OUTPUT = Path(os.environ.get("SKEBM_EXAMPLES_OUTPUT", "."))
OUTPUT.mkdir(parents=True, exist_ok=True)

# %%
# A data set on disk
# ------------------
# The 8x8 digits, binarised, each copied many times with 5% of its pixels
# flipped, written to a memmap 2,000 rows at a time: the full array is never
# in memory, not even while it is written.
digits = (load_digits().data / 16.0 > 0.5).astype(np.float32)
rng = np.random.default_rng(0)
n_rows, n_features = 10_000, digits.shape[1]
tmp = tempfile.TemporaryDirectory()
path = Path(tmp.name) / "digits.npy"
X_disk = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                   shape=(n_rows, n_features))
for start in range(0, n_rows, 2000):
    rows = digits[rng.integers(0, len(digits), 2000)]
    X_disk[start:start + 2000] = np.abs(rows - (rng.random(rows.shape) < 0.05))
X_disk.flush()
del X_disk
X_disk = np.load(path, mmap_mode="r")  # read-only, pages read on demand
X_test = np.abs(digits - (rng.random(digits.shape) < 0.05)).astype(np.float32)
print(f"{n_rows} x {n_features} float32 on disk: {X_disk.nbytes / 2**20:.1f} MiB")

# 16 hidden units: few enough for the exact log-likelihood (2**16 states)
params = dict(n_components=16, batch_size=50, learning_rate=0.05, random_state=0)
n_passes, chunk = 3, 1000

# %%
# Streaming chunks of the memmap through partial_fit
# --------------------------------------------------
# tracemalloc's peak is read right after training, before scoring
streamed = BernoulliRBM(**params)
streamed_scores, streamed_peak = [], 0
tracemalloc.start()
for _ in range(n_passes):
    tracemalloc.reset_peak()
    for start in range(0, n_rows, chunk):
        streamed.partial_fit(X_disk[start:start + chunk])
    streamed_peak = max(streamed_peak, tracemalloc.get_traced_memory()[1])
    streamed_scores.append(streamed.score(X_test))
tracemalloc.stop()
print(f"partial_fit over memmap chunks: test log-likelihood "
      f"{streamed_scores[-1]:.2f} nats, peak allocations "
      f"{streamed_peak / 2**20:.1f} MiB")

# %%
# fit on a dask array streams its blocks
# --------------------------------------
# (skipped when dask is not installed: ``pip install "dask[array]"``)
try:
    import dask
    import dask.array as da
except ImportError:
    da = None
dask_scores = []
if da is not None:
    X_dask = da.from_array(X_disk, chunks=(2000, n_features))
    with dask.config.set(scheduler="synchronous"):
        for n_iter in range(1, n_passes + 1):
            model = BernoulliRBM(n_iter=n_iter, **params).fit(X_dask)
            dask_scores.append(model.score(X_test))
    print(f"fit on a dask array: test log-likelihood {dask_scores[-1]:.2f} nats")

# %%
# The same model trained in memory
# --------------------------------
tracemalloc.start()
X_memory = np.array(X_disk)
memory_scores, memory_peak = [], 0
for n_iter in range(1, n_passes + 1):
    tracemalloc.reset_peak()
    model = BernoulliRBM(n_iter=n_iter, **params).fit(X_memory)
    memory_peak = max(memory_peak, tracemalloc.get_traced_memory()[1])
    memory_scores.append(model.score(X_test))
tracemalloc.stop()
print(f"fit in memory: test log-likelihood {memory_scores[-1]:.2f} nats, "
      f"peak allocations {memory_peak / 2**20:.1f} MiB, the data included")

# %%
# Learning curves
# ---------------
# Streaming learns as fast per pass as training in memory: each pass sees
# every row once.  (``partial_fit`` passes over the chunks in file order;
# ``fit`` reshuffles every epoch, dask blocks in a random order.)
fig, ax = plt.subplots(figsize=(6, 4))
passes = np.arange(1, n_passes + 1)
ax.plot(passes, memory_scores, "o-", label="fit, in memory")
ax.plot(passes, streamed_scores, "s--", label="partial_fit, memmap chunks")
if dask_scores:
    ax.plot(passes, dask_scores, "^:", label="fit, dask array")
ax.set_xticks(passes)
ax.set_xlabel("passes over the data")
ax.set_ylabel("held-out log-likelihood (nats/digit)")
ax.set_title("Out-of-core training of a BernoulliRBM")
ax.legend()
fig.tight_layout()
fig.savefig(OUTPUT / "out_of_core.png", dpi=100)
print(f"figure saved to {OUTPUT / 'out_of_core.png'}")

del X_disk
tmp.cleanup()
