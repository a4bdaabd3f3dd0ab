"""Do two versions of skebm fit the same models, bit for bit?

Fits small models in every training setting that exists (PCD-k and CD-k,
momentum, weight decay, ``n_chains``, ``partial_fit``, float32, ``n_jobs``,
parallel tempering, fast PCD, centering, Gaussian units with fixed and
learned sigma, spins, categories, CovarianceRBM, torch on the CPU, DBN layers from samples
and from probabilities, DBNClassifier) and prints one hash of
the fitted parameters per setting.  With ``--against PATH`` it also runs
itself on the skebm found in PATH (a worktree of another commit) and prints
which settings differ.  Asserts nothing; exits 1 when settings differ.

    git worktree add /tmp/previous HEAD~1
    python benchmarks/same_numbers.py --against /tmp/previous
"""

import argparse
import hashlib
import os
import subprocess
import sys
import warnings

import numpy as np


def fingerprint(arrays):
    digest = hashlib.blake2b(digest_size=8)
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def settings():
    """(name, function returning the arrays of a fitted model) for every setting."""
    from sklearn.datasets import load_digits

    from skebm import (
        DBN,
        BernoulliRBM,
        CategoricalRBM,
        DBNClassifier,
        GaussianBernoulliRBM,
        SpinRBM,
    )

    digits = load_digits()
    X = digits.data[:400] / 16.0
    X_binary = (X > 0.5).astype(float)
    Z = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-3)
    y = digits.target[:400]

    def rbm(cls, data, **params):
        def fitted():
            model = cls(**params).fit(data)
            names = ["components_", "intercept_visible_", "intercept_hidden_", "h_samples_"]
            names += ["sigma_"] if hasattr(model, "sigma_") else []
            return [getattr(model, name) for name in names]

        return fitted

    def streamed():
        model = BernoulliRBM(n_components=16, random_state=5)
        model.partial_fit(X[:200]).partial_fit(X[200:])
        return [model.components_, model.intercept_visible_, model.h_samples_]

    def dbn(layer_input):
        def fitted():
            model = DBN(
                hidden_layer_sizes=(16, 8), n_iter=2, layer_input=layer_input, random_state=13
            ).fit(X)
            return [layer.components_ for layer in model.rbms_] + [
                layer.h_samples_ for layer in model.rbms_
            ]

        return fitted

    def classifier():
        model = DBNClassifier(
            hidden_layer_sizes=(16, 8), n_iter=2, fine_tune_n_iter=5, random_state=14
        ).fit(X, y)
        return model.coefs_ + model.intercepts_

    small = dict(n_components=16, n_iter=3)
    cases = {
        "pcd-1": rbm(BernoulliRBM, X, **small, random_state=0),
        "pcd-3 momentum decay": rbm(
            BernoulliRBM, X, **small, n_gibbs_steps=3, momentum=0.5, weight_decay=1e-3,
            random_state=1,
        ),
        "cd-1": rbm(BernoulliRBM, X, **small, method="cd", random_state=2),
        "cd-3 binary": rbm(
            BernoulliRBM, X_binary, **small, method="cd", n_gibbs_steps=3, random_state=3
        ),
        "n_chains=37": rbm(BernoulliRBM, X, **small, n_chains=37, random_state=4),
        "partial_fit": streamed,
        "float32": rbm(BernoulliRBM, X.astype(np.float32), **small, random_state=6),
        "n_jobs=2": rbm(BernoulliRBM, X, **small, n_jobs=2, random_state=7),
        "gaussian": rbm(GaussianBernoulliRBM, Z, n_components=8, n_iter=3, random_state=8),
        "gaussian learn_sigma": rbm(
            GaussianBernoulliRBM, Z, n_components=8, n_iter=3, learn_sigma=True,
            random_state=9,
        ),
        "gaussian cd": rbm(
            GaussianBernoulliRBM, Z, n_components=8, n_iter=3, method="cd", random_state=10
        ),
        "pt": rbm(BernoulliRBM, X, **small, method="pt", n_temperatures=4, random_state=15),
        "fpcd": rbm(BernoulliRBM, X, **small, method="fpcd", random_state=16),
        "centered momentum": rbm(
            BernoulliRBM, X, **small, centered=True, momentum=0.5, random_state=17
        ),
        "spin": rbm(SpinRBM, 2 * X_binary - 1, **small, random_state=18),
        "categorical": rbm(
            CategoricalRBM, (X[:, ::8] * 2).round().astype(int), **small, random_state=19
        ),
        "dbn sample": dbn("sample"),
        "dbn probability": dbn("probability"),
        "dbn classifier": classifier,
    }
    try:
        from skebm import CovarianceRBM

        # versions from before CovarianceRBM print the setting as missing
        cases["covariance"] = lambda: [
            getattr(CovarianceRBM(4, n_iter=30, random_state=20).fit(Z[:, 20:30]), name)
            for name in ("components_", "covariance_components_", "sigma_")
        ]
    except ImportError:
        pass
    try:
        import torch  # noqa: F401

        cases["torch cpu pcd"] = rbm(BernoulliRBM, X, **small, device="cpu", random_state=11)
        cases["torch cpu cd"] = rbm(
            BernoulliRBM, X, **small, device="cpu", method="cd", random_state=12
        )
    except ImportError:
        pass
    return cases


def fingerprints():
    warnings.simplefilter("ignore")
    return {name: fingerprint(fitted()) for name, fitted in settings().items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="a folder holding another version's skebm/")
    parser.add_argument("--print-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    ours = fingerprints()
    if args.print_only:
        for name, value in ours.items():
            print(f"{name}\t{value}")
        return 0
    import skebm

    print(f"this skebm: {os.path.dirname(skebm.__file__)}")
    if args.against is None:
        for name, value in ours.items():
            print(f"  {name:24s} {value}")
        return 0
    env = dict(os.environ, PYTHONPATH=os.path.abspath(args.against))
    # run from the other tree's folder, so that its skebm is the one imported
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--print-only"],
        cwd=os.path.abspath(args.against), env=env, capture_output=True, text=True,
        check=True,
    ).stdout
    theirs = dict(line.split("\t") for line in out.strip().splitlines())
    print(f"against:    {os.path.abspath(args.against)}")
    differ = 0
    for name, value in ours.items():
        other = theirs.get(name, "(missing)")
        same = "same" if other == value else "DIFFERENT"
        differ += other != value
        print(f"  {name:24s} {value}  {other}  {same}")
    print(f"{len(ours) - differ} of {len(ours)} settings fit the same parameters bit for bit")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
