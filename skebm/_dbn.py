"""Deep belief networks: RBMs stacked greedily, layer by layer.

Layer k+1 is an RBM trained on the hidden probabilities P(h_k = 1 | h_{k-1})
of layer k, by default on binary states drawn from them afresh for every
mini-batch (Hinton, Osindero & Teh 2006).  The resulting generative model is
the top RBM, an undirected joint over its two layers, above a stack of directed
sigmoid belief layers p(h_{k-1} | h_k) given by the lower RBMs' visible
conditionals.  Everything here goes through the fitted skebm RBMs and the
unit-math interface, so it runs on NumPy and torch alike.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_is_fitted,
    validate_data,
)

from ._backend import inference_backend
from ._base import BaseRBM
from ._bernoulli import BernoulliRBM
from ._categorical import CategoricalRBM
from ._conditional import pandas_missing_as_nan
from ._data import row_blocks
from ._gaussian import GaussianBernoulliRBM
from ._layer import check_chain_settings
from ._samplers import SAMPLERS
from ._spin import SpinRBM
from ._table import TableRBM
from ._transaction import Transaction, transactional
from ._units import HIDDEN_UNITS, RECTIFIED
from ._units.rectified_visible import RectifiedVisible

#: the per-layer training parameters: one value for every layer, or a tuple
LAYER_PARAMS = (
    "hidden_units",
    "learning_rate",
    "n_iter",
    "batch_size",
    "method",
    "n_gibbs_steps",
    "momentum",
    "weight_decay",
    "n_chains",
    "centered",
)
#: the bound's expectation is summed exactly up to this many intermediate units
MAX_EXACT_BOUND_UNITS = 12
#: Monte Carlo draws of the intermediate layers per row of ``score_samples``
N_BOUND_SAMPLES = 100
#: rows handled at once by the bound and the down-pass: fewer than elsewhere,
#: since the bound holds N_BOUND_SAMPLES draws for every row of a chunk
_CHUNK_ROWS = 1024


def _layer_constraint(*constraints):
    return [*constraints, tuple]


_LAYER_CONSTRAINTS = {
    "hidden_units": _layer_constraint(StrOptions(HIDDEN_UNITS.keys())),  # live view
    "learning_rate": _layer_constraint(Interval(Real, 0, None, closed="neither"), None),
    "n_iter": _layer_constraint(Interval(Integral, 0, None, closed="left")),
    "batch_size": _layer_constraint(Interval(Integral, 1, None, closed="left")),
    "method": _layer_constraint(StrOptions(SAMPLERS.keys())),
    "n_gibbs_steps": _layer_constraint(Interval(Integral, 1, None, closed="left")),
    "momentum": _layer_constraint(Interval(Real, 0, 1, closed="left")),
    "weight_decay": _layer_constraint(Interval(Real, 0, None, closed="left")),
    "n_chains": _layer_constraint(Interval(Integral, 1, None, closed="left"), None),
    "centered": _layer_constraint("boolean"),
}


class SampledInputRBM(BernoulliRBM):
    """A BernoulliRBM that learns from binary states drawn from its input.

    Each mini-batch's rows, probabilities of the layer below, are replaced by
    a fresh binary draw from them before the update, so the RBM fits the
    distribution of binary states of the layer below given the data (the
    prior that the stacking argument replaces, see :class:`DBN`), and sees a
    new draw every time it meets a row. Everything else is BernoulliRBM's.
    """

    @staticmethod
    def _batch_transform(bk, batch):
        bk.bernoulli(batch, out=batch)


class RectifiedInputRBM(BaseRBM):
    """An RBM over the values of rectified hidden units: truncated-Gaussian visible units.

    The layer above a layer of rectified hidden units models their values
    (any ``h >= 0``) with visible units of the same kind
    (:class:`~skebm._units.rectified_visible.RectifiedVisible`).  With
    ``sample_input`` each mini-batch of the layer below's conditional means
    is replaced by a draw of its rectified units, as :class:`SampledInputRBM`
    draws binary states.
    """

    _visible_units = RectifiedVisible()
    sample_input = True

    def _batch_transform(self, bk, batch):
        if self.sample_input:
            RECTIFIED.sample(bk, batch, out=batch)


#: the RBM of a first layer, by the name of its visible unit type (the
#: ``visible_units`` parameter of DBN); a new unit type's estimator is one
#: line here
RBM_BY_VISIBLE_UNITS = {
    "bernoulli": BernoulliRBM,
    "gaussian": GaussianBernoulliRBM,
    "spin": SpinRBM,
    "categorical": CategoricalRBM,
    "table": TableRBM,
}


def rbm_class(visible_units):
    """The RBM estimator class for a first layer's visible unit type."""
    try:
        return RBM_BY_VISIBLE_UNITS[visible_units]
    except KeyError:
        raise ValueError(
            f"visible_units must be one of {sorted(RBM_BY_VISIBLE_UNITS)}, got "
            f"{visible_units!r}."
        ) from None


