"""Clamped Gibbs sampling: the missing visible units given the observed ones.

With the observed units held at their values, block Gibbs sampling of the
rest (``h ~ p(h | v)``, then the missing units from ``p(v_missing | h)``)
is a Markov chain whose stationary distribution is the conditional
``p(v_missing | v_observed)``: each half-step is an exact conditional draw,
and the visible units are independent given ``h``, so redrawing only the
missing ones is the Gibbs step of the conditional model.

Missing entries are ``np.nan`` (scikit-learn's imputers' default marker):
one array carries both the values and which of them are missing, and a
value can never be mistaken for a marker.  pandas' own markers (``pd.NA``,
None, ``pd.NaT``) are turned into it first (:func:`pandas_missing_as_nan`).
"""

import numpy as np


def clamped_chain(layer, rows, missing, start, n_steps, on_step=None):
    """Run ``n_steps`` clamped Gibbs steps from ``start``; returns the last visible state.

    ``rows``: the visible rows (backend array, missing entries any value);
    ``missing``: a backend array, 1.0 where an entry is missing;
    ``start``: the first values of the missing entries (backend array of
    the rows' shape).  ``on_step(step, h)`` is called after every step with
    the hidden state drawn from the state the step started from.
    """
    observed = 1.0 - missing
    v = rows * observed + start * missing
    for step in range(n_steps):
        h = layer.sample_hidden(v)
        v = rows * observed + layer.sample_visible(h) * missing
        if on_step is not None:
            on_step(step, h)
    return v


def as_missing_mask(X):
    """``(values with 0 in place of nan, mask of missing entries)`` as float arrays."""
    missing = np.isnan(X)
    return np.where(missing, 0.0, X), missing.astype(X.dtype)


def pandas_missing_as_nan(X):
    """X with pandas' missing markers as ``np.nan``, so that NumPy can read it as numbers.

    A DataFrame's nullable columns (``Float64``, ``Int64``, ``boolean``) and
    object columns that hold ``pd.NA`` or None become float columns with
    ``np.nan`` there (strings stay, for the caller's error to name them);
    anything else is returned as it is.
    """
    if not (hasattr(X, "dtypes") and hasattr(X, "iloc")):
        return X
    gaps = [
        j for j, dtype in enumerate(X.dtypes)
        if getattr(dtype, "kind", "O") != "f" and X.iloc[:, j].isna().any()
    ]  # fmt: skip
    if not gaps:
        return X
    X = X.copy()
    for j in gaps:
        column = X.iloc[:, j].astype(object)
        column = column.where(column.notna(), np.nan)
        try:
            column = column.astype(np.float64)
        except (TypeError, ValueError):
            pass  # not numbers: validation names the problem
        X.isetitem(j, column)
    return X
