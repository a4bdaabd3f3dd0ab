"""Spin visible units, v_i in {-1, +1}: E(v, h) = -a.v - b.h - h.W.v, hidden units 0/1."""

import numpy as np
import scipy.sparse as sp

from ._base import BaseRBM
from ._bernoulli import pseudo_log_likelihood_by_flips, smoothed_log_odds
from ._units import BINARY, VisibleUnits


def spin_biases_of_means(column_means, n_samples):
    """The visible biases of independent spins with these means: arctanh(m), smoothed.

    p(v_i = +1) = sigmoid(2 a_i) = (1 + m_i) / 2, so a_i is half the log-odds
    of spin up; the log-odds are smoothed as BernoulliRBM's are, so that
    constant columns get large but finite biases.
    """
    return 0.5 * smoothed_log_odds((np.asarray(column_means) + 1.0) / 2.0, n_samples)


class SpinUnits(VisibleUnits):
    """Visible spins in {-1, +1}: p(v_i = +1 | h) = sigmoid(2 (a_i + (W^T h)_i)).

    With ``x = a + W^T h`` the two states of spin i weigh ``exp(+x_i)`` and
    ``exp(-x_i)``: the conditional mean is ``tanh(x_i)``, the layer's log
    partition sum ``sum_i log(2 cosh x_i)``.
    """

    name = "spin"
    discrete = True

    def scale_visible(self, bk, params, v):
        return v

    def mean_visible(self, bk, params, h):
        # tanh(x) = 2 sigmoid(2x) - 1, with the backend's stable sigmoid
        x = self.visible_activation(bk, params, h)
        x *= 2.0
        mean = BINARY.mean(bk, x, out=x)
        mean *= 2.0
        mean -= 1.0
        return mean

    def sample_visible(self, bk, params, h):
        x = self.visible_activation(bk, params, h)
        return self.sample_visible_given(bk, params, x, out=x)

    def sample_visible_given(self, bk, params, x, out=None):
        # the log-odds of spin up are 2x, in an array of their own: ``out`` may be ``x``
        log_odds = 2.0 * x
        spins = BINARY.sample(bk, BINARY.mean(bk, log_odds, out=log_odds), out=out)
        spins *= 2.0
        spins -= 1.0
        return spins

    def visible_energy(self, bk, params, v):
        return -bk.matmul(v, params["a"])

    def hidden_log_weight(self, bk, params, h):
        # sum over v_i = +-1 of exp(v_i x_i) is 2 cosh(x_i) = exp(softplus(2 x_i) - x_i),
        # a form that does not overflow for large |x_i|
        x = self.visible_activation(bk, params, h)
        return self.hidden_bias_term(bk, params, h) + (bk.softplus(2.0 * x) - x).sum(axis=1)

    def independent_log_partition(self, bk, params):
        a = params["a"]
        return (bk.softplus(2.0 * a) - a).sum()

    def n_states(self, n_units):
        return BINARY.n_states(n_units)

    def states(self, start, stop, n_units):
        return 2.0 * BINARY.states(start, stop, n_units) - 1.0

    def pseudo_log_likelihood(self, bk, params, v):
        """Sum over spins of log sigmoid(F(flip_i) - F(v)); a flip changes spin i by -2 v_i."""
        return pseudo_log_likelihood_by_flips(self, bk, params, v, lambda rows: -2.0 * rows)

    def visible_gradients(self, bk, params, v_pos, h_pos, v_neg, h_neg):
        return {"a": v_pos.mean(axis=0) - v_neg.mean(axis=0)}

    def initial_params(self, X_stats, n_hidden, rng):
        return {"a": spin_biases_of_means(X_stats["mean"], X_stats["n_samples"])}

    def base_params(self, params, X_stats):
        return {"a": spin_biases_of_means(X_stats["mean"], X_stats["n_samples"])}

    def rejection_message(self, X):
        values = X.data if sp.issparse(X) else X
        if values.size == 0:
            return None
        low, high = values.min(), values.max()
        # spins hold -1s; only data that never goes below 0 is checked further
        if low < 0 or high != 1:
            return None
        has_zero = low == 0 or (sp.issparse(X) and X.nnz < X.shape[0] * X.shape[1])
        if has_zero and np.all((values == 0) | (values == 1)):
            return (
                "Spin visible units take values in {-1, +1}, but X holds only 0s "
                "and 1s, whose 0s would be read as spins as likely up as down. Map "
                "0/1 data to spins with 2 * X - 1, or use BernoulliRBM for it."
            )
        return None

    def range_message(self, X):
        values = X.data if sp.issparse(X) else X
        if values.size and (values.min() < -1 or values.max() > 1):
            return (
                "Spin visible units model values in {-1, +1} (spins, or their "
                f"means in [-1, 1]), but X ranges over [{values.min():g}, "
                f"{values.max():g}]. Map 0/1 data with 2 * X - 1, scale other data "
                "into [-1, 1] (e.g. MinMaxScaler(feature_range=(-1, 1))), or use "
                "GaussianBernoulliRBM for real-valued data."
            )
        return None

    def range_hint(self, X_stats):
        # data in [-1, 1] has a mean in [-1, 1] and a variance of at most 1
        mean, var = X_stats["mean"], X_stats["var"]
        if np.any(mean < -1.01) or np.any(mean > 1.01) or np.any(var > 1.01):
            return (
                "data outside the [-1, 1] range that spin units model: map 0/1 data "
                "with 2 * X - 1, scale other data into [-1, 1], or use "
                "GaussianBernoulliRBM"
            )
        return ""


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
    h_samples_ : ndarray of shape (n_chains, n_components)
        Hidden states of the persistent chains.
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