def check_layer_sizes(hidden_layer_sizes):
    """``hidden_layer_sizes`` as a tuple of positive ints, or a clear ValueError."""
    sizes = hidden_layer_sizes
    if isinstance(sizes, Integral):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        sizes = None
    if (
        not sizes
        or any(isinstance(s, bool) or not isinstance(s, Integral) for s in sizes)
        or any(s < 1 for s in sizes)
    ):
        raise ValueError(
            "hidden_layer_sizes must be a non-empty tuple of positive integers, one "
            f"per layer, e.g. (256, 128); got {hidden_layer_sizes!r}."
        )
    return tuple(int(s) for s in sizes)


def per_layer_values(estimator, n_layers):
    """One dict of RBM training parameters per layer.

    A parameter holding a tuple gives one value per layer; anything else is
    shared by every layer.  ``learning_rate=None`` leaves each RBM its default.
    """
    values = [{} for _ in range(n_layers)]
    for name in LAYER_PARAMS:
        value = getattr(estimator, name)
        if isinstance(value, (tuple, list)):
            if len(value) != n_layers:
                raise ValueError(
                    f"{name} has {len(value)} values but hidden_layer_sizes has "
                    f"{n_layers} layers: give one value per layer, or a single "
                    "value shared by all layers."
                )
            layer_values = list(value)
        else:
            layer_values = [value] * n_layers
        for layer, layer_value in enumerate(layer_values):
            if name == "learning_rate" and layer_value is None:
                continue
            values[layer][name] = layer_value
    return values


def build_rbms(estimator, n_layers_seeds):
    """Unfitted RBMs, one per layer, with validated parameters and derived seeds."""
    sizes = check_layer_sizes(estimator.hidden_layer_sizes)
    layer_params = per_layer_values(estimator, len(sizes))
    rbms = []
    for layer, (size, params, seed) in enumerate(zip(sizes, layer_params, n_layers_seeds)):
        below = layer_params[layer - 1].get("hidden_units", "binary") if layer else None
        if layer == 0:
            cls = rbm_class(estimator.visible_units)
        elif below == "rectified":
            cls = RectifiedInputRBM
        elif below == "binary":
            cls = SampledInputRBM if estimator.layer_input == "sample" else BernoulliRBM
        else:
            # the layer above must model the values of these units
            raise ValueError(
                f"Layer {layer - 1} of {type(estimator).__name__}: hidden_units={below!r} "
                "has no visible units to model its values in the layer above; use it in "
                "the top layer only, or 'binary' or 'rectified' below it."
            )
        rbm = cls(
            n_components=size,
            device=estimator.device,
            verbose=estimator.verbose,
            random_state=int(seed),
            **params,
        )
        try:
            rbm._validate_params()
        except ValueError as exc:
            raise ValueError(f"Layer {layer} of {type(estimator).__name__}: {exc}") from exc
        if cls is RectifiedInputRBM:
            rbm.sample_input = estimator.layer_input == "sample"
        # progress lines name the network and the layer, counted from 1
        rbm._layer_label = f"{type(estimator).__name__} layer {layer + 1}/{len(sizes)}"
        rbms.append(rbm)
    return rbms


def layer_seeds(random_state, n_layers):
    """Deterministic per-layer seeds (and one for the stack itself) from random_state."""
    return check_random_state(random_state).randint(0, 2**31 - 1, size=n_layers + 1)


