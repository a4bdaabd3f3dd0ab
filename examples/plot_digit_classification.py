"""
Digit classification with RBM and DBN features
==============================================

The classic protocol for RBM features on scikit-learn's 8x8 digits: every
digit is also nudged by one pixel up, down, left and right (five times the
data, and a little robustness to translation), pixels are min-max scaled to
[0, 1], and a fifth of the rows is held out (``random_state=0``).  Four
classifiers are compared on the same split:

* logistic regression on the raw pixels;
* a :class:`~skebm.BernoulliRBM` (100 hidden units) whose hidden-unit
  probabilities P(h = 1 | v) feed a logistic regression;
* a two-layer :class:`~skebm.DBN` (greedy stacking) feeding the same kind of
  logistic regression;
* a :class:`~skebm.DBNClassifier`: the same stack pre-trained greedily, then
  fine-tuned end to end by backpropagation.

The RBM and DBN learn without the labels; only the logistic regression on top
sees them.
"""

import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from skebm import DBN, BernoulliRBM, DBNClassifier  # noqa: E402
from skebm.plotting import plot_components  # noqa: E402

OUTPUT = Path(os.environ.get("SKEBM_EXAMPLES_OUTPUT", "."))
OUTPUT.mkdir(parents=True, exist_ok=True)

# %%
# The data: nudged, scaled digits
# -------------------------------
digits = load_digits()
images = digits.images
shifts = [(-1, 0), (0, -1), (0, 1), (1, 0)]  # up, left, right, down
nudged = [ndimage.shift(images, (0, dy, dx), order=0, cval=0.0) for dy, dx in shifts]
X = np.concatenate([images] + nudged).reshape(-1, 64)
y = np.concatenate([digits.target] * 5)
X = (X - X.min(axis=0)) / (X.max(axis=0) + 1e-4)  # min-max scaling, as the protocol has it
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
print(f"{len(X_train)} training and {len(X_test)} test digits")

# %%
# Four classifiers on one split
# -----------------------------
models = {
    "raw pixels\n+ logistic": LogisticRegression(C=100.0, solver="newton-cg"),
    "RBM (100)\n+ logistic": Pipeline([
        ("rbm", BernoulliRBM(n_components=100, learning_rate=0.06, n_iter=10,
                             random_state=0)),
        ("logistic", LogisticRegression(C=6000, solver="newton-cg")),
    ]),
    "DBN (100, 100)\n+ logistic": Pipeline([
        ("dbn", DBN(hidden_layer_sizes=(100, 100), learning_rate=0.06, n_iter=10,
                    random_state=0)),
        ("logistic", LogisticRegression(C=6000, solver="newton-cg")),
    ]),
    "DBNClassifier\n(100, 100), fine-tuned": DBNClassifier(
        hidden_layer_sizes=(100, 100), learning_rate=0.06, n_iter=10,
        fine_tune_n_iter=40, random_state=0),
}
accuracies, seconds = {}, {}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds[name] = time.perf_counter() - start
    accuracies[name] = model.score(X_test, y_test)
    print(f"{name.replace(chr(10), ' '):45s} accuracy {accuracies[name]:.4f}  "
          f"({seconds[name]:.1f}s)")

# %%
# Accuracy, and what the RBM learned
# ----------------------------------
# Each hidden unit of the RBM is a filter over the 8x8 image: red pixels
# switch it on, blue ones off.  Many look like pen strokes or parts of digits.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8),
                                  gridspec_kw={"width_ratios": [1.3, 1]})
names = list(accuracies)
bars = left.bar(range(len(names)), [accuracies[n] for n in names],
                color=["0.6", "tab:blue", "tab:orange", "tab:green"])
left.bar_label(bars, fmt="%.3f")
left.set_xticks(range(len(names)), names, fontsize=8)
left.set_ylim(0.7, 1.0)
left.set_ylabel("test accuracy")
left.set_title("Nudged digits, 20% held out")
rbm = models["RBM (100)\n+ logistic"].named_steps["rbm"]
plot_components(rbm, image_shape=(8, 8), ax=right, title="RBM filters")
fig.tight_layout()
fig.savefig(OUTPUT / "digit_classification.png", dpi=100)
print(f"figure saved to {OUTPUT / 'digit_classification.png'}")
