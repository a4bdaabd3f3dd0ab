"""A deep belief network fine-tuned as a classifier by backpropagation."""

from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._backend import inference_backend, make_backend, resolve_device
from ._conditional import pandas_missing_as_nan
from ._data import row_blocks
from ._dbn import _LAYER_CONSTRAINTS, DBN, check_layer_sizes
from ._training.early_stopping import EarlyStopping
from ._exceptions import DivergenceError
from ._optim import OPTIMIZERS, SGD, make_optimizer
from ._transaction import Transaction


class DBNClassifier(ClassifierMixin, BaseEstimator):
    """Deep belief network pretrained greedily, then fine-tuned to classify.

    ``fit`` first trains a :class:`DBN` on all rows of X (unsupervised
    pretraining), then turns its up-pass into a feed-forward network of
    sigmoid layers, adds a softmax output layer and trains the whole stack by
    backpropagation of the cross-entropy (mini-batch SGD with momentum and
    dropout), stopping early when the accuracy on a held-out validation
    split stops improving.  The epoch count early stopping chose is then
    used to fine-tune again on every labelled row (``refit``); without
    ``refit`` the best weights seen on the validation split are kept.

    Rows labelled -1 (scikit-learn's mark for unlabelled samples, for integer
    labels) take part in pretraining only: the model is semi-supervised.  This
    holds when the other labels name at least two classes; labels that are
    -1 and one other value are an ordinary binary problem (e.g. -1 and 1).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Hidden units of each layer, bottom first.
    visible_units : {"bernoulli", "gaussian"}, default="bernoulli"
        Visible units of the first layer (see :class:`DBN`).
    hidden_units, learning_rate, n_iter, batch_size, method, n_gibbs_steps, \
momentum, weight_decay, n_chains, centered : one value or a tuple with one value per layer
        Pretraining parameters of the RBMs, as in :class:`DBN` (defaults:
        "binary", None, 10, 10, "pcd", 1, 0.0, 0.0, None, False).  Each
        layer of the feed-forward network computes the conditional means
        of its pretrained hidden units (sigmoid for binary ones, ``x +
        phi(x) / Phi(x)`` for rectified ones) and backpropagates through them.
    layer_input : {"sample", "probability"}, default="probability"
        What the layers above the first pretrain on, as in :class:`DBN`.
        The defaults of ``n_chains`` and ``layer_input`` differ from the
        DBN's: they give the better start for fine-tuning, whereas the DBN's
        give the better features for a model on top.
    fine_tune_learning_rate : float, default=0.1
        Step size of the fine-tuning.
    fine_tune_momentum : float, default=0.9
        Momentum of the fine-tuning (SGD).
    fine_tune_optimizer : {"sgd", "adam"}, default="sgd"
        The optimiser of the fine-tuning, one of the RBMs' (see ``optimizer``
        of :class:`BernoulliRBM`): SGD with ``fine_tune_momentum``, or Adam
        (use a ``fine_tune_learning_rate`` of about 1e-3).
    fine_tune_n_iter : int, default=200
        Most epochs of fine-tuning.
    fine_tune_batch_size : int, default=32
        Mini-batch rows of the fine-tuning.
    alpha : float, default=0.0
        L2 penalty on the weights during fine-tuning. Dropout regularises
        already; a penalty pulls the pretrained weights towards zero, away
        from what pretraining found.
    dropout : float, default=0.3
        Share of the hidden units dropped at random from each mini-batch
        during fine-tuning (Hinton et al. 2012); kept units are scaled by
        1 / (1 - dropout), so prediction uses the whole network unchanged.
    input_dropout : float, default=0.0
        Share of the input features dropped likewise.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the labelled rows and stop when
        their accuracy has not improved for ``n_iter_no_change`` epochs.
    validation_fraction : float, default=0.1
        Share of the labelled rows held out for early stopping (stratified
        when every class has two rows or more). When it would leave a class
        without training rows (tiny data), nothing is held out.
    n_iter_no_change : int, default=30
        Epochs without improvement tolerated before stopping. Validation
        accuracy moves in steps of one row and plateaus for many epochs
        while the loss still falls, so a short patience stops too early.
    refit : bool, default=True
        After early stopping has chosen the number of epochs, fine-tune again
        from the pretrained weights on every labelled row, held-out ones
        included, for that many epochs. Costs a second fine-tuning.
    device : str, default=None
        None computes with NumPy; a torch device string ("cpu", "cuda")
        pretrains and fine-tunes with torch there. Fitted attributes are NumPy
        arrays.
    random_state : int, RandomState instance or None, default=None
        Seeds pretraining, the split, initialisation and shuffling.
    verbose : int, default=0
        Print progress when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (-1 excluded for integer labels: it marks unlabelled rows).
    dbn_ : DBN
        The pretrained network (before fine-tuning).
    coefs_ : list of ndarray
        Fine-tuned weights; ``coefs_[k]`` has shape (n_inputs, n_outputs) of
        layer k, the last one being the softmax layer.
    intercepts_ : list of ndarray
        Fine-tuned biases of each layer.
    n_iter_ : int
        Fine-tuning epochs run.
    loss_curve_ : list of float
        Mean training loss (cross-entropy plus penalty) of each epoch.
    validation_scores_ : list of float
        Validation accuracy of each epoch (empty when nothing is held out).
    best_validation_score_ : float or None
        Best validation accuracy; its weights are the fitted ones.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    DBN : The unsupervised network pretrained here.

    Examples
    --------
    >>> import numpy as np
    >>> from skebm import DBNClassifier
    >>> X = np.array([[0, 0, 1, 1], [1, 1, 0, 0], [0, 1, 1, 1], [1, 1, 1, 0]] * 5)
    >>> y = np.array([0, 1, 0, 1] * 5)
    >>> clf = DBNClassifier(hidden_layer_sizes=(4,), n_iter=2, random_state=0)
    >>> clf.fit(X, y).predict(X[:4])
    array([0, 1, 0, 1])
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "visible_units": [StrOptions({"bernoulli", "gaussian"})],
        **_LAYER_CONSTRAINTS,
        "layer_input": [StrOptions({"sample", "probability"})],
        "fine_tune_learning_rate": [Interval(Real, 0, None, closed="neither")],
        "fine_tune_momentum": [Interval(Real, 0, 1, closed="left")],
        "fine_tune_optimizer": [StrOptions(OPTIMIZERS.keys())],  # live: registered ones count
        "fine_tune_n_iter": [Interval(Integral, 0, None, closed="left")],
        "fine_tune_batch_size": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "refit": ["boolean"],
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
        n_chains=None,
        centered=False,
        layer_input="probability",
        fine_tune_learning_rate=0.1,
        fine_tune_momentum=0.9,
        fine_tune_optimizer="sgd",
        fine_tune_n_iter=200,
        fine_tune_batch_size=32,
        alpha=0.0,
        dropout=0.3,
        input_dropout=0.0,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=30,
        refit=True,
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
        self.fine_tune_learning_rate = fine_tune_learning_rate
        self.fine_tune_momentum = fine_tune_momentum
        self.fine_tune_optimizer = fine_tune_optimizer
        self.fine_tune_n_iter = fine_tune_n_iter
        self.fine_tune_batch_size = fine_tune_batch_size
        self.alpha = alpha
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.refit = refit
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _make_dbn(self, seed):
        # every pretraining parameter is a DBN parameter of the same name
        shared = DBN().get_params().keys() & self.get_params(deep=False).keys()
        shared.discard("random_state")
        return DBN(**{name: getattr(self, name) for name in shared}, random_state=seed)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Pretrain the DBN on X, then fine-tune it on the labelled rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels; -1 marks an unlabelled row (integer labels only,
            and only when the other labels name at least two classes).

        Returns
        -------
        self : object
            The fitted classifier.
        """
        with Transaction(self):
            X, y = validate_data(
                self, pandas_missing_as_nan(X), y, accept_sparse="csr",
                dtype=(np.float64, np.float32),
            )  # fmt: skip
            check_classification_targets(y)
            check_layer_sizes(self.hidden_layer_sizes)
            labelled = _labelled_rows(y)
            classes, y_index = np.unique(y[labelled], return_inverse=True)
            if classes.shape[0] < 2:
                raise ValueError(
                    f"DBNClassifier needs labelled samples of at least 2 classes; got "
                    f"{classes.shape[0]} class(es) among {int(labelled.sum())} labelled "
                    "rows (rows labelled -1 are unlabelled)."
                )
            device = resolve_device(self.device)  # before pretraining, not after
            self._optimizer()  # refuses an unusable optimiser before pretraining
            seeds = check_random_state(self.random_state).randint(0, 2**31 - 1, size=3)

            dbn = self._make_dbn(int(seeds[0])).fit(X)

            X_lab = X[labelled]
            if sp.issparse(X_lab):
                X_lab = X_lab.toarray()
            train, val = self._split(y_index, int(seeds[1]))
            coefs, intercepts = _pretrained_layers(dbn)
            units = _layer_units(dbn)
            init = np.random.default_rng(int(seeds[2]))
            # Glorot's uniform initialisation: output gradients reach the stack at once
            fan_in, fan_out = coefs[-1].shape[1], classes.shape[0]
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            coefs.append(init.uniform(-limit, limit, size=(fan_in, fan_out)))
            intercepts.append(np.zeros(classes.shape[0]))

            bk = make_backend(device, X.dtype, seed=int(seeds[2]))
            # copies: fine-tuning updates its arrays in place, and a refit restarts from these
            pretrained = ([w.copy() for w in coefs], [b.copy() for b in intercepts])
            coefs, intercepts, history = self._fine_tune(
                bk, units, coefs, intercepts, X_lab, y_index, train, val, self.fine_tune_n_iter
            )
            validation_scores = history["validation"]
            if self.refit and val is not None:
                # early stopping has chosen the number of epochs; the held-out rows
                # now train too, from the same pretrained start
                coefs, intercepts, history = self._fine_tune(
                    bk, units, *pretrained, X_lab, y_index, np.arange(len(y_index)), None,
                    history["best_epoch"],
                )

            self.classes_ = classes
            self.dbn_ = dbn
            self.coefs_ = coefs
            self.intercepts_ = intercepts
            self.n_iter_ = history["n_iter"]
            self.loss_curve_ = history["loss"]
            self.validation_scores_ = validation_scores
            self.best_validation_score_ = (
                max(validation_scores) if validation_scores else None
            )
        return self

    def _split(self, y_index, seed):
        """Indices of training and validation rows among the labelled ones."""
        n_rows = y_index.shape[0]
        everything = np.arange(n_rows)
        if not self.early_stopping:
            return everything, None
        n_classes = int(y_index.max()) + 1
        n_val = int(round(self.validation_fraction * n_rows))
        counts = np.bincount(y_index)
        if n_val < n_classes or n_rows - n_val < n_classes or counts.min() < 2:
            # too little data to hold some out without starving a class
            return everything, None
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=n_val, random_state=seed)
        train, val = next(splitter.split(np.zeros(n_rows), y_index))
        return np.sort(train), np.sort(val)

    def _optimizer(self):
        """The fine-tuning's optimiser, from the registry the RBMs' ``optimizer`` names.

        SGD keeps its velocity in steps (``v <- m v - lr g``, ``w <- w + v``),
        the classic form of momentum for backpropagation.
        """
        settings = SimpleNamespace(
            learning_rate=self.fine_tune_learning_rate, momentum=self.fine_tune_momentum,
            weight_decay=0.0,
        )  # fmt: skip
        optimizer = make_optimizer(self.fine_tune_optimizer, settings)
        if not hasattr(optimizer, "update_all"):
            raise ValueError(
                f"fine_tune_optimizer={self.fine_tune_optimizer!r} has no update_all, the "
                "step of every parameter at once that fine-tuning takes; give the optimiser "
                "one (see skebm._optim) or use 'sgd' or 'adam'."
            )
        if isinstance(optimizer, SGD):
            optimizer.velocity = "step"
        return optimizer

    def _fine_tune(self, bk, units, coefs, intercepts, X, y_index, train, val, n_epochs):
        """Mini-batch steps of the fine-tuning optimiser on the cross-entropy, best weights kept.

        With validation rows, the weights of the epoch with the best validation
        accuracy are returned and ``history["best_epoch"]`` names that epoch.
        """
        n_classes = coefs[-1].shape[1]
        onehot = np.eye(n_classes)[y_index]
        weights = [bk.asarray(w) for w in coefs]
        biases = [bk.asarray(b) for b in intercepts]
        # the fine-tuned arrays, by name, for the optimiser (which updates them in place)
        params = {f"coef{k}": w for k, w in enumerate(weights)}
        params.update({f"intercept{k}": b for k, b in enumerate(biases)})
        optimizer = self._optimizer()
        state = optimizer.init_state(bk, params, tuple(params))
        X_train, T_train = bk.asarray(X[train]), bk.asarray(onehot[train])
        if val is not None:
            X_val, y_val = bk.asarray(X[val]), y_index[val]
        history = {"loss": [], "validation": [], "n_iter": 0, "best_epoch": n_epochs}

        def keep():
            return ([bk.to_numpy(w).copy() for w in weights],
                    [bk.to_numpy(b).copy() for b in biases])  # fmt: skip

        # validation accuracy first, its loss to break ties
        early_stopping = EarlyStopping(self.n_iter_no_change, keep=keep)
        lr, alpha = self.fine_tune_learning_rate, self.alpha
        n_train, batch = len(train), self.fine_tune_batch_size
        for epoch in range(1, n_epochs + 1):
            order = bk.permutation(n_train)
            epoch_loss = 0.0
            for start in range(0, n_train, batch):
                rows = np.sort(order[start : start + batch])
                x, t = bk.take_rows(X_train, rows), bk.take_rows(T_train, rows)
                masks = _dropout_masks(bk, weights, len(rows), self.input_dropout, self.dropout)
                grads, loss = _backprop(bk, weights, biases, units, x, t, alpha, masks)
                epoch_loss += loss * len(rows)
                # the optimisers ascend: minus the loss's gradients
                ascent = {key: -grad for key, grad in zip(params, grads)}
                optimizer.update_all(bk, params, state, ascent, 1.0)
            for w in weights:
                if not bk.all_finite(w):
                    raise DivergenceError(
                        "Fine-tuning diverged (non-finite weights) at "
                        f"fine_tune_learning_rate={lr}; use a smaller one. The "
                        "classifier was left as it was before this call."
                    )
            history["n_iter"] = epoch
            history["loss"].append(epoch_loss / n_train)
            if val is None:
                continue
            val_logp = _forward(bk, weights, biases, units, X_val)[-1]
            val_pred = np.argmax(bk.to_numpy(val_logp), axis=1)
            accuracy = float(np.mean(val_pred == y_val))
            val_loss = -float(np.mean(bk.to_numpy(val_logp)[np.arange(len(y_val)), y_val]))
            history["validation"].append(accuracy)
            if self.verbose:
                print(
                    f"[DBNClassifier] epoch {epoch}: loss {history['loss'][-1]:.4f}  "
                    f"validation accuracy {accuracy:.4f}"
                )
            stop = early_stopping.update(epoch, (accuracy, -val_loss))
            history["best_epoch"] = early_stopping.best_epoch
            if stop:
                break
        best = early_stopping.best_state
        if best is None:  # nothing held out (or no epoch): the last weights
            best = keep()
        return best[0], best[1], history

    def _log_proba(self, X):
        check_is_fitted(self)
        X = validate_data(
            self, pandas_missing_as_nan(X), accept_sparse="csr",
            dtype=(np.float64, np.float32), reset=False,
        )  # fmt: skip
        # the first layer's units say what they model, as its transform does
        self.dbn_.rbms_[0]._check_values(X)
        bk = inference_backend(self.device, X.dtype)
        weights = [bk.asarray(w) for w in self.coefs_]
        biases = [bk.asarray(b) for b in self.intercepts_]
        units = _layer_units(self.dbn_)
        out = [
            bk.to_numpy(_forward(bk, weights, biases, units, bk.asarray(block))[-1])
            for block in row_blocks(X)
        ]
        return np.concatenate(out, axis=0)

    def predict_log_proba(self, X):
        """Log of the class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            log P(class | x), columns in the order of ``classes_``.
        """
        return self._log_proba(X)

    def predict_proba(self, X):
        """Class probabilities from the softmax output layer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            P(class | x), columns in the order of ``classes_``; rows sum to 1.
        """
        return np.exp(self._log_proba(X))

    def predict(self, X):
        """The most probable class of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels from ``classes_``.
        """
        log_proba = self._log_proba(X)
        return self.classes_[np.argmax(log_proba, axis=1)]


