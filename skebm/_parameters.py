"""The parameters every RBM estimator shares, each documented once.

The estimators' docstrings list only the parameters they add or document
differently; :func:`fill_parameters` completes their Parameters section
from :data:`RBM_PARAMETER_DOCS` in the order of their signature, so one
text serves every estimator.  The one written signature is
``BaseRBM.__init__``; an estimator that adds parameters or changes a
default declares them (``_extra_parameters``, ``_default_overrides``) and
gets an ``__init__`` of that signature from :func:`make_init`: scikit-learn
finds an estimator's parameters in its ``__init__`` signature, and a
generated one keeps the subclasses from re-declaring thirty parameters.
"""

import inspect
import itertools
import re
import textwrap

#: numpydoc entries of the shared parameters, unindented, in signature order
RBM_PARAMETER_DOCS = {
    "n_components": """\
n_components : int, default=256
    Number of hidden units.""",
    "hidden_units": """\
hidden_units : {"binary", "rectified"}, default="binary"
    The hidden units. "binary": 0/1 units, ``transform`` gives
    P(h = 1 | v). "rectified": truncated-Gaussian units ``h >= 0`` with
    energy ``h**2 / 2 - h * x`` (``x`` their input), whose
    ``E[h | v] = x + phi(x) / Phi(x)`` is a smooth rectifier that grows
    with its input instead of saturating at 1 (features for a downstream
    model, as noisy rectified units are in Nair & Hinton 2010); the free
    energy stays in closed form, so the exact log Z (over a small
    discrete visible layer), AIS, parallel tempering and conditional
    sampling work as for binary units.""",
    "learning_rate": """\
learning_rate : float, default=0.1
    Step size: the update is ``learning_rate`` times the mean mini-batch
    gradient (as in scikit-learn), accumulated with ``momentum``.""",
    "batch_size": """\
batch_size : int, default=10
    Rows per mini-batch. A short last batch takes a step scaled by its size.""",
    "n_iter": """\
n_iter : int, default=10
    Number of passes (epochs) over the training data.""",
    "method": """\
method : {"pcd", "cd", "cd_mean", "fpcd", "pt"}, default="pcd"
    The negative phase. "pcd": persistent contrastive divergence (chains
    carried across updates, ``h_samples_``); "cd": chains restart at
    each mini-batch; "cd_mean": as "cd" with the reconstructions'
    visible probabilities E[v | h] in place of draws (Hinton's practical
    guide), a less noisy gradient that gives better features for a
    downstream classifier, though no sampler of the model; "fpcd":
    persistent chains that move under the model plus fast weights, which
    decay by ``fast_decay`` per update and never reach the fitted
    parameters (Tieleman & Hinton 2009); "pt":
    parallel tempering, ``n_temperatures`` replicas of the persistent
    chains on a ladder of temperatures that swap states, so that the
    chains cross between modes (``history_`` records the swap rates and
    the ladder).""",
    "n_gibbs_steps": """\
n_gibbs_steps : int, default=1
    Gibbs steps per update (the k of CD-k / PCD-k).""",
    "optimizer": """\
optimizer : {"sgd", "adam"}, default="sgd"
    The update rule. "sgd": gradient steps with ``momentum``; "adam":
    Adam (Kingma & Ba 2015), which scales each parameter's step by
    running moments of its gradient, so that every parameter moves about
    ``learning_rate`` per update (use a far smaller ``learning_rate``,
    1e-3 to 1e-2; ``momentum`` is not used).""",
    "momentum": """\
momentum : float, default=0.0
    Fraction of the previous update added to the current one. PCD learns
    best without it: momentum moves the weights faster than the persistent
    chains can follow.""",
    "weight_decay": """\
weight_decay : float, default=0.0
    L2 penalty on the weights, subtracted from their gradient.""",
    "n_chains": """\
n_chains : int, default=None
    Number of persistent chains; None means ``batch_size``.""",
    "centered": """\
centered : bool, default=False
    Train the centered RBM (Melchior, Fischer & Wiskott 2016): the
    gradient is taken in the parameterisation whose energy measures each
    unit from an offset, the running mean of the data's visible units
    and of their hidden probabilities, which makes it better conditioned
    (larger steps, momentum, and many more units learn stably).  The
    fitted parameters are converted back, so every other method sees an
    ordinary RBM.""",
    "sparsity_target": """\
sparsity_target : float, default=None
    A target mean activity of the hidden units (e.g. 0.05): each unit's
    running mean of ``E[h | v]`` on the data is pulled towards it by
    adding ``sparsity_cost * (target - mean)`` to its bias gradient
    (Lee, Ekanadham & Ng 2008; Hinton's practical guide), so that units
    are active on a few rows each and learn distinct features. None
    adds no pull.""",
    "sparsity_cost": """\
sparsity_cost : float, default=0.1
    Weight of the sparsity pull.""",
    "learning_rate_schedule": """\
learning_rate_schedule : {"linear", "constant", "invscaling"}, default="linear"
    How the step size changes over the epochs of ``fit``: "linear"
    decays it linearly from ``learning_rate`` in the first epoch to
    ``min_learning_rate`` in the last (Tieleman 2008), which averages
    out the noise of the last updates and gives much better models for
    the same epochs (on MNIST-5k, 25-30 nats of held-out log-likelihood
    at scikit-learn's settings); "constant" keeps ``learning_rate``, as
    scikit-learn does; "invscaling" divides it by ``epoch ** power_t``.
    ``partial_fit`` counts its calls as epochs; a stream has no last
    epoch, so there "linear" keeps ``learning_rate``.""",
    "power_t": """\
power_t : float, default=0.5
    The exponent of the "invscaling" schedule.""",
    "min_learning_rate": """\
min_learning_rate : float, default=None
    The floor of the "linear" and "invscaling" schedules; None is a
    tenth of ``learning_rate``.""",
    "n_temperatures": """\
n_temperatures : int, default=10
    ``method="pt"``: replicas of the chains, at inverse temperatures from
    1 (the model) down to 0 (independent units with the data's means).""",
    "swap_target": """\
swap_target : float or None, default=0.3
    ``method="pt"``: the swap rate between neighbouring replicas that the
    ladder of temperatures is tuned to as training runs; None keeps the
    ladder evenly spaced.""",
    "fast_learning_rate": """\
fast_learning_rate : float, default=None
    ``method="fpcd"``: step size of the fast weights; None uses
    ``learning_rate``.""",
    "fast_decay": """\
fast_decay : float, default=0.95
    ``method="fpcd"``: fraction of the fast weights kept at every update.""",
    "validation_fraction": """\
validation_fraction : float, default=None
    Share of the training rows held out to monitor training (in
    ``history_``: the free-energy gap, and the log-likelihoods where the
    exact log Z is cheap). None holds out nothing.""",
    "early_stopping": """\
early_stopping : bool, default=False
    Stop when the held-out score has not improved by more than ``tol``
    for ``n_iter_no_change`` epochs, then restore the parameters of the
    best epoch (``best_epoch_``). The score is the held-out
    log-likelihood where the exact log Z is cheap (at most 2**22 terms,
    e.g. 16 hidden units on 64 features), otherwise minus the free-energy
    gap. Needs ``validation_fraction``; ``partial_fit`` rejects it.""",
    "n_iter_no_change": """\
n_iter_no_change : int, default=10
    Epochs without an improvement larger than ``tol`` before stopping.""",
    "tol": """\
tol : float, default=1e-3
    Improvement of the held-out score (in nats) that counts as one.""",
    "device": """\
device : str, default=None
    None computes with NumPy; a torch device string ("cpu", "cuda",
    "cuda:1", "mps") computes with torch there; "auto" picks the best
    available one. Fitted attributes are NumPy arrays in every case.""",
    "n_jobs": """\
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
    devices, which use torch's threads.""",
    "warm_start": """\
warm_start : bool, default=False
    When True, ``fit`` continues from the fitted parameters, persistent
    chains and momentum of the previous call instead of starting anew,
    for ``n_iter`` more epochs (``n_iter_`` and ``history_`` go on
    counting). The data must have as many features as before.""",
    "verbose": """\
verbose : int, default=0
    1 prints one line per epoch (per call of ``partial_fit``) and a
    progress line for long AIS estimates of log Z; 2 also prints the
    progress within an epoch.""",
    "random_state": """\
random_state : int, RandomState instance or None, default=None
    Seed of initialisation, shuffling and Gibbs sampling; an int also
    seeds the AIS estimate of log Z (otherwise AIS uses seed 0, so
    scores are always deterministic).""",
    "log_partition_method": """\
log_partition_method : {"auto", "exact", "ais"}, default="auto"
    How ``score_samples`` and ``score`` get log Z: "exact" sums over
    every state of the smaller layer (at most 20 units), "ais" estimates
    it by annealed importance sampling, "auto" sums exactly where it can.
    See :meth:`estimate_log_partition`.""",
    "ais_n_chains": """\
ais_n_chains : int, default=100
    Parallel AIS chains used by ``score``; more chains narrow the
    interval of the estimate.""",
    "ais_n_betas": """\
ais_n_betas : int, default=14500
    Inverse temperatures of the AIS schedule used by ``score`` (dense near
    1); more make the estimate less biased and take proportionally longer.""",
}

