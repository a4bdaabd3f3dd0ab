"""Binary visible units: E(v, h) = -a.v - b.h - h.W.v."""

import numpy as np
import scipy.sparse as sp

from ._base import BaseRBM
from ._units import BINARY, VisibleUnits

#: elements of the (rows, features, hidden) block of the pseudo-log-likelihood
_FLIP_BLOCK = 2**22

#: pseudo-count that keeps the log-odds of constant columns finite
BASE_RATE_SMOOTHING = 0.01


def smoothed_log_odds(column_means, n_samples):
    """log(p / (1 - p)) of the column means, pulled away from 0 and 1.

    ``p`` is shrunk towards 1/2 by a pseudo-count so that all-zero and all-one
    columns get a large but finite bias, and clipped into (0, 1) so that values
    outside the unit interval (not probabilities, but accepted) stay finite.
    """
    p = (np.asarray(column_means, dtype=np.float64) * n_samples + BASE_RATE_SMOOTHING) / (
        n_samples + 2 * BASE_RATE_SMOOTHING
    )
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p) - np.log1p(-p)


def pseudo_log_likelihood_by_flips(units, bk, params, v, flip_change):
    """sum_i log p(v_i | v_-i) of each row of two-state units, from flips.

    ``flip_change(rows)`` gives d_i, how flipping unit i to its other state
    changes v_i (``1 - 2 v_i`` for 0/1 units, ``-2 v_i`` for spins).  The
    visible energy changes by -a_i d_i and every hidden pre-activation by
    d_i W[:, i], so all flips of a row cost one broadcast, not one matrix
    product per feature, and p(v_i | v_-i) = sigmoid(F(flip_i) - F(v)).
    Rows go in small groups so the (rows, features, hidden) block stays near
    32 MB.
    """
    W, a = params["W"], params["a"]
    n_hidden, n_features = W.shape
    group = max(1, _FLIP_BLOCK // (n_features * n_hidden))
    x = units.hidden_activation(bk, params, v)
    base_softplus = bk.softplus(x).sum(axis=1)
    out = []
    for start in range(0, v.shape[0], group):
        rows = slice(start, start + group)
        d = flip_change(v[rows])
        flipped = x[rows][:, None, :] + d[:, :, None] * W.T[None, :, :]
        # F(v) - F(flip_i) = a_i d_i + sum_j softplus(flipped_ij) - sum_j softplus(x_j)
        gap = bk.softplus(flipped, out=flipped).sum(axis=2)
        gap -= base_softplus[rows][:, None]
        gap += a * d
        out.append(bk.log_sigmoid(-gap).sum(axis=1))
    return bk.concatenate(out)


class BernoulliVisible(VisibleUnits):
    """Visible units that are 0 or 1, p(v_i = 1 | h) = sigmoid(a_i + (W^T h)_i)."""

    name = "bernoulli"
    discrete = True

    def scale_visible(self, bk, params, v):
        return v

    def mean_visible(self, bk, params, h):
        return BINARY.mean(bk, self.visible_activation(bk, params, h))

    def sample_visible(self, bk, params, h):
        return BINARY.sample(bk, self.mean_visible(bk, params, h))

    def sample_visible_given(self, bk, params, x, out=None):
        mean = BINARY.mean(bk, x, out=out)
        return BINARY.sample(bk, mean, out=out)

    def visible_energy(self, bk, params, v):
        return -bk.matmul(v, params["a"])

    def hidden_log_weight(self, bk, params, h):
        x = self.visible_activation(bk, params, h)
        return self.hidden_bias_term(bk, params, h) + BINARY.log_partition(bk, x)

    def independent_log_partition(self, bk, params):
        return bk.softplus(params["a"]).sum()

    def n_states(self, n_units):
        return BINARY.n_states(n_units)

    def states(self, start, stop, n_units):
        return BINARY.states(start, stop, n_units)

    def pseudo_log_likelihood(self, bk, params, v):
        """Sum over bits of log sigmoid(F(flip_i) - F(v)); a flip changes bit i by 1 - 2 v_i."""
        return pseudo_log_likelihood_by_flips(self, bk, params, v, lambda rows: 1.0 - 2.0 * rows)

    def visible_gradients(self, bk, params, v_pos, h_pos, v_neg, h_neg):
        return {"a": v_pos.mean(axis=0) - v_neg.mean(axis=0)}

    def range_message(self, X):
        values = X.data if sp.issparse(X) else X
        if values.size and (values.min() < 0 or values.max() > 1):
            return (
                "Bernoulli visible units model values in [0, 1] (binary data or "
                f"probabilities), but X ranges over [{values.min():g}, "
                f"{values.max():g}]. Scale it, e.g. with MinMaxScaler, or use "
                "GaussianBernoulliRBM for real-valued data."
            )
        return None

    def range_hint(self, X_stats):
        # [0, 1] data has a mean in [0, 1] and a variance of at most 1/4
        mean, var = X_stats["mean"], X_stats["var"]
        if np.any(mean < -0.01) or np.any(mean > 1.01) or np.any(var > 0.26):
            return (
                "data outside the [0, 1] range that Bernoulli units model: scale it "
                "(e.g. MinMaxScaler) or use GaussianBernoulliRBM"
            )
        return ""

    def initial_params(self, X_stats, n_hidden, rng):
        return {"a": smoothed_log_odds(X_stats["mean"], X_stats["n_samples"])}

    def base_params(self, params, X_stats):
        return {"a": smoothed_log_odds(X_stats["mean"], X_stats["n_samples"])}


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
    n_components : int, default=256
        Number of hidden units.
    hidden_units : {"binary", "rectified"}, default="binary"
        The hidden units. "binary": 0/1 units, ``transform`` gives
        P(h = 1 | v). "rectified": truncated-Gaussian units ``h >= 0`` with
        energy ``h**2 / 2 - h * x`` (``x`` their input), whose
        ``E[h | v] = x + phi(x) / Phi(x)`` is a smooth rectifier that grows
        with its input instead of saturating at 1 (features for a downstream
        model, as noisy rectified units are in Nair & Hinton 2010); the free
        energy stays in closed form, so the exact log Z (over a small
        discrete visible layer), AIS, parallel tempering and conditional
        sampling work as for binary units.
    learning_rate : float, default=0.1
        Step size: the update is ``learning_rate`` times the mean mini-batch
        gradient (as in scikit-learn), accumulated with ``momentum``.
    batch_size : int, default=10
        Rows per mini-batch. A short last batch takes a step scaled by its size.
    n_iter : int, default=10
        Number of passes (epochs) over the training data.
    method : {"pcd", "cd", "cd_mean", "fpcd", "pt"}, default="pcd"
        The negative phase. "pcd": persistent contrastive divergence (chains
        carried across updates, ``h_samples_``); "cd": chains restart at
        each mini-batch; "cd_mean": as "cd" with the reconstructions'
        visible probabilities E[v | h] in place of draws (Hinton's practical
        guide), a less noisy gradient that gives better features for a
        downstream classifier, though no sampler of the model; "fpcd": persistent chains that move under the model
        plus fast weights, which decay by ``fast_decay`` per update and never
        reach the fitted parameters (Tieleman & Hinton 2009); "pt":
        parallel tempering, ``n_temperatures`` replicas of the persistent
        chains on a ladder of temperatures that swap states, so that the
        chains cross between modes (``history_`` records the swap rates and
        the ladder).
    n_gibbs_steps : int, default=1
        Gibbs steps per update (the k of CD-k / PCD-k).
    optimizer : {"sgd", "adam"}, default="sgd"
        The update rule. "sgd": gradient steps with ``momentum``; "adam":
        Adam (Kingma & Ba 2015), which scales each parameter's step by
        running moments of its gradient, so that every parameter moves about
        ``learning_rate`` per update (use a far smaller ``learning_rate``,
        1e-3 to 1e-2; ``momentum`` is not used).
    momentum : float, default=0.0
        Fraction of the previous update added to the current one. PCD learns
        best without it: momentum moves the weights faster than the persistent
        chains can follow.
    weight_decay : float, default=0.0
        L2 penalty on the weights, subtracted from their gradient.
    n_chains : int, default=None
        Number of persistent chains; None means ``batch_size``.
    centered : bool, default=False
        Train the centered RBM (Melchior, Fischer & Wiskott 2016): the
        gradient is taken in the parameterisation whose energy measures each
        unit from an offset, the running mean of the data's visible units
        and of their hidden probabilities, which makes it better conditioned
        (larger steps, momentum, and many more units learn stably).  The
        fitted parameters are converted back, so every other method sees an
        ordinary RBM.
    sparsity_target : float, default=None
        A target mean activity of the hidden units (e.g. 0.05): each unit's
        running mean of ``E[h | v]`` on the data is pulled towards it by
        adding ``sparsity_cost * (target - mean)`` to its bias gradient
        (Lee, Ekanadham & Ng 2008; Hinton's practical guide), so that units
        are active on a few rows each and learn distinct features. None
        adds no pull.
    sparsity_cost : float, default=0.1
        Weight of the sparsity pull.
    learning_rate_schedule : {"linear", "constant", "invscaling"}, default="linear"
        How the step size changes over the epochs of ``fit``: "linear"
        decays it linearly from ``learning_rate`` in the first epoch to
        ``min_learning_rate`` in the last (Tieleman 2008), which averages
        out the noise of the last updates and gives much better models for
        the same epochs (on MNIST-5k, 25-30 nats of held-out log-likelihood
        at scikit-learn's settings); "constant" keeps ``learning_rate``, as
        scikit-learn does; "invscaling" divides it by ``epoch ** power_t``.
        ``partial_fit`` counts its calls as epochs; a stream has no last
        epoch, so there "linear" keeps ``learning_rate``.
    power_t : float, default=0.5
        The exponent of the "invscaling" schedule.
    min_learning_rate : float, default=None
        The floor of the "linear" and "invscaling" schedules; None is a
        tenth of ``learning_rate``.
    n_temperatures : int, default=10
        ``method="pt"``: replicas of the chains, at inverse temperatures from
        1 (the model) down to 0 (independent units with the data's means).
    swap_target : float or None, default=0.3
        ``method="pt"``: the swap rate between neighbouring replicas that the
        ladder of temperatures is tuned to as training runs; None keeps the
        ladder evenly spaced.
    fast_learning_rate : float, default=None
        ``method="fpcd"``: step size of the fast weights; None uses
        ``learning_rate``.
    fast_decay : float, default=0.95
        ``method="fpcd"``: fraction of the fast weights kept at every update.
    validation_fraction : float, default=None
        Share of the training rows held out to monitor training (in
        ``history_``: the free-energy gap, and the log-likelihoods where the
        exact log Z is cheap). None holds out nothing.
    early_stopping : bool, default=False
        Stop when the held-out score has not improved by more than ``tol``
        for ``n_iter_no_change`` epochs, then restore the parameters of the
        best epoch (``best_epoch_``). The score is the held-out
        log-likelihood where the exact log Z is cheap (at most 2**22 terms,
        e.g. 16 hidden units on 64 features), otherwise minus the free-energy
        gap. Needs ``validation_fraction``; ``partial_fit`` rejects it.
    n_iter_no_change : int, default=10
        Epochs without an improvement larger than ``tol`` before stopping.
    tol : float, default=1e-3
        Improvement of the held-out score (in nats) that counts as one.
    device : str, default=None
        None computes with NumPy; a torch device string ("cpu", "cuda",
        "cuda:1", "mps") computes with torch there; "auto" picks the best
        available one. Fitted attributes are NumPy arrays in every case.
    n_jobs : int, default=None
        Threads of a NumPy training step and of AIS. None means 1 (also
        inside a :func:`joblib.parallel_config` context, so that a search's
        workers train the same models); -1 means all processors. With
        more than one, each update runs over contiguous blocks of chains and
        of hidden units in parallel, each block with its own random stream,
        and BLAS is held to one thread meanwhile (its own threads would
        compete for the same cores). On an idle machine BLAS's threads
        alone are faster for small batches (tens of rows) and about as fast
        for larger ones; on cores shared with other work, and for AIS, the
        blocks are faster (see the user guide on devices and threads).
        Results are reproducible for a given ``n_jobs`` and
        ``random_state``, but differ between values of ``n_jobs``. With 1,
        BLAS alone decides how many threads a product uses. Ignored on torch
        devices, which use torch's threads.
    warm_start : bool, default=False
        When True, ``fit`` continues from the fitted parameters, persistent
        chains and momentum of the previous call instead of starting anew,
        for ``n_iter`` more epochs (``n_iter_`` and ``history_`` go on
        counting). The data must have as many features as before.
    verbose : int, default=0
        1 prints one line per epoch (per call of ``partial_fit``) and a
        progress line for long AIS estimates of log Z; 2 also prints the
        progress within an epoch.
    random_state : int, RandomState instance or None, default=None
        Seed of initialisation, shuffling and Gibbs sampling; an int also
        seeds the AIS estimate of log Z (otherwise AIS uses seed 0, so
        scores are always deterministic).
    log_partition_method : {"auto", "exact", "ais"}, default="auto"
        How ``score_samples`` and ``score`` get log Z: "exact" sums over
        every state of the smaller layer (at most 20 units), "ais" estimates
        it by annealed importance sampling, "auto" sums exactly where it can.
        See :meth:`estimate_log_partition`.
    ais_n_chains : int, default=100
        Parallel AIS chains used by ``score``; more chains narrow the
        interval of the estimate.
    ais_n_betas : int, default=14500
        Inverse temperatures of the AIS schedule used by ``score`` (dense near
        1); more make the estimate less biased and take proportionally longer.

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
