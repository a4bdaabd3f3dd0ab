"""
Training on a torch device
==========================

Every skebm model takes a ``device`` parameter.  ``None`` (the default)
computes with NumPy; a torch device string (``"cpu"``, ``"cuda"``,
``"cuda:1"``, ``"mps"``) or ``"auto"`` runs the very same algorithm with
torch there (``pip install "skebm[torch]"``).  The device is only where the
arithmetic happens: the fitted attributes are NumPy arrays in every case, so
a model trained on a GPU pickles, clones and predicts anywhere.

This example trains the same RBM with NumPy and with torch (on ``"cuda"``
when a GPU is present, else torch's ``"cpu"``), compares time per epoch and
the learning curves, and checks that both models give the same kind of
features.  On a CPU the two take about the same time; a GPU pays off for
large models and large mini-batches.
"""

import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skebm import BernoulliRBM  # noqa: E402

OUTPUT = Path(os.environ.get("SKEBM_EXAMPLES_OUTPUT", "."))
OUTPUT.mkdir(parents=True, exist_ok=True)

try:
    import torch

    torch_device = "cuda" if torch.cuda.is_available() else "cpu"
except ImportError:  # the example still runs, with NumPy only
    torch_device = None
    print('torch is not installed (pip install "skebm[torch]"): NumPy only')

X, y = load_digits(return_X_y=True)
X = (X / 16.0).astype(np.float32)  # float32: the natural dtype on a GPU
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

# %%
# The same model, two devices
# ---------------------------
devices = [None] + ([torch_device] if torch_device else [])
models = {}
for device in devices:
    rbm = BernoulliRBM(n_components=256, learning_rate=0.1, batch_size=20, n_iter=15,
                       device=device, random_state=0)
    start = time.perf_counter()
    rbm.fit(X_train)
    elapsed = time.perf_counter() - start
    name = "NumPy" if device is None else f"torch ({device})"
    models[name] = rbm
    features = rbm.transform(X_test)
    clf = LogisticRegression(max_iter=2000).fit(rbm.transform(X_train), y_train)
    print(f"{name:14s} fit {elapsed:5.1f}s  components_ is a {type(rbm.components_).__name__}"
          f" of {rbm.components_.dtype}  features {features.shape}  "
          f"accuracy of features + logistic {clf.score(features, y_test):.3f}")

# %%
# Learning curves
# ---------------
# NumPy and torch draw different random numbers, so the two models are not
# bit-for-bit equal; they learn alike.
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
for name, rbm in models.items():
    epochs = [r["epoch"] for r in rbm.history_]
    left.plot(epochs, [r["reconstruction_error"] for r in rbm.history_], marker="o",
              markersize=3, label=name)
    right.bar(name, np.mean([r["time"] for r in rbm.history_]))
left.set_xlabel("epoch")
left.set_ylabel("reconstruction error")
left.legend()
right.set_ylabel("seconds per epoch")
right.set_title("256 hidden units, 1347 digits")
fig.tight_layout()
fig.savefig(OUTPUT / "torch_device.png", dpi=100)
print(f"figure saved to {OUTPUT / 'torch_device.png'}")
