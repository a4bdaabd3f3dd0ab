"""``python -m skebm``: classify handwritten digits with RBM features.

The demo follows the classic protocol for this task on scikit-learn's built-in
8x8 digits: every digit is also nudged by one pixel up, down, left and right
(five times the data), pixels are min-max scaled to [0, 1], and a fifth of the
rows is held out (``random_state=0``).  It then compares

* logistic regression on the raw pixels, with
* a :class:`skebm.BernoulliRBM` (100 hidden units) whose hidden-unit
  probabilities feed the same kind of logistic regression,

prints both test accuracies and a classification report, and saves a picture
of the 100 learned filters.  Run ``python -m skebm --help`` for the options.
"""

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

#: one-pixel shifts (rows, columns): up, left, right, down, in the order of
#: scikit-learn's gallery example, so that the same rows land in the test split
NUDGES = ((-1, 0), (0, -1), (0, 1), (1, 0))


def nudged_digits():
    """The 8x8 digits plus four copies shifted by one pixel, min-max scaled.

    Returns
    -------
    X : ndarray of shape (8985, 64)
        Pixels in [0, 1].
    y : ndarray of shape (8985,)
        Digit labels.

    Examples
    --------
    >>> from skebm.__main__ import nudged_digits
    >>> X, y = nudged_digits()
    >>> X.shape, float(X.min()), float(X.max()) <= 1.0
    ((8985, 64), 0.0, True)
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = nudge(X.reshape(-1, 8, 8)).reshape(-1, 64)
    y = np.concatenate([y] * (1 + len(NUDGES)))
    # the same scaling as the classic example: constant columns stay at 0
    X = (X - X.min(axis=0)) / (X.max(axis=0) + 1e-4)
    return X, y


def nudge(images):
    """The images followed by four copies shifted one pixel (zeros shifted in).

    Parameters
    ----------
    images : ndarray of shape (n_images, height, width)

    Returns
    -------
    ndarray of shape (5 * n_images, height, width)
        The originals, then the copies shifted up, left, right and down.
    """
    shifted = [
        ndimage.shift(images, (0, dy, dx), order=0, mode="constant", cval=0.0)
        for dy, dx in NUDGES
    ]
    return np.concatenate([images] + shifted)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m skebm",
        description=(
            "Digit classification demo: logistic regression on raw pixels versus "
            "on the hidden units of a BernoulliRBM, on scikit-learn's 8x8 digits "
            "nudged by one pixel in four directions (80/20 split, random_state=0). "
            "Prints both accuracies and a classification report, and saves a "
            "picture of the learned filters."
        ),
    )
    parser.add_argument(
        "--n-components", type=int, default=100, help="hidden units (default: 100)"
    )
    parser.add_argument(
        "--n-iter", type=int, default=10, help="training epochs of the RBM (default: 10)"
    )
    parser.add_argument(
        "--learning-rate", type=float, default=0.06, help="RBM learning rate (default: 0.06)"
    )
    parser.add_argument(
        "--device",
        default=None,
        help='compute device: omit for NumPy, or a torch device such as "cpu", '
        '"cuda" or "auto" (needs: pip install "skebm[torch]")',
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="threads of the linear-algebra library (default: 1: the 64-pixel "
        "matrices are too small to gain from more, and extra threads slow a busy "
        "machine down)",
    )
    parser.add_argument(
        "--random-state", type=int, default=0, help="seed of the RBM (default: 0)"
    )
    parser.add_argument(
        "--output",
        default="skebm_filters.png",
        help="where to save the picture of the learned filters "
        "(default: ./skebm_filters.png)",
    )
    parser.add_argument(
        "--no-plot", action="store_true", help="skip the picture of the filters"
    )
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="print one line per training epoch"
    )
    return parser


def save_filters(rbm, path):
    """Save the RBM's filters to ``path``; return a message saying what happened."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # a file is written; no window is needed
        import matplotlib.pyplot as plt
    except ImportError:
        return (
            "Picture of the filters skipped: matplotlib is not installed. Get it "
            'with: pip install "skebm[plot]"'
        )
    from .plotting import plot_components

    ax = plot_components(
        rbm,
        image_shape=(8, 8),
        title=f"{rbm.n_components} filters of the RBM (red excites, blue inhibits)",
    )
    ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(ax.figure)
    return f"Learned filters saved to {path}"


