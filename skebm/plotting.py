"""Pictures of RBMs: learned filters, samples and training curves.

matplotlib is optional: it is imported when a function here is called, and
``pip install "skebm[plot]"`` installs it.  Every function draws into an
existing Axes when given one and returns what it drew on, so the pictures
compose with the rest of a matplotlib figure.
"""

import math

import numpy as np

PLOT_INSTALL_HINT = 'pip install "skebm[plot]"  (or: pip install matplotlib)'

#: how the history_ keys are labelled on the plot
_HISTORY_LABELS = {
    "reconstruction_error": "reconstruction error",
    "free_energy": "mean free energy F(train)",
    "validation_free_energy": "mean free energy F(validation)",
    "free_energy_gap": "free-energy gap F(val) - F(train)",
    "log_likelihood": "mean log-likelihood (train), nats",
    "validation_log_likelihood": "mean log-likelihood (validation), nats",
}
#: numeric record keys that describe the run rather than the model
_HISTORY_SKIP = ("epoch", "time", "n_samples", "learning_rate")


def _pyplot():
    """matplotlib.pyplot, or an ImportError that says how to get it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"skebm.plotting needs matplotlib, which is not installed. Install it "
            f"with: {PLOT_INSTALL_HINT}"
        ) from exc
    return plt


def _as_images(images, image_shape, name):
    """Rows of ``images`` reshaped to ``image_shape``, with checks that explain."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-d array with one image per row, got shape "
            f"{images.shape}."
        )
    n_pixels = images.shape[1]
    if image_shape is None:
        side = math.isqrt(n_pixels)
        if side * side != n_pixels:
            raise ValueError(
                f"{name} rows have {n_pixels} values, which is not a square image; "
                "pass image_shape=(height, width)."
            )
        image_shape = (side, side)
    image_shape = tuple(int(s) for s in image_shape)
    if len(image_shape) != 2 or image_shape[0] * image_shape[1] != n_pixels:
        raise ValueError(
            f"image_shape={image_shape} does not hold the {n_pixels} values of each "
            f"row of {name}; pass (height, width) with height * width == {n_pixels}."
        )
    if not np.all(np.isfinite(images)):
        raise ValueError(f"{name} contains NaN or infinity; there is nothing to draw.")
    return images.reshape((-1,) + image_shape)


def _mosaic(tiles, n_cols):
    """Tile an (n, height, width) stack into one image with 1-pixel NaN gutters."""
    n_tiles, height, width = tiles.shape
    n_cols = min(n_cols, n_tiles)
    n_rows = math.ceil(n_tiles / n_cols)
    mosaic = np.full(
        (n_rows * (height + 1) - 1, n_cols * (width + 1) - 1), np.nan, dtype=float
    )
    for index, tile in enumerate(tiles):
        row, col = divmod(index, n_cols)
        top, left = row * (height + 1), col * (width + 1)
        mosaic[top : top + height, left : left + width] = tile
    return mosaic


def _check_count(value, name):
    if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
        raise ValueError(f"{name} must be a positive integer or None, got {value!r}.")


