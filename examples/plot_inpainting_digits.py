"""
Filling in occluded digits
==========================

An RBM models the joint distribution of all the pixels, so it also knows
their conditionals: given the top half of a digit, ``p(bottom | top)``
says which bottoms fit it.  Missing pixels are marked with ``np.nan``, and

* :meth:`~skebm.BernoulliRBM.conditional_sample` draws completions by
  Gibbs sampling with the observed pixels held fixed (*clamped*), or by
  parallel tempering with ``method="pt"``;
* :meth:`~skebm.BernoulliRBM.conditional_mean` estimates
  ``E[bottom | top]``, the probability that each missing pixel is on.

A :class:`~skebm.BernoulliRBM` is trained on binarised 8x8 digits with the
user guide's recipe for the best likelihood in seconds (centered gradients,
100 persistent chains, 100 epochs, the step decaying to 0).  The bottom half
of every test digit is then hidden: first a picture of completions, then
how close the completions are to the truth, against filling every missing
pixel with its column mean and with scikit-learn's
:class:`~sklearn.impute.KNNImputer`, and what a classifier trained on
complete digits makes of the completed ones.
"""

import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.impute import KNNImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skebm import BernoulliRBM, RBMImputer  # noqa: E402

OUTPUT = Path(os.environ.get("SKEBM_EXAMPLES_OUTPUT", "."))
OUTPUT.mkdir(parents=True, exist_ok=True)

digits = load_digits()
X = (digits.data / 16 > 0.5).astype(np.float64)  # binary pixels
X_train, X_test, y_train, y_test = train_test_split(
    X, digits.target, test_size=0.3, stratify=digits.target, random_state=0
)

start = time.perf_counter()
rbm = BernoulliRBM(n_components=100, learning_rate=0.05, n_iter=100, n_chains=100,
                   centered=True, min_learning_rate=0, random_state=0).fit(X_train)
print(f"RBM fitted on {len(X_train)} digits in {time.perf_counter() - start:.1f} s")

MISSING = np.arange(32, 64)  # the bottom four rows of pixels
X_occluded = X_test.copy()
X_occluded[:, MISSING] = np.nan

# a classifier of complete digits, to name the completions and to score them
classifier = LogisticRegression(max_iter=2000).fit(X_train, y_train)

# %%
# Clamped Gibbs chains or parallel tempering?
# -------------------------------------------
# The top half of a digit often fits several digits (a 3, a 9 or an 8; a 7
# or a 4), so ``p(bottom | top)`` can have several modes.  Clamped Gibbs
# chains can stay in the first mode they reach; parallel tempering adds
# hotter replicas that cross between modes.  Which is needed depends on the
# model, so both draw 12 completions of each of 60 occluded test digits,
# and the classifier names them.  This model mixes quickly (see
# :ref:`sphx_glr_auto_examples_plot_sampling_digits.py`): the 12 Gibbs
# draws of a digit already spread over as many classes as the tempered
# ones, with the true class as often, at a tenth of the cost.  So the
# picture below uses plain clamped Gibbs chains; for a model whose modes
# lie far apart (a sharper model, or the Ising model below its critical
# temperature) use ``method="pt"``.
n_rows, n_draws = 60, 12
for method, n_steps in [("gibbs", 200), ("pt", 100)]:
    start = time.perf_counter()
    draws = rbm.conditional_sample(X_occluded[:n_rows], n_samples=n_draws,
                                   n_steps=n_steps, method=method, random_state=0)
    seconds = time.perf_counter() - start
    labels = classifier.predict(draws.reshape(-1, 64)).reshape(n_draws, n_rows)
    n_classes = np.mean([len(np.unique(labels[:, row])) for row in range(n_rows)])
    print(f"{method:>5}, {n_steps} {'steps' if method == 'gibbs' else 'sweeps'}: "
          f"{n_classes:.1f} classes among the {n_draws} draws of a digit, "
          f"{np.mean(labels == y_test[:n_rows]):.0%} of the draws in the digit's "
          f"class, {seconds:.1f} s")

# %%
# Completions of occluded digits
# ------------------------------
# One test digit of each class from 2 to 9 per row: the digit, its visible
# top half (the missing half in red), five completions drawn by clamped
# Gibbs chains (200 steps each) and the conditional mean (grey levels: the
# probability that a pixel is on).  Where the top half leaves the class
# open the draws differ, and the conditional mean, their average, is a blur
# of the candidates.
shown = [np.flatnonzero(y_test == digit)[0] for digit in range(2, 10)]
n_shown_draws = 5
draws = rbm.conditional_sample(X_occluded[shown], n_samples=n_shown_draws,
                               random_state=1)
