"""What hidden units that change the covariance would gain on breast_cancer: a measured prototype.

A Gaussian RBM, whitened or not, is a mixture of Gaussians that share one
covariance; the 3-fold-CV GaussianMixture of breast_cancer picks two
full-covariance components whose covariances differ, and no shared-covariance
model reaches it (``real_tables.py --part likelihood``).  This script measures
the next unit type before it is built into skebm: in the whitened
coordinates of ``GaussianBernoulliRBM(whiten=True)``, each hidden unit
``k`` that is on raises the visible precision along its own direction
``u_k``::

    E(v, h) = 1/2 v' Lambda(h) v - a'v - h'(W v) - b'h,
    Lambda(h) = diag(exp(-2 s)) + sum_k h_k u_k u_k'

so p(h_k = 1 | v) = sigmoid(b_k + w_k'v - (u_k'v)^2 / 2) and p(v | h) is a
full-covariance Gaussian.  The free energy is closed-form, and log Z is exact
by enumerating the 2^H hidden states (one log-determinant each), so the model
is trained here by exact maximum likelihood (Adam, full batch, torch
autograd), stopped at the step with the best log-likelihood on a fifth of
the training rows held out.  Not part of the package: the figures say what
building it would buy.

Needs torch.  One thread; about 10 minutes for ``--hidden 10 12``.

    python benchmarks/covariance_units.py --hidden 10 12
"""

import argparse
import itertools
import math

import numpy as np
from sklearn.mixture import GaussianMixture

from real_tables import cv_gaussian_mixture, standardised_split


def zca(train):
    """Whitening matrix and its log-determinant from the training covariance."""
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(train.T, bias=True))
    return eigenvectors @ np.diag(eigenvalues**-0.5) @ eigenvectors.T, -0.5 * np.log(
        eigenvalues
    ).sum()


def fit_covariance_units(fit_rows, validation_rows, n_hidden, n_steps, seed):
    """Exact maximum likelihood; returns the log-likelihood function at the best validation step."""
    import torch

    torch.manual_seed(seed)
    n_features = fit_rows.shape[1]
    states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=n_hidden)),
                          dtype=torch.float64)  # fmt: skip
    params = {
        "U": 0.1 * torch.randn(n_hidden, n_features, dtype=torch.float64),
        "W": 0.01 * torch.randn(n_hidden, n_features, dtype=torch.float64),
        "a": torch.zeros(n_features, dtype=torch.float64),
        "b": torch.full((n_hidden,), -1.0, dtype=torch.float64),
        "s": torch.zeros(n_features, dtype=torch.float64),
    }
    for value in params.values():
        value.requires_grad_()

    def log_likelihood(X, p):
        base_precision = torch.exp(-2 * p["s"])
        precision = torch.diag_embed(base_precision.expand(len(states), n_features))
        precision = precision + torch.einsum("sk,ki,kj->sij", states, p["U"], p["U"])
        linear = p["a"] + states @ p["W"]
        cholesky = torch.linalg.cholesky(precision)
        log_det = 2 * torch.log(torch.diagonal(cholesky, dim1=1, dim2=2)).sum(1)
        solved = torch.cholesky_solve(linear.unsqueeze(-1), cholesky).squeeze(-1)
        log_z = torch.logsumexp(
            states @ p["b"] - 0.5 * log_det + 0.5 * (linear * solved).sum(1), 0
        ) + 0.5 * n_features * math.log(2 * math.pi)
        hidden_input = X @ p["W"].T + p["b"] - 0.5 * (X @ p["U"].T) ** 2
        minus_free_energy = (-0.5 * (X**2 * base_precision).sum(1) + X @ p["a"]
                             + torch.nn.functional.softplus(hidden_input).sum(1))  # fmt: skip
        return minus_free_energy - log_z

    fit_rows, validation_rows = torch.tensor(fit_rows), torch.tensor(validation_rows)
    optimiser = torch.optim.Adam(params.values(), lr=0.01)
    best_score, best_params, best_step = -np.inf, None, 0
    for step in range(n_steps + 1):
        if step % 50 == 0:
            with torch.no_grad():
                score = log_likelihood(validation_rows, params).mean().item()
            if score > best_score:
                best_score, best_step = score, step
                best_params = {key: value.detach().clone() for key, value in params.items()}
        optimiser.zero_grad()
        (-log_likelihood(fit_rows, params).mean()).backward()
        optimiser.step()

    def score(X):
        with torch.no_grad():
            return log_likelihood(torch.tensor(X), best_params).mean().item()

    return score, best_step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="breast_cancer")
    parser.add_argument("--hidden", type=int, nargs="+", default=[10, 12])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    train, test = standardised_split(args.data, args.seed)
    print(f"{args.data}, seed {args.seed}: held-out log-likelihood per row (nats)")
    one = GaussianMixture(1, covariance_type="full", random_state=args.seed).fit(train)
    print(f"  one full-covariance Gaussian{'':28s}{one.score(test):8.2f}")
    search = cv_gaussian_mixture(train, args.seed)
    print(f"  GaussianMixture chosen by 3-fold CV {str(search.best_params_):20s}"
          f"{search.best_estimator_.score(test):8.2f}")  # fmt: skip
    whitening, log_det = zca(train)
    mean = train.mean(axis=0)
    order = np.random.default_rng(args.seed).permutation(len(train))
    held = len(train) // 5
    rows = (train - mean) @ whitening
    for n_hidden in args.hidden:
        score, step = fit_covariance_units(rows[order[held:]], rows[order[:held]], n_hidden,
                                           args.steps, args.seed)  # fmt: skip
        print(f"  covariance units, {n_hidden:2d} hidden (stopped at step {step:4d}){'':10s}"
              f"{score((test - mean) @ whitening) + log_det:8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
