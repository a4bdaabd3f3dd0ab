"""The one seam between NumPy and torch.

Every algorithm in skebm is written once against the :class:`Backend`
protocol: array creation, the few element-wise functions an RBM needs, random
draws, and moves between host and device.  :class:`NumpyBackend` is the
default and needs nothing beyond NumPy/SciPy; :class:`TorchBackend` runs the
same code on any torch device.  Callers never ask which one they have: what
differs (where rows are gathered, whether data can live on the device, how
float64 sums are taken) is a method here.  torch is imported lazily, only
when a torch device is asked for.
"""

import contextlib
import importlib
import math
import warnings
from typing import Protocol, runtime_checkable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from scipy.special import log_ndtr as _np_log_ndtr
from scipy.special import logsumexp as _np_logsumexp
from scipy.special import ndtri as _np_ndtri

from ._exceptions import caller_stacklevel

TORCH_INSTALL_HINT = (
    "Install torch: `pip install torch==2.13.0` is the pinned CPU build of "
    "skebm's test set-up; elsewhere `pip install torch --index-url "
    "https://download.pytorch.org/whl/cpu` gives a CPU-only build and "
    "https://pytorch.org lists the CUDA ones. Or use device=None for NumPy."
)


#: every random number is drawn in float32, whatever the model's dtype, so
#: that float32 and float64 data see the same draws (and models that differ
#: only by rounding); float32's 2**-24 resolution is far finer than any
#: Monte Carlo error of a Bernoulli or Gaussian draw
DRAW_DTYPE = np.float32


@runtime_checkable
class Backend(Protocol):
    """What every backend provides; arrays are the backend's own (ndarray or tensor).

    Arrays are created in the backend's floating dtype and live on its
    device; ``out=`` arguments write in place and may alias the input.
    Random draws come from the backend's own seeded stream, always in
    float32 (:data:`DRAW_DTYPE`), so the same seed gives the same draws on
    every backend and dtype.
    """

    # --- work split and threads ---
    def map_blocks(self, n, func):
        """Call ``func(worker, rows)`` over contiguous slices covering range(n)."""

    def threads(self):
        """A context in which ``map_blocks`` may run its blocks in parallel."""

    # --- moving data ---
    def asarray(self, x):
        """x (host or backend array) as a backend array of the backend's dtype."""

    def to_numpy(self, x):
        """A backend array as a NumPy array on the host."""

    def copy(self, x):
        """A new backend array holding x."""

    def empty(self, shape):
        """An uninitialised array."""

    def zeros(self, shape):
        """An array of zeros."""

    def concatenate(self, arrays, axis=0):
        """Arrays joined along ``axis``."""

    def gather_rows(self, X, rows, out):
        """Rows ``rows`` of X (a host array, dense or sparse, or one ``adopt`` gave) into ``out``."""

    def adopt(self, X):
        """An in-memory NumPy array as training reads it (on the device where that pays)."""

    def holds(self, X):
        """Whether X is an array ``adopt`` placed on the device."""

    def index(self, rows):
        """A NumPy index array in the form that selects rows of arrays on the device."""

    def take_rows(self, x, rows):
        """Rows of a backend array by a NumPy index array."""

    def repeat_rows(self, x, repeats):
        """Each row of x ``repeats`` times in a row."""

    def tile_rows(self, x, reps):
        """x stacked ``reps`` times."""

    # --- math ---
    def matmul(self, a, b, out=None):
        """a @ b."""

    def addmm_(self, c, a, b, alpha=1.0):
        """c += alpha * (a @ b), in place; returns c."""

    def sigmoid(self, x, out=None):
        """1 / (1 + exp(-x)), without overflow warnings."""

    def softplus(self, x, out=None):
        """log(1 + exp(x)), exact for large |x|."""

    def log_sigmoid(self, x):
        """log sigmoid(x) = -softplus(-x)."""

    def exp(self, x, out=None):
        """exp(x)."""

    def log(self, x, out=None):
        """log(x)."""

    def square(self, x, out=None):
        """x * x."""

    def clip(self, x, low, high, out=None):
        """x limited to [low, high] (arrays or numbers)."""

    def where(self, cond, a, b):
        """a where cond holds, b elsewhere."""

    def log_ndtr(self, x):
        """log Phi(x), the log of the standard normal CDF, stable for very negative x."""

    def ndtri(self, p):
        """Phi^-1(p), the standard normal quantile."""

    def less(self, a, b):
        """a < b as 0.0 / 1.0 in the backend's dtype."""

    def logsumexp(self, x, axis=None):
        """log sum exp(x), stable."""

    def row_sums_float64(self, x):
        """Row sums accumulated in float64."""

    def as_float64(self, x):
        """x in float64."""

    def all_finite(self, x):
        """Whether no element is NaN or infinite (a Python bool)."""

    def item(self, x):
        """A one-element array as a Python float."""

    # --- randomness ---
    def uniform(self, shape, out=None):
        """Uniform [0, 1) draws: the stream every other draw is made from."""

    def normal(self, shape):
        """Standard normal draws."""

    def bernoulli(self, p, out=None):
        """0/1 draws with success probabilities p (``out`` may be p)."""

    def permutation(self, n):
        """A random permutation of range(n) as a NumPy index array."""

    def host_rng(self):
        """A NumPy generator for host-side choices, drawn from this backend's stream."""