class DBN(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Deep belief network: restricted Boltzmann machines stacked greedily.

    ``fit`` trains one RBM per entry of ``hidden_layer_sizes``, bottom up; each
    layer learns from the hidden probabilities of the layer below, computed
    batch by batch (Hinton, Osindero & Teh 2006): by default from binary
    states drawn from them afresh for every mini-batch (``layer_input``).
    The fitted model is a generative model: the top RBM is an undirected
    joint over the top two layers, and each lower RBM contributes its visible
    conditional as a directed layer p(h_{k-1} | h_k) pointing down to the data.

    The training parameters ``hidden_units``, ``learning_rate``, ``n_iter``, ``batch_size``,
    ``method``, ``n_gibbs_steps``, ``momentum``, ``weight_decay``,
    ``n_chains`` and ``centered`` take one value shared by all layers or a
    tuple with one value per layer, so that a grid search can tune each
    layer.  Every layer decays its step linearly over its epochs (the RBMs'
    default ``learning_rate_schedule``).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Hidden units of each layer, bottom (next to the data) first.
    visible_units : {"bernoulli", "gaussian", "spin", "categorical"}, default="bernoulli"
        Visible units of the first layer: binary (data in [0, 1]), Gaussian
        (real-valued data, :class:`GaussianBernoulliRBM`), spins (data in
        {-1, +1}, :class:`SpinRBM`) or categories (a table of categories,
        :class:`CategoricalRBM`, whose rows ``sample`` and ``gibbs`` return
        as categories). Higher layers are binary.
    hidden_units : {"binary", "rectified"} or tuple, default="binary"
        Hidden units of each layer (see :class:`BernoulliRBM`).  The layer
        above a rectified one models its values with rectified visible units
        (truncated Normals, ``v >= 0``), so the stack stays a generative
        model with a bound on log p(x).  ``transform`` returns the top
        units' conditional means, and :class:`DBNClassifier`'s forward pass
        follows each layer's units.
    learning_rate : float, tuple or None, default=None
        Step size of each layer; None keeps each layer's own RBM default.
    n_iter : int or tuple of int, default=10
        Epochs of each layer.
    batch_size : int or tuple of int, default=10
        Mini-batch rows of each layer.
    method : {"pcd", "cd", "cd_mean", "fpcd", "pt"} or tuple, default="pcd"
        The sampler of each layer's negative phase (see
        :class:`BernoulliRBM`).
    n_gibbs_steps : int or tuple of int, default=1
        Gibbs steps per update, per layer.
    momentum : float or tuple of float, default=0.0
        Momentum of each layer.
    weight_decay : float or tuple of float, default=0.0
        L2 weight penalty of each layer.
    n_chains : int, tuple or None, default=100
        Persistent chains of each layer ("pcd"); None means ``batch_size``.
        More chains than rows per batch give a less noisy negative phase.
    centered : bool or tuple of bool, default=False
        Train each layer with centered gradients (see :class:`BernoulliRBM`).
    layer_input : {"sample", "probability"}, default="sample"
        What each layer above the first learns from: "sample" draws binary
        states from the layer below's hidden probabilities afresh for every
        mini-batch (the binary states the next layer models), "probability"
        learns from the probabilities themselves.
    device : str, default=None
        None computes with NumPy; a torch device string ("cpu", "cuda")
        computes with torch there. Fitted attributes are NumPy arrays.
    random_state : int, RandomState instance or None, default=None
        Seeds every layer (each gets its own seed, derived deterministically)
        and the sampling methods.
    verbose : int, default=0
        Print one line per epoch of each layer when positive.

    Attributes
    ----------
    rbms_ : list of RBM estimators
        The fitted RBMs, bottom first; each has its full API (``transform``,
        ``sample``, ``score_samples``, ``history_``, ...).
    n_layers_ : int
        Number of layers.
    random_state_ : RandomState
        The generator used by ``gibbs`` and ``sample``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    BernoulliRBM : One layer of the stack.
    DBNClassifier : A DBN fine-tuned by backpropagation as a classifier.

    References
    ----------
    G. E. Hinton, S. Osindero and Y.-W. Teh, "A fast learning algorithm for
    deep belief nets", Neural Computation 18(7), 2006.

    R. Salakhutdinov and I. Murray, "On the quantitative analysis of deep
    belief networks", ICML 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from skebm import DBN
    >>> X = np.array([[0, 0, 1, 1], [1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 0, 1]])
    >>> dbn = DBN(hidden_layer_sizes=(3, 2), n_iter=5, random_state=0).fit(X)
    >>> dbn.transform(X).shape
    (4, 2)
    >>> dbn.sample(2, n_steps=10, random_state=0).shape
    (2, 4)
    >>> bool(dbn.score(X) < 0)  # a lower bound on the log-likelihood, in nats
    True
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "visible_units": [StrOptions(RBM_BY_VISIBLE_UNITS.keys())],
        **_LAYER_CONSTRAINTS,
        "layer_input": [StrOptions({"sample", "probability"})],
        "device": [str, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(256, 128),
        *,
        visible_units="bernoulli",
        hidden_units="binary",
        learning_rate=None,
        n_iter=10,
        batch_size=10,
        method="pcd",
        n_gibbs_steps=1,
        momentum=0.0,
        weight_decay=0.0,
        n_chains=100,
        centered=False,
        layer_input="sample",
        device=None,
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.visible_units = visible_units
        self.hidden_units = hidden_units
        self.learning_rate = learning_rate
        self.n_iter = n_iter
        self.batch_size = batch_size
        self.method = method
        self.n_gibbs_steps = n_gibbs_steps
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.n_chains = n_chains
        self.centered = centered
        self.layer_input = layer_input
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------------
    # tags, names
    # ------------------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        categories = self._takes_categories()
        tags.input_tags.sparse = not categories
        tags.input_tags.categorical = tags.input_tags.string = categories
        tags.transformer_tags.preserves_dtype = ["float64"] if categories else [
            "float64", "float32"]
        return tags

    @property
    def _n_features_out(self):
        return self.rbms_[-1].n_components

    # ------------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------------
    def _validate_X(self, X, *, reset):
        if self.visible_units == "table":
            # the first layer reads the table's columns with their own dtypes
            return _table_of(self, X, reset)
        if self._takes_categories():
            # the first layer reads them (CategoricalRBM): any values, checked there
            return validate_data(self, X, dtype=None, reset=reset)
        return validate_data(
            self, pandas_missing_as_nan(X), accept_sparse="csr",
            dtype=(np.float64, np.float32), reset=reset,
        )  # fmt: skip

    def _takes_categories(self):
        """Whether the first layer reads X as a table of categories."""
        cls = RBM_BY_VISIBLE_UNITS.get(self.visible_units, BernoulliRBM)
        return cls().__sklearn_tags__().input_tags.categorical

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the layers greedily, bottom up.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted network.
        """
        with Transaction(self):
            X = self._validate_X(X, reset=True)
            sizes = check_layer_sizes(self.hidden_layer_sizes)
            seeds = layer_seeds(self.random_state, len(sizes))
            rbms = build_rbms(self, seeds[1:])
            inputs = X
            for layer, rbm in enumerate(rbms):
                rbm.fit(inputs)
                if layer + 1 < len(rbms):
                    # transform works chunk by chunk, so no layer sees more than a chunk at once
                    inputs = rbm.transform(inputs)
            self._publish(rbms, seeds[0])
        return self

    def partial_fit(self, X, y=None):
        """Stream one chunk of data through every layer.

        Each layer takes one ``partial_fit`` step on the chunk's
        representation in the layer below, so the whole stack learns from a
        stream without holding it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The updated network.
        """
        with Transaction(self):
            first_call = not hasattr(self, "rbms_")
            # sklearn validates only the first call; set_params may have changed
            # them since, and a bad value must not reach the fitted layers
            self._validate_params()
            X = self._validate_X(X, reset=first_call)
            sizes = check_layer_sizes(self.hidden_layer_sizes)
            if first_call:
                seeds = layer_seeds(self.random_state, len(sizes))
                rbms = build_rbms(self, seeds[1:])
            else:
                rbms = self.rbms_
                fitted_sizes = tuple(rbm.n_components for rbm in rbms)
                if tuple(sizes) != fitted_sizes or not isinstance(
                    rbms[0], rbm_class(self.visible_units)
                ):
                    raise ValueError(
                        f"hidden_layer_sizes={self.hidden_layer_sizes!r} and "
                        f"visible_units={self.visible_units!r} differ from the fitted "
                        f"layers {fitted_sizes}; partial_fit continues a fitted network, "
                        "so call fit to train a new architecture."
                    )
                # training parameters changed by set_params apply from now on
                for rbm, params in zip(rbms, per_layer_values(self, len(sizes))):
                    rbm.set_params(device=self.device, verbose=self.verbose, **params)
            inputs = X
            for layer, rbm in enumerate(rbms):
                rbm.partial_fit(inputs)
                if layer + 1 < len(rbms):
                    inputs = rbm.transform(inputs)
            if first_call:
                self._publish(rbms, seeds[0])
        return self

    def _publish(self, rbms, seed):
        self.rbms_ = rbms
        self.n_layers_ = len(rbms)
        self.random_state_ = np.random.RandomState(seed)
        # the fixed draws shared by every row of score_samples (common random numbers)
        self._bound_seed = int(seed)

    # ------------------------------------------------------------------------
    # passes through the stack
    # ------------------------------------------------------------------------
    def transform(self, X):
        """The top layer's hidden probabilities: the deterministic up-pass.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        H : ndarray of shape (n_samples, hidden_layer_sizes[-1])
            P(h = 1 | h_below) of the top layer, each layer fed the
            probabilities of the one below.
        """
        check_is_fitted(self)
        H = self._validate_X(X, reset=False)
        for rbm in self.rbms_:
            H = rbm.transform(H)
        return H

    def inverse_transform(self, H):
        """The mean down-pass: E[h_{k-1} | h_k] layer by layer to visible space.

        Parameters
        ----------
        H : array-like of shape (n_samples, hidden_layer_sizes[-1])
            Top-layer states or probabilities (e.g. the output of
            ``transform``).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_)
            The reconstruction, each layer's mean fed to the layer below.
        """
        check_is_fitted(self)
        for rbm in reversed(self.rbms_):
            H = rbm.inverse_transform(H)
        return H

    def _down_pass(self, bk, h_top, return_mean):
        """Directed down-pass from the top hidden layer to visible space.

        The top RBM's visible conditional gives the layer below the top; each
        lower RBM's visible conditional gives the next.  Intermediate layers are
        sampled (they are binary units of the generative model); the visible
        layer is its conditional mean E[v | h_1] when ``return_mean``, else a
        sample.
        """
        h = h_top
        for depth, rbm in enumerate(reversed(self.rbms_)):
            layer = rbm._layer(bk)
            if depth + 1 < len(self.rbms_) or not return_mean:
                h = layer.sample_visible(h)
            else:
                h = layer.mean_visible(h)
        return bk.to_numpy(h)

    def _backend(self, seed, dtype=None):
        dtype = self.rbms_[-1].components_.dtype if dtype is None else dtype
        return inference_backend(self.device, dtype, seed=seed)

    @transactional
    def gibbs(self, v, *, return_mean=False):
        """One Gibbs step in the top RBM from data, then the down-pass.

        The rows are carried up by the deterministic up-pass to the top RBM's
        visible layer, a top hidden state is sampled there, and the directed
        layers carry it back down (intermediate layers sampled).

        Parameters
        ----------
        v : array-like of shape (n_samples, n_features)
            Visible vectors to start from.
        return_mean : bool, default=False
            Return E[v | h_1] instead of a sample of the visible units.

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features)
            The visible vectors after the step.
        """
        check_is_fitted(self)
        X = self._validate_X(v, reset=False)
        below_top = X
        for rbm in self.rbms_[:-1]:
            below_top = rbm.transform(below_top)
        bk = self._backend(self.random_state_.randint(2**31 - 1))
        top = self.rbms_[-1]._layer(bk)
        out = []
        for block in row_blocks(below_top, rows_per_block=_CHUNK_ROWS):
            h_top = top.sample_hidden(bk.asarray(block))
            out.append(self._down_pass(bk, h_top, return_mean))
        visible = np.concatenate(out, axis=0)
        if self._takes_categories():
            return self.rbms_[0]._rows_of_visible(visible)
        return visible.astype(X.dtype, copy=False)

    @transactional
    def sample(self, n_samples=1, *, n_steps=1000, random_state=None, return_mean=True):
        """Draw visible vectors from the network.

        Each of ``n_samples`` independent chains runs ``n_steps`` block-Gibbs
        steps in the top RBM (starting from p(v_top | h_top = 0)), draws a top
        hidden state, and passes it down through the directed layers:
        intermediate layers are sampled, the visible layer is returned as its
        conditional mean E[v | h_1] by default (the usual way to look at
        samples: no pixel noise) or as a sample with ``return_mean=False``.

        Parameters
        ----------
        n_samples : int, default=1
            Number of vectors (chains).
        n_steps : int, default=1000
            Gibbs steps in the top RBM before the down-pass.
        random_state : int, RandomState instance or None, default=None
            Seed of the chains; None draws one from the fitted ``random_state_``.
        return_mean : bool, default=True
            Return E[v | h_1] (True) or a draw of the visible units (False).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features_in_)
            The samples.
        """
        check_is_fitted(self)
        check_chain_settings(
            n_samples, n_steps, n_units=sum(sum(rbm.components_.shape) for rbm in self.rbms_),
            itemsize=self.rbms_[-1].components_.dtype.itemsize,
        )  # fmt: skip
        rng = self.random_state_ if random_state is None else check_random_state(random_state)
        bk = self._backend(rng.randint(2**31 - 1))
        top = self.rbms_[-1]._layer(bk)
        h_top = top.sample_hidden(top.gibbs_chains(n_samples, n_steps))
        return self.rbms_[0]._rows_of_visible(self._down_pass(bk, h_top, return_mean))

    # ------------------------------------------------------------------------
    # the likelihood bound
    # ------------------------------------------------------------------------
    @transactional
    def score_samples(self, X):
        """A variational lower bound on log p(x) of each row, in nats.

        With intermediate layers h_1 .. h_{L-1} (L RBMs) and the factorial
        up-pass posterior Q(h_1 .. h_{L-1} | v) = prod_k Q(h_k | h_{k-1}),
        Q(h_k = 1 | h_{k-1}) = sigmoid(b_k + W_k h_{k-1}), Jensen's inequality
        gives (Hinton et al. 2006; Salakhutdinov & Murray 2008)::

            log p(v) >= E_Q[ log p(v | h_1) + sum_{k=2}^{L-1} log p(h_{k-1} | h_k)
                             - F_top(h_{L-1}) ] - log Z_top + H(Q)

        where p(h_{k-1} | h_k) are the directed layers (the lower RBMs' visible
        conditionals), F_top is the top RBM's free energy and Z_top its
        partition function (``estimate_log_partition`` of the top RBM: exact
        where a layer is small, otherwise its estimate).  The bound is tight
        when Q is the true posterior.  For a single layer there is nothing to
        infer and it is exactly that RBM's ``score_samples``.

        The expectation is summed exactly when the intermediate layers have at
        most 12 units together; otherwise it is a Monte Carlo average over 100
        draws of the layers, with the entropy of each layer given its parent
        in closed form.  Every row uses the same uniform draws (common random
        numbers), so a row's score depends neither on the other rows nor on
        the call: the result is deterministic.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        bound : ndarray of shape (n_samples,)
            The lower bound on log p(x) of each row in nats.
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        top = self.rbms_[-1]
        if self.n_layers_ == 1:
            return top.score_samples(X)
        X = self.rbms_[0]._visible_rows(X)
        log_z = top.estimate_log_partition(top.log_partition_method, reverse=False)
        sizes = [rbm.n_components for rbm in self.rbms_[:-1]]
        bk = self._backend(self._bound_seed, np.float64)
        layers = [rbm._layer(bk) for rbm in self.rbms_]
        exact = sum(sizes) <= MAX_EXACT_BOUND_UNITS and all(
            layer.hidden.discrete for layer in layers[:-1]
        )
        if exact:
            hidden = layers[0].hidden
            states = hidden.states(0, hidden.n_states(sum(sizes)), sum(sizes))
            bounds = np.cumsum([0] + sizes)
            layer_states = [
                bk.asarray(states[:, bounds[k] : bounds[k + 1]]) for k in range(len(sizes))
            ]
        else:
            uniform = np.random.default_rng(self._bound_seed)
            draws = [
                bk.asarray(uniform.random((N_BOUND_SAMPLES, size))) for size in sizes
            ]
        out = []
        for block in row_blocks(X, rows_per_block=_CHUNK_ROWS):
            v = bk.asarray(block)
            if exact:
                out.append(_exact_bound(bk, layers, v, layer_states))
            else:
                out.append(_sampled_bound(bk, layers, v, draws))
        # a whitened first layer models u = P (x - m): log p(x) = log p(u) + log |det P|
        whitening = getattr(self.rbms_[0], "whitening_", None)
        return np.concatenate(out) - log_z + (whitening.log_det if whitening is not None else 0.0)

    def score(self, X, y=None):
        """Mean lower bound on the log-likelihood of the rows of X, in nats.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        score : float
            ``score_samples(X).mean()``.
        """
        return float(np.mean(self.score_samples(X)))


