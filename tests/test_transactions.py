"""Every rejected or interrupted fit leaves the estimator exactly as it was.

For each public estimator, each way a call can fail (a bad parameter, a bad
device, a divergence, bad data, Ctrl-C) is tried on an unfitted and on a
fitted estimator, through ``fit`` and ``partial_fit``.  A fitted estimator
must pickle to the same bytes afterwards; an unfitted one must still raise
``NotFittedError`` and hold nothing but its parameters.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import skebm
from skebm import (
    BernoulliRBM,
    CategoricalRBM,
    CovarianceRBM,
    TableRBM,
    DBN,
    DBNClassifier,
    DivergenceError,
    GaussianBernoulliRBM,
    RBMImputer,
    SpinRBM,
)
from skebm import _covariance
from skebm._training.trainer import Trainer

N_ROWS, N_FEATURES = 60, 8
SMALL = {
    BernoulliRBM: dict(n_components=3, n_iter=2, random_state=0),
    GaussianBernoulliRBM: dict(n_components=3, n_iter=2, random_state=0),
    DBN: dict(hidden_layer_sizes=(4, 3), n_iter=2, random_state=0),
    DBNClassifier: dict(
        hidden_layer_sizes=(4, 3), n_iter=2, fine_tune_n_iter=3, random_state=0
    ),
    RBMImputer: dict(n_components=3, n_iter=2, n_steps=5, burn_in=2, random_state=0),
    SpinRBM: dict(n_components=3, n_iter=2, random_state=0),
    CategoricalRBM: dict(n_components=3, n_iter=2, random_state=0),
    TableRBM: dict(n_components=3, n_iter=2, random_state=0),
    CovarianceRBM: dict(n_components=3, n_iter=2, random_state=0),
}
#: a setting whose training blows up, per estimator
DIVERGING = {
    BernoulliRBM: dict(learning_rate=1e6),
    GaussianBernoulliRBM: dict(learning_rate=1e6),
    DBN: dict(learning_rate=1e6),
    DBNClassifier: dict(learning_rate=1e6),  # its pretraining diverges
    RBMImputer: dict(learning_rate=1e6),
    SpinRBM: dict(learning_rate=1e6),
    CategoricalRBM: dict(learning_rate=1e6),
    TableRBM: dict(learning_rate=1e6),
    CovarianceRBM: dict(learning_rate=1e6),
}
#: an out-of-range value of a parameter, per estimator
BAD_PARAMETER = {
    BernoulliRBM: dict(learning_rate=-1.0),
    GaussianBernoulliRBM: dict(batch_size=0),
    DBN: dict(n_iter=-1),
    DBNClassifier: dict(fine_tune_batch_size=0),
    RBMImputer: dict(n_steps=0),
    SpinRBM: dict(n_components=0),
    CategoricalRBM: dict(handle_unknown="skip"),
    TableRBM: dict(column_types="everything"),
    CovarianceRBM: dict(n_components=17),
}
#: how an estimator whose units are not 0/1 codes the binary data
CODING = {SpinRBM: lambda X: 2.0 * X - 1.0}  # spins: 0/1 data is refused


def test_every_public_estimator_is_covered():
    public = {
        obj
        for obj in (getattr(skebm, name) for name in skebm.__all__)
        if isinstance(obj, type) and hasattr(obj, "fit")
    }
    assert public == set(SMALL) == set(DIVERGING) == set(BAD_PARAMETER)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = (rng.random((N_ROWS, N_FEATURES)) < 0.4).astype(float)
    y = rng.integers(0, 2, N_ROWS)
    return X, y


def coded(cls, data):
    """``(X, y)`` with X coded as ``cls`` models binary data."""
    X, y = data
    return (CODING[cls](X) if cls in CODING else X), y


def pickled(estimator):
    """The pickle of an estimator, after one round trip.

    The round trip fixes which equal objects are shared (pickle's memo), so
    that equal states give equal bytes whatever their history.
    """
    return pickle.dumps(pickle.loads(pickle.dumps(estimator)))


def call(estimator, method, X, y):
    args = (X, y) if isinstance(estimator, DBNClassifier) else (X,)
    return getattr(estimator, method)(*args)


def interrupt(monkeypatch):
    """Ctrl-C at the first training update (or fine-tuning step)."""

    def pressed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "train_step", pressed)
    # CovarianceRBM's exact maximum likelihood runs its own loop
    monkeypatch.setattr(_covariance, "data_expectations", pressed)


REJECTIONS = {
    "bad parameter": lambda est, X, y, mp: (est.set_params(**BAD_PARAMETER[type(est)]), X, y),
    "bad device": lambda est, X, y, mp: (est.set_params(device="cuda:99"), X[:, :5], y),
    "divergence": lambda est, X, y, mp: (est.set_params(**DIVERGING[type(est)]), X, y),
    "nan in data": lambda est, X, y, mp: (est, np.where(X > 0, np.nan, X), y),
    "other width": lambda est, X, y, mp: (est, X[:, :5], y),
    "other names": lambda est, X, y, mp: (
        est,
        pd.DataFrame(X, columns=[f"renamed{i}" for i in range(X.shape[1])]),
        y,
    ),
    "ctrl-c": lambda est, X, y, mp: (interrupt(mp), est, X, y)[1:],
}
#: (rejection, method) pairs that are not rejections for a fitted model
NOT_REJECTED_WHEN_FITTED = {("other width", "fit"), ("other names", "fit")}
NOT_REJECTED_WHEN_UNFITTED = {"other width", "other names"}


def methods(cls):
    return ["fit", "partial_fit"] if hasattr(cls, "partial_fit") else ["fit"]


def cases(not_rejected):
    return [
        pytest.param(cls, method, rejection, id=f"{cls.__name__}-{method}-{rejection}")
        for cls in SMALL
        for method in methods(cls)
        for rejection in REJECTIONS
        if not not_rejected(rejection, method)
        # an imputer takes NaN as missing values
        and not (rejection == "nan in data" and cls is RBMImputer)
        and not (rejection == "bad device" and "device" not in cls().get_params())
    ]


def expected_error(rejection):
    return {
        "ctrl-c": KeyboardInterrupt,
        "divergence": DivergenceError,
    }.get(rejection, ValueError)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
@pytest.mark.parametrize(
    "cls, method, rejection",
    # fit starts a new model on data of another shape: not a rejection
    cases(lambda rejection, method: (rejection, method) in NOT_REJECTED_WHEN_FITTED),
)
def test_rejected_call_leaves_a_fitted_estimator_byte_for_byte(
    cls, method, rejection, data, monkeypatch
):
    X, y = coded(cls, data)
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(N_FEATURES)])
    estimator = call(cls(**SMALL[cls]), "fit", frame, y)
    # set_params (the rejected setting) comes first: it changes no fitted state
    estimator, X_bad, y_bad = REJECTIONS[rejection](estimator, X, y, monkeypatch)
    before = pickled(estimator)
    with pytest.raises(expected_error(rejection)):
        call(estimator, method, X_bad, y_bad)
    assert pickled(estimator) == before


@pytest.mark.parametrize(
    "cls, method, rejection",
    # a first fit accepts any width and any names
    cases(lambda rejection, method: rejection in NOT_REJECTED_WHEN_UNFITTED),
)
def test_rejected_call_leaves_an_unfitted_estimator_unfitted(
    cls, method, rejection, data, monkeypatch
):
    X, y = coded(cls, data)
    estimator, X_bad, y_bad = REJECTIONS[rejection](cls(**SMALL[cls]), X, y, monkeypatch)
    with pytest.raises(expected_error(rejection)):
        call(estimator, method, X_bad, y_bad)
    assert set(vars(estimator)) == set(estimator.get_params(deep=False))
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)


@pytest.mark.parametrize("cls", list(SMALL), ids=lambda c: c.__name__)
def test_interrupted_first_fit_raises_not_fitted_error_afterwards(cls, data, monkeypatch):
    X, y = coded(cls, data)
    estimator = cls(**SMALL[cls])
    interrupt(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        call(estimator, "fit", X, y)
    monkeypatch.undo()
    method = "predict" if isinstance(estimator, DBNClassifier) else "transform"
    with pytest.raises(NotFittedError):
        getattr(estimator, method)(X)
    # and the estimator still fits as if nothing had happened
    fitted = call(estimator, "fit", X, y)
    reference = call(cls(**SMALL[cls]), "fit", X, y)
    np.testing.assert_array_equal(
        getattr(fitted, method)(X), getattr(reference, method)(X)
    )


def test_fine_tuning_interrupted_leaves_a_fitted_classifier_as_it_was(data, monkeypatch):
    from skebm import _dbn_classifier

    X, y = data
    estimator = DBNClassifier(**SMALL[DBNClassifier]).fit(X, y)
    before = pickled(estimator)

    def pressed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_dbn_classifier, "_backprop", pressed)
    with pytest.raises(KeyboardInterrupt):
        estimator.fit(X[::-1], y[::-1])
    assert pickled(estimator) == before
