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
