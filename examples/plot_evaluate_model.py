"""
Evaluating an RBM: exact log Z, AIS bounds and the free-energy gap
==================================================================

``log p(v) = -F(v) - log Z``: the free energy ``F`` is cheap, the log
partition function ``log Z`` is not.  This example shows how to read the
numbers skebm gives for it (see the user guide page :ref:`evaluation`).

1. On a model small enough for the exact sum (20 hidden units), annealed
   importance sampling (AIS) is checked against the truth as the number of
   inverse temperatures grows.  Forward AIS estimates ``log Z`` too low on
   average (the log-likelihood it implies is optimistic); reverse AIS, started
   from model samples, estimates it too high (a conservative log-likelihood).
   The truth lies between them, and both close in with more temperatures.
2. Over-fitting is visible without any ``log Z``: with ``validation_fraction``
   the training history records the mean free energy of held-out rows minus
   that of training rows.  ``log Z`` cancels in that difference, so when it
   grows the model prefers its training rows: it is over-fitting.
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skebm import BernoulliRBM  # noqa: E402
from skebm.plotting import plot_history  # noqa: E402

OUTPUT = Path(os.environ.get("SKEBM_EXAMPLES_OUTPUT", "."))
OUTPUT.mkdir(parents=True, exist_ok=True)

X, _ = load_digits(return_X_y=True)
X = (X > 7).astype(np.float64)  # binary pixels
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)

# %%
# Exact versus annealed importance sampling
# -----------------------------------------
rbm = BernoulliRBM(n_components=20, learning_rate=0.05, batch_size=20, n_iter=30,
                   random_state=0).fit(X_train)
exact = rbm.estimate_log_partition(method="exact")
print(f"exact log Z = {exact:.3f}")

n_betas_grid = [100, 300, 1000, 3000, 10000]
rows = []
for n_betas in n_betas_grid:
    rbm.estimate_log_partition(method="ais", n_chains=100, n_betas=n_betas,
                               reverse=True, random_state=0)
    est = rbm.log_partition_estimate_
    rows.append((est.log_z, est.lower, est.upper, est.reverse, est.seconds))
    print(f"n_betas={n_betas:6d}: AIS {est.log_z:8.3f} "
          f"[{est.lower:8.3f}, {est.upper:8.3f}]  reverse AIS {est.reverse:8.3f}  "
          f"({est.seconds:.1f}s)")
forward, lower, upper, reverse, _ = map(np.array, zip(*rows))

mean_free_energy = rbm.free_energy(X_test).mean()
print(f"test log-likelihood: exact {-mean_free_energy - exact:.3f}, "
      f"from AIS with {n_betas_grid[-1]} betas {-mean_free_energy - forward[-1]:.3f} "
      f"(optimistic side), from reverse AIS {-mean_free_energy - reverse[-1]:.3f} "
      "(conservative side) nats/digit")

fig, ax = plt.subplots(figsize=(6.5, 4.2))
ax.axhline(exact, color="k", linewidth=1, label="exact log Z")
ax.errorbar(n_betas_grid, forward, yerr=[forward - lower, upper - forward], marker="o",
            capsize=3, label="AIS (tends low), +-3 s.e.")
ax.plot(n_betas_grid, reverse, marker="s", label="reverse AIS (tends high)")
ax.set_xscale("log")
ax.set_xlabel("inverse temperatures (n_betas), 100 chains")
ax.set_ylabel("log Z (nats)")
ax.set_title("log Z of a 64 x 20 RBM: estimates close in on the truth")
ax.legend()
fig.tight_layout()
fig.savefig(OUTPUT / "evaluate_ais.png", dpi=100)

# %%
# The free-energy gap shows over-fitting
# --------------------------------------
# A large RBM on 300 digits, trained for many epochs, with a quarter of them
# held out to monitor.
big = BernoulliRBM(n_components=200, learning_rate=0.05, batch_size=10, n_iter=150,
                   validation_fraction=0.25, random_state=0).fit(X_train[:300])
gaps = [record["free_energy_gap"] for record in big.history_]
print(f"free-energy gap: {gaps[4]:.2f} nats after 5 epochs, {gaps[-1]:.2f} after "
      f"{len(gaps)}")
axes = plot_history(big, keys=["free_energy", "validation_free_energy",
                               "free_energy_gap"])
axes[0].figure.suptitle("200 hidden units on 225 training digits: the gap grows")
axes[0].figure.savefig(OUTPUT / "evaluate_free_energy_gap.png", dpi=100)
print(f"figures saved to {OUTPUT}")
