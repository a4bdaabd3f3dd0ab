"""
Choosing an RBM by its held-out log-likelihood
==============================================

Every skebm model has a ``score`` method: the mean log-likelihood
``log p(x)`` of the rows, in nats.  So :class:`~sklearn.model_selection.GridSearchCV`
can tune an RBM on its own, with no scorer and no labels: it keeps the
setting whose held-out rows are most probable under the model.

Here the 8x8 digits are binarised and an RBM with up to 20 hidden units is
tuned.  Up to 20 hidden units the log partition function is summed exactly
over all hidden states, so the scores compared are exact log-likelihoods, not
estimates.  (scikit-learn's own ``BernoulliRBM`` has no ``score``, so the
same search on it raises a ``TypeError``.)
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402

from skebm import BernoulliRBM  # noqa: E402

OUTPUT = Path(os.environ.get("SKEBM_EXAMPLES_OUTPUT", "."))
OUTPUT.mkdir(parents=True, exist_ok=True)

X, _ = load_digits(return_X_y=True)
X = (X > 7).astype(np.float64)  # binary pixels: ink or no ink
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)

# %%
# The search: no scorer, the estimator's own ``score`` is the criterion
# ---------------------------------------------------------------------
search = GridSearchCV(
    BernoulliRBM(n_iter=20, batch_size=20, random_state=0),
    param_grid={"n_components": [2, 5, 10, 20], "learning_rate": [0.01, 0.05, 0.2]},
    cv=3,
    n_jobs=1,
)
search.fit(X_train)
print("best parameters:", search.best_params_)
print(f"best cross-validated log-likelihood: {search.best_score_:.2f} nats/digit")
print(f"test log-likelihood of the refitted best model: "
      f"{search.best_estimator_.score(X_test):.2f} nats/digit")

results = pd.DataFrame(search.cv_results_)
table = results.pivot(index="param_n_components", columns="param_learning_rate",
                      values="mean_test_score")
print(table.round(2))

# %%
# More hidden units help, up to the learning rate they can use
# ------------------------------------------------------------
# A baseline for scale: independent pixels with their training frequencies
# (the RBM with no hidden units at all).
p = (X_train.mean(axis=0) * len(X_train) + 0.5) / (len(X_train) + 1)
independent = float(np.mean(X_test @ np.log(p) + (1 - X_test) @ np.log1p(-p)))
print(f"independent pixels: {independent:.2f} nats/digit on the test rows")

fig, ax = plt.subplots(figsize=(6, 4))
for rate in table.columns:
    rows = results[results["param_learning_rate"] == rate]
    ax.errorbar(rows["param_n_components"].astype(int), rows["mean_test_score"],
                yerr=rows["std_test_score"], marker="o", capsize=3,
                label=f"learning_rate={rate}")
ax.axhline(independent, color="0.5", linestyle="--", label="independent pixels")
ax.set_xlabel("hidden units (n_components)")
ax.set_ylabel("held-out log-likelihood (nats/digit)")
ax.set_title("GridSearchCV on BernoulliRBM alone (3-fold, exact scores)")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUTPUT / "grid_search_log_likelihood.png", dpi=100)
print(f"figure saved to {OUTPUT / 'grid_search_log_likelihood.png'}")
