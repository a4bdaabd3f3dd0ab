"""CovarianceRBM: Gaussian visible units whose covariance the hidden units set.

A Gaussian RBM, whitened or not, is a mixture of Gaussians that share one
covariance: its hidden units move the mean of ``p(v | h)`` and nothing else,
so data whose spread differs from one region to another (two classes of
tumours, each with its own correlations) are out of its reach.  Here each
hidden unit also raises the visible precision along a direction of its own,
in the whitened coordinates ``u = P (x - m)`` of
:class:`~skebm._whitening.Whitening`::

    E(u, h) = 1/2 u' Lambda(h) u - a'u - h'W u - b'h,
    Lambda(h) = diag(exp(-2 s)) + sum_k h_k c_k c_k',

so that ``p(u | h)`` is Normal(``Lambda(h)^-1 (a + W'h)``, ``Lambda(h)^-1``),
a full covariance that depends on ``h``, and ``p(h_k = 1 | u) =
sigmoid(b_k + w_k.u - (c_k.u)^2 / 2)``.  With zero weights and ``s = 0``
the model is the standard Normal in ``u``, which in ``x`` is the
maximum-likelihood full-covariance Gaussian.

Beside the binary units there may be one categorical hidden unit whose
``M`` states each add ``v_j.u + beta_j`` to ``-E`` and scale its quadratic
term by ``exp(-2 t_j)``::

    E(u, h, j) = exp(-2 t_j) 1/2 u' Lambda(h) u - (a + W'h + v_j)'u - b'h - beta_j,

a shift of the mean and a scale of the spread that every state of the
binary units shares.  With the binary units off and ``t = 0`` the model is
a mixture of ``M`` Gaussians with one covariance; it starts as the one EM
fits (the rows whitened by its shared covariance), and the binary units
and the scales then model what that mixture cannot: a mixture of scales
has heavier tails than any Gaussian.

The energy is not bilinear in ``(u, h)``, so the samplers of the other RBMs,
which draw each layer from a linear activation, do not apply.  The hidden
layer is kept small instead and all of its ``M 2^K`` states are summed, each
with ``K x K`` algebra (:func:`state_terms`): log Z, the gradient of the
log-likelihood and the samples are exact, and the model is fitted by exact
maximum likelihood.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.linalg import solve_triangular
from scipy.special import expit, logsumexp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._backend import NumpyBackend
from ._conditional import pandas_missing_as_nan
from ._exceptions import DivergenceError
from ._layer import check_memory, check_n_samples
from ._optim.adam import Adam
from ._training.early_stopping import EarlyStopping
from ._transaction import transactional
from ._whitening import Whitening
from ._whitening import _by_pattern as rows_by_gaps

#: the largest binary hidden layer: every fit step sums n_categories 2^K hidden states
MAX_COMPONENTS = 16
#: hidden states summed at once, so that their K x K matrices stay within a
#: few tens of megabytes
STATE_BLOCK_ENTRIES = 2**21
#: the learned parameters, in the order of the optimiser's state
PARAMETER_NAMES = ("covariance_components", "components", "intercept_visible",
                   "intercept_hidden", "log_sigma", "categorical_components",
                   "intercept_categorical", "category_log_scale")  # fmt: skip


def category_columns(n_categories):
    """The columns the categorical unit takes in a hidden state: one per category, none for one.

    A single category is always on and moves nothing that ``a`` does not,
    so it has no parameters and no column.
    """
    return n_categories if n_categories > 1 else 0


def hidden_states(n_components, n_categories=1):
    """Every hidden state, one per row: the binary units, then the category as a one-hot.

    The binary units run through their ``2^K`` values in counting order,
    once for each category in turn.
    """
    codes = np.arange(2**n_components)[:, None]
    binary = ((codes >> np.arange(n_components)[::-1]) & 1).astype(np.float64)
    if n_categories == 1:
        return binary
    one_hot = np.repeat(np.eye(n_categories), len(binary), axis=0)
    return np.hstack([np.tile(binary, (n_categories, 1)), one_hot])


def linear_weights(params):
    """``W`` over ``V``: the weights on u of every column of a hidden state."""
    return np.vstack([params["components"], params["categorical_components"]])


def hidden_intercepts(params):
    """``b`` then ``beta``: the bias of every column of a hidden state."""
    return np.concatenate([params["intercept_hidden"], params["intercept_categorical"]])


def precision_of(params, states):
    """The precision ``exp(-2 t_j) Lambda(h)`` of u given each row of ``states``, (n_states, d, d).

    Category columns that hold probabilities rather than a one-hot weigh
    the categories' ``exp(-2 t_j)`` by them (a mean-field precision).
    """
    C = params["covariance_components"]
    outer = (C[:, :, None] * C[:, None, :]).reshape(len(C), -1)
    one_hot = states[:, len(C) :]
    states = states[:, : len(C)]
    precision = (states @ outer).reshape(len(states), C.shape[1], C.shape[1])
    diagonal = np.arange(C.shape[1])
    precision[:, diagonal, diagonal] += np.exp(-2.0 * params["log_sigma"])
    if one_hot.shape[1]:
        precision *= (one_hot @ np.exp(-2.0 * params["category_log_scale"]))[:, None, None]
    return precision


def state_terms(params, states):
    """Per hidden state: the log of its unnormalised marginal, the mean of u | h, and ``H G^-1 H``.

    ``Lambda(h) = D + C'HC`` with ``D = diag(exp(-2 s))`` and ``H = diag(h)``
    is never formed: by the Woodbury identity its inverse is ``D^-1 -
    D^-1 C' R C D^-1`` with ``R = H G^-1 H`` and ``G = I + H C D^-1 C' H``
    (K x K), and by the determinant lemma ``log det Lambda = log det D +
    log det G``, so a state costs ``O(K^3 + d K)`` rather than ``O(d^3)``.
    The marginal's log is ``b'h - 1/2 log det Lambda + 1/2 eta' Lambda^-1
    eta`` with ``eta = a + W'h + V'e``, the integral of ``exp(-E)`` over u
    less the constant ``d/2 log 2 pi`` (``e``: the category's one-hot
    columns).  Category ``j`` also scales the precision by ``exp(-2 t_j)``:
    its covariance ``tau Lambda^-1`` with ``tau = exp(2 t_j)`` adds ``d t_j``
    to that log and multiplies the quadratic term and the mean by ``tau``.
    The fourth value is ``tau eta' Lambda^-1 eta``.
    """
    C = params["covariance_components"]
    variance = np.exp(2.0 * params["log_sigma"])
    gram = (C * variance) @ C.T
    n_components = len(C)
    h = states[:, :n_components]
    G = h[:, :, None] * h[:, None, :] * gram
    diagonal = np.arange(n_components)
    G[:, diagonal, diagonal] += 1.0
    log_det_G = 2.0 * np.log(np.diagonal(np.linalg.cholesky(G), axis1=1, axis2=2)).sum(axis=1)
    R = h[:, :, None] * np.linalg.inv(G) * h[:, None, :]
    linear = params["intercept_visible"] + states @ linear_weights(params)
    projected = (linear * variance) @ C.T
    correction = np.einsum("skl,sl->sk", R, projected)
    mean = variance * (linear - correction @ C)
    log_det = -2.0 * params["log_sigma"].sum() + log_det_G
    quadratic = (linear * linear * variance).sum(axis=1) - (projected * correction).sum(axis=1)
    log_scale = states[:, n_components:] @ params["category_log_scale"]
    scale = np.exp(2.0 * log_scale)
    mean = scale[:, None] * mean
    quadratic = scale * quadratic
    log_weight = (states @ hidden_intercepts(params) - 0.5 * log_det
                  + len(variance) * log_scale + 0.5 * quadratic)  # fmt: skip
    return log_weight, mean, R, quadratic


def state_blocks(n_components, n_categories, entries_per_state):
    """Every hidden state, in blocks whose arrays hold at most about STATE_BLOCK_ENTRIES numbers."""
    states = hidden_states(n_components, n_categories)
    block = max(1, STATE_BLOCK_ENTRIES // entries_per_state)
    return [states[start : start + block] for start in range(0, len(states), block)]


def hidden_activation(params, U):
    """``b_k + w_k.u - (c_k.u)^2 / 2`` of each whitened row, and its ``c_k.u``."""
    projections = U @ params["covariance_components"].T
    linear = U @ params["components"].T + params["intercept_hidden"]
    return linear - 0.5 * projections**2, projections


def category_terms(params, U):
    """Given each whitened row and each category: the binary units' activations and the
    category's unnormalised log posterior.

    Category ``j`` scales the quadratic terms by ``exp(-2 t_j)``, so the
    units' activations ``b_k + w_k.u - exp(-2 t_j) (c_k.u)^2 / 2`` (shape
    (n_rows, M, K)) depend on it; given u and the category the units are
    independent, and ``log p(j | u)`` is, up to a constant, ``beta_j +
    v_j.u - exp(-2 t_j) u'Du / 2 + sum_k log(1 + exp(activation))`` (shape
    (n_rows, M)).  Also returned: ``c_k.u`` and ``u'Du``.
    """
    projections = U @ params["covariance_components"].T
    linear = U @ params["components"].T + params["intercept_hidden"]
    inverse_scale = np.exp(-2.0 * params["category_log_scale"])
    diagonal_term = (U**2 * np.exp(-2.0 * params["log_sigma"])).sum(axis=1)
    activation = (linear[:, None, :]
                  - 0.5 * inverse_scale[None, :, None] * projections[:, None, :] ** 2)  # fmt: skip
    log_posterior = (U @ params["categorical_components"].T + params["intercept_categorical"]
                     - 0.5 * inverse_scale * diagonal_term[:, None]
                     + np.logaddexp(0.0, activation).sum(axis=2))  # fmt: skip
    return activation, log_posterior, projections, diagonal_term


def minus_free_energy(params, U):
    """``-F(u) = log sum_h exp(-E(u, h))`` of each whitened row."""
    if len(params["categorical_components"]):
        log_posterior = category_terms(params, U)[1]
        return U @ params["intercept_visible"] + logsumexp(log_posterior, axis=1)
    activation, _ = hidden_activation(params, U)
    quadratic = 0.5 * (U**2 * np.exp(-2.0 * params["log_sigma"])).sum(axis=1)
    return U @ params["intercept_visible"] - quadratic + np.logaddexp(0.0, activation).sum(axis=1)


def hidden_probabilities(params, U):
    """P(h_k = 1 | u) of each whitened row, and p(category | u) (no columns for one)."""
    if not len(params["categorical_components"]):
        return expit(hidden_activation(params, U)[0]), np.empty((len(U), 0))
    activation, log_posterior = category_terms(params, U)[:2]
    category = np.exp(log_posterior - logsumexp(log_posterior, axis=1, keepdims=True))
    return np.einsum("rj,rjk->rk", category, expit(activation)), category


def model_expectations(params, *, gradient):
    """log Z, and with ``gradient`` the model's expectations of ``-dE/dtheta``.

    The states are summed block by block; each block's sums are scaled by
    the largest log weight seen so far (a streamed log-sum-exp), so no
    block's weights overflow.  Given h, ``E[u u'] = Lambda^-1 + mu mu'``,
    whose products with ``c_k`` and diagonal need only ``R`` (see
    :func:`state_terms`), summed over states before they meet ``C``.
    """
    C = params["covariance_components"]
    n_components, n_features = C.shape
    n_categories = max(1, len(params["categorical_components"]))
    variance = np.exp(2.0 * params["log_sigma"])
    gram = (C * variance) @ C.T
    largest, total = -np.inf, 0.0
    sums = None
    for states in state_blocks(n_components, n_categories, n_components**2 + n_features):
        log_weight, mean, R, quadratic = state_terms(params, states)
        new_largest = max(largest, float(log_weight.max()))
        rescale = np.exp(largest - new_largest)
        weight = np.exp(log_weight - new_largest)
        total = total * rescale + weight.sum()
        largest = new_largest
        if not gradient:
            continue
        # every column of the state: the binary units, then the categories
        on = weight[:, None] * states
        binary_on = on[:, :n_components]
        one_hot = states[:, n_components:]
        mean_along = mean @ C.T
        # the quadratic terms carry exp(-2 t_j): given the state, E[u u'] = tau Lambda^-1 + mu mu'
        inverse_scale = np.exp(-2.0 * (one_hot @ params["category_log_scale"]))
        block_sums = {
            "on": weight @ states,
            "mean": weight @ mean,
            "on_mean": on.T @ mean,
            "square_mean": (weight * inverse_scale) @ mean**2,
            "R": np.tensordot(weight, R, axes=1),
            # sum_s w_s h_sk R_s, one K x K matrix per unit k
            "on_R": np.tensordot(binary_on, R, axes=(0, 0)),
            "on_mean_along": (binary_on * mean_along * inverse_scale[:, None]).T @ mean,
            # E[exp(-2 t_j) u' Lambda u | state] = d + tau eta' Lambda^-1 eta
            "scale": (weight * (n_features + quadratic)) @ one_hot,
        }
        sums = block_sums if sums is None else {
            key: value * rescale + block_sums[key] for key, value in sums.items()
        }  # fmt: skip
    log_partition = largest + np.log(total) + 0.5 * n_features * np.log(2.0 * np.pi)
    if not gradient:
        return log_partition, None
    sums = {key: value / total for key, value in sums.items()}
    # sum_s w_s h_sk Lambda_s^-1 c_k = E[h_k] D^-1 c_k - D^-1 C' (sum_s w_s h_sk R_s) C D^-1 c_k
    on = sums["on"][:n_components]
    covariance_along = (on[:, None] * C - np.einsum("kab,bk->ka", sums["on_R"], gram) @ C)
    diagonal_covariance = variance - variance**2 * np.einsum("ab,ai,bi->i", sums["R"], C, C)
    return log_partition, {
        "covariance_components": -(covariance_along * variance + sums["on_mean_along"]),
        "components": sums["on_mean"][:n_components],
        "intercept_visible": sums["mean"],
        "intercept_hidden": on,
        "log_sigma": (diagonal_covariance + sums["square_mean"]) / variance,
        "categorical_components": sums["on_mean"][n_components:],
        "intercept_categorical": sums["on"][n_components:],
        "category_log_scale": sums["scale"],
    }


def within_span(reference, rows, tol=1e-6):
    """Which ``rows`` lie in the affine span of the ``reference`` rows (up to ``tol``).

    A row off that span has a component along a direction in which the
    reference rows do not vary (a column constant in them, or an exact
    linear relation they all satisfy).
    """
    mean = reference.mean(axis=0)
    _, singular, directions = np.linalg.svd(reference - mean, full_matrices=False)
    scale = singular.max() if singular.size and singular.max() > 0 else 1.0
    varying = directions[singular > tol * scale]
    deviations = rows - mean
    residual = deviations - (deviations @ varying.T) @ varying
    typical = np.sqrt(np.mean((reference - mean) ** 2)) or 1.0
    return np.linalg.norm(residual, axis=1) <= np.sqrt(tol) * typical * np.sqrt(rows.shape[1])


def data_expectations(params, U):
    """The rows' mean of ``-dE/dtheta`` with ``h`` summed out (the positive phase)."""
    n_rows = len(U)
    if not len(params["categorical_components"]):
        activation, projections = hidden_activation(params, U)
        on = expit(activation)
        return {
            "covariance_components": -((on * projections).T @ U) / n_rows,
            "components": on.T @ U / n_rows,
            "intercept_visible": U.mean(axis=0),
            "intercept_hidden": on.mean(axis=0),
            "log_sigma": np.exp(-2.0 * params["log_sigma"]) * (U**2).mean(axis=0),
            "categorical_components": np.zeros((0, U.shape[1])),
            "intercept_categorical": np.zeros(0),
            "category_log_scale": np.zeros(0),
        }
    # the category given u, then the binary units given u and the category
    activation, log_posterior, projections, diagonal_term = category_terms(params, U)
    category = np.exp(log_posterior - logsumexp(log_posterior, axis=1, keepdims=True))
    on_given_category = expit(activation)
    on = category[:, :, None] * on_given_category
    inverse_scale = np.exp(-2.0 * params["category_log_scale"])
    # E[exp(-2 t_j) u' Lambda(h) u | u, j] for each row and category
    spread = diagonal_term[:, None] + np.einsum("rjk,rk->rj", on_given_category, projections**2)
    return {
        "covariance_components": -((np.einsum("rjk,j->rk", on, inverse_scale) * projections).T
                                   @ U) / n_rows,  # fmt: skip
        "components": on.sum(axis=1).T @ U / n_rows,
        "intercept_visible": U.mean(axis=0),
        "intercept_hidden": on.sum(axis=1).mean(axis=0),
        "log_sigma": np.exp(-2.0 * params["log_sigma"])
        * ((category @ inverse_scale)[:, None] * U**2).mean(axis=0),
        "categorical_components": category.T @ U / n_rows,
        "intercept_categorical": category.mean(axis=0),
        "category_log_scale": (category * inverse_scale * spread).mean(axis=0),
    }


