"""
A table of categories: CategoricalRBM against one-hot bits
==========================================================

Much tabular data is categorical.  Given to a :class:`~skebm.BernoulliRBM`
as a one-hot encoding, each level becomes an independent bit, and the
model spreads probability over rows that have two levels of a feature on,
or none.  :class:`~skebm.CategoricalRBM` models each feature as one
categorical variable (a softmax over its levels given the hidden units), so
all of its probability is on valid rows and ``score_samples`` is the
log-likelihood of the table's rows.

The table: scikit-learn's breast cancer data, each of its 30 measurements
binned into quartiles (:class:`~sklearn.preprocessing.KBinsDiscretizer`),
with the diagnosis as a 31st column; 398 rows to train on, 171 held out.
Three models of the rows, compared by held-out log-likelihood in nats (exact:
16 hidden units are summed over):

* independent categoricals, the product of each column's level frequencies;
* a :class:`~skebm.BernoulliRBM` on the one-hot encoding (124 bits);
* a :class:`~skebm.CategoricalRBM` with the same settings.
"""

import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder  # noqa: E402

from skebm import BernoulliRBM, CategoricalRBM  # noqa: E402

OUTPUT = Path(os.environ.get("SKEBM_EXAMPLES_OUTPUT", "."))
OUTPUT.mkdir(parents=True, exist_ok=True)

cancer = load_breast_cancer()
raw_train, raw_test, y_train, y_test = train_test_split(
    cancer.data, cancer.target, test_size=0.3, stratify=cancer.target, random_state=0
)
quartiles = KBinsDiscretizer(n_bins=4, encode="ordinal", strategy="quantile",
                             quantile_method="averaged_inverted_cdf").fit(raw_train)
X_train = np.column_stack([quartiles.transform(raw_train), y_train]).astype(int)
X_test = np.column_stack([quartiles.transform(raw_test), y_test]).astype(int)
names = [*cancer.feature_names, "diagnosis"]

# %%
# Held-out log-likelihood
# -----------------------
# Both RBMs use the user guide's recipe for the best likelihood in seconds:
# centered gradients, 100 persistent chains, 100 epochs, the step decaying
# to 0.  The independent model's level frequencies carry the same
# pseudo-count as the RBMs' initial biases.
settings = dict(n_components=16, learning_rate=0.05, n_iter=100, n_chains=100,
                centered=True, min_learning_rate=0, random_state=0)
start = time.perf_counter()
categorical = CategoricalRBM(**settings).fit(X_train)
categorical_seconds = time.perf_counter() - start

one_hot = OneHotEncoder(sparse_output=False).fit(X_train)
start = time.perf_counter()
bits = BernoulliRBM(**settings).fit(one_hot.transform(X_train))
bits_seconds = time.perf_counter() - start


def independent_log_likelihood(train, test, smoothing=0.01):
    """Mean log-likelihood of the test rows under the product of the training marginals."""
    total = np.zeros(len(test))
    for column in range(train.shape[1]):
        counts = np.bincount(train[:, column], minlength=test[:, column].max() + 1)
        frequencies = (counts + smoothing) / (counts + smoothing).sum()
        total += np.log(frequencies[test[:, column]])
    return total.mean()


scores = {
    "independent\ncategoricals": independent_log_likelihood(X_train, X_test),
    "BernoulliRBM\non one-hot bits": bits.score(one_hot.transform(X_test)),
    "CategoricalRBM": categorical.score(X_test),
}
print(f"CategoricalRBM fitted in {categorical_seconds:.1f} s, the BernoulliRBM in "
      f"{bits_seconds:.1f} s")
for name, score in scores.items():
    print(f"{name.replace(chr(10), ' '):32s} held-out log-likelihood {score:8.2f} nats a row")
print(f"CategoricalRBM over independent categoricals: "
      f"{scores['CategoricalRBM'] - scores['independent' + chr(10) + 'categoricals']:+.2f} nats "
      "a row")

# %%
# The categorical model learns the columns' dependence: 14 nats a row better
# than independent columns (the measurements of a tumour's size, its radius,
# perimeter and area, fall in the same quartiles).  The BernoulliRBM on the
# one-hot bits is *worse* than independent columns: much of what it learns
# is that exactly one bit of each group is on, and the probability it puts
# on invalid rows is lost to the valid ones.  Its samples show it:
samples = {
    "CategoricalRBM": categorical.sample(1000, n_steps=100, method="pt", random_state=0),
    "BernoulliRBM": bits.sample(1000, n_steps=100, method="pt", random_state=0),
}
groups = np.cumsum([0] + [len(levels) for levels in one_hot.categories_])
levels_on = np.stack(
    [samples["BernoulliRBM"][:, a:b].sum(axis=1) for a, b in zip(groups[:-1], groups[1:])],
    axis=1,
)
valid = np.all(levels_on == 1, axis=1)
print(f"BernoulliRBM samples with exactly one level per feature: {valid.mean():.1%}; "
      f"features with no level or several, per sample: {np.mean((levels_on != 1).sum(axis=1)):.1f}")
print("CategoricalRBM samples are rows of categories, one level per feature by construction:",
      samples["CategoricalRBM"].shape)

# %%
# Filling in a column
# -------------------
# The diagnosis is just another column to the model: its conditional given
# the 30 others, from :meth:`~skebm.CategoricalRBM.conditional_mean`
# (the probabilities of each level of the missing column), predicts it.
query = X_test.astype(float)
query[:, -1] = np.nan
probabilities = categorical.conditional_mean(query, n_steps=200, burn_in=50, random_state=0)
diagnosis = probabilities[:, -2:].argmax(axis=1)
print(f"diagnosis from p(diagnosis | other columns): accuracy {np.mean(diagnosis == y_test):.3f}")

# %%
# How the columns go together
# ---------------------------
# The correlation between the columns' quartiles: in the held-out rows, in
# the CategoricalRBM's samples, and in rows of independent columns (each
# column shuffled on its own).  The model's samples reproduce the blocks of
# measurements that move together.
rng = np.random.default_rng(0)
independent_rows = np.column_stack([rng.permutation(column) for column in X_train.T])
panels = {
    "held-out rows": X_test,
    "CategoricalRBM samples": samples["CategoricalRBM"],
    "independent columns": independent_rows,
}
fig, axes = plt.subplots(1, 4, figsize=(18, 4.6), gridspec_kw={"width_ratios": [0.8, 1, 1, 1]})
bars = axes[0].bar(range(3), list(scores.values()), color=["0.6", "tab:orange", "tab:blue"])
axes[0].set_xticks(range(3), list(scores.keys()), fontsize=8, rotation=20)
axes[0].set_ylabel("held-out log-likelihood (nats a row)")
axes[0].bar_label(bars, fmt="%.1f")
axes[0].set_title("higher is better")
for ax, (title, rows) in zip(axes[1:], panels.items()):
    image = ax.imshow(np.corrcoef(rows.T), vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
axes[1].set_yticks([0, 10, 20, 30], [names[0], names[10], names[20], names[30]], fontsize=7)
fig.colorbar(image, ax=axes[1:], shrink=0.8, label="correlation of the columns' levels")
fig.savefig(OUTPUT / "categorical_table.png", dpi=90, bbox_inches="tight")
