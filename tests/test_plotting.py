"""skebm.plotting: the pictures hold the numbers they claim to show."""

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skebm import BernoulliRBM  # noqa: E402
from skebm.plotting import plot_components, plot_history, plot_samples  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def drawn_image(ax):
    """The array and colour limits of the one image on ax."""
    (image,) = ax.get_images()
    return np.ma.filled(image.get_array().astype(float), np.nan), image.get_clim()


def test_components_tiles_are_each_filter_scaled_by_its_largest_weight():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(5, 6)) * np.arange(1, 6)[:, None]
    ax = plot_components(weights, image_shape=(2, 3), n_cols=3)
    mosaic, clim = drawn_image(ax)
    assert clim == (-1.0, 1.0)
    # 2 rows of tiles (3 + 2), each tile 2x3 with a one-pixel gutter
    assert mosaic.shape == (2 * 3 - 1, 3 * 4 - 1)
    for index, row in enumerate(weights):
        tile_row, tile_col = divmod(index, 3)
        tile = mosaic[tile_row * 3 : tile_row * 3 + 2, tile_col * 4 : tile_col * 4 + 3]
        np.testing.assert_allclose(tile, (row / np.abs(row).max()).reshape(2, 3))
    # gutters and the empty sixth slot are NaN (drawn in the "bad" colour)
    assert np.isnan(mosaic[2, :]).all()
    assert np.isnan(mosaic[3:, 8:]).all()


def test_components_of_a_fitted_rbm_and_a_subset():
    X = (np.random.default_rng(1).random((40, 16)) > 0.5).astype(float)
    rbm = BernoulliRBM(n_components=9, n_iter=2, random_state=0).fit(X)
    ax = plot_components(rbm, n_components=4, title="filters")
    mosaic, _ = drawn_image(ax)
    assert mosaic.shape == (2 * 5 - 1, 2 * 5 - 1)  # 4 of 9 filters, 4x4 each
    first = rbm.components_[0] / np.abs(rbm.components_[0]).max()
    np.testing.assert_allclose(mosaic[:4, :4], first.reshape(4, 4))
    assert ax.get_title() == "filters"


def test_draws_into_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    returned = plot_samples(np.eye(4), ax=right)
    assert returned is right
    assert not left.get_images()
    assert returned.figure is fig


def test_samples_in_unit_interval_keep_the_fixed_scale():
    X = np.array([[0.0, 0.25, 0.5, 0.75]])
    mosaic, clim = drawn_image(plot_samples(X))
    assert clim == (0.0, 1.0)
    np.testing.assert_array_equal(mosaic, X.reshape(2, 2))


def test_real_valued_samples_are_scaled_to_their_range():
    X = np.array([[-2.0, 0.0, 1.0, 3.0], [0.5, 0.5, 0.5, 0.5]])
    mosaic, clim = drawn_image(plot_samples(X, n_cols=2))
    assert clim == (-2.0, 3.0)
    np.testing.assert_array_equal(mosaic[:, 3:], X[1].reshape(2, 2))


@pytest.mark.parametrize(
    "X, shape, match",
    [
        (np.ones((3, 10)), None, "not a square image"),
        (np.ones((3, 10)), (3, 3), "does not hold the 10 values"),
        (np.ones(16), None, "2-d array"),
        (np.full((2, 4), np.nan), None, "NaN or infinity"),
    ],
)
def test_bad_images_are_explained(X, shape, match):
    with pytest.raises(ValueError, match=match):
        plot_samples(X, image_shape=shape)


def test_bad_counts_are_explained():
    with pytest.raises(ValueError, match="n_cols must be a positive integer"):
        plot_components(np.ones((4, 4)), n_cols=0)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        plot_samples(np.ones((4, 4)), n_samples=2.5)


def test_history_panels_hold_the_records():
    X = (np.random.default_rng(2).random((60, 9)) > 0.5).astype(float)
    rbm = BernoulliRBM(
        n_components=3, n_iter=4, validation_fraction=0.25, random_state=0
    ).fit(X)
    axes = plot_history(rbm)
    keys = [
        "reconstruction_error",
        "free_energy",
        "validation_free_energy",
        "free_energy_gap",
        "log_likelihood",  # held-out rows, and log Z exact and cheap for 3 hidden units
        "validation_log_likelihood",
    ]
    assert len(axes) == len(keys)
    for ax, key in zip(axes, keys):
        (line,) = ax.get_lines()
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
        np.testing.assert_allclose(line.get_ydata(), [r[key] for r in rbm.history_])
        assert ax.get_xlabel() == "epoch"
    gap_only = plot_history(rbm.history_, keys=["free_energy_gap"])
    assert gap_only[0].get_ylabel().startswith("free-energy gap")


def test_history_errors_name_the_fix():
    with pytest.raises(ValueError, match="non-empty history_"):
        plot_history([])
    with pytest.raises(ValueError, match="choose keys among"):
        plot_history([{"epoch": 1, "free_energy": 1.0}], keys=["free_energy_gap"])
    _, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="one per key"):
        plot_history([{"epoch": 1, "free_energy": 1.0}], axes=axes)


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    # a None entry in sys.modules makes the import fail, as if not installed
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "skebm\[plot\]"'):
        plot_samples(np.eye(4))
