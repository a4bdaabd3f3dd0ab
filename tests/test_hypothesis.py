"""Property tests: finite input gives finite output, whatever the scale.

Hypothesis draws shapes, dtypes (float32/64 and integers), dense or sparse
input, data with values up to 1e6 in magnitude and weights up to 1e4 (set by
hand on a fitted model).  Every inference method must return finite numbers:
sigmoid, softplus and log Z are computed in overflow-free forms.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import skebm
from skebm import DivergenceError, SpinRBM
from skebm._base import BaseRBM

RBM_CLASSES = [
    getattr(skebm, name)
    for name in skebm.__all__
    if isinstance(getattr(skebm, name), type) and issubclass(getattr(skebm, name), BaseRBM)
]
STACK_CLASSES = [getattr(skebm, name) for name in skebm.__all__ if name == "DBN"]
DTYPES = [np.float32, np.float64, np.int32, np.int64]
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def data_matrices(draw, max_rows=6, max_features=7):
    n_samples = draw(st.integers(1, max_rows))
    n_features = draw(st.integers(1, max_features))
    dtype = draw(st.sampled_from(DTYPES))
    if np.issubdtype(dtype, np.integer):
        elements = st.integers(-(10**6), 10**6)
    else:
        width = 32 if dtype == np.float32 else 64
        elements = st.floats(-1e6, 1e6, allow_nan=False, width=width)
    X = draw(arrays(dtype, (n_samples, n_features), elements=elements))
    if draw(st.booleans()):
        X = sp.csr_matrix(X)
    return X


def finite(values):
    return bool(np.all(np.isfinite(values)))


def fitted_on_benign_data(cls, n_features, n_components, dtype, seed):
    rng = np.random.default_rng(seed)
    X = (rng.random((12, n_features)) < 0.5).astype(dtype)
    X[0] = 1 - X[1]  # no constant column
    if issubclass(cls, SpinRBM):
        X = 2 * X - 1  # spin units refuse 0/1 data
    return cls(n_components=n_components, n_iter=1, random_state=seed).fit(X)


def refused(cls, X):
    """Whether ``cls`` refuses X outright, with a ValueError: 0/1 data for spin units."""
    return issubclass(cls, SpinRBM) and SpinRBM._visible_units.rejection_message(X) is not None


def takes_categories(cls):
    """Whether cls reads X as categories (a dense table of levels), not as values."""
    return cls().__sklearn_tags__().input_tags.categorical


def as_categories(X, levels=None):
    """X as a dense table of categories: its values, or (given ``levels``) values mod levels."""
    dense = X.toarray() if sp.issparse(X) else np.asarray(X)
    return dense if levels is None else np.abs(dense).astype(np.int64) % levels


def set_extreme_weights(model, scale, seed):
    rng = np.random.default_rng(seed)
    for name in ("components_", "intercept_hidden_", "intercept_visible_"):
        value = getattr(model, name)
        setattr(
            model, name, rng.uniform(-scale, scale, value.shape).astype(value.dtype)
        )


@pytest.mark.parametrize("cls", RBM_CLASSES, ids=lambda c: c.__name__)
@SETTINGS
@given(
    X=data_matrices(),
    n_components=st.integers(1, 5),
    weight_scale=st.sampled_from([1e-3, 1.0, 1e2, 1e4]),
    model_dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_inference_is_finite_on_extreme_data_and_weights(
    cls, X, n_components, weight_scale, model_dtype, seed
):
    model = fitted_on_benign_data(cls, X.shape[1], n_components, model_dtype, seed)
    set_extreme_weights(model, weight_scale, seed)
    if takes_categories(cls):
        X = as_categories(X, levels=2)  # the levels the model was fitted on
    if refused(cls, X):
        with pytest.raises(ValueError, match="2 \\* X - 1"):
            model.transform(X)
        return
    with warnings.catch_warnings():
        # out-of-range data for binary units is warned about, not refused
        warnings.simplefilter("ignore", UserWarning)
        H = model.transform(X)
        assert finite(H) and np.all((H >= 0) & (H <= 1))
        assert H.shape == (X.shape[0], n_components)
        assert finite(model.free_energy(X))
        assert finite(model.score_samples(X))
        # a log-likelihood of a discrete model is at most 0
        states = (-1, 1) if isinstance(model, SpinRBM) else (0, 1)
        if model._units.discrete and np.isin(X.data if sp.issparse(X) else X, states).all():
            assert np.all(model.score_samples(X) <= 1e-9)
        V = model.gibbs(X)
        assert finite(V) and V.shape == X.shape
        dense = X.toarray() if sp.issparse(X) else np.asarray(X)
        assert finite(model.inverse_transform(H))
        # hidden vectors far outside [0, 1] too
        extreme_H = np.clip(dense[:, :1], -1e6, 1e6).astype(np.float64) * np.ones(
            (1, n_components)
        )
        assert finite(model.inverse_transform(extreme_H))
        assert finite(model.sample(2, n_steps=2))


@pytest.mark.parametrize("cls", RBM_CLASSES, ids=lambda c: c.__name__)
@SETTINGS
@given(X=data_matrices(max_rows=12), seed=st.integers(0, 2**16))
def test_fit_on_extreme_data_is_finite_or_says_it_diverged(cls, X, seed):
    model = cls(n_components=3, n_iter=2, batch_size=4, random_state=seed)
    if takes_categories(cls):
        X = as_categories(X)  # every distinct value a level
    if refused(cls, X):
        with pytest.raises(ValueError, match="2 \\* X - 1"):
            model.fit(X)
        assert not hasattr(model, "components_")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            model.fit(X)
        except DivergenceError as exc:
            assert "learning_rate" in str(exc)
            assert not hasattr(model, "components_")  # nothing half-fitted
            return
        for name in (
            "components_",
            "intercept_hidden_",
            "intercept_visible_",
            "h_samples_",
        ):
            assert finite(getattr(model, name)), name
        assert finite(model.transform(X))
        assert finite(model.free_energy(X))


@pytest.mark.parametrize("cls", STACK_CLASSES, ids=lambda c: c.__name__)
@SETTINGS
@given(
    X=data_matrices(),
    weight_scale=st.sampled_from([1e-3, 1.0, 1e4]),
    seed=st.integers(0, 2**16),
)
def test_stack_inference_is_finite_on_extreme_data_and_weights(
    cls, X, weight_scale, seed
):
    rng = np.random.default_rng(seed)
    X_fit = (rng.random((12, X.shape[1])) < 0.5).astype(np.float64)
    model = cls(hidden_layer_sizes=(3, 2), n_iter=1, random_state=seed).fit(X_fit)
    for layer in model.rbms_:
        set_extreme_weights(layer, weight_scale, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        H = model.transform(X)
        assert finite(H) and np.all((H >= 0) & (H <= 1))
        assert finite(model.inverse_transform(H))
        assert finite(model.gibbs(X))
        assert finite(model.score_samples(X))


@pytest.mark.parametrize("x", [-1e6, -1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4, 1e6])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backend_sigmoid_and_softplus_do_not_overflow(x, dtype):
    from skebm._backend import make_backend

    backends = [make_backend(None, dtype)]
    try:
        backends.append(make_backend("cpu", dtype))
    except ImportError:  # pragma: no cover - torch is a test dependency
        pass
    for bk in backends:
        values = bk.asarray(np.array([x], dtype=dtype))
        with np.errstate(over="raise"):
            sig = float(bk.to_numpy(bk.sigmoid(values))[0])
            soft = float(bk.to_numpy(bk.softplus(values))[0])
            log_sig = float(bk.to_numpy(bk.log_sigmoid(values))[0])
        assert 0.0 <= sig <= 1.0
        # softplus(x) = max(x, 0) + log1p(exp(-|x|)), exactly representable here
        expected = max(x, 0.0) + np.log1p(np.exp(-abs(x)))
        assert soft == pytest.approx(expected, rel=1e-6, abs=1e-30)
        assert log_sig == pytest.approx(
            -(max(-x, 0.0) + np.log1p(np.exp(-abs(x)))), rel=1e-6
        )