def _joint_terms(layers, v, states):
    """log p(v | h_1) + sum log p(h_{k-1} | h_k) - F_top(h_{L-1}), per row.

    ``layers`` are the RBMs' :class:`~skebm._layer.Layer` objects and
    ``states`` the intermediate layers' states h_1 .. h_{L-1}.
    """
    total = layers[0].log_visible_conditional(v, states[0])
    for k in range(1, len(states)):
        total = total + layers[k].log_visible_conditional(states[k - 1], states[k])
    return total - layers[-1].free_energy(states[-1])


def _exact_bound(bk, layers, v, layer_states):
    """The bound with the expectation over Q summed over every joint state."""
    n_rows, n_states = v.shape[0], layer_states[0].shape[0]
    values = np.empty((n_rows, n_states))
    log_q = np.empty((n_rows, n_states))
    for row in range(n_rows):
        below = bk.repeat_rows(v[row : row + 1], n_states)
        row_log_q = None
        parent = below
        for layer, states in zip(layers, layer_states):
            term = layer.hidden.log_probability(bk, states, layer.hidden_activation(parent))
            row_log_q = term if row_log_q is None else row_log_q + term
            parent = states
        values[row] = bk.to_numpy(_joint_terms(layers, below, layer_states))
        log_q[row] = bk.to_numpy(row_log_q)
    q = np.exp(log_q)
    return (q * (values - log_q)).sum(axis=1)