def _labelled_rows(y):
    """Rows whose label is not scikit-learn's unlabelled mark -1.

    Semi-supervised learning needs labelled rows of two classes or more, so
    when -1 stands beside a single other label, -1 is a class of a binary
    problem (the common -1/+1 coding), not a mark.
    """
    if y.dtype.kind not in "iuf":
        return np.ones(y.shape[0], dtype=bool)
    labelled = y != -1
    if np.unique(y[labelled]).shape[0] < 2:
        return np.ones(y.shape[0], dtype=bool)
    return labelled


def _pretrained_layers(dbn):
    """The DBN's up-pass as feed-forward (n_in, n_out) weights and biases.

    A Gaussian first layer feeds v / sigma^2 to its hidden units; that linear
    scaling is folded into its weights, so every layer is sigmoid(a W + b).
    """
    coefs, intercepts = [], []
    bk = make_backend(None, np.float64)
    for rbm in dbn.rbms_:
        layer = rbm._layer(bk)
        coefs.append(np.array(layer.input_weights().T))
        intercepts.append(np.array(layer.params["b"]))
    return coefs, intercepts


def _layer_units(dbn):
    """The hidden-unit type of every pretrained layer, which the forward pass follows."""
    units = [rbm._units.hidden for rbm in dbn.rbms_]
    for layer, unit in enumerate(units):
        if not hasattr(unit, "mean_slope"):
            raise ValueError(
                f"Layer {layer}'s hidden units ({unit.name!r}) have no mean_slope, the "
                "derivative of their conditional mean that fine-tuning backpropagates "
                "through; give the type one, or use hidden_units='binary'."
            )
    return units


