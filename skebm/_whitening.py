"""Whitening: real-valued rows mapped to uncorrelated, unit-variance coordinates.

A :class:`Whitening` holds the mean ``m`` and the symmetric (ZCA) matrix
``P = Sigma^(-1/2)`` of the training rows: ``u = P (x - m)`` has mean 0 and
identity covariance on them, and the map is one to one, so a density on
``u`` is one on ``x`` with ``log p(x) = log p(u) + log |det P|``.  A
Gaussian RBM trained on ``u`` starts (zero weights, unit sigma) at the
standard Normal, which in ``x`` is the maximum-likelihood full-covariance
Gaussian: the hidden units only model what that Gaussian cannot.  ZCA
rather than PCA whitening keeps every ``u_i`` closest to its own feature
``x_i``, so the components stay readable feature by feature.

Given the hidden units, the model's ``u`` is Normal(``mu``, diag(s^2)), so
``x`` is Normal(``m + P^-1 mu``, ``P^-1 diag(s^2) P^-1``): a full covariance.
:meth:`Whitening.conditioning` conditions that Normal on a row's observed
entries, which is what clamped sampling of the missing ones needs.
"""

import numpy as np

#: eigenvalues of the covariance are floored at this share of the mean
#: variance (scikit-learn's GaussianMixture adds 1e-6 to standardised data),
#: so that collinear or constant features give a finite whitening
COVARIANCE_FLOOR = 1e-6


class Whitening:
    """The whitening of a data set: mean ``mean``, matrix ``matrix`` = Sigma^(-1/2).

    Parameters
    ----------
    mean : ndarray of shape (n_features,)
    eigenvalues, eigenvectors : ndarrays
        The floored eigendecomposition of the covariance.
    """

    def __init__(self, mean, eigenvalues, eigenvectors):
        self.mean = mean
        self.eigenvalues = eigenvalues
        self.eigenvectors = eigenvectors
        scale = eigenvalues ** -0.5
        self.matrix = (eigenvectors * scale) @ eigenvectors.T
        self.inverse = (eigenvectors / scale) @ eigenvectors.T
        #: log |det P| = -1/2 log det Sigma
        self.log_det = float(-0.5 * np.log(eigenvalues).sum())

    def __eq__(self, other):
        return (
            isinstance(other, Whitening)
            and np.array_equal(self.mean, other.mean)
            and np.array_equal(self.matrix, other.matrix)
        )

    __hash__ = None

    @classmethod
    def of(cls, X):
        """The whitening of the rows of ``X`` (their mean and maximum-likelihood covariance)."""
        X = np.asarray(X, dtype=np.float64)
        mean = X.mean(axis=0)
        centred = X - mean
        return cls.of_covariance(mean, centred.T @ centred / max(X.shape[0], 1))

    @classmethod
    def of_covariance(cls, mean, covariance):
        """The whitening by a given mean and covariance (its eigenvalues floored)."""
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        typical = float(np.mean(np.diag(covariance))) or 1.0
        eigenvalues = np.clip(eigenvalues, 0.0, None) + COVARIANCE_FLOOR * typical
        return cls(mean, eigenvalues, eigenvectors)

    def apply(self, X):
        """``u = P (x - m)`` of every row, in the dtype of ``X``."""
        X = np.asarray(X)
        return ((X - self.mean) @ self.matrix).astype(X.dtype, copy=False)

    def invert(self, U):
        """``x = m + P^-1 u`` of every row (any leading dimensions), in the dtype of ``U``."""
        U = np.asarray(U)
        return (U @ self.inverse + self.mean).astype(U.dtype, copy=False)

    def conditioning(self, variance, missing):
        """The map that conditions ``x | h`` on a row's observed entries.

        With ``u | h`` Normal(``mu``, diag(``variance``)), ``x | h`` is Normal
        with mean ``c = m + P^-1 mu`` and covariance ``C = P^-1
        diag(variance) P^-1``.  For the pattern ``missing`` (boolean, one
        per feature) returns the matrix ``A`` with ``A[O, O] = I``, ``A[M, O]
        = C_MO C_OO^-1`` and zero columns for the missing entries, so that:

        - ``c + A (x - c)`` is E[x | x_O, h] (any values in ``x``'s missing
          entries);
        - ``x* + A (x - x*)``, with ``x*`` a draw of ``x | h``, is a draw of
          ``x | x_O, h`` (Matheron's rule: the conditional of a Gaussian by
          correcting a joint draw, with no per-row factorisation).
        """
        covariance = (self.inverse * variance) @ self.inverse
        observed = ~missing
        conditioning = np.zeros_like(covariance)
        conditioning[np.ix_(observed, observed)] = np.eye(int(observed.sum()))
        if observed.any() and missing.any():
            conditioning[np.ix_(missing, observed)] = conditional_blocks(covariance, missing)[0]
        return conditioning


def conditional_blocks(covariance, missing):
    """``(K, S)``: the missing block given the observed one is ``mean_M + K (x_O - mean_O)``
    plus Normal(0, ``S``) noise, for a Gaussian of this covariance."""
    observed = ~missing
    c_mo = covariance[np.ix_(missing, observed)]
    gain = np.linalg.solve(covariance[np.ix_(observed, observed)], c_mo.T).T if observed.any() else c_mo
    return gain, covariance[np.ix_(missing, missing)] - gain @ c_mo.T


