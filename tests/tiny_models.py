"""RBMs small enough to enumerate every state: the exact answers tests check against."""

import itertools

import numpy as np
from scipy.special import logsumexp

from skebm import BernoulliRBM, SpinRBM


def all_states(n):
    """Every binary vector of ``n`` bits, one per row, in counting order."""
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def make_model(n_visible, n_hidden, scale=1.0, seed=0, n_rows=20, random_state=None):
    """A fitted BernoulliRBM given random parameters of a chosen size.

    It is fitted (with no epochs) on ``n_rows`` random binary rows, so that
    the fitted attributes that are not parameters (feature means, which AIS
    takes its base rates from, and the random state) exist.  The parameters
    are drawn after those rows, from the same generator.  ``random_state``
    (default: ``seed``) seeds the model's own draws (training steps, Gibbs
    sampling) without changing its parameters.
    """
    rng = np.random.default_rng(seed)
    if random_state is None:
        random_state = seed
    rbm = BernoulliRBM(n_components=n_hidden, n_iter=0, random_state=random_state)
    rbm.fit(rng.integers(0, 2, size=(n_rows, n_visible)).astype(float))
    rbm.components_ = rng.normal(0, scale, size=(n_hidden, n_visible))
    rbm.intercept_visible_ = rng.normal(0, scale, size=n_visible)
    rbm.intercept_hidden_ = rng.normal(0, scale, size=n_hidden)
    return rbm


def joint_log_weights(rbm):
    """-E(v, h) for every (v, h) as a (2^n_visible, 2^n_hidden) table, with V and H."""
    W, a, b = rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_
    V = all_states(W.shape[1])
    H = all_states(W.shape[0])
    return V @ a[:, None] + (H @ b)[None, :] + V @ W.T @ H.T, V, H


def noisy_prototypes(seed=0, n_rows=600, n_features=10, n_prototypes=3, flip=0.05, density=0.5):
    """Binary rows from a known distribution, and its log-likelihood of each row.

    Each row is one of ``n_prototypes`` random binary prototypes (chosen
    uniformly; each bit is 1 with probability ``density``) with each bit
    flipped with probability ``flip``.  The mean log-likelihood under this
    generating distribution is the best any model can score on the rows, up
    to sampling noise.
    """
    rng = np.random.default_rng(seed)
    prototypes = (rng.random((n_prototypes, n_features)) < density).astype(float)
    rows = prototypes[rng.integers(0, n_prototypes, n_rows)]
    X = np.abs(rows - (rng.random((n_rows, n_features)) < flip))
    agree = X[:, None, :] == prototypes[None, :, :]
    log_given_prototype = np.where(agree, np.log1p(-flip), np.log(flip)).sum(axis=2)
    return X, logsumexp(log_given_prototype, axis=1) - np.log(n_prototypes)


def ais_interval(est, n_se):
    """log of the AIS estimate of Z -+ ``n_se`` of its standard errors.

    The estimator states +-3 standard errors (``lower``, ``upper``); the
    standard error is recovered from ``upper``.  The tests use five: AIS's
    log-weights are heavy-tailed, so the sample standard error is itself
    noisy, and the stated interval misses the exact value in about one run
    in 200 on the small models here (by at most 0.01 nat).
    """
    relative_se = np.expm1(est.upper - est.log_z) / 3
    low = 1 - n_se * relative_se
    lower = est.log_z + np.log(low) if low > 0 else -np.inf
    return lower, est.log_z + np.log1p(n_se * relative_se)


def all_spins(n):
    """Every vector of ``n`` spins (-1 or +1), one per row, in counting order."""
    return 2.0 * all_states(n) - 1.0


def make_spin_model(n_visible, n_hidden, scale=1.0, seed=0, n_rows=20, random_state=None):
    """A fitted SpinRBM given random parameters of a chosen size (see ``make_model``)."""
    rng = np.random.default_rng(seed)
    if random_state is None:
        random_state = seed
    rbm = SpinRBM(n_components=n_hidden, n_iter=0, random_state=random_state)
    rbm.fit(2.0 * rng.integers(0, 2, size=(n_rows, n_visible)) - 1.0)
    rbm.components_ = rng.normal(0, scale, size=(n_hidden, n_visible))
    rbm.intercept_visible_ = rng.normal(0, scale, size=n_visible)
    rbm.intercept_hidden_ = rng.normal(0, scale, size=n_hidden)
    return rbm


def spin_joint_log_weights(rbm):
    """-E(v, h) = a.v + b.h + h.W.v for every spin vector v and binary h, with V and H.

    Written from the energy alone, not from any conditional the library uses.
    """
    W, a, b = rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_
    V = all_spins(W.shape[1])
    H = all_states(W.shape[0])
    return V @ a[:, None] + (H @ b)[None, :] + V @ W.T @ H.T, V, H
