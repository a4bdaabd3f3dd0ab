"""Binary RBMs small enough to enumerate every state: the exact answers tests check against."""

import itertools

import numpy as np

from skebm import BernoulliRBM


def all_states(n):
    """Every binary vector of ``n`` bits, one per row, in counting order."""
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def make_model(n_visible, n_hidden, scale=1.0, seed=0, n_rows=20):
    """A fitted BernoulliRBM given random parameters of a chosen size.

    It is fitted (with no epochs) on ``n_rows`` random binary rows, so that
    the fitted attributes that are not parameters (feature means, which AIS
    takes its base rates from, and the random state) exist.  The parameters
    are drawn after those rows, from the same generator.
    """
    rng = np.random.default_rng(seed)
    rbm = BernoulliRBM(n_components=n_hidden, n_iter=0, random_state=seed)
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
