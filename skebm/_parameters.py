"""Parameters, each declared once by the part it belongs to.

A :class:`Parameter` is a name, a default, a scikit-learn constraint and one
numpydoc entry.  Each part declares its own (a sampler or an optimiser in
its ``parameters``, the other parts in a module-level ``PARAMETERS``); the
estimator's own are :data:`MODEL_PARAMETERS` and :data:`RUN_PARAMETERS`
here.  ``BaseRBM`` lists them all once, and from that list come its
``__init__`` (:func:`make_init`: scikit-learn finds an estimator's
parameters in its ``__init__`` signature, and a generated one keeps thirty
parameters from being written out three times), its
``_parameter_constraints`` (:func:`constraints_of`) and its Parameters
section (:func:`fill_parameters`); a subclass adds its own or changes a
default (``_extra_parameters``, ``_default_overrides``).
:data:`RBM_ATTRIBUTE_DOCS` does the same for the fitted attributes.
"""

import dataclasses
import inspect
import itertools
import re
import textwrap
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One estimator parameter: its name, default, constraint and documentation.

    ``constraint`` is the list scikit-learn's parameter validation takes;
    ``doc`` the numpydoc entry (``"name : type, default=..."`` and its
    indented description, unindented as a whole), or None where the class
    docstring documents it; ``positional`` puts it before the ``*`` of the
    signature.
    """

    name: str
    default: object
    constraint: list
    doc: str = None
    positional: bool = False


def parameter_names(parameters):
    """The names of a part's ``parameters``: :class:`Parameter` records or plain names."""
    return tuple(getattr(parameter, "name", parameter) for parameter in parameters)


def declared_by(parts):
    """The :class:`Parameter` records the ``parts`` declare, each once, in order."""
    seen = {}
    for part in parts:
        for parameter in getattr(part, "parameters", ()):
            if isinstance(parameter, Parameter):
                seen.setdefault(parameter.name, parameter)
    return tuple(seen.values())


def constraints_of(parameters):
    """scikit-learn's ``_parameter_constraints`` of these parameters."""
    return {parameter.name: parameter.constraint for parameter in parameters}


#: the model's own size and training length
MODEL_PARAMETERS = (
    Parameter(
        "n_components",
        256,
        [Interval(Integral, 1, None, closed="left")],
        """\
n_components : int, default=256
    Number of hidden units.""",
        positional=True,
    ),
    Parameter(
        "learning_rate",
        0.1,
        [Interval(Real, 0, None, closed="neither")],
        """\
learning_rate : float, default=0.1
    Step size: the update is ``learning_rate`` times the mean mini-batch
    gradient (as in scikit-learn), accumulated with ``momentum``.""",
    ),
    Parameter(
        "batch_size",
        10,
        [Interval(Integral, 1, None, closed="left")],
        """\
batch_size : int, default=10
    Rows per mini-batch. A short last batch takes a step scaled by its size.""",
    ),
    Parameter(
        "n_iter",
        10,
        [Interval(Integral, 0, None, closed="left")],
        """\
n_iter : int, default=10
    Number of passes (epochs) over the training data.""",
    ),
)

#: where and how it runs
RUN_PARAMETERS = (
    Parameter(
        "device",
        None,
        [str, None],
        """\
device : str, default=None
    None computes with NumPy; a torch device string ("cpu", "cuda",
    "cuda:1", "mps") computes with torch there; "auto" picks the best
    available one. Fitted attributes are NumPy arrays in every case.""",
    ),
    Parameter(
        "n_jobs",
        None,
        [Interval(Integral, None, -1, closed="right"), Interval(Integral, 1, None, closed="left"), None],
        """\
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
    ),
    Parameter(
        "warm_start",
        False,
        ["boolean"],
        """\
warm_start : bool, default=False
    When True, ``fit`` continues from the fitted parameters, persistent
    chains and momentum of the previous call instead of starting anew,
    for ``n_iter`` more epochs (``n_iter_`` and ``history_`` go on
    counting). The data must have as many features as before.""",
    ),
    Parameter(
        "verbose",
        0,
        ["verbose"],
        """\
verbose : int, default=0
    1 prints one line per epoch (per call of ``partial_fit``) and a
    progress line for long AIS estimates of log Z; 2 also prints the
    progress within an epoch.""",
    ),
    Parameter(
        "random_state",
        None,
        ["random_state"],
        """\
random_state : int, RandomState instance or None, default=None
    Seed of initialisation, shuffling and Gibbs sampling; an int also
    seeds the AIS estimate of log Z (otherwise AIS uses seed 0, so
    scores are always deterministic).""",
    ),
)

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


def fill_parameters(doc, parameters):
    """``doc`` with its Parameters section complete, in the order of ``parameters``.

    The section's own entries are kept; every other parameter gets its
    declared entry, where it has one.  Lines of the section that are not part
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
    for parameter in parameters:
        if parameter.name in own:
            entries.append(own[parameter.name])
        elif parameter.doc is not None:
            entries.append(textwrap.indent(parameter.doc, "    "))
        # a parameter documented nowhere (a user's subclass) is left to its author
    return doc[: match.start("body")] + "\n".join(entries) + doc[match.end("body") :]


def make_init(parameters):
    """An ``__init__`` that takes ``parameters`` (:class:`Parameter` records).

    Every parameter is stored untouched under its own name, as scikit-learn
    estimators do; the signature (``__signature__``) is what ``get_params``,
    ``clone`` and the documentation read.
    """
    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    signature = inspect.Signature([self_parameter] + [
        inspect.Parameter(
            parameter.name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD
            if parameter.positional
            else inspect.Parameter.KEYWORD_ONLY,
            default=parameter.default,
        )
        for parameter in parameters
    ])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__