#: numpydoc entries of the fitted attributes every RBM estimator has, in order
RBM_ATTRIBUTE_DOCS = {
    "h_samples_": """\
h_samples_ : ndarray of shape (n_chains, n_components)
    Hidden states of the persistent chains.""",
    "hidden_units_": """\
hidden_units_ : str
    The hidden units of the fitted model (``hidden_units`` at the fit
    that started it); every method uses them.""",
    "training_state_": """\
training_state_ : dict
    What the parts of training keep between calls, one dict of arrays
    per part: ``"optimizer"`` (SGD's velocity, Adam's moments), and
    ``"sampler"`` (fast weights, the tempering ladder) and ``"offsets"``
    (centering) where used; ``partial_fit`` and ``warm_start`` continue
    from it.""",
    "n_iter_": """\
n_iter_ : int
    Epochs completed by ``fit`` (continued by ``warm_start``), plus one
    per ``partial_fit`` call.""",
    "history_": """\
history_ : list of dict
    One record per epoch or ``partial_fit`` call: ``epoch``, ``time``,
    ``reconstruction_error``, ``free_energy`` (of up to 1000 training
    rows; ``partial_fit``: 100 rows of the chunk, and ``n_samples``)
    and, with ``validation_fraction``, ``validation_free_energy``,
    ``free_energy_gap`` and, where the exact log Z is cheap,
    ``log_likelihood`` and ``validation_log_likelihood``. With early
    stopping, the record of the epoch whose parameters were kept has
    ``restored=True``.""",
    "best_epoch_": """\
best_epoch_ : int or None
    The epoch whose parameters early stopping kept; None without early
    stopping.""",
    "feature_mean_, feature_var_": """\
feature_mean_, feature_var_ : ndarray of shape (n_features,)
    Mean and variance of the training data.""",
    "n_samples_seen_": """\
n_samples_seen_ : int
    Training rows seen.""",
    "random_state_": """\
random_state_ : RandomState
    The generator used by ``gibbs`` and ``sample``.""",
    "log_partition_": """\
log_partition_ : float
    The last log Z computed, by ``estimate_log_partition`` or by the first
    ``score``/``score_samples`` call since the parameters or the settings
    changed (only after one of them).""",
    "log_partition_estimate_": """\
log_partition_estimate_ : LogPartitionEstimate
    How ``log_partition_`` was obtained: ``method``, ``log_z``, the +-3
    standard-error interval ``lower``/``upper``, the reverse-AIS bound
    ``reverse`` (None unless computed), ``n_chains``, ``n_betas`` and
    ``seconds`` (only after log Z was computed).""",
    "n_features_in_": """\
n_features_in_ : int
    Number of features seen during fit.""",
    "feature_names_in_": """\
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during fit, when X has string column names.""",
}