def _by_pattern(X):
    """The rows of ``X`` grouped by where their ``np.nan`` entries are."""
    missing = np.isnan(X)
    patterns, which = np.unique(missing, axis=0, return_inverse=True)
    which = which.ravel()
    return [(pattern, which == index) for index, pattern in enumerate(patterns) if pattern.any()]


def gaussian_of_incomplete(X, n_iter=50, tol=1e-6):
    """The maximum-likelihood mean and covariance of rows with ``np.nan`` entries, by EM.

    Each E step fills a row's missing entries with their conditional mean
    given its observed ones under the current Gaussian and adds their
    conditional covariance to the sufficient statistics; the M step
    re-estimates both (Dempster, Laird & Rubin 1977).  Starts from the
    column means and variances of the observed entries.
    """
    X = np.asarray(X, dtype=np.float64)
    missing = np.isnan(X)
    n_rows, n_features = X.shape
    mean = np.nanmean(np.where(missing.all(axis=0), 0.0, X), axis=0)
    covariance = np.diag(np.nanvar(np.where(missing.all(axis=0), 1.0, X), axis=0) + 1e-6)
    groups = _by_pattern(X)
    previous = -np.inf
    for _ in range(n_iter):
        filled = np.where(missing, 0.0, X)
        extra = np.zeros((n_features, n_features))
        for pattern, rows in groups:
            gain, spread = conditional_blocks(covariance, pattern)
            deviations = filled[np.ix_(rows, ~pattern)] - mean[~pattern]
            filled[np.ix_(rows, pattern)] = mean[pattern] + deviations @ gain.T
            extra[np.ix_(pattern, pattern)] += rows.sum() * spread
        mean = filled.mean(axis=0)
        centred = filled - mean
        covariance = (centred.T @ centred + extra) / n_rows + 1e-9 * np.eye(n_features)
        size = np.abs(covariance).sum()
        if abs(size - previous) <= tol * size:
            break
        previous = size
    return mean, covariance


def gaussian_conditional_draw(X, mean, covariance, rng):
    """``X`` with each missing entry drawn from the Gaussian's conditional given the row's observed ones."""
    X = np.asarray(X, dtype=np.float64)
    filled = X.copy()
    for pattern, rows in _by_pattern(X):
        gain, spread = conditional_blocks(covariance, pattern)
        spread = 0.5 * (spread + spread.T) + 1e-12 * np.eye(spread.shape[0])
        noise = rng.standard_normal((int(rows.sum()), int(pattern.sum())))
        deviations = X[np.ix_(rows, ~pattern)] - mean[~pattern]
        filled[np.ix_(rows, pattern)] = (
            mean[pattern] + deviations @ gain.T + noise @ np.linalg.cholesky(spread).T
        )
    return filled


def whitened_clamped_chain(layer, whitening, sigma, block, rows, missing, n_steps, burn_in, noise):
    """Clamped Gibbs chains of a model whose visible columns ``block`` are whitened reals.

    ``rows`` are visible rows (NumPy) in which the ``block`` columns hold the
    real values ``x`` themselves, not their whitened ``u``; ``missing`` is
    True where an entry is free.  Each step draws ``h`` given the rows
    (``x`` whitened on the way), then the free entries outside the block
    from their own conditional given ``h``, and the block's free entries
    from ``x | h`` conditioned on the row's observed block entries: a joint
    draw corrected towards them (:meth:`Whitening.conditioning`, one map
    per pattern of free entries).  Returns the last state and the mean,
    over the ``n_steps`` after ``burn_in``, of the free entries' conditional
    expectations given each step's ``h`` (Rao-Blackwellised; the observed
    entries as given).
    """
    bk = layer.bk
    free = np.asarray(missing, dtype=bool)
    inner = free[:, block]
    patterns, which = np.unique(inner, axis=0, return_inverse=True)
    maps = np.stack([whitening.conditioning(np.square(sigma), p) for p in patterns])
    row_maps = maps[which.ravel()]
    state = np.where(free, 0.0, rows)
    state[:, block] = np.where(inner, whitening.mean, rows[:, block])
    observed_x = state[:, block].copy()
    total = np.zeros_like(state)
    for step in range(burn_in + n_steps):
        visible = state.copy()
        visible[:, block] = whitening.apply(state[:, block])
        h = layer.sample_hidden(bk.asarray(visible))
        mean = bk.to_numpy(layer.mean_visible(h))
        drawn = bk.to_numpy(layer.sample_visible(h))
        # outside the block: the units' own draw, observed entries kept
        state = np.where(free, drawn, state)
        centre = whitening.invert(mean[:, block])
        joint = centre + (noise.standard_normal(centre.shape) * sigma) @ whitening.inverse
        state[:, block] = joint + np.matmul(row_maps, (observed_x - joint)[:, :, None])[:, :, 0]
        if step >= burn_in:
            expected = np.where(free, mean, state)
            expected[:, block] = centre + np.matmul(
                row_maps, (observed_x - centre)[:, :, None]
            )[:, :, 0]
            total += expected
    average = total / max(n_steps, 1)
    # observed entries exactly as given (the correction reproduces them up to rounding)
    return np.where(free, state, rows), np.where(free, average, rows)