def tied_mixture_start(X, n_categories, random_state):
    """The whitening by a tied Gaussian mixture of X, and the categories that make the model it.

    The mixture (fitted by EM, one covariance shared by its components) is
    the model with every binary unit switched off: whitened by the shared
    covariance, component ``j`` is Normal(``v_j``, I) with weight
    proportional to ``exp(beta_j + |v_j|^2 / 2)``.
    """
    with warnings.catch_warnings():
        # a start that EM has not quite converged is still a start
        warnings.simplefilter("ignore", ConvergenceWarning)
        mixture = GaussianMixture(n_categories, covariance_type="tied", n_init=3,
                                  random_state=random_state).fit(X)  # fmt: skip
    whitening = Whitening.of_covariance(mixture.weights_ @ mixture.means_, mixture.covariances_)
    means = whitening.apply(mixture.means_)
    return whitening, means, np.log(mixture.weights_) - 0.5 * (means**2).sum(axis=1)


class CovarianceRBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Gaussian RBM whose hidden units set the covariance as well as the mean.

    Each hidden unit that is on shifts the mean of the visible units and
    raises their precision along a direction of its own, in the coordinates
    whitened by the training covariance::

        E(u, h) = 1/2 u' Lambda(h) u - a'u - h'W u - b'h,
        Lambda(h) = diag(exp(-2 s)) + sum_k h_k c_k c_k',    u = P (x - m)

    so given the hidden units the rows are Normal with a full covariance
    that depends on them: the model is a mixture of ``2^K`` full-covariance
    Gaussians tied through ``K`` units, where :class:`GaussianBernoulliRBM`'s
    components all share one covariance.  With zero weights it is the
    maximum-likelihood full-covariance Gaussian of the training rows; the
    hidden units model what that Gaussian cannot.  The mean-covariance RBM of
    Ranzato and Hinton (2010) has separate mean and covariance units and
    factored precision terms; here every unit carries both.

    With ``n_categories > 1`` a categorical hidden unit joins them: each of
    its states ``j`` shifts the mean and scales the spread, ``-E`` gaining
    ``v_j.u + beta_j`` and its quadratic term a factor ``exp(-2 t_j)``, and
    the rows are whitened by the shared covariance of a Gaussian mixture of
    ``n_categories`` components with one covariance (fitted by EM,
    ``covariance_type="tied"``).  The model starts as that mixture, which
    it contains (every binary unit off, ``t = 0``); the binary units then
    give each region a covariance of its own, and the scales give the
    model heavier tails than a Gaussian's.  Data made of a few groups that
    share their correlations, such as wine's three cultivars, need the
    shifts; data with rows far out, such as breast_cancer, the scales.

    The hidden layer is small (at most 16 units) and every one of its
    ``n_categories 2^K`` states is summed, each with ``K x K`` matrices (the
    Woodbury identity turns the ``d x d`` precision into them): ``score_samples`` is
    the exact log-likelihood, ``sample`` draws exact independent rows with
    no Markov chain, ``conditional_mean`` and ``conditional_sample`` fill
    missing entries exactly, and ``fit`` is exact maximum likelihood by Adam
    (the model's expectations summed over the states, the data's over
    mini-batches), for as many epochs as held-out training rows choose.  A
    step costs about ``2^K (K^3 + d K)`` operations: 12 units on 30
    features take about 30 ms a step on one core, 16 units about a second;
    ``n_categories`` multiplies that.

    Parameters
    ----------
    n_components : int, default=8
        Number of binary hidden units ``K``, at most 16.
    n_categories : int, default=3
        Number of states ``M`` of the categorical hidden unit; 1 leaves it
        out (a single state moves nothing).  Three categories read 0.8 to 28
        nats per row above one on held-out digits, breast_cancer and wine
        (three splits each) at three times the cost of a step.  Like the
        number of components of a :class:`~sklearn.mixture.GaussianMixture`,
        it can be chosen by cross-validation on ``score``.
    learning_rate : float, default=0.01
        Adam's step size.
    batch_size : int or None, default=None
        Rows per update; None takes all the rows (one exact step per epoch).
    n_iter : int, default=1000
        Epochs (passes over the training rows).
    validation_fraction : float or None, default=0.2
        Share of the rows ``fit`` holds out to choose the number of epochs:
        the model is trained on the rest (whitened by the rest alone) until
        the held-out log-likelihood has not improved for
        ``n_iter_no_change`` epochs, and the best epoch is kept.  Held-out
        rows that vary where the rest do not (a column constant in the rest)
        are left out of that score, which they would swamp at every epoch.
        None trains on every row for ``n_iter`` epochs.
    n_iter_no_change : int, default=100
        Epochs without a better held-out log-likelihood before that stops.
    refit : bool, default=True
        With held-out rows, train again from the start on every row
        (whitened by all of them) for the number of epochs they chose, as
        :class:`~sklearn.model_selection.GridSearchCV` refits its best
        setting; False keeps the model of the best epoch, trained on the
        rest.  Refitting costs up to as much again and uses every row: on
        breast_cancer it adds 0.6 to 1.3 nats per held-out row.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, the held-out split and the draws.
    verbose : int, default=0
        Print the held-out log-likelihood every 50 epochs when positive.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        ``W``: the hidden units' weights on the whitened rows.
    covariance_components_ : ndarray of shape (n_components, n_features)
        ``c_k``: the direction along which unit ``k`` raises the precision of
        the whitened rows.
    intercept_hidden_ : ndarray of shape (n_components,)
        ``b``.
    intercept_visible_ : ndarray of shape (n_features,)
        ``a``, on the whitened rows.
    categorical_components_ : ndarray of shape (n_categories, n_features)
        ``V``: each category's weights on the whitened rows; no rows with
        one category.
    intercept_categorical_ : ndarray of shape (n_categories,)
        ``beta``; empty with one category.
    category_scale_ : ndarray of shape (n_categories,)
        ``exp(t_j)``: the factor by which category ``j`` widens the spread
        of the whitened rows (its covariances are multiplied by its
        square); empty with one category.
    sigma_ : ndarray of shape (n_features,)
        ``exp(s)``: the standard deviation of each whitened coordinate when
        every hidden unit is off and the weights are zero.
    whitening_ : Whitening
        The training rows' mean ``m`` and ``P = Sigma^(-1/2)``; with more than
        one category, the starting mixture's mean and shared covariance.
    log_partition_ : float
        The exact log Z of the model on the whitened rows.
    n_iter_ : int
        Epochs the published parameters were trained for.
    best_iter_ : int or None
        The number of epochs the held-out rows chose (None without them).
    validation_scores_ : list of float
        Held-out mean log-likelihood after each epoch, from 0 (nats per row,
        in the units of ``X``); empty without validation rows.
    training_state_ : dict
        Adam's moments, which ``partial_fit`` continues.
    random_state_ : RandomState
        The random stream of ``gibbs`` and ``sample``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when they are all strings.

    See Also
    --------
    GaussianBernoulliRBM : Hidden units that move the mean only; any number
        of them, every sampler, AIS.

    Examples
    --------
    >>> import numpy as np
    >>> from skebm import CovarianceRBM
    >>> rng = np.random.default_rng(0)
    >>> narrow = rng.normal(size=(200, 2)) * [1.0, 0.1]
    >>> wide = rng.normal(size=(200, 2)) * [0.1, 1.0]
    >>> X = np.concatenate([narrow, wide])
    >>> rbm = CovarianceRBM(n_components=2, n_iter=300, random_state=0).fit(X)
    >>> rbm.score_samples(X).shape
    (400,)
    >>> from sklearn.mixture import GaussianMixture
    >>> bool(rbm.score(X) > GaussianMixture(1).fit(X).score(X))
    True
    >>> rbm.sample(3, random_state=0).shape
    (3, 2)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, MAX_COMPONENTS, closed="both")],
        "n_categories": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "refit": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self, n_components=8, *, n_categories=3, learning_rate=0.01, batch_size=None,
        n_iter=1000, validation_fraction=0.2, n_iter_no_change=100, refit=True,
        random_state=None, verbose=0,
    ):  # fmt: skip
        self.n_components = n_components
        self.n_categories = n_categories
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.refit = refit
        self.random_state = random_state
        self.verbose = verbose

    @property
    def _n_features_out(self):
        return self.n_components + category_columns(self.n_categories)

    # --- fitted parameters ------------------------------------------------------------------
    def _params(self):
        return {
            "covariance_components": self.covariance_components_,
            "components": self.components_,
            "intercept_visible": self.intercept_visible_,
            "intercept_hidden": self.intercept_hidden_,
            "log_sigma": np.log(self.sigma_),
            "categorical_components": self.categorical_components_,
            "intercept_categorical": self.intercept_categorical_,
            "category_log_scale": np.log(self.category_scale_),
        }

    def _publish(self, params):
        log_partition = self._checked_expectations(params, gradient=False)[0]
        self.covariance_components_ = params["covariance_components"].copy()
        self.components_ = params["components"].copy()
        self.intercept_visible_ = params["intercept_visible"].copy()
        self.intercept_hidden_ = params["intercept_hidden"].copy()
        self.sigma_ = np.exp(params["log_sigma"])
        self.categorical_components_ = params["categorical_components"].copy()
        self.intercept_categorical_ = params["intercept_categorical"].copy()
        self.category_scale_ = np.exp(params["category_log_scale"])
        self.log_partition_ = float(log_partition)

    def _start(self, X, rng):
        """The whitening of the rows X, new parameters, the optimiser and its fresh state."""
        if self.n_categories == 1:
            whitening = Whitening.of(X)
            categories = np.empty((0, X.shape[1])), np.empty(0)
        else:
            if len(X) < self.n_categories:
                raise ValueError(
                    f"n_categories={self.n_categories} but the model starts from a mixture "
                    f"fitted to {len(X)} rows; pass at least one row per category, or fewer "
                    "categories."
                )
            whitening, *categories = tied_mixture_start(X, self.n_categories,
                                                        rng.randint(2**31 - 1))  # fmt: skip
        params = self._initial_params(X.shape[1], rng, categories)
        optimizer = Adam(self.learning_rate)
        state = optimizer.init_state(NumpyBackend(), params, PARAMETER_NAMES)
        return whitening, params, optimizer, state

    def _initial_params(self, n_features, rng, categories):
        components, intercepts = categories
        # small random directions: with c_k = 0 every c_k gets the same gradient
        return {
            "covariance_components": 0.1 * rng.standard_normal((self.n_components, n_features)),
            "components": 0.01 * rng.standard_normal((self.n_components, n_features)),
            "intercept_visible": np.zeros(n_features),
            "intercept_hidden": np.full(self.n_components, -1.0),
            "log_sigma": np.zeros(n_features),
            "categorical_components": components,
            "intercept_categorical": intercepts,
            "category_log_scale": np.zeros(len(intercepts)),
        }

    # --- training -----------------------------------------------------------------------------
    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the model to X by exact maximum likelihood.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real-valued training rows.
        y : None
            Ignored.

        Returns
        -------
        self : CovarianceRBM
            The fitted model.
        """
        X = self._validated(X, reset=True)
        rng = check_random_state(self.random_state)
        train, validation = self._split(len(X), rng)
        scores, best = [], None
        if validation is not None:
            # whitened by the training rows alone: the held-out rows must be new to the
            # zero-weight Gaussian too, or it scores them better than any model trained after it
            whitening, params, optimizer, state = self._start(X[train], rng)
            U = whitening.apply(X)
            # a held-out row that varies where the other rows do not has probability about
            # 0 under any model of them, at every epoch: it would drown the others' scores
            scored = validation[within_span(X[train], X[validation])]
            if len(scored) == 0:
                scored = validation
            params, scores, best = self._train(params, optimizer, state, U[train], rng,
                                               held_out=(U[scored], whitening.log_det))
        if validation is None or self.refit:
            # as many epochs on every row as the held-out rows chose
            whitening, params, optimizer, state = self._start(X, rng)
            params, _, _ = self._train(params, optimizer, state, whitening.apply(X), rng,
                                       n_epochs=self.n_iter if best is None else best)
        self.whitening_ = whitening
        self.training_state_ = state
        self.n_iter_ = self.n_iter if best is None else best
        self.validation_scores_, self.best_iter_ = scores, best
        self.random_state_ = np.random.RandomState(rng.randint(2**31 - 1))
        self._publish(params)
        return self

    @transactional
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """One epoch over X, continuing the fitted model (or starting one).

        The first call whitens by the rows it is given, so it should see a
        representative batch; later calls keep that whitening and Adam's
        moments.  No rows are held out.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real-valued rows.
        y : None
            Ignored.

        Returns
        -------
        self : CovarianceRBM
            The updated model.
        """
        first = not hasattr(self, "components_")
        if not first:
            # scikit-learn validates only a first partial_fit's parameters
            self._validate_params()
            fitted_categories = max(1, len(self.categorical_components_))
            if (self.n_components, self.n_categories) != (len(self.components_),
                                                          fitted_categories):  # fmt: skip
                raise ValueError(
                    f"n_components={self.n_components} and n_categories={self.n_categories} "
                    f"but the fitted model has {len(self.components_)} hidden units and "
                    f"{fitted_categories} categories; partial_fit continues the fitted model, "
                    "so call fit to train one of the new size."
                )
        X = self._validated(X, reset=first)
        if first:
            rng = check_random_state(self.random_state)
            self.whitening_, params, optimizer, state = self._start(X, rng)
            self.random_state_ = np.random.RandomState(rng.randint(2**31 - 1))
            self.n_iter_, self.validation_scores_, self.best_iter_ = 0, [], None
        else:
            optimizer = Adam(self.learning_rate)
            params = {key: value.copy() for key, value in self._params().items()}
            state = optimizer.resume_state(NumpyBackend(), params, self.training_state_,
                                           PARAMETER_NAMES)  # fmt: skip
        U = self.whitening_.apply(X)
        params, _, _ = self._train(params, optimizer, state, U, self.random_state_, n_epochs=1)
        self.n_iter_ += 1
        self.training_state_ = state
        self._publish(params)
        return self

    def _split(self, n_rows, rng):
        """Training and held-out row indices (None for the held-out ones without validation)."""
        if self.validation_fraction is None:
            return np.arange(n_rows), None
        n_held_out = int(round(self.validation_fraction * n_rows))
        if n_rows < 2 or n_held_out < 1 or n_held_out >= n_rows:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} of n_samples = {n_rows} "
                "leaves no rows to hold out or none to train on; pass more rows, another "
                "validation_fraction, or validation_fraction=None to train on every row."
            )
        order = rng.permutation(n_rows)
        return np.sort(order[n_held_out:]), np.sort(order[:n_held_out])

    def _train(self, params, optimizer, state, U, rng, *, held_out=None, n_epochs=None):
        """Adam epochs on the whitened rows ``U``: the parameters kept, held-out scores, best epoch.

        With ``held_out`` (whitened rows and log |det P|) the parameters are
        scored before every epoch, and after the last, by their exact
        held-out log-likelihood; those of the best-scoring epoch are returned.
        """
        n_epochs = self.n_iter if n_epochs is None else n_epochs
        bk = NumpyBackend()
        batch_size = len(U) if self.batch_size is None else self.batch_size
        scores = []
        stopper = EarlyStopping(
            self.n_iter_no_change, keep=lambda: {key: v.copy() for key, v in params.items()}
        )

        def stop_after(epoch, log_partition):
            """Score the parameters after ``epoch`` epochs; True when training should stop."""
            rows, log_det = held_out
            score = float(np.mean(minus_free_energy(params, rows))) - log_partition + log_det
            scores.append(score)
            if self.verbose and epoch % 50 == 0:
                print(f"[CovarianceRBM] epoch {epoch}: held-out log-likelihood {score:.4f}")
            return stopper.update(epoch, score)

        for epoch in range(n_epochs):
            order = rng.permutation(len(U))
            for start in range(0, len(U), batch_size):
                # the first step's log Z is that of the parameters after `epoch` epochs
                log_partition, model = self._checked_expectations(params)
                if start == 0 and held_out is not None and stop_after(epoch, log_partition):
                    return stopper.best_state, scores, stopper.best_epoch
                data = data_expectations(params, U[np.sort(order[start : start + batch_size])])
                ascent = {key: data[key] - model[key] for key in PARAMETER_NAMES}
                optimizer.update_all(bk, params, state, ascent, 1.0)
        if held_out is None:
            return params, scores, None
        stop_after(n_epochs, self._checked_expectations(params, gradient=False)[0])
        return stopper.best_state, scores, stopper.best_epoch

    def _checked_expectations(self, params, *, gradient=True):
        """:func:`model_expectations`, or a DivergenceError where the parameters ran away."""
        with np.errstate(all="ignore"):
            try:
                log_partition, model = model_expectations(params, gradient=gradient)
            except np.linalg.LinAlgError:
                log_partition, model = np.nan, {}
        checked = list((model or {}).values()) + [params["log_sigma"]]
        log_scales = np.concatenate([params["log_sigma"], params["category_log_scale"]])
        if not (np.isfinite(log_partition)
                and all(np.all(np.isfinite(value)) for value in checked)
                # exp(2 s) and exp(-2 s) must stay finite wherever they are used, and t's
                and np.all(np.abs(log_scales) < 300)):  # fmt: skip
            raise DivergenceError(
                f"CovarianceRBM diverged (a non-finite log Z or gradient) at learning_rate="
                f"{self.learning_rate}; use a smaller one. The model was left as it was "
                "before this call."
            )
        return log_partition, model

    # --- inference --------------------------------------------------------------------------
    def _validated(self, X, *, reset):
        """X as a dense float64 array; sparse input is taken and densified (whitening fills it)."""
        X = validate_data(self, pandas_missing_as_nan(X), accept_sparse="csr", dtype=np.float64,
                          reset=reset)  # fmt: skip
        return X.toarray() if sp.issparse(X) else X

    def _whitened_rows(self, X):
        check_is_fitted(self)
        return self.whitening_.apply(self._validated(X, reset=False))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def transform(self, X):
        """P(h_k = 1 | x) of every binary hidden unit, then p(category | x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows in the units of the training data.

        Returns
        -------
        h : ndarray of shape (n_samples, n_components + n_categories)
            The binary units' probabilities of being on, then (with more
            than one category) the probability of each category; with one
            category, its column (always 1) is left out.
        """
        U = self._whitened_rows(X)
        return np.hstack(hidden_probabilities(self._params(), U))

    def inverse_transform(self, H):
        """E[x | h]: the mean of the rows given the hidden units.

        Probabilities in [0, 1] (``transform``'s output) stand in for the
        states in ``Lambda(h)``, ``W'h`` and ``V'e``, a mean-field
        reconstruction.

        Parameters
        ----------
        H : array-like of shape (n_samples, n_components + n_categories)
            Hidden states or probabilities, laid out as ``transform``'s
            output (no category columns with one category).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The conditional means, in the units of the training data.
        """
        check_is_fitted(self)
        H = self._hidden_rows(H)
        params = self._params()
        mean = np.empty((len(H), self.n_features_in_))
        # one d x d precision per row: rows in blocks, so that a block stays small
        rows_per_block = max(1, STATE_BLOCK_ENTRIES // self.n_features_in_**2)
        for start in range(0, len(H), rows_per_block):
            block = H[start : start + rows_per_block]
            mean[start : start + len(block)] = np.linalg.solve(
                precision_of(params, block),
                (params["intercept_visible"] + block @ linear_weights(params))[:, :, None],
            )[:, :, 0]
        return self.whitening_.invert(mean)

    def _hidden_rows(self, H):
        H = check_array(H, dtype=np.float64)
        if H.shape[1] != self._n_features_out:
            raise ValueError(
                f"H has {H.shape[1]} columns but this CovarianceRBM's hidden layer has "
                f"{self._n_features_out} ({self.n_components} units"
                + (f" and {self.n_categories} categories" if self.n_categories > 1 else "")
                + "); pass transform's output, one column per hidden unit and category."
            )
        return H

    def _draw_visible(self, H, rng):
        """A whitened row from p(u | h) for each row of binary ``H``, state by state."""
        params = self._params()
        states, which = np.unique(H, axis=0, return_inverse=True)
        which = np.ravel(which)
        U = np.empty((len(H), params["components"].shape[1]))
        noise = rng.standard_normal(U.shape)
        for index, state in enumerate(states):
            rows = which == index
            cholesky = np.linalg.cholesky(precision_of(params, state[None])[0])
            linear = params["intercept_visible"] + state @ linear_weights(params)
            mean = solve_triangular(cholesky.T, solve_triangular(cholesky, linear, lower=True))
            # the precision is L L', so L'^-1 z has its inverse as covariance
            U[rows] = mean + solve_triangular(cholesky.T, noise[rows].T).T
        return U

    @transactional
    def gibbs(self, v):
        """One block-Gibbs step: sample h (and the category) ~ p(h | x), then x' ~ p(x | h).

        The draws come from the fitted ``random_state_``, so successive calls
        continue one random stream.

        Parameters
        ----------
        v : array-like of shape (n_samples, n_features)
            Rows to start from.

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features)
            The rows after one step.
        """
        U = self._whitened_rows(v)
        params = self._params()
        rng = self.random_state_
        if self.n_categories == 1:
            on = expit(hidden_activation(params, U)[0])
            hidden = (rng.random_sample(on.shape) < on).astype(np.float64)
        else:
            # the category first, then the binary units given it
            activation, log_posterior = category_terms(params, U)[:2]
            cumulative = np.cumsum(np.exp(log_posterior - log_posterior.max(axis=1, keepdims=True)),
                                   axis=1)  # fmt: skip
            uniforms = rng.random_sample((len(U), 1)) * cumulative[:, -1:]
            category = np.minimum((cumulative <= uniforms).sum(axis=1), self.n_categories - 1)
            on = expit(activation[np.arange(len(U)), category])
            hidden = np.hstack([(rng.random_sample(on.shape) < on).astype(np.float64),
                                np.eye(self.n_categories)[category]])  # fmt: skip
        return self.whitening_.invert(self._draw_visible(hidden, rng))

    @transactional
    def sample(self, n_samples=1, *, random_state=None):
        """Exact independent draws from the model.

        The hidden states are drawn from their exact marginal (all
        ``n_categories 2^K`` of them weighed), then the rows from the
        Gaussian each one selects: no Markov chain, so there is nothing to
        burn in.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws; None draws from the fitted ``random_state_``.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The rows, in the units of the training data.
        """
        check_is_fitted(self)
        # the rows, their noise and their hidden states
        rng = self._draw_stream(n_samples, 2 * self.n_features_in_ + self.n_components,
                                f"n_samples={n_samples!r}", random_state)  # fmt: skip
        states = hidden_states(self.n_components, self.n_categories)
        log_weight = self._state_log_weights()
        probabilities = np.exp(log_weight - logsumexp(log_weight))
        chosen = rng.choice(len(states), size=n_samples, p=probabilities / probabilities.sum())
        return self.whitening_.invert(self._draw_visible(states[chosen], rng))

    def _draw_stream(self, n_samples, values_per_sample, what, random_state):
        """The random stream for ``n_samples`` draws, once their numbers are known to fit."""
        check_n_samples(n_samples)
        check_memory(int(n_samples) * values_per_sample, 8, what, "draw fewer per call")
        return self.random_state_ if random_state is None else check_random_state(random_state)

    def _state_log_weights(self):
        """log of the unnormalised marginal p(h) of every state, in counting order."""
        params = self._params()
        blocks = state_blocks(self.n_components, self.n_categories,
                              self.n_components**2 + self.n_features_in_)  # fmt: skip
        return np.concatenate([state_terms(params, h)[0] for h in blocks])

    # --- conditionals --------------------------------------------------------------------
    def _rows_with_gaps(self, X):
        """X (``np.nan`` where missing) as float64, the fitted model's width checked."""
        check_is_fitted(self)
        return validate_data(self, pandas_missing_as_nan(X), dtype=np.float64, reset=False,
                             ensure_all_finite="allow-nan")  # fmt: skip

    def _state_gaussians(self, states):
        """Per state: log of its unnormalised marginal, and the mean and covariance of x | h."""
        params = self._params()
        log_weight, mean_u, R, _ = state_terms(params, states)
        variance = np.exp(2.0 * params["log_sigma"])
        scaled = params["covariance_components"] * variance  # rows D^-1 c_k
        # Lambda^-1 = D^-1 - D^-1 C' R C D^-1 (see state_terms)
        covariance_u = np.einsum("ki,skl,lj->sij", scaled, R, scaled)
        covariance_u = np.eye(len(variance)) * variance - covariance_u
        if self.n_categories > 1:
            # a category's covariance is tau Lambda^-1
            log_scale = states[:, self.n_components :] @ params["category_log_scale"]
            covariance_u = covariance_u * np.exp(2.0 * log_scale)[:, None, None]
        inverse = self.whitening_.inverse
        return log_weight, self.whitening_.invert(mean_u), inverse @ covariance_u @ inverse

    def _conditional_terms(self, rows, missing, states):
        """For rows sharing the gaps ``missing``: per state and row, log p(h, x_O) up to a
        constant, and the mean of x_M given h and x_O; per state, the covariance of x_M."""
        log_weight, mean, covariance = self._state_gaussians(states)
        observed = ~missing
        c_mm = covariance[:, missing][:, :, missing]
        if not observed.any():
            shape = (len(states), len(rows), int(missing.sum()))
            return (np.repeat(log_weight[:, None], len(rows), axis=1),
                    np.broadcast_to(mean[:, None, missing], shape), c_mm)  # fmt: skip
        c_oo = covariance[:, observed][:, :, observed]
        c_mo = covariance[:, missing][:, :, observed]
        deviations = rows[None, :, observed] - mean[:, None, observed]
        cholesky = np.linalg.cholesky(c_oo)
        whitened = np.linalg.solve(cholesky, np.swapaxes(deviations, 1, 2))
        solved = np.linalg.solve(np.swapaxes(cholesky, 1, 2), whitened)
        log_det = 2.0 * np.log(np.diagonal(cholesky, axis1=1, axis2=2)).sum(axis=1)
        log_joint = log_weight[:, None] - 0.5 * (whitened**2).sum(axis=1) - 0.5 * log_det[:, None]
        conditional_mean = mean[:, None, missing] + np.swapaxes(c_mo @ solved, 1, 2)
        spread = c_mm - c_mo @ np.linalg.solve(c_oo, np.swapaxes(c_mo, 1, 2))
        return log_joint, conditional_mean, spread

    def _state_blocks_for(self, n_rows):
        """State blocks for conditioning ``n_rows`` rows (a covariance and their means each)."""
        n_features = self.n_features_in_
        return state_blocks(self.n_components, self.n_categories,
                            n_features**2 + n_rows * n_features + self.n_components**2)

    def conditional_mean(self, X):
        """E[x_missing | x_observed] of every row, exactly.

        Missing entries are ``np.nan``.  Given the observed entries, the
        hidden state's posterior is summed over all ``2^K`` states, each
        weighing the mean of its Gaussian conditioned on the observed
        entries: a mixture of linear regressions, one per state.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Rows with ``np.nan`` where an entry is missing.

        Returns
        -------
        X_filled : ndarray of shape (n_rows, n_features)
            The rows with each missing entry replaced by its conditional
            mean; observed entries as given.
        """
        X = self._rows_with_gaps(X)
        filled = X.copy()
        for missing, in_group in rows_by_gaps(X):
            rows = np.flatnonzero(in_group)
            largest = np.full(len(rows), -np.inf)
            total = np.zeros(len(rows))
            weighted = np.zeros((len(rows), int(missing.sum())))
            for states in self._state_blocks_for(len(rows)):
                log_joint, mean, _ = self._conditional_terms(X[rows], missing, states)
                new_largest = np.maximum(largest, log_joint.max(axis=0))
                rescale = np.exp(largest - new_largest)
                weight = np.exp(log_joint - new_largest)
                total = total * rescale + weight.sum(axis=0)
                weighted = weighted * rescale[:, None] + np.einsum("sr,srm->rm", weight, mean)
                largest = new_largest
            block = filled[rows]
            block[:, missing] = weighted / total[:, None]
            filled[rows] = block
        return filled

    @transactional
    def conditional_sample(self, X, *, n_samples=1, random_state=None):
        """Exact draws of the missing entries of each row, given its observed ones.

        Missing entries are ``np.nan``.  Each draw takes a hidden state from
        its exact posterior given the row's observed entries (all ``2^K``
        weighed), then the missing entries from that state's Gaussian
        conditioned on the observed ones: independent draws, no chain.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Rows with ``np.nan`` where an entry is missing.
        n_samples : int, default=1
            Draws per row.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws; None draws from the fitted ``random_state_``.

        Returns
        -------
        samples : ndarray of shape (n_samples, n_rows, n_features)
            The rows with their missing entries drawn; observed entries are
            returned as given.
        """
        X = self._rows_with_gaps(X)
        # the filled rows and their noise
        rng = self._draw_stream(n_samples, 2 * X.size,
                                f"n_samples={n_samples!r} draws of {len(X):,} rows", random_state)
        samples = np.repeat(X[None], n_samples, axis=0)
        for missing, in_group in rows_by_gaps(X):
            rows = np.flatnonzero(in_group)
            log_joint = np.concatenate([
                self._conditional_terms(X[rows], missing, states)[0]
                for states in self._state_blocks_for(len(rows))
            ])  # fmt: skip
            posterior = np.exp(log_joint - logsumexp(log_joint, axis=0))
            cumulative = np.cumsum(posterior, axis=0)
            uniforms = rng.random_sample((n_samples, len(rows))) * cumulative[-1]
            chosen = np.array([np.searchsorted(cumulative[:, r], uniforms[:, r], side="right")
                               for r in range(len(rows))]).T  # fmt: skip
            chosen = np.minimum(chosen, len(cumulative) - 1)
            noise = rng.standard_normal((n_samples, len(rows), int(missing.sum())))
            states = hidden_states(self.n_components, self.n_categories)
            for state in np.unique(chosen):
                draw, row = np.nonzero(chosen == state)
                # conditioned only for the rows that drew this state
                picked, which = np.unique(row, return_inverse=True)
                _, mean, spread = self._conditional_terms(X[rows[picked]], missing,
                                                          states[[state]])  # fmt: skip
                factor = np.linalg.cholesky(spread[0] + 1e-12 * np.eye(len(spread[0])))
                values = mean[0][np.ravel(which)] + noise[draw, row] @ factor.T
                samples[draw[:, None], rows[row][:, None], np.flatnonzero(missing)] = values
        return samples

    def free_energy(self, X):
        """F(x) = -log sum_h exp(-E(x, h)), in the units of X.

        ``log p(x) = -F(x) - log Z``: the whitening's ``log |det P|`` is part
        of F, so that free energies of rows in the original units compare.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        free_energy : ndarray of shape (n_samples,)
        """
        U = self._whitened_rows(X)
        return -minus_free_energy(self._params(), U) - self.whitening_.log_det

    def score_samples(self, X):
        """The exact log-likelihood log p(x) of every row, in nats.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_likelihood : ndarray of shape (n_samples,)
        """
        return -self.free_energy(X) - self.log_partition_

    def score(self, X, y=None):
        """The mean exact log-likelihood of the rows of X (nats per row).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))