_SECTION = re.compile(
    r"(?P<head>\n    Parameters\n    ----------\n)(?P<body>.*?)(?=\n    Attributes\n)", re.S
)
_ENTRY = re.compile(r"(?m)^    (\w+) : ")


_ATTRIBUTES = re.compile(
    r"(?P<head>\n    Attributes\n    ----------\n)(?P<body>.*?)(?=\n\n    \w[\w ]*\n    ---)", re.S
)
_ATTRIBUTE_ENTRY = re.compile(r"(?m)^    (\w[\w, ]*) : ")


def fill_attributes(doc):
    """``doc`` with the shared fitted attributes added to its Attributes section.

    The section's own entries come first, as written; then every entry of
    :data:`RBM_ATTRIBUTE_DOCS` that names none of the attributes the
    section documents itself (an estimator that means something else by
    ``feature_mean_`` writes its own entry).
    """
    match = _ATTRIBUTES.search(doc)
    if match is None:
        return doc
    body = match.group("body").rstrip("\n")
    own = {
        name.strip()
        for entry in _ATTRIBUTE_ENTRY.findall(body)
        for name in entry.split(",")
    }
    added = [
        textwrap.indent(text, "    ")
        for names, text in RBM_ATTRIBUTE_DOCS.items()
        if not own & {name.strip() for name in names.split(",")}
    ]
    return doc[: match.start("body")] + "\n".join([body, *added]) + doc[match.end("body") :]


def fill_parameters(doc, signature):
    """``doc`` with its Parameters section complete, in the order of ``signature``.

    The section's own entries are kept; every other parameter of the
    signature gets its shared entry, where it has one.  Lines of the section that are not part
    of an entry (a note pointing here) are dropped.
    """
    match = _SECTION.search(doc)
    if match is None:
        return doc
    own = {}
    for part in re.split(r"(?m)^(?=    \w+ : )", match.group("body")):
        name = _ENTRY.match(part)
        if name is not None:
            # the entry's first line and its indented description, not a note after it
            lines = part.rstrip("\n").split("\n")
            kept = [lines[0]] + list(
                itertools.takewhile(lambda line: line.startswith("        ") or not line, lines[1:])
            )
            own[name.group(1)] = "\n".join(kept).rstrip("\n")
    entries = []
    for name in list(signature.parameters)[1:]:
        if name in own:
            entries.append(own[name])
        elif name in RBM_PARAMETER_DOCS:
            entries.append(textwrap.indent(RBM_PARAMETER_DOCS[name], "    "))
        # a parameter documented nowhere (a user's subclass) is left to its author
    return doc[: match.start("body")] + "\n".join(entries) + doc[match.end("body") :]


def make_init(base_init, extra_parameters, default_overrides):
    """An ``__init__`` with ``base_init``'s parameters, other defaults, and more parameters.

    Every parameter is stored untouched under its own name, as scikit-learn
    estimators do; the signature (``__signature__``) is what ``get_params``,
    ``clone`` and the documentation read.
    """
    signature = inspect.signature(base_init)
    parameters = [
        p.replace(default=default_overrides[p.name]) if p.name in default_overrides else p
        for p in signature.parameters.values()
    ]
    parameters += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
        for name, default in extra_parameters.items()
    ]
    signature = signature.replace(parameters=parameters)

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__