means = rbm.conditional_mean(X_occluded[shown], n_steps=1000, random_state=0)

columns = (["original", "occluded"] + [f"sample {k + 1}" for k in range(n_shown_draws)]
           + ["conditional\nmean"])
cmap = plt.get_cmap("gray_r").with_extremes(bad="#e9a3a3")  # NaN in red
fig, axes = plt.subplots(len(shown), len(columns),
                         figsize=(1.2 * len(columns), 1.25 * len(shown)))
for row, index in enumerate(shown):
    images = [X_test[index], X_occluded[index], *draws[:, row], means[row]]
    for col, image in enumerate(images):
        ax = axes[row, col]
        ax.imshow(np.ma.masked_invalid(image.reshape(8, 8)), cmap=cmap, vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if row == 0:
            ax.set_title(columns[col], fontsize=10)
fig.suptitle("bottom halves filled in by the RBM")
fig.tight_layout()
fig.savefig(OUTPUT / "inpainting_digits.png", dpi=100)

# %%
# How good are the completions?
# -----------------------------
# Every test digit loses its bottom half, and four fillings are compared
# on the missing pixels: the training digits' column means, the mean of the
# 10 training digits whose top halves are nearest (``KNNImputer``), the
# RBM's conditional mean (1000 clamped Gibbs steps per digit, after 50 of
# burn-in), and :class:`~skebm.RBMImputer`, which trains its own RBM on the
# training digits and the occluded ones together, filling in the missing
# halves as it goes (Monte Carlo EM), and then fills them with conditional
# means.  It trains on mini-batches of 20 rows with twice its default step
# (the same step per row), half the updates of its defaults, which keeps
# this page under a minute on one core.  The RMSE compares the filled
# values with the true pixels; the pixel accuracy rounds them to 0 or 1
# first.
column_means = X_train.mean(axis=0)
both = np.vstack([X_train, X_occluded])  # what an imputer is fitted on
filled = {
    "column means": np.where(np.isnan(X_occluded), column_means, X_occluded),
    "KNNImputer": KNNImputer(n_neighbors=10).fit(X_train).transform(X_occluded),
    "RBM conditional mean": rbm.conditional_mean(X_occluded, n_steps=1000,
                                                 random_state=0),
    "RBMImputer": RBMImputer(visible_units="bernoulli", n_components=128,
                             batch_size=20, learning_rate=0.1,
                             random_state=0).fit_transform(both)[len(X_train):],
}
print(f"\n{'bottom half filled with':<24}{'RMSE':>6}{'pixel accuracy':>16}"
      f"{'classifier accuracy':>21}")
for name, X_filled in filled.items():
    error = X_filled[:, MISSING] - X_test[:, MISSING]
    pixel_accuracy = np.mean((X_filled[:, MISSING] > 0.5) == X_test[:, MISSING])
    print(f"{name:<24}{np.sqrt(np.mean(error ** 2)):6.3f}{pixel_accuracy:16.1%}"
          f"{classifier.score(X_filled, y_test):21.1%}")
print(f"{'(complete test digits)':<24}{'':22}{classifier.score(X_test, y_test):21.1%}")
top_half = LogisticRegression(max_iter=2000).fit(X_train[:, :32], y_train)
print(f"a classifier trained on top halves only: "
      f"{top_half.score(X_test[:, :32], y_test):.1%}")

# %%
# The RBM's filling is clearly closer to the truth than the column means,
# and a classifier trained on complete digits, given the RBM's completions
# instead of mean-filled digits, gains about ten points of accuracy (still
# far below its accuracy on complete digits: a half is missing).  Two
# references keep this in proportion.  A completion adds no information
# about the class, only a guess at the missing pixels from the observed
# ones: the classifier on completed digits does about as well as one
# trained on top halves alone, which is the point of filling in (a model
# trained on complete data can be used on incomplete data unchanged), not
# a gain beyond it.  And with 1257 training digits, averaging the 10
# nearest neighbours is a good point estimate: the RBM trained for samples
# above is a little behind it, and :class:`~skebm.RBMImputer`, whose RBM
# is trained for filling in (with the incomplete digits among its data),
# matches it (RMSE 0.307 against 0.311; pixel accuracy 86.3% against 85.9%;
# with its default of 5 neighbours, KNNImputer's RMSE is 0.320).  The RBM's
# strength is the distribution, whose draws (above) show the several ways
# a digit can end, and which gives likelihoods and samples as well.
print(f"figures saved to {OUTPUT}")