def _dropout_masks(bk, weights, n_rows, input_dropout, dropout):
    """Inverted-dropout masks of the inputs of every layer, or None where none.

    A kept unit is scaled by 1 / (1 - rate), so that its expected input to the
    layer above is unchanged and the trained weights serve as they are at
    prediction time (Hinton et al. 2012; Srivastava et al. 2014).
    """
    masks = []
    for k, w in enumerate(weights):
        rate = input_dropout if k == 0 else dropout
        if not rate:
            masks.append(None)
            continue
        keep = 1.0 - rate
        kept = bk.bernoulli(bk.zeros((n_rows, w.shape[0])) + keep)
        masks.append(kept * (1.0 / keep))
    return masks


def _forward(bk, weights, biases, units, x, masks=None, inputs=None):
    """Activations of every layer; the last is the log-softmax output.

    Hidden layer ``k`` gives the conditional means of its hidden-unit type
    ``units[k]`` (a sigmoid for binary units).  ``masks`` (one per layer,
    None where a layer has none) multiply the input of each layer; the
    activations returned are the unmasked ones.  A list ``inputs`` receives
    each hidden layer's total input, which backpropagation needs.
    """
    activations = [x]
    for k, (w, b) in enumerate(zip(weights, biases)):
        layer_input = activations[-1]
        if masks is not None and masks[k] is not None:
            layer_input = layer_input * masks[k]
        z = bk.matmul(layer_input, w) + b
        if k + 1 < len(weights):
            activations.append(units[k].mean(bk, z))
            if inputs is not None:
                inputs.append(z)
        else:
            activations.append(z - bk.logsumexp(z, axis=1)[:, None])
    return activations


