"""
Sampling new digits: Gibbs chains and parallel tempering
========================================================

An RBM is a generative model: block-Gibbs sampling (draw every hidden unit
given the visible ones, then every visible unit given the hidden ones) is a
Markov chain whose stationary distribution is the model's ``p(v)``.  Here a
:class:`~skebm.BernoulliRBM` is trained on binarised 8x8 digits with the
user guide's recipe for models worth sampling (centered gradients, PCD-5 with
100 chains, the default linear decay of the step), then

* ``sample`` draws 1000 new digits, from plain Gibbs chains and by parallel
  tempering (``method="pt"``), whose hot replicas carry states between the
  digit classes;
* repeated ``gibbs`` steps follow chains started at real digits, showing how
  they wander from one digit class to another (how they *mix*).

A logistic regression trained on the real digits labels the samples, so we
can count the classes the model produces, and :func:`skebm.sample_quality`
asks three classifiers to tell the samples from held-out real digits.
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # draw without a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skebm import BernoulliRBM, sample_quality  # noqa: E402
from skebm.plotting import plot_samples  # noqa: E402

OUTPUT = Path(os.environ.get("SKEBM_EXAMPLES_OUTPUT", "."))
OUTPUT.mkdir(parents=True, exist_ok=True)

X, y = load_digits(return_X_y=True)
X = (X > 7).astype(np.float64)  # binary pixels
# a quarter held out, to judge the samples against digits the model never saw
X, X_held_out, y, _ = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)

rbm = BernoulliRBM(n_components=100, learning_rate=0.05, n_iter=50, n_chains=100,
                   n_gibbs_steps=5, centered=True, random_state=0).fit(X)
labeller = LogisticRegression(C=1.0, max_iter=1000).fit(X, y)
print(f"pseudo-log-likelihood of the training digits: "
      f"{rbm.pseudo_log_likelihood(X).mean():.2f} nats")

# %%
# New digits: Gibbs chains and parallel tempering
# -----------------------------------------------
# Gibbs chains start from p(v | h = 0) and run 500 steps.  Parallel
# tempering runs 10 replicas per chain, from the model down to independent
# pixels with the data's means, all started there, for 50 sweeps (a sweep
# costs about 10 Gibbs steps, so both do about the same work).  This model
# mixes well (see below), so both produce every class in about the data's
# proportions; a model trained with scikit-learn's settings does not (its
# Gibbs samples are mostly a few classes), and in models whose modes lie far
# apart only tempering crosses between them (the Ising example).
samples = {
    "Gibbs, 500 steps": rbm.sample(1000, n_steps=500, random_state=0),
    "parallel tempering, 50 sweeps": rbm.sample(1000, n_steps=50, method="pt",
                                                random_state=0),
}
shares = {}
for name, drawn in samples.items():
    shares[name] = np.bincount(labeller.predict(drawn), minlength=10) / len(drawn)
    print(f"{name}: class shares " + " ".join(f"{d}:{s:.0%}" for d, s in enumerate(shares[name])))

fig, axes = plt.subplots(1, 4, figsize=(17, 4.6), gridspec_kw={"width_ratios": [1, 1, 1, 1.1]})
plot_samples(X[:48], image_shape=(8, 8), n_cols=8, ax=axes[0], title="training digits")
for ax, (name, drawn) in zip(axes[1:3], samples.items()):
    plot_samples(drawn[:48], image_shape=(8, 8), n_cols=8, ax=ax, title=name)
data_shares = np.bincount(y, minlength=10) / len(y)
width = 0.27
axes[3].bar(np.arange(10) - width, data_shares, width, label="training digits")
for offset, (name, share) in zip((0, width), shares.items()):
    axes[3].bar(np.arange(10) + offset, share, width, label=name.split(",")[0])
axes[3].set_xticks(range(10))
axes[3].set_xlabel("digit class (logistic regression on real digits)")
axes[3].set_ylabel("share of 1000 samples")
axes[3].legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUTPUT / "sampling_digits.png", dpi=100)

# %%
# Can a classifier tell them from real digits?
# --------------------------------------------
# The strongest test of samples is a classifier trained to tell them from
# real digits the model never saw (a classifier two-sample test): 0.5 means
# it cannot.  Each discriminator is read against its own floor, the same
# test between two halves of the real digits.  A weak discriminator reads
# near 0.5 for poor samples too, so the test uses three of different kinds;
# the check for copies compares each sample's distance to its nearest
# training digit with that of held-out real digits.
#
# Here the linear discriminator is fooled (0.50 against a floor of 0.52), but
# the random forest and the boosted trees tell the samples from real digits
# 72% and 67% of the time, against floors below 0.5: to a strong classifier
# these samples are not yet real digits.  They are new ones, though: 0.2% of
# them equal a training digit, and they lie farther from their nearest
# training digit than held-out real digits do (median 2.2 pixels against
# 1.7).  Given the model, the test also runs on each row's free energy
# alone (the last bar): 0.55 against a floor of 0.54.  Held-out digits are
# as probable to this model as its own samples, so it does not favour its
# training digits; what the trees find is the shape of the samples.
# ``python benchmarks/sampling_quality.py --part digits`` runs the same test
# for other settings.
quality = sample_quality(samples["parallel tempering, 50 sweeps"], X_held_out, train=X,
                         model=rbm, random_state=0)
print(quality.summary())

fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), gridspec_kw={"width_ratios": [1, 1, 1.3]})
plot_samples(samples["parallel tempering, 50 sweeps"][:48], image_shape=(8, 8), n_cols=8,
             ax=axes[0], title="samples (parallel tempering)")
plot_samples(X_held_out[:48], image_shape=(8, 8), n_cols=8, ax=axes[1],
             title="held-out real digits")
names = list(quality.tests)
positions = np.arange(len(names))
for offset, label, key in ((-0.18, "samples vs real", ""), (0.18, "real vs real (floor)", "floor")):
    values = [getattr(quality.tests[n], key or "accuracy") for n in names]
    intervals = [getattr(quality.tests[n], f"{key}_interval" if key else "interval") for n in names]
    errors = np.abs(np.array(intervals).T - np.array(values))
    axes[2].bar(positions + offset, values, 0.36, yerr=errors, capsize=4, label=label)
axes[2].axhline(0.5, color="gray", lw=1, ls="--")
axes[2].set_xticks(positions)
axes[2].set_xticklabels([n.replace(" (", "\n(").replace(" gradient", "\ngradient")
                         for n in names], fontsize=8)
axes[2].set_ylim(0.35, 1.0)
axes[2].set_ylabel("two-sample test accuracy (0.5: indistinguishable)")
axes[2].legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUTPUT / "sample_quality.png", dpi=100)

# %%
# How chains mix
# --------------
# Eight chains start at eight real digits.  Each row of the left panel shows
# one chain every 5 steps.  On the right, 200 chains started at real digits are
# labelled by the classifier as they run: most leave their starting class
# within a few dozen steps, jumping between the model's modes (the digit
# classes).  Fast mixing is what makes PCD and Gibbs sampling work.
rng = np.random.RandomState(0)
every, n_snapshots = 5, 12
chain = X[:8].copy()
snapshots = []
for step in range(1, every * n_snapshots + 1):
    chain = rbm.gibbs(chain)
    if step % every == 0:
        snapshots.append(chain.copy())
grid = np.stack(snapshots, axis=1).reshape(-1, 64)  # rows: chains, columns: time

chains = X[rng.choice(len(X), 200, replace=False)]
start_labels = labeller.predict(chains)
checkpoints = [1, 2, 3, 5, 8, 12, 20, 30, 50, 80, 120, 200, 300]
left_start = []
for step in range(1, checkpoints[-1] + 1):
    chains = rbm.gibbs(chains)
    if step in checkpoints:
        left_start.append(float(np.mean(labeller.predict(chains) != start_labels)))

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6),
                                  gridspec_kw={"width_ratios": [1.5, 1]})
plot_samples(grid, image_shape=(8, 8), n_cols=n_snapshots, ax=left,
             title=f"8 chains from real digits, every {every} Gibbs steps")
right.plot(checkpoints, left_start, marker="o")
right.set_xscale("log")
right.set_xlabel("Gibbs steps")
right.set_ylabel("share of chains in another class")
right.set_ylim(0, 1)
right.set_title("200 chains leaving their starting class")
right.grid(True, alpha=0.3)
fig.tight_layout()
fig.savefig(OUTPUT / "chain_mixing.png", dpi=100)
for step, share in zip(checkpoints, left_start):
    print(f"after {step:3d} Gibbs steps {share:4.0%} of the chains are in another class")
print(f"figures saved to {OUTPUT}")
