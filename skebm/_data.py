"""Row sources: how training and inference read data, whatever holds it.

X may be a NumPy array, a ``numpy.memmap``, a SciPy sparse matrix or a dask
array.  Everything here reads it a bounded number of rows at a time, so data
larger than memory trains and scores in bounded memory:

``dense_rows(X, rows)``
    Rows of X (an index array or a slice) as a dense NumPy array.
``row_blocks(X, block_order=None, rows_per_block=CHUNK_ROWS)``
    Dense row blocks one at a time (a dask array's own blocks, computed and
    checked one by one).
``head_rows(X, n_rows)``
    The first rows, dense.
``batches(order, batch_size)``
    The mini-batches of one pass over the rows ``order``.
``column_stats(X, rows=None)`` and ``merge_stats(old, new)``
    Per-feature mean and variance of the rows, and the statistics of two sets
    of rows together.
``split_validation(X, fraction, rng)``
    The training rows and a held-out set, without copying X.
``resident(bk, X)``
    X as the training loop reads it: on the backend's device where that pays.

Rows are never copied whole: index arrays select them, a few hundred or
thousand at a time.
"""

import mmap
import sys

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array

#: rows handled at once by transform, free energy and scoring (bounds memory)
CHUNK_ROWS = 4096
#: rows of the training (and validation) data monitored at the end of an epoch
MONITOR_ROWS = 1000
#: rows converted to float64 at once for the feature statistics (about 3 MB)
STATS_ROWS = 512


def is_dask_array(X):
    """Whether X is a dask array, without importing dask when it is not one."""
    dask_array = sys.modules.get("dask.array")
    return dask_array is not None and isinstance(X, dask_array.Array)


def is_memory_mapped(X):
    """Whether the memory of X belongs to a memory map (np.memmap or mmap)."""
    while X is not None:
        if isinstance(X, (np.memmap, mmap.mmap)):
            return True
        X = getattr(X, "base", None)
    return False


def dense_rows(X, rows):
    """Rows of X (an index array or slice) as a dense array."""
    block = X[rows]
    if sp.issparse(block):
        block = block.toarray()
    return np.asarray(block)


def head_rows(X, n_rows):
    """The first ``n_rows`` rows of X as a dense NumPy array (dask computed)."""
    head = X[:n_rows]
    if is_dask_array(head):
        head = head.compute()
    return dense_rows(head, slice(None))


def row_blocks(X, block_order=None, rows_per_block=CHUNK_ROWS):
    """Dense NumPy row blocks of X, one at a time, in order.

    A dask array yields its row blocks (in ``block_order`` if given), each
    computed only when it is needed and checked here, since the values of a
    lazy array are seen nowhere else; any other X yields slices of
    ``rows_per_block`` rows.
    """
    if is_dask_array(X):
        if block_order is None:
            block_order = range(X.numblocks[0])
        for index in block_order:
            block = check_array(
                X.blocks[int(index)].compute(),
                accept_sparse="csr",
                dtype=X.dtype,
                input_name="X",
            )
            yield block.toarray() if sp.issparse(block) else block
        return
    for start in range(0, X.shape[0], rows_per_block):
        yield dense_rows(X, slice(start, start + rows_per_block))


def batches(order, batch_size):
    """``(index, start, rows)`` of each mini-batch of one pass over ``order``."""
    for index, start in enumerate(range(0, len(order), batch_size), start=1):
        yield index, start, order[start : start + batch_size]


def column_stats(X, rows=None):
    """Per-feature mean and variance (float64) of X, or of its rows ``rows``.

    Returns ``{"mean", "var", "n_samples"}``.  A few hundred rows at a time,
    so that sparse, memory-mapped or dask X is never copied whole.
    """
    total = np.zeros(X.shape[1])
    total_sq = np.zeros(X.shape[1])
    if rows is None:
        blocks = row_blocks(X)
    else:
        blocks = (
            dense_rows(X, rows[start : start + STATS_ROWS])
            for start in range(0, len(rows), STATS_ROWS)
        )
    n_samples = 0
    for block in blocks:
        for start in range(0, block.shape[0], STATS_ROWS):
            part = np.asarray(block[start : start + STATS_ROWS], dtype=np.float64)
            total += part.sum(axis=0)
            total_sq += np.einsum("ij,ij->j", part, part)
        n_samples += block.shape[0]
    mean = total / n_samples
    var = np.maximum(total_sq / n_samples - mean**2, 0.0)
    return {"mean": mean, "var": var, "n_samples": n_samples}


def merge_stats(old, new):
    """The column statistics of two sets of rows together (Chan et al. 1979)."""
    n_old, n_new = old["n_samples"], new["n_samples"]
    total = n_old + n_new
    delta = new["mean"] - old["mean"]
    mean = old["mean"] + delta * (n_new / total)
    m2 = old["var"] * n_old + new["var"] * n_new + delta**2 * (n_old * n_new / total)
    return {"mean": mean, "var": m2 / total, "n_samples": total}


def split_validation(X, fraction, rng):
    """``(X_train, train_rows, X_val)``: the training rows and the held-out ones.

    ``fraction`` of the rows (at least one) are held out at random.  X is not
    copied: ``train_rows`` are the sorted indices of the training rows of X,
    and ``X_val`` holds at most ``MONITOR_ROWS`` held-out rows, all that
    monitoring reads.  A dask array is split lazily instead (``train_rows``
    None).  ``fraction`` None holds nothing out: ``(X, None, None)``.
    """
    if fraction is None:
        return X, None, None
    n_samples = X.shape[0]
    n_val = max(1, int(round(fraction * n_samples)))
    if n_val >= n_samples:
        raise ValueError(
            f"validation_fraction={fraction} leaves no training rows out of "
            f"{n_samples}; use a smaller fraction or more data."
        )
    order = rng.permutation(n_samples)
    train_rows, val_rows = np.sort(order[n_val:]), np.sort(order[:n_val])
    if is_dask_array(X):
        return X[train_rows], None, X[val_rows]
    return X, train_rows, dense_rows(X, val_rows[:MONITOR_ROWS])


def resident(bk, X):
    """X as the training loop reads it: on the device where that pays.

    Only an in-memory NumPy array of the backend's dtype can move: the backend
    shares or copies it (:meth:`~skebm._backend.NumpyBackend.adopt`).  Memory
    maps, sparse matrices, dask arrays and anything else stream from the host
    one batch at a time.
    """
    if not isinstance(X, np.ndarray) or is_memory_mapped(X):
        return X
    return bk.adopt(X)