def device_problem(device):
    """Why ``device`` cannot be used on this machine, or None if it can.

    The check runs before any training, so that a device that does not exist
    here (``"cuda"`` without a GPU, a typo) stops the demo at once.
    """
    from ._backend import resolve_device

    try:
        resolve_device(device)
    except (ValueError, ImportError) as exc:
        return f"{exc} Omit --device to compute with NumPy."
    return None


def output_problem(path):
    """Why the picture of the filters cannot be saved to ``path``, or None if it can.

    Checked before any training: the folder must exist, ``path`` must not be
    a folder, matplotlib must know the file type (when matplotlib is
    installed), and the file must be writable.  The check opens the file for
    appending, which changes nothing in an existing file, and removes it
    again if it did not exist.
    """
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        return (
            f"{path} is a folder; give a file name, such as "
            f"{path / 'skebm_filters.png'}"
        )
    if not folder.exists():
        return (
            f"the folder {folder} does not exist; create it first "
            f"(mkdir -p {shlex.quote(str(folder))}) or choose another path"
        )
    if not folder.is_dir():
        return f"{folder} is not a folder; choose a path inside an existing folder"
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:  # the picture will be skipped, with a message saying why
        pass
    else:
        formats = FigureCanvasBase.get_supported_filetypes()
        suffix = path.suffix[1:].lower()
        if suffix and suffix not in formats:
            return (
                f"matplotlib cannot save a '.{suffix}' file; end the name in "
                f".png or another of: {', '.join(sorted(formats))}"
            )
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        return (
            f"cannot write {path} ({exc.strerror}); choose a folder you can "
            "write to, or pass --no-plot"
        )
    if not existed:
        path.unlink()
    return None


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("n_components", "n_iter", "blas_threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if args.device is not None:
        problem = device_problem(args.device)
        if problem:
            parser.error(f"argument --device: {problem}")
    if not args.no_plot:
        problem = output_problem(args.output)
        if problem:
            parser.error(f"argument --output: {problem}")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        return run_demo(args)


def run_demo(args):
    """The demo itself, for parsed arguments ``args``; returns the exit status."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import classification_report
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline

    from . import BernoulliRBM, __version__

    print(f"skebm {__version__}: RBM features for digit classification")
    X, y = nudged_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0
    )
    print(f"{X_train.shape[0]} training and {X_test.shape[0]} test digits (8x8 pixels)")

    start = time.perf_counter()
    raw = LogisticRegression(C=100.0, solver="newton-cg").fit(X_train, y_train)
    raw_accuracy = raw.score(X_test, y_test)
    raw_time = time.perf_counter() - start

    rbm = BernoulliRBM(
        n_components=args.n_components,
        learning_rate=args.learning_rate,
        n_iter=args.n_iter,
        device=args.device,
        verbose=int(args.verbose),
        random_state=args.random_state,
    )
    model = Pipeline(
        [("rbm", rbm), ("logistic", LogisticRegression(C=6000, solver="newton-cg"))]
    )
    start = time.perf_counter()
    model.fit(X_train, y_train)
    y_pred = model.predict(X_test)
    rbm_accuracy = float(np.mean(y_pred == y_test))
    rbm_time = time.perf_counter() - start

    print()
    print(f"Logistic regression on raw pixels:  accuracy {raw_accuracy:.4f}  ({raw_time:.1f}s)")
    print(
        f"BernoulliRBM features + logistic:   accuracy {rbm_accuracy:.4f}  "
        f"({rbm_time:.1f}s, {args.n_components} hidden units, {args.n_iter} epochs)"
    )
    print()
    print("Classification report, RBM features + logistic regression:")
    print(classification_report(y_test, y_pred, digits=3))
    if args.no_plot:
        print("Picture of the filters skipped (--no-plot).")
    else:
        print(save_filters(model.named_steps["rbm"], args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