class NumpyBackend:
    """Array operations on NumPy arrays (the default backend)."""

    device = None

    def __init__(self, dtype=np.float64, seed=None, n_threads=1):
        self.dtype = np.dtype(dtype)
        self.rng = np.random.default_rng(seed)
        self._buffers = {}
        self.n_threads = n_threads
        self._workers = None
        self._pool = None

    # --- row blocks in parallel -------------------------------------------
    def map_blocks(self, n, func):
        """Call ``func(worker, block)`` over ``n_threads`` contiguous slices of range(n).

        Each worker is a backend with its own random stream and work arrays,
        so the blocks run in parallel threads (NumPy and BLAS release the
        GIL).  The split depends only on ``n`` and ``n_threads``, and block k
        always draws from worker k's stream, so results are reproducible for
        a given number of threads.  With one thread this is
        ``func(self, slice(0, n))``: the same draws as without blocks.
        """
        if self.n_threads == 1:
            func(self, slice(0, n))
            return
        if self._workers is None:
            self._workers = [
                NumpyBackend(self.dtype, seed=child) for child in self.rng.spawn(self.n_threads)
            ]
            self._pool = ThreadPoolExecutor(self.n_threads - 1)
        edges = np.linspace(0, n, self.n_threads + 1).astype(int)
        # worker k always takes block k; empty blocks (n < n_threads) are skipped
        work = [
            (worker, slice(start, stop))
            for worker, start, stop in zip(self._workers, edges[:-1], edges[1:])
            if start < stop
        ]
        futures = [self._pool.submit(func, worker, block) for worker, block in work[1:]]
        try:
            if work:
                func(*work[0])
        finally:
            for future in futures:
                future.result()

    @contextlib.contextmanager
    def threads(self):
        """The scope of parallel ``map_blocks``: BLAS on one thread per block.

        Nested BLAS threads would compete with the blocks for the same cores
        (and spin while waiting), so BLAS is limited to one thread inside;
        the thread pool is closed on exit.
        """
        if self.n_threads == 1:
            yield self
            return
        from threadpoolctl import threadpool_limits

        try:
            with threadpool_limits(limits=1, user_api="blas"):
                yield self
        finally:
            if self._pool is not None:
                self._pool.shutdown()
            self._workers = self._pool = None

    def _scratch(self, name, shape, dtype):
        """A work array reused across calls (allocated once per name and shape)."""
        key = (name, tuple(shape), dtype)
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = np.empty(shape, dtype=dtype)
        return buffer

    # --- moving data -----------------------------------------------------
    def asarray(self, x):
        return np.asarray(x, dtype=self.dtype)

    def to_numpy(self, x):
        return np.asarray(x)

    def copy(self, x):
        return np.array(x, dtype=self.dtype, copy=True)

    def empty(self, shape):
        return np.empty(shape, dtype=self.dtype)

    def zeros(self, shape):
        return np.zeros(shape, dtype=self.dtype)

    def concatenate(self, arrays, axis=0):
        return np.concatenate(arrays, axis=axis)

    def gather_rows(self, X, rows, out):
        """Copy rows ``rows`` of the host array X (dense or sparse) into ``out``."""
        if sp.issparse(X):
            out[...] = X[rows].toarray()
        elif X.dtype == out.dtype:
            np.take(X, rows, axis=0, out=out)
        else:
            out[...] = X[rows]
        return out

    def adopt(self, X):
        """An in-memory NumPy array as training reads it: X itself, on the host."""
        return X

    def holds(self, X):
        """Whether X lives on this backend's device (never: NumPy reads the host)."""
        return False

    def index(self, rows):
        """A host index array in the form that selects rows of arrays this backend holds."""
        return rows

    def take_rows(self, x, rows):
        """Rows of a backend array by a NumPy index array."""
        return x[rows]

    def repeat_rows(self, x, repeats):
        """Each row of x ``repeats`` times in a row (``np.repeat`` along axis 0)."""
        return np.repeat(x, repeats, axis=0)

    def tile_rows(self, x, reps):
        """x stacked ``reps`` times (``np.tile`` along axis 0)."""
        return np.tile(x, (reps, 1))

    def less(self, a, b):
        """``a < b`` element-wise, as 0.0 / 1.0 in the backend's dtype."""
        return np.less(a, b).astype(self.dtype)

    def row_sums_float64(self, x):
        """Row sums accumulated in float64 whatever the dtype of x."""
        return x.sum(axis=1, dtype=np.float64)

    def as_float64(self, x):
        """x in float64 (a host array on devices without float64)."""
        return np.asarray(x, dtype=np.float64)

    def host_rng(self):
        """A NumPy generator for host-side choices, drawn from this backend's stream."""
        return self.rng

    # --- element-wise math -------------------------------------------------
    def matmul(self, a, b, out=None):
        return np.matmul(a, b, out=out)

    def addmm_(self, c, a, b, alpha=1.0):
        """c += alpha * (a @ b), in place."""
        product = self._scratch("product", c.shape, c.dtype)
        np.matmul(a, b, out=product)
        if alpha != 1.0:
            product *= alpha
        c += product
        return c

    def sigmoid(self, x, out=None):
        # 1 / (1 + exp(-x)) with NumPy's vectorised exp: about twice as fast
        # as scipy's expit in float32.  exp(-x) overflows to inf for very
        # negative x, which gives the exact limit 0, so the warning is noise.
        out = np.negative(x, out=out)
        with np.errstate(over="ignore"):
            np.exp(out, out=out)
        out += 1.0
        return np.reciprocal(out, out=out)

    def softplus(self, x, out=None):
        # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow for any x,
        # and about three times as fast as np.logaddexp(0, x)
        positive = np.maximum(x, 0.0)
        out = np.abs(x, out=out)
        np.negative(out, out=out)
        np.exp(out, out=out)
        np.log1p(out, out=out)
        out += positive
        return out

    def log_sigmoid(self, x):
        return -np.logaddexp(0, -x)

    def exp(self, x, out=None):
        return np.exp(x, out=out)

    def log(self, x, out=None):
        return np.log(x, out=out)

    def square(self, x, out=None):
        return np.square(x, out=out)

    def clip(self, x, low, high, out=None):
        return np.clip(x, low, high, out=out)

    def where(self, cond, a, b):
        return np.where(cond, a, b)

    def log_ndtr(self, x):
        return _np_log_ndtr(x)

    def ndtri(self, p):
        return _np_ndtri(p)

    def logsumexp(self, x, axis=None):
        return _np_logsumexp(x, axis=axis)

    def all_finite(self, x):
        return bool(np.isfinite(x).all())

    def item(self, x):
        return float(x)

    # --- randomness ----------------------------------------------------------
    def uniform(self, shape, out=None):
        if out is None:
            out = np.empty(shape, dtype=self.dtype)
        if out.dtype == DRAW_DTYPE:
            return self.rng.random(out=out, dtype=DRAW_DTYPE)
        out[...] = self.rng.random(out.shape, dtype=DRAW_DTYPE)
        return out

    def normal(self, shape):
        return self.rng.standard_normal(shape, dtype=DRAW_DTYPE).astype(self.dtype, copy=False)

    def bernoulli(self, p, out=None):
        """Draw 0/1 with success probabilities ``p`` (in ``out`` if given).

        One uniform draw for the whole array, into a reused buffer; ``out``
        may be ``p`` itself.
        """
        u = self._scratch("uniform", p.shape, DRAW_DTYPE)
        self.rng.random(out=u, dtype=DRAW_DTYPE)
        hits = self._scratch("hits", p.shape, np.bool_)
        np.less(u, p, out=hits)
        if out is None:
            return hits.astype(self.dtype)
        np.copyto(out, hits)
        return out

    def permutation(self, n):
        return self.rng.permutation(n)


