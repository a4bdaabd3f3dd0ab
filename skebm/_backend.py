"""The one seam between NumPy and torch.

Every algorithm in skebm is written once against a :class:`Backend`: array
creation, the few element-wise functions an RBM needs, random draws and moves
between host and device.  :class:`NumpyBackend` is the default and needs
nothing beyond NumPy/SciPy; :class:`TorchBackend` runs the same code on any
torch device.  torch is imported lazily, only when a torch device is asked for.
"""

import importlib
import math

import numpy as np
from scipy.special import expit
from scipy.special import logsumexp as _np_logsumexp

TORCH_INSTALL_HINT = (
    "Install the CPU build with `pip install torch==2.13.0` (or follow "
    "https://pytorch.org for a CUDA build), or use device=None for NumPy."
)


class NumpyBackend:
    """Array operations on NumPy arrays (the default backend)."""

    name = "numpy"
    device = None

    def __init__(self, dtype=np.float64, seed=None):
        self.dtype = np.dtype(dtype)
        self.rng = np.random.default_rng(seed)

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

    def ones(self, shape):
        return np.ones(shape, dtype=self.dtype)

    def concatenate(self, arrays, axis=0):
        return np.concatenate(arrays, axis=axis)

    def arange(self, n):
        return np.arange(n)

    # --- element-wise math -------------------------------------------------
    def matmul(self, a, b, out=None):
        return np.matmul(a, b, out=out)

    def sigmoid(self, x, out=None):
        return expit(x, out=out)

    def softplus(self, x, out=None):
        # log(1 + exp(x)) without overflow for large |x|
        return np.logaddexp(0, x, out=out)

    def log_sigmoid(self, x):
        return -np.logaddexp(0, -x)

    def exp(self, x, out=None):
        return np.exp(x, out=out)

    def log(self, x, out=None):
        return np.log(x, out=out)

    def sqrt(self, x):
        return np.sqrt(x)

    def square(self, x, out=None):
        return np.square(x, out=out)

    def clip(self, x, low, high, out=None):
        return np.clip(x, low, high, out=out)

    def where(self, cond, a, b):
        return np.where(cond, a, b)

    def logsumexp(self, x, axis=None):
        return _np_logsumexp(x, axis=axis)

    def all_finite(self, x):
        return bool(np.isfinite(x).all())

    def item(self, x):
        return float(x)

    # --- randomness ----------------------------------------------------------
    def uniform(self, shape, out=None):
        if out is not None:
            return self.rng.random(out=out, dtype=self.dtype)
        return self.rng.random(shape, dtype=self.dtype)

    def normal(self, shape):
        return self.rng.standard_normal(shape, dtype=self.dtype)

    def bernoulli(self, p, out=None):
        """Draw 0/1 with success probabilities ``p`` (in ``out`` if given)."""
        u = self.rng.random(p.shape, dtype=self.dtype)
        if out is None:
            return (u < p).astype(self.dtype)
        np.less(u, p, out=out, casting="unsafe")
        return out

    def permutation(self, n):
        return self.rng.permutation(n)

    def choice(self, n, size):
        return self.rng.choice(n, size=size, replace=False)


class TorchBackend:
    """The same operations on torch tensors on one device."""

    name = "torch"

    def __init__(self, device, dtype=np.float64, seed=None):
        self.torch = torch = import_torch()
        self.device = torch.device(device)
        self.dtype = _torch_dtype(torch, dtype)
        self.np_dtype = np.dtype(dtype)
        self.rng = torch.Generator(device=self.device)
        self.rng.manual_seed(int(seed) if seed is not None else 0)

    def asarray(self, x):
        torch = self.torch
        if isinstance(x, torch.Tensor):
            return x.to(device=self.device, dtype=self.dtype)
        x = np.asarray(x)
        if not x.flags.writeable:
            # torch warns on read-only buffers; the copy is one batch at most
            x = np.array(x)
        return torch.as_tensor(x, dtype=self.dtype, device=self.device)

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

    def ones(self, shape):
        return self.torch.ones(shape, dtype=self.dtype, device=self.device)

    def concatenate(self, arrays, axis=0):
        return self.torch.cat(arrays, dim=axis)

    def arange(self, n):
        return self.torch.arange(n, device=self.device)

    def matmul(self, a, b, out=None):
        return self.torch.matmul(a, b, out=out)

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

    def sqrt(self, x):
        return self.torch.sqrt(x)

    def square(self, x, out=None):
        return self.torch.square(x, out=out)

    def clip(self, x, low, high, out=None):
        return self.torch.clamp(x, low, high, out=out)

    def where(self, cond, a, b):
        return self.torch.where(cond, a, b)

    def logsumexp(self, x, axis=None):
        if axis is None:
            return self.torch.logsumexp(x.reshape(-1), dim=0)
        return self.torch.logsumexp(x, dim=axis)

    def all_finite(self, x):
        return bool(self.torch.isfinite(x).all())

    def item(self, x):
        return float(x)

    def uniform(self, shape, out=None):
        if out is not None:
            return out.uniform_(generator=self.rng)
        return self.torch.rand(
            shape, generator=self.rng, dtype=self.dtype, device=self.device
        )

    def normal(self, shape):
        return self.torch.randn(
            shape, generator=self.rng, dtype=self.dtype, device=self.device
        )

    def bernoulli(self, p, out=None):
        return self.torch.bernoulli(p, generator=self.rng, out=out)

    def permutation(self, n):
        # drawn on the host so that index arrays can slice host data directly
        cpu = self.torch.Generator().manual_seed(
            int(self.torch.randint(0, 2**62, (1,), generator=self.rng, device=self.device))
        )
        return self.torch.randperm(n, generator=cpu).numpy()

    def choice(self, n, size):
        return self.permutation(n)[:size]


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
            f"device={device!r} is not a torch device string. Use None (NumPy), "
            f"'auto', or one of: {', '.join(available_devices())}."
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


def make_backend(device, dtype, seed=None):
    """A backend for an already resolved device (see :func:`resolve_device`)."""
    if device is None:
        return NumpyBackend(dtype=dtype, seed=seed)
    if device.startswith("mps") and np.dtype(dtype) == np.float64:
        dtype = np.float32  # MPS has no float64
    return TorchBackend(device, dtype=dtype, seed=seed)


LOG_2 = math.log(2.0)
LOG_2PI = math.log(2.0 * math.pi)