def _sampled_bound(bk, layers, v, draws):
    """The bound as an average over shared draws, entropies in closed form.

    Stays on the backend's device: the draws are repeated for every row
    there, and only the per-row results come back.
    """
    n_rows, n_draws = v.shape[0], draws[0].shape[0]
    total = bk.zeros((n_rows * n_draws,))
    parent = v
    states = []
    for k, uniform in enumerate(draws):
        layer = layers[k]
        act = layer.hidden_activation(parent)
        prob = layer.hidden.mean(bk, act)
        layer_entropy = layer.hidden.entropy(bk, act)
        if k == 0:
            entropy = layer_entropy
            prob = bk.repeat_rows(prob, n_draws)
        else:
            total = total + layer_entropy
        if layer.hidden.discrete:
            state = bk.less(bk.tile_rows(uniform, n_rows), prob)
        else:
            # continuous units draw their own states (the backend's seeded stream)
            inputs = bk.repeat_rows(act, n_draws) if k == 0 else act
            state = layer.hidden.sample_from_input(bk, inputs)
        states.append(state)
        parent = state
    below = bk.repeat_rows(v, n_draws)
    total = total + _joint_terms(layers, below, states)
    per_row = bk.to_numpy(total).reshape(n_rows, n_draws).mean(axis=1)
    return per_row + bk.to_numpy(entropy)


def _table_of(estimator, X, reset):
    """X as a table the first layer (TableRBM) reads, its names and width checked."""
    if not isinstance(X, pd.DataFrame):
        array = np.asarray(X)
        X = pd.DataFrame(array).astype(array.dtype) if array.dtype.kind in "biuf" else pd.DataFrame(array)
    _check_feature_names(estimator, X, reset=reset)
    _check_n_features(estimator, X, reset=reset)
    return X