class TorchBackend:
    """The same operations on torch tensors on one device."""

    def __init__(self, device, dtype=np.float64, seed=None):
        self.torch = torch = import_torch()
        self.device = torch.device(device)
        self.dtype = _torch_dtype(torch, dtype)
        self.np_dtype = np.dtype(dtype)
        self.rng = torch.Generator(device=self.device)
        self.rng.manual_seed(int(seed) if seed is not None else 0)
        # torch's CPU generator is a Mersenne Twister that fills one element at
        # a time; NumPy's PCG64 fills the tensor's memory with uniforms about
        # 1.5x faster, and the draws are a tenth of a training step on the CPU
        self._host_rng = (
            np.random.default_rng(seed) if self.device.type == "cpu" else None
        )
        self._buffers = {}

    def map_blocks(self, n, func):
        """``func(self, slice(0, n))``: torch parallelises inside each operation."""
        func(self, slice(0, n))

    @contextlib.contextmanager
    def threads(self):
        """Nothing to set up: torch threads its own operations."""
        yield self

    def _scratch(self, name, shape, dtype=None):
        """A device work tensor reused across calls (one per name and shape)."""
        key = (name, tuple(shape), dtype)
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = self.torch.empty(
                shape, dtype=self.dtype if dtype is None else dtype, device=self.device
            )
        return buffer

    def _staging(self, shape):
        """A host array whose rows are copied to the device (pinned for CUDA)."""
        key = ("staging", tuple(shape))
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self.torch.empty(
                shape, dtype=self.dtype, pin_memory=self.device.type == "cuda"
            )
            self._buffers[key] = buffer
        return buffer

    def asarray(self, x):
        torch = self.torch
        if isinstance(x, torch.Tensor):
            return x.to(device=self.device, dtype=self.dtype)
        x = np.asarray(x)
        if not x.flags.writeable:
            # torch warns on read-only buffers; the copy is one batch at most
            x = np.array(x)
        return torch.as_tensor(x, dtype=self.dtype, device=self.device)

    def _free_memory(self):
        """Free bytes on the device (CUDA), or a conservative 4 GiB elsewhere."""
        if self.device.type == "cuda":
            return int(self.torch.cuda.mem_get_info(self.device)[0])
        return 2**32

    def adopt(self, X):
        """An in-memory NumPy array as training reads it: on the device where that pays.

        The CPU device shares the memory of a writeable C-contiguous array
        (no copy); an accelerator gets a copy when X takes at most a quarter
        of its free memory (and 1 GiB), so that batches are gathered there.
        Anything else stays on the host and is gathered one batch at a time.
        """
        if X.dtype != self.np_dtype:
            return X
        if self.device.type == "cpu":
            if X.flags.c_contiguous and X.flags.writeable:
                return self.torch.from_numpy(X)
            return X
        if X.nbytes <= min(2**30, self._free_memory() // 4):
            return self.asarray(X)
        return X

    def holds(self, X):
        """Whether X is a tensor (made resident by :meth:`adopt`)."""
        return isinstance(X, self.torch.Tensor)

    def index(self, rows):
        """A host index array as a tensor on the device, to select rows there."""
        return self.torch.as_tensor(rows, device=self.device)

    def take_rows(self, x, rows):
        """Rows of a tensor by a NumPy index array."""
        return x[self.index(rows)]

    def repeat_rows(self, x, repeats):
        return self.torch.repeat_interleave(x, repeats, dim=0)

    def tile_rows(self, x, reps):
        return x.repeat(reps, 1)

    def less(self, a, b):
        return self.torch.lt(a, b).to(self.dtype)

    def row_sums_float64(self, x):
        if self.device.type == "mps":  # no float64 there: sum on the host
            return np.asarray(self.to_numpy(x), dtype=np.float64).sum(axis=1)
        return x.sum(dim=1, dtype=self.torch.float64)

    def as_float64(self, x):
        if self.device.type == "mps":
            return np.asarray(self.to_numpy(x), dtype=np.float64)
        return x.to(self.torch.float64)

    def host_rng(self):
        # a NumPy generator seeded from the device stream, so that host-side
        # choices stay reproducible for a given seed
        return np.random.default_rng(int(self.permutation(2**20)[0]))

    def gather_rows(self, X, rows, out):
        """Copy rows ``rows`` of X into the device tensor ``out``.

        X is a device tensor (data kept resident: gathered on the device) or a
        host array, dense or sparse (gathered on the host, then copied over:
        on the CPU straight into ``out``'s memory).
        """
        torch = self.torch
        if isinstance(X, torch.Tensor):
            index = torch.as_tensor(rows, device=X.device)
            return torch.index_select(X, 0, index, out=out)
        host = out if self.device.type == "cpu" else self._staging(tuple(out.shape))
        if sp.issparse(X):
            host.copy_(torch.from_numpy(X[rows].toarray()))
        elif X.dtype == self.np_dtype:
            np.take(X, rows, axis=0, out=host.numpy())
        else:
            host.numpy()[...] = X[rows]
        if host is not out:
            out.copy_(host)
        return out

    def to_numpy(self, x):
        if isinstance(x, self.torch.Tensor):
            return x.detach().to("cpu").numpy()
        return np.asarray(x)

    def copy(self, x):
        return self.asarray(x).clone()

    def empty(self, shape):
        return self.torch.empty(shape, dtype=self.dtype, device=self.device)

    def zeros(self, shape):
        return self.torch.zeros(shape, dtype=self.dtype, device=self.device)

    def concatenate(self, arrays, axis=0):
        return self.torch.cat(arrays, dim=axis)

    def matmul(self, a, b, out=None):
        return self.torch.matmul(a, b, out=out)

    def addmm_(self, c, a, b, alpha=1.0):
        """c += alpha * (a @ b), in place (one fused GEMM)."""
        return c.addmm_(a, b, alpha=alpha)

    def sigmoid(self, x, out=None):
        return self.torch.sigmoid(x, out=out)

    def softplus(self, x, out=None):
        # torch's softplus switches to the identity above a threshold; logaddexp
        # is exact everywhere, matching the NumPy path bit for bit in spirit.
        return self.torch.logaddexp(self.torch.zeros_like(x), x, out=out)

    def log_sigmoid(self, x):
        return self.torch.nn.functional.logsigmoid(x)

    def exp(self, x, out=None):
        return self.torch.exp(x, out=out)

    def log(self, x, out=None):
        return self.torch.log(x, out=out)

    def square(self, x, out=None):
        return self.torch.square(x, out=out)

    def clip(self, x, low, high, out=None):
        return self.torch.clamp(x, low, high, out=out)

    def where(self, cond, a, b):
        return self.torch.where(cond, a, b)

    def log_ndtr(self, x):
        return self.torch.special.log_ndtr(x)

    def ndtri(self, p):
        return self.torch.special.ndtri(p)

    def logsumexp(self, x, axis=None):
        if axis is None:
            return self.torch.logsumexp(x.reshape(-1), dim=0)
        return self.torch.logsumexp(x, dim=axis)

    def all_finite(self, x):
        return bool(self.torch.isfinite(x).all())

    def item(self, x):
        return float(x)

    def uniform(self, shape, out=None):
        if out is None:
            out = self.empty(shape)
        if out.dtype == self.torch.float32:
            return self._fill_uniform(out)
        return out.copy_(self._fill_uniform(self._scratch("uniform", tuple(out.shape), self.torch.float32)))

    def _fill_uniform(self, out):
        """Uniform [0, 1) float32 draws into ``out`` (NumPy's generator on the CPU)."""
        if self._host_rng is not None and out.is_contiguous():
            self._host_rng.random(out=out.numpy(), dtype=DRAW_DTYPE)
            return out
        return out.uniform_(generator=self.rng)

    def normal(self, shape):
        draws = self.torch.randn(
            shape, generator=self.rng, dtype=self.torch.float32, device=self.device
        )
        return draws.to(self.dtype)

    def bernoulli(self, p, out=None):
        """Draw 0/1 with success probabilities ``p`` (in ``out``, which may be ``p``).

        A uniform draw compared with ``p``: on the CPU several times faster
        than ``torch.bernoulli``, and the same on every device.
        """
        u = self._fill_uniform(
            self._scratch("uniform", tuple(p.shape), self.torch.float32)
        )
        if out is None:
            return (u < p).to(self.dtype)
        return self.torch.lt(u, p, out=out)

    def permutation(self, n):
        # drawn on the host so that index arrays can slice host data directly
        cpu = self.torch.Generator().manual_seed(
            int(self.torch.randint(0, 2**62, (1,), generator=self.rng, device=self.device))
        )
        return self.torch.randperm(n, generator=cpu).numpy()


def import_torch():
    """Import torch or explain how to get it."""
    try:
        return importlib.import_module("torch")
    except ImportError as exc:  # pragma: no cover - exercised without torch
        raise ImportError(
            "A torch device was requested but PyTorch is not installed. "
            + TORCH_INSTALL_HINT
        ) from exc


def _torch_dtype(torch, dtype):
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[
        np.dtype(dtype)
    ]


def resolve_device(device):
    """Turn the ``device`` parameter into ``None`` (NumPy) or a torch device string.

    ``"auto"`` picks CUDA, then Apple's MPS, then the torch CPU; it falls back to
    NumPy when torch is not installed.  An unavailable device raises a
    ``ValueError`` naming the devices that are available.
    """
    if device is None:
        return None
    if device == "auto":
        try:
            torch = importlib.import_module("torch")
        except ImportError:
            return None
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    torch = import_torch()
    try:
        parsed = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(
            f"device={device!r} is not a torch device string. Use 'auto' or one "
            f"of the devices here: {', '.join(available_devices())}."
        ) from exc
    if parsed.type == "cuda":
        n_gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        index = parsed.index or 0
        if index >= n_gpus:
            raise ValueError(
                f"device={device!r} was requested but "
                + (
                    "CUDA is not available on this machine"
                    if n_gpus == 0
                    else f"only {n_gpus} CUDA device(s) exist"
                )
                + f". Available devices: {', '.join(available_devices())}."
            )
    elif parsed.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(
                f"device={device!r} was requested but Apple's MPS is not available "
                f"here. Available devices: {', '.join(available_devices())}."
            )
    elif parsed.type != "cpu":
        raise ValueError(
            f"device={device!r} is not supported. Available devices: "
            f"{', '.join(available_devices())}."
        )
    return str(parsed)


def available_devices():
    """The device strings this machine can use, NumPy's ``None`` first."""
    names = ["None (NumPy)"]
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        return names
    names.append("'cpu'")
    if torch.cuda.is_available():
        names += [f"'cuda:{i}'" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("'mps'")
    return names


def make_backend(device, dtype, seed=None, n_threads=1):
    """A backend for an already resolved device (see :func:`resolve_device`).

    ``n_threads`` is the number of row blocks NumPy's ``map_blocks`` runs in
    parallel; torch devices use torch's own threads.
    """
    if device is None:
        return NumpyBackend(dtype=dtype, seed=seed, n_threads=n_threads)
    if device.startswith("mps") and np.dtype(dtype) == np.float64:
        dtype = np.float32  # MPS has no float64
    return TorchBackend(device, dtype=dtype, seed=seed)


LOG_2 = math.log(2.0)
LOG_2PI = math.log(2.0 * math.pi)


def inference_backend(device, dtype, seed=None, n_threads=1):
    """A backend on the ``device`` a model was fitted for, NumPy if it is gone.

    A model fitted on a GPU and loaded where there is none still works: it
    warns and falls back to NumPy instead of failing.
    """
    try:
        device = resolve_device(device)
    except (ImportError, ValueError) as exc:
        warnings.warn(
            f"{exc} Falling back to NumPy for this call; set device=None to "
            "silence this warning.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )
        device = None
    return make_backend(device, dtype, seed=seed, n_threads=n_threads)
