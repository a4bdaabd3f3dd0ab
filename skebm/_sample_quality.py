"""How good are a model's samples? Two-sample tests by classifiers, and a check for copies.

:func:`sample_quality` judges samples against real rows the model never saw:

- a classifier two-sample test (C2ST, Lopez-Paz & Oquab 2017) per
  discriminator: the cross-validated accuracy of a classifier told to tell
  samples from real rows, 0.5 when it cannot, with a 95% interval; and the
  same classifier's accuracy on real rows against other real rows (the
  floor: what it reaches on two samples of one distribution, 0.5 up to
  noise), so that each figure is read against its own floor;
- with the model, the same test on each row's free energy alone: a model
  that fits its training rows better than new ones finds the real rows
  less probable than its own samples, and this test reads above its floor;
- a check that the samples are new: the share that equal a training row
  exactly (against the same share of held-out real rows), and the distances from each sample to its nearest training row
  against those from each held-out real row to its nearest training row (a
  model that copies its training data has samples far closer than real rows
  are).
"""

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

#: quantiles of the nearest-neighbour distances reported
DISTANCE_QUANTILES = (0.01, 0.05, 0.25, 0.5)


def default_discriminators(random_state=0):
    """Three discriminators of different kinds: linear, bagged trees, boosted trees."""
    return {
        "logistic regression": LogisticRegression(max_iter=2000),
        "random forest (500 trees)": RandomForestClassifier(
            n_estimators=500, random_state=random_state
        ),
        "histogram gradient boosting": HistGradientBoostingClassifier(random_state=random_state),
    }


@dataclass
class TwoSampleTest:
    """One discriminator's classifier two-sample test.

    Attributes
    ----------
    accuracy : float
        Cross-validated accuracy at telling samples from real rows (0.5:
        it cannot).
    interval : tuple of float
        Its 95% interval (normal approximation over the ``n_rows`` pooled
        out-of-fold predictions).
    floor : float or None
        The same test between two sets of real rows (None when there were
        too few real rows to hold two sets).
    floor_interval : tuple of float or None
        The floor's 95% interval.
    n_rows : int
        Rows in the test (half samples, half real).
    floor_rows : int
        Rows in the floor's test.
    """

    accuracy: float
    interval: tuple
    floor: float = None
    floor_interval: tuple = None
    n_rows: int = 0
    floor_rows: int = 0


@dataclass
class SampleQuality:
    """What :func:`sample_quality` found.

    Attributes
    ----------
    tests : dict of str to TwoSampleTest
        The two-sample test of each discriminator.
    copies : float or None
        Share of samples equal to a training row (None without ``train``).
    real_copies : float or None
        The same share for the held-out real rows: data with few distinct
        rows (ordered Ising lattices, binarised digits) repeat training rows
        too, and this is the share to read ``copies`` against.
    sample_distances : dict or None
        Quantiles (:data:`DISTANCE_QUANTILES`) of the Euclidean distance
        from each sample to its nearest training row.
    real_distances : dict or None
        The same for the held-out real rows: what new rows look like.
    closer_than_real : float or None
        Share of samples nearer to a training row than 99% of the held-out
        real rows are (about 0.01 for samples as new as real rows).
    """

    tests: dict = field(default_factory=dict)
    copies: float = None
    real_copies: float = None
    sample_distances: dict = None
    real_distances: dict = None
    closer_than_real: float = None

    def summary(self):
        """The findings as text, one line each."""
        lines = []
        width = max([30, *map(len, self.tests)])
        for name, test in self.tests.items():
            line = (
                f"{name:{width}s} accuracy {test.accuracy:.3f} "
                f"[{test.interval[0]:.3f}, {test.interval[1]:.3f}]"
            )
            if test.floor is not None:
                line += (
                    f"   real vs real {test.floor:.3f} "
                    f"[{test.floor_interval[0]:.3f}, {test.floor_interval[1]:.3f}]"
                )
            lines.append(line + f"   ({test.n_rows} rows)")
        if self.copies is not None:
            lines.append(
                f"copies of training rows: {self.copies:.3f} of the samples, "
                f"{self.real_copies:.3f} of held-out real rows"
            )
            quantiles = ", ".join(
                f"{q:g}: {self.sample_distances[q]:.2f} vs {self.real_distances[q]:.2f}"
                for q in DISTANCE_QUANTILES
            )
            lines.append(f"distance to the nearest training row, samples vs real: {quantiles}")
            lines.append(
                f"samples nearer a training row than 99% of real rows: {self.closer_than_real:.3f}"
            )
        return "\n".join(lines)


