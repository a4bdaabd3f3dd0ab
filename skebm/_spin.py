"""SpinRBM: the estimator for +-1 visible units (their math is :mod:`skebm._units.spin`)."""

from ._base import BaseRBM
from ._units.spin import SpinUnits


class SpinRBM(BaseRBM):
    """Restricted Boltzmann machine with spin (+-1) visible units and binary hidden units.

    The visible units are spins, ``v_i`` in {-1, +1}, as in the Ising model;
    the hidden units are 0 or 1.  The energy of a visible vector v and hidden
    vector h is ``E(v, h) = -a.v - b.h - h.W.v`` with ``W = components_``,
    ``a = intercept_visible_`` and ``b = intercept_hidden_``, so that

    - ``p(v_i = +1 | h) = sigmoid(2 (a_i + (W^T h)_i))`` and
      ``E[v_i | h] = tanh(a_i + (W^T h)_i)``,
    - ``p(h_j = 1 | v) = sigmoid(b_j + W_j.v)``,
    - the free energy is ``F(v) = -a.v - sum_j softplus(b_j + W_j.v)``.

    Training (persistent or plain contrastive divergence, fast PCD or
    parallel tempering), sampling and scoring by the log-likelihood in nats
    (exact where the smaller layer has at most 20 units, annealed importance
    sampling otherwise) work as in :class:`BernoulliRBM`; samples are spins.

    ``fit``, ``transform`` and the other methods that take visible data
    accept spins and, as BernoulliRBM accepts probabilities, spin means in
    [-1, 1] (``E[v_i]``: 0 is a spin as likely up as down).  Data that holds
    only 0s and 1s raises a ValueError (map it with ``2 * X - 1``); other
    values outside [-1, 1] warn, once per fitted model.

    Parameters
    ----------
    learning_rate : float, default=0.1
        Step size: the update is ``learning_rate`` times the mean mini-batch
        gradient, accumulated with ``momentum``.  Spins differ by 2 where 0/1
        units differ by 1, so a step moves this model about four times as far
        as the same ``learning_rate`` moves BernoulliRBM on ``(v + 1) / 2``
        (see Notes).
    learning_rate_schedule : {"linear", "constant", "invscaling"}, default="linear"
        How the step size changes over the epochs of ``fit``: "linear"
        decays it linearly from ``learning_rate`` in the first epoch to
        ``min_learning_rate`` in the last (Tieleman 2008), which averages
        out the noise of the last updates and gives much better models for
        the same epochs; "constant" keeps ``learning_rate``, as scikit-learn
        does; "invscaling" divides it by ``epoch ** power_t``.
        ``partial_fit`` counts its calls as epochs; a stream has no last
        epoch, so there "linear" keeps ``learning_rate``.

    The other parameters are those of every RBM estimator (documented once,
    in :mod:`skebm._parameters`); the list above is completed from them.

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
    BernoulliRBM : The same model family for 0/1 visible units.
    GaussianBernoulliRBM : Real-valued visible units.

    Notes
    -----
    A SpinRBM on ``v`` and a BernoulliRBM on ``x = (v + 1) / 2`` describe the
    same distributions: substituting ``v = 2x - 1`` into the energy gives the
    Bernoulli energy with ``W' = 2W``, ``a' = 2a`` and
    ``b' = b - W.sum(axis=1)``, plus the constant ``sum(a)``, so both give
    every row the same log-likelihood, and the spin model's log Z is the
    Bernoulli one's minus ``sum(a)``.  They differ in how they learn: the
    gradients are taken in the spin parameters, where the units' values are
    symmetric about 0 (for balanced spins, the visible half of what
    ``centered=True`` does), and a step of a given ``learning_rate`` moves
    the weights, measured as ``W'``, about four times as far (the gradient
    with respect to W is about twice the one with respect to ``W'``, and
    ``W' = 2W``).

    Examples
    --------
    >>> import numpy as np
    >>> from skebm import SpinRBM
    >>> X = np.array([[-1, -1, -1], [-1, 1, 1], [1, -1, 1], [1, 1, 1]])
    >>> rbm = SpinRBM(n_components=2, n_iter=20, random_state=0).fit(X)
    >>> rbm.transform(X).shape
    (4, 2)
    >>> np.unique(rbm.sample(5, n_steps=10, random_state=0))  # spins
    array([-1.,  1.])
    >>> bool(rbm.score(X) < 0)  # a log-likelihood in nats
    True
    >>> SpinRBM().fit([[0, 1], [1, 0]])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: Spin visible units take values in {-1, +1}, but X holds only 0s and 1s...
    """

    _visible_units = SpinUnits()
