"""BernoulliRBM: the estimator for binary visible units (their math is :mod:`skebm._units.bernoulli`)."""

from ._base import BaseRBM
from ._units.bernoulli import BernoulliVisible


class BernoulliRBM(BaseRBM):
    """Restricted Boltzmann machine with binary visible and hidden units.

    A drop-in replacement for :class:`sklearn.neural_network.BernoulliRBM`
    (same parameter names, defaults and fitted attributes) trained by
    persistent or plain contrastive divergence with momentum, weight decay and
    reshuffling, and scored by its log-likelihood in nats: exact where the
    smaller layer has at most 20 units, annealed importance sampling otherwise.

    The energy of a visible vector v and hidden vector h is
    ``E(v, h) = -a.v - b.h - h.W.v`` with ``W = components_``,
    ``a = intercept_visible_`` and ``b = intercept_hidden_``.

    Parameters
    ----------
    The parameters of every RBM estimator, documented once in
    :mod:`skebm._parameters` and listed here when the class is made.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Weights W.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases b.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases a.
    h_samples_ : ndarray of shape (n_chains, n_components)
        Hidden states of the persistent chains.
    hidden_units_ : str
        The hidden units of the fitted model (``hidden_units`` at the fit
        that started it); every method uses them.
    training_state_ : dict
        What the parts of training keep between calls, one dict of arrays
        per part: ``"optimizer"`` (SGD's velocity, Adam's moments), and
        ``"sampler"`` (fast weights, the tempering ladder) and ``"offsets"``
        (centering) where used; ``partial_fit`` and ``warm_start`` continue
        from it.
    n_iter_ : int
        Epochs completed by ``fit`` (continued by ``warm_start``), plus one
        per ``partial_fit`` call.
    history_ : list of dict
        One record per epoch or ``partial_fit`` call: ``epoch``, ``time``,
        ``reconstruction_error``, ``free_energy`` (of up to 1000 training
        rows; ``partial_fit``: 100 rows of the chunk, and ``n_samples``)
        and, with ``validation_fraction``, ``validation_free_energy``,
        ``free_energy_gap`` and, where the exact log Z is cheap,
        ``log_likelihood`` and ``validation_log_likelihood``. With early
        stopping, the record of the epoch whose parameters were kept has
        ``restored=True``.
    best_epoch_ : int or None
        The epoch whose parameters early stopping kept; None without early
        stopping.
    feature_mean_, feature_var_ : ndarray of shape (n_features,)
        Mean and variance of the training data.
    n_samples_seen_ : int
        Training rows seen.
    random_state_ : RandomState
        The generator used by ``gibbs`` and ``sample``.
    log_partition_ : float
        The last log Z computed, by ``estimate_log_partition`` or by the first
        ``score``/``score_samples`` call since the parameters or the settings
        changed (only after one of them).
    log_partition_estimate_ : LogPartitionEstimate
        How ``log_partition_`` was obtained: ``method``, ``log_z``, the +-3
        standard-error interval ``lower``/``upper``, the reverse-AIS bound
        ``reverse`` (None unless computed), ``n_chains``, ``n_betas`` and
        ``seconds`` (only after log Z was computed).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    GaussianBernoulliRBM : The same model with real-valued visible units.
    sklearn.neural_network.BernoulliRBM : The estimator this one replaces.

    Examples
    --------
    >>> import numpy as np
    >>> from skebm import BernoulliRBM
    >>> X = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    >>> rbm = BernoulliRBM(n_components=2, n_iter=20, random_state=0).fit(X)
    >>> rbm.transform(X).shape
    (4, 2)
    >>> bool(rbm.score(X) < 0)  # a log-likelihood in nats
    True
    """

    _visible_units = BernoulliVisible()