def _two_sample_accuracy(classifier, first, second, cv, rng):
    """Cross-validated accuracy of ``classifier`` telling ``first`` from ``second``."""
    X = np.vstack([first, second])
    y = np.r_[np.zeros(len(first)), np.ones(len(second))]
    folds = StratifiedKFold(cv, shuffle=True, random_state=rng.randint(2**31 - 1))
    predicted = cross_val_predict(clone(classifier), X, y, cv=folds)
    accuracy = float(np.mean(predicted == y))
    half_width = 1.96 * np.sqrt(max(accuracy * (1 - accuracy), 1e-12) / len(y))
    return accuracy, (accuracy - half_width, accuracy + half_width)


#: the name of the test on the model's free energy in ``SampleQuality.tests``
FREE_ENERGY_TEST = "free energy (logistic regression)"


def sample_quality(
    samples, real, *, train=None, model=None, discriminators=None, cv=5, floor=True,
    random_state=0,
):  # fmt: skip
    """Judge samples against real rows: classifier two-sample tests and a check for copies.

    Each discriminator is cross-validated (``cv`` stratified folds) at
    telling ``samples`` from as many ``real`` rows; its accuracy, 0.5 for
    samples it cannot tell from data, comes with a 95% interval and, with
    ``floor``, with the same test between two disjoint sets of real rows,
    the accuracy that chance and the classifier's own variance give.  A
    strong discriminator is the honest judge: a weak one reads 0.5 for poor
    samples too.  With ``train``, the samples are also checked for copies
    of the training rows (see :class:`SampleQuality`).

    Parameters
    ----------
    samples : array-like of shape (n_samples, n_features)
        The model's samples.
    real : array-like of shape (n_real, n_features)
        Real rows the model was not trained on.  The test uses
        ``min(n_samples, n_real)`` of each; the floor needs twice that many
        real rows (otherwise it halves the real rows, and says how many it
        used).
    train : array-like of shape (n_train, n_features), default=None
        The model's training rows, for the check for copies.
    model : fitted estimator with ``free_energy``, default=None
        The model that drew the samples, whose ``free_energy`` takes the
        rows as they are passed here.  Adds one more test,
        ``tests["free energy (logistic regression)"]``: a logistic
        regression on each row's free energy alone (its log-probability
        under the model up to log Z).  It reads above its floor when the
        model finds held-out rows less probable than its own samples, the
        mark of a model that fits its training rows better than new ones.
    discriminators : dict of str to classifier, default=None
        The classifiers; None uses a logistic regression, a random forest of
        500 trees and histogram gradient boosting.
    cv : int, default=5
        Cross-validation folds.
    floor : bool, default=True
        Also run each test between two sets of real rows.
    random_state : int or RandomState, default=0
        Seed of the subsets, folds and discriminators.

    Returns
    -------
    quality : SampleQuality
        The tests (``quality.tests``) and the check for copies;
        ``quality.summary()`` prints them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skebm import sample_quality
    >>> rng = np.random.default_rng(0)
    >>> real = rng.normal(size=(400, 3))
    >>> shifted = rng.normal(loc=1.0, size=(200, 3))
    >>> quality = sample_quality(shifted, real, discriminators={
    ...     "logistic": LogisticRegression()})
    >>> bool(quality.tests["logistic"].accuracy > 0.75)  # told apart
    True
    >>> bool(abs(quality.tests["logistic"].floor - 0.5) < 0.1)  # real vs real
    True
    """
    if model is not None and not callable(getattr(model, "free_energy", None)):
        raise TypeError(
            f"model must be a fitted estimator with a free_energy method, got "
            f"{type(model).__name__}; pass the RBM that drew the samples, or model=None."
        )
    samples = check_array(samples, dtype=np.float64, input_name="samples")
    real = check_array(real, dtype=np.float64, input_name="real")
    if samples.shape[1] != real.shape[1]:
        raise ValueError(
            f"samples have {samples.shape[1]} features but real rows {real.shape[1]}; "
            "pass rows of the same features."
        )
    if model is not None:
        # before any discriminator runs, not after them
        check_is_fitted(model)
        if getattr(model, "n_features_in_", samples.shape[1]) != samples.shape[1]:
            raise ValueError(
                f"model was fitted on {model.n_features_in_} features but the samples have "
                f"{samples.shape[1]}; pass the model that drew these samples."
            )
    rng = check_random_state(random_state)
    if discriminators is None:
        discriminators = default_discriminators(rng.randint(2**31 - 1))
    n = min(len(samples), len(real))
    if n < 2 * cv:
        raise ValueError(
            f"{n} rows per side are too few for {cv}-fold cross-validation; pass at "
            f"least {2 * cv} samples and real rows."
        )
    order = rng.permutation(len(real))
    real_test = real[order[:n]]
    own = samples[rng.permutation(len(samples))[:n]]
    # the floor compares as many real rows with other real rows where there
    # are enough; otherwise two halves of the real rows
    n_floor = n if len(real) >= 2 * n else len(real) // 2
    floor_a, floor_b = real[order[:n_floor]], real[order[n_floor : 2 * n_floor]]
    quality = SampleQuality()

    def judge(classifier, features):
        accuracy, interval = _two_sample_accuracy(
            classifier, features(real_test), features(own), cv, rng
        )
        test = TwoSampleTest(accuracy=accuracy, interval=interval, n_rows=2 * n)
        if floor and n_floor >= 2 * cv:
            test.floor, test.floor_interval = _two_sample_accuracy(
                classifier, features(floor_a), features(floor_b), cv, rng
            )
            test.floor_rows = 2 * n_floor
        return test

    for name, classifier in discriminators.items():
        quality.tests[name] = judge(classifier, lambda rows: rows)
    if model is not None:
        # one column per row: this discriminator sees nothing but the likelihood
        quality.tests[FREE_ENERGY_TEST] = judge(
            LogisticRegression(), lambda rows: model.free_energy(rows)[:, None]
        )
    if train is not None:
        train = check_array(train, dtype=np.float64, input_name="train")
        _check_copies(quality, samples, real_test, train)
    return quality


def _check_copies(quality, samples, real, train):
    """Fill in the share of exact copies and the nearest-neighbour distances."""
    seen = {row.tobytes() for row in np.ascontiguousarray(train)}
    quality.copies, quality.real_copies = (
        float(np.mean([row.tobytes() in seen for row in np.ascontiguousarray(rows)]))
        for rows in (samples, real)
    )
    neighbours = NearestNeighbors(n_neighbors=1).fit(train)
    sample_distance = neighbours.kneighbors(samples)[0][:, 0]
    real_distance = neighbours.kneighbors(real)[0][:, 0]
    quality.sample_distances = {
        q: float(np.quantile(sample_distance, q)) for q in DISTANCE_QUANTILES
    }
    quality.real_distances = {q: float(np.quantile(real_distance, q)) for q in DISTANCE_QUANTILES}
    quality.closer_than_real = float(np.mean(sample_distance < np.quantile(real_distance, 0.01)))
