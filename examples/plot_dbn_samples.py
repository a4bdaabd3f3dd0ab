"""
Digits dreamed by a deep belief network
=======================================

A two-layer :class:`skebm.DBN` is trained greedily on scikit-learn's 8x8
digits scaled to [0, 1].  New digits are then drawn from it: each chain runs
block-Gibbs sampling in the top RBM, and the top hidden state it ends in is
carried down through the directed bottom layer to pixel space, where the
conditional mean E[v | h_1] is shown.  Chains started from different seeds
settle into different digit classes.

The figure is saved as a PNG in ``$SKEBM_EXAMPLES_OUTPUT`` (default: the
current folder), and its path is printed.
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw without a display
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from skebm import DBN  # noqa: E402

X, _ = load_digits(return_X_y=True)
X = X / 16.0

dbn = DBN(
    hidden_layer_sizes=(256, 64),
    learning_rate=(0.05, 0.02),
    n_iter=(30, 30),
    batch_size=20,
    random_state=0,
).fit(X)

samples = dbn.sample(64, n_steps=1000, random_state=0)
print(f"sampled {samples.shape[0]} digits")

fig, axes = plt.subplots(8, 8, figsize=(6, 6))
for image, ax in zip(samples, axes.ravel()):
    ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
fig.suptitle("Digits sampled from a DBN (256, 64)")
fig.tight_layout()

OUTPUT = Path(os.environ.get("SKEBM_EXAMPLES_OUTPUT", "."))
OUTPUT.mkdir(parents=True, exist_ok=True)
path = OUTPUT / "dbn_samples.png"
fig.savefig(path, dpi=100)
print(path)