def _draw_mosaic(ax, mosaic, cmap, vmin, vmax, title, gutter_color):
    plt = _pyplot()
    # the gutters are NaN, drawn in the colour map's "bad" colour
    cmap = plt.get_cmap(cmap).with_extremes(bad=gutter_color)
    if ax is None:
        height, width = mosaic.shape
        scale = 6.0 / max(height, width)
        _, ax = plt.subplots(figsize=(max(2.0, width * scale), max(2.0, height * scale)))
    ax.imshow(mosaic, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def plot_components(
    model,
    image_shape=None,
    *,
    n_components=None,
    n_cols=None,
    cmap="RdBu_r",
    ax=None,
    title=None,
):
    """Draw the weights of each hidden unit (its "filter") as an image grid.

    Each tile is one row of ``components_``, reshaped to the image and scaled
    by its own largest absolute weight, so red pixels excite the hidden unit,
    blue ones inhibit it and white ones leave it indifferent.

    Parameters
    ----------
    model : estimator with ``components_``, or array of shape (n_components, n_features)
        A fitted RBM (or anything with ``components_``), or the weights themselves.
    image_shape : tuple of int (height, width), default=None
        Shape of one image; None means square.
    n_components : int, default=None
        Draw only the first ``n_components`` filters; None draws them all.
    n_cols : int, default=None
        Tiles per row; None makes the grid about square.
    cmap : str, default="RdBu_r"
        A diverging colour map, centred on zero weight.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new figure.
    title : str, default=None
        Title of the Axes.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on; ``ax.figure`` is its figure.

    Examples
    --------
    >>> import numpy as np
    >>> from skebm.plotting import plot_components
    >>> weights = np.random.default_rng(0).normal(size=(16, 64))
    >>> ax = plot_components(weights, image_shape=(8, 8))
    >>> ax.get_images()[0].get_array().shape  # a 4 x 4 grid of 8 x 8 tiles
    (35, 35)
    """
    weights = getattr(model, "components_", model)
    _check_count(n_components, "n_components")
    _check_count(n_cols, "n_cols")
    tiles = _as_images(weights, image_shape, "components")
    if n_components is not None:
        tiles = tiles[:n_components]
    scale = np.abs(tiles).max(axis=(1, 2), keepdims=True)
    tiles = tiles / np.where(scale > 0, scale, 1.0)
    n_cols = n_cols or math.ceil(math.sqrt(len(tiles)))
    mosaic = _mosaic(tiles, n_cols)
    return _draw_mosaic(ax, mosaic, cmap, -1.0, 1.0, title, gutter_color="0.2")


def plot_samples(
    X, image_shape=None, *, n_samples=None, n_cols=None, cmap="gray_r", ax=None, title=None
):
    """Draw rows of X (data, samples or reconstructions) as an image grid.

    Values in [0, 1] (binary data, probabilities) are drawn on that fixed
    scale, so a grey pixel means 0.5; other data are scaled to the range of
    all the rows drawn.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        One image per row, e.g. the output of ``sample``.
    image_shape : tuple of int (height, width), default=None
        Shape of one image; None means square.
    n_samples : int, default=None
        Draw only the first ``n_samples`` rows; None draws them all.
    n_cols : int, default=None
        Tiles per row; None makes the grid about square.
    cmap : str, default="gray_r"
        Colour map (dark = 1 for the default).
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new figure.
    title : str, default=None
        Title of the Axes.

    Returns
    -------
    ax : matplotlib Axes
        The Axes drawn on; ``ax.figure`` is its figure.

    Examples
    --------
    >>> import numpy as np
    >>> from skebm.plotting import plot_samples
    >>> X = (np.random.default_rng(0).random((6, 64)) > 0.5).astype(float)
    >>> ax = plot_samples(X, n_cols=3)
    >>> ax.get_images()[0].get_array().shape  # 2 rows x 3 columns of 8 x 8
    (17, 26)
    """
    _check_count(n_samples, "n_samples")
    _check_count(n_cols, "n_cols")
    tiles = _as_images(X, image_shape, "X")
    if n_samples is not None:
        tiles = tiles[:n_samples]
    low, high = float(tiles.min()), float(tiles.max())
    if low >= 0.0 and high <= 1.0:
        low, high = 0.0, 1.0
    n_cols = n_cols or math.ceil(math.sqrt(len(tiles)))
    mosaic = _mosaic(tiles, n_cols)
    return _draw_mosaic(ax, mosaic, cmap, low, high, title, gutter_color="#6f8fb0")


def plot_history(model, keys=None, *, axes=None):
    """Plot the per-epoch training record ``history_`` of a fitted model.

    One panel per quantity, against the epoch: the reconstruction error, the
    mean free energy of the training rows and, when the model held out a
    ``validation_fraction``, the free-energy gap F(validation) - F(train).
    The log partition function cancels in that gap, so its growth is a sign of
    over-fitting that costs no estimate of Z.

    Parameters
    ----------
    model : fitted estimator with ``history_``, or list of dict
        The model, or its ``history_`` list of per-epoch records.
    keys : list of str, default=None
        Record keys to plot; None plots every numeric key except ``epoch``,
        ``time``, ``n_samples`` and ``learning_rate`` (flags such as ``restored``
        and lists such as ``swap_rates`` are not plotted).
    axes : sequence of matplotlib Axes, default=None
        One Axes per key; None makes a new figure with a row of panels.

    Returns
    -------
    axes : ndarray of matplotlib Axes
        One Axes per key, in the order of ``keys``.

    Examples
    --------
    >>> from skebm.plotting import plot_history
    >>> history = [
    ...     {"epoch": 1, "time": 0.1, "reconstruction_error": 9.0, "free_energy": -3.0},
    ...     {"epoch": 2, "time": 0.1, "reconstruction_error": 7.5, "free_energy": -4.0},
    ... ]
    >>> axes = plot_history(history)
    >>> [ax.get_ylabel() for ax in axes]
    ['reconstruction error', 'mean free energy F(train)']
    """
    history = getattr(model, "history_", model)
    if not isinstance(history, (list, tuple)) or not history:
        raise ValueError(
            "plot_history needs a fitted model with a non-empty history_ (fit it "
            "with n_iter >= 1) or a list of per-epoch dict records."
        )
    available = [
        key
        for key, value in history[0].items()
        if key not in _HISTORY_SKIP
        and isinstance(value, (int, float, np.number))
        and not isinstance(value, (bool, np.bool_))
    ]
    keys = available if keys is None else list(keys)
    missing = [key for key in keys if key not in history[0]]
    if missing or not keys:
        raise ValueError(
            f"history_ has no record {missing or keys!r}; choose keys among "
            f"{available!r}."
        )
    if axes is None:
        plt = _pyplot()
        _, axes = plt.subplots(
            1, len(keys), figsize=(4.0 * len(keys), 3.2), squeeze=False
        )
        axes = axes[0]
        axes[0].figure.set_layout_engine("constrained")
    axes = np.asarray(axes, dtype=object).ravel()
    if len(axes) != len(keys):
        raise ValueError(f"got {len(axes)} Axes for {len(keys)} keys; pass one per key.")
    epochs = [record.get("epoch", index + 1) for index, record in enumerate(history)]
    for ax, key in zip(axes, keys):
        ax.plot(epochs, [record[key] for record in history], marker="o", markersize=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(_HISTORY_LABELS.get(key, key))
        ax.grid(True, alpha=0.3)
    return axes