def _backprop(bk, weights, biases, units, x, targets, alpha, masks=None):
    """Gradients of mean cross-entropy + alpha/2 ||W||^2, and the loss.

    With ``masks`` (see ``_dropout_masks``) these are the gradients of the
    thinned network that the masks select.
    """
    inputs = []
    activations = _forward(bk, weights, biases, units, x, masks, inputs)
    log_p = activations[-1]
    n_rows = x.shape[0]
    loss = -bk.item((targets * log_p).sum()) / n_rows
    loss += 0.5 * alpha * sum(bk.item((w * w).sum()) for w in weights)
    delta = (bk.exp(log_p) - targets) * (1.0 / n_rows)
    grad_w, grad_b = [None] * len(weights), [None] * len(weights)
    for k in range(len(weights) - 1, -1, -1):
        mask = None if masks is None else masks[k]
        layer_input = activations[k] if mask is None else activations[k] * mask
        grad_w[k] = bk.matmul(layer_input.T, delta) + alpha * weights[k]
        grad_b[k] = delta.sum(axis=0)
        if k > 0:
            slope = units[k - 1].mean_slope(bk, inputs[k - 1], activations[k])
            delta = bk.matmul(delta, weights[k].T) * slope
            if mask is not None:
                delta = delta * mask
    return grad_w + grad_b, loss
