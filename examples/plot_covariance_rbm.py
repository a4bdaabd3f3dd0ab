"""
Hidden units that set the covariance: CovarianceRBM on breast_cancer
====================================================================

A Gaussian RBM is a mixture of Gaussians that all share one covariance: its
hidden units move the mean and nothing else.  breast_cancer's 30 measurements
are strongly correlated, and the benign and malignant tumours spread
differently, which a two-component full-covariance ``GaussianMixture``
captures and a Gaussian RBM cannot, even whitened.  In a
:class:`~skebm.CovarianceRBM` each hidden unit that is on also raises the
precision along a direction of its own, so every hidden state has its own
full covariance.  Its hidden layer is small and summed exactly: the
log-likelihood is exact, and ``sample`` draws exact independent rows.

Five models are compared by their held-out log-likelihood per row on the
standardised data (75% to train), then the samples of the two RBMs are
plotted against held-out rows on two features.  Last, on wine, a categorical
hidden unit holds groups that share one covariance.
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw without a display
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skebm import CovarianceRBM, GaussianBernoulliRBM  # noqa: E402

OUTPUT = Path(os.environ.get("SKEBM_EXAMPLES_OUTPUT", "."))
OUTPUT.mkdir(parents=True, exist_ok=True)

data = load_breast_cancer()
X_train, X_test = train_test_split(data.data, test_size=0.25, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
# Held-out log-likelihood
# -----------------------
# On this split one full-covariance Gaussian reads about -10.6 nats per row,
# the whitened Gaussian RBM -10.5 (its hidden units add almost nothing), two
# full-covariance components -5.9, and 12 covariance units about -4.8.  A
# few held-out rows lie far from the training rows, and a categorical hidden
# unit whose states scale the spread differently gives the model heavier
# tails than a Gaussian's: the defaults (8 units and 3 categories) read
# about -3.2
# (``python benchmarks/real_tables.py --part likelihood --seeds 0 1 2`` has
# three splits and digits and wine too).  The CovarianceRBM chooses its
# number of epochs on a fifth of the training rows, then refits on all of
# them.
models = {
    "one Gaussian": GaussianMixture(1, covariance_type="full", random_state=0),
    "2 Gaussians": GaussianMixture(2, covariance_type="full", random_state=0),
    "whitened Gaussian RBM": GaussianBernoulliRBM(
        n_components=16, centered=True, n_iter=200, whiten=True, random_state=0
    ),
    "CovarianceRBM (12, one category)": CovarianceRBM(n_components=12, n_categories=1,
                                                      random_state=0),
    "CovarianceRBM (defaults)": CovarianceRBM(random_state=0),
}
scores = {}
for name, model in models.items():
    scores[name] = model.fit(X_train).score(X_test)
    print(f"{name:32s} held-out log-likelihood {scores[name]:7.2f} nats per row")

# %%
# Samples against held-out rows
# -----------------------------
# Two features whose spread differs between the diagnoses.  The whitened
# Gaussian RBM's samples share one covariance; the CovarianceRBM's follow the
# narrow and the wide parts of the data.
features = [list(data.feature_names).index(f) for f in ("mean area", "mean smoothness")]
samples = {
    "whitened Gaussian RBM": models["whitened Gaussian RBM"].sample(
        500, n_steps=1000, random_state=0
    ),
    "CovarianceRBM (defaults)": models["CovarianceRBM (defaults)"].sample(500, random_state=0),
}
fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
names = list(scores)
colours = ["0.6", "0.4", "tab:blue", "tab:orange", "tab:green"]
bars = axes[0].barh(names, [scores[n] for n in names], color=colours)
axes[0].bar_label(bars, fmt="%.1f")
axes[0].set_xlabel("held-out log-likelihood (nats per row)")
axes[0].set_xlim(min(scores.values()) * 1.3, 0)
for ax, (name, drawn) in zip(axes[1:], samples.items()):
    ax.scatter(*drawn[:, features].T, s=6, alpha=0.4, label=f"{name} samples")
    ax.scatter(*X_test[:, features].T, s=10, color="k", label="held-out rows")
    ax.set_xlabel("mean area (standardised)")
    ax.set_ylabel("mean smoothness (standardised)")
    ax.set_xlim(-2.5, 5)
    ax.set_ylim(-3.5, 4.5)
    ax.legend(loc="upper right", fontsize=8)
fig.tight_layout()
fig.savefig(OUTPUT / "covariance_rbm.png", dpi=100)
print(f"figure saved to {OUTPUT / 'covariance_rbm.png'}")

# %%
# Groups that share one covariance: wine and a categorical unit
# -------------------------------------------------------------
# Wine's three cultivars differ in their means and share their correlations,
# the case of a Gaussian mixture with one ``"tied"`` covariance.  Hidden
# units that only raise the precision cannot hold three groups at once; one
# categorical hidden unit can.  With ``n_categories`` chosen by 3-fold CV, as
# the mixture's components and covariance type are, the CovarianceRBM
# starts as the tied mixture EM fits and reads about 1.2 nats per row above
# the cross-validated mixture on this split.
from sklearn.datasets import load_wine  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

wine_train, wine_test = train_test_split(load_wine().data, test_size=0.25, random_state=0)
wine_scaler = StandardScaler().fit(wine_train)
wine_train, wine_test = wine_scaler.transform(wine_train), wine_scaler.transform(wine_test)
mixture = GridSearchCV(
    GaussianMixture(random_state=0),
    {"n_components": [1, 2, 3, 4, 6, 8], "covariance_type": ["full", "tied", "diag", "spherical"]},
    cv=3,
).fit(wine_train)
grouped = GridSearchCV(
    CovarianceRBM(8, random_state=0), {"n_categories": [1, 2, 3, 4]}, cv=3
).fit(wine_train)
print(f"wine, GaussianMixture {mixture.best_params_}: "
      f"{mixture.best_estimator_.score(wine_test):.2f} nats per row")
print(f"wine, CovarianceRBM(8) {grouped.best_params_}: "
      f"{grouped.best_estimator_.score(wine_test):.2f} nats per row")
