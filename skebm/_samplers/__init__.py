"""Samplers of the negative phase: how an update gets its model samples.

A sampler is a class (or an instance) with this contract, written against
the unit interface (:mod:`skebm._units`) and a backend (:mod:`skebm._backend`):

``parameters``
    The estimator parameters the class takes as keyword arguments: a
    :class:`~skebm._parameters.Parameter` for one it declares (name,
    default, constraint, documentation), or the name of one declared
    elsewhere (``"learning_rate"``); the estimators take every declared one
    and build one sampler per fit from their values.  Empty for a
    parameterless sampler.
``persistent``
    True when its chains carry over from update to update (the estimator
    keeps them as ``h_samples_``); False when they restart from the data.
``n_negative(n_chains, n_data)``
    The rows of the negative phase of an update from ``n_data`` data rows.
``step(bk, units, params, state, buffers, n_steps)``
    Run the Gibbs steps of one update and fill the negative half of the
    stacked step buffers (``chain_visible``, ``chain_hidden``) and the data
    rows' ``data_hidden`` = P(h = 1 | data), which the fused weight update
    reads.  ``state["chains"]`` holds the persistent chains' hidden states
    (advanced in place); ``state["sampler"]`` whatever the sampler keeps.

Optional, for samplers that keep more than the chains:

``init_state(bk, units, params, chains, stats)``
    The sampler's own state (a dict of arrays) for a new run; ``stats``
    are the training data's column statistics.
``resume_state(bk, units, params, saved, chains, stats)``
    The same from ``saved`` (NumPy arrays a previous fit published), or a
    new state when ``saved`` does not fit.
``after_update(bk, units, params, state, buffers, grads)``
    Called after the optimiser's step, with the stacked rows still in
    ``buffers`` (``hidden`` now weighted by ``row_weights``) and ``grads``
    the visible and hidden-bias gradients.
``record(state)``
    Figures for the epoch's record in ``history_`` (e.g. swap rates).

A new sampler is one module here and one line in :data:`SAMPLERS`; the
estimators take its name as their ``method``.

Sampling a fitted model (``sample`` and ``conditional_sample``) takes its
``method`` from :data:`DRAWS`, whose entries have this contract:

``for_model(model, n_temperatures=None)``
    A class method: the draws for the fitted estimator ``model`` (what they
    need of it, such as a tempering ladder its training tuned, is read
    here), or a ValueError naming a setting that does not fit.
``n_replicas``
    Rows each chain holds (for the memory check before anything runs).
``draw(bk, layer, n_chains, n_steps, clamp=None)``
    The visible states of ``n_chains`` independent chains after
    ``n_steps`` steps of :class:`~skebm._layer.Layer` ``layer``; with
    ``clamp = (rows, missing)`` (backend arrays, ``missing`` 1.0 where an
    entry is free) the observed entries stay at ``rows``' values.
"""

from numbers import Integral

from sklearn.utils._param_validation import Interval, StrOptions

from .._parameters import Parameter, parameter_names
from .cd import ContrastiveDivergence
from .cd_mean import MeanReconstructionCD
from .fpcd import FastPersistentContrastiveDivergence
from .gibbs import GibbsChains
from .pcd import PersistentContrastiveDivergence
from .pt import ParallelTempering

#: the samplers an estimator's ``method`` names
SAMPLERS = {
    "cd": ContrastiveDivergence,
    "cd_mean": MeanReconstructionCD,
    "pcd": PersistentContrastiveDivergence,
    "fpcd": FastPersistentContrastiveDivergence,
    "pt": ParallelTempering,
}


#: the parameters every sampler shares (each sampler declares its own in ``parameters``)
PARAMETERS = (
    Parameter(
        "method",
        "pcd",
        [StrOptions(SAMPLERS.keys())],
        """\
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
    ),
    Parameter(
        "n_gibbs_steps",
        1,
        [Interval(Integral, 1, None, closed="left")],
        """\
n_gibbs_steps : int, default=1
    Gibbs steps per update (the k of CD-k / PCD-k).""",
    ),
    Parameter(
        "n_chains",
        None,
        [Interval(Integral, 1, None, closed="left"), None],
        """\
n_chains : int, default=None
    Number of persistent chains; None means ``batch_size``.""",
    ),
)

#: how ``sample`` and ``conditional_sample`` draw, by the name their ``method`` takes
DRAWS = {
    "gibbs": GibbsChains,
    "pt": ParallelTempering,
}


def make_draws(method, model, n_temperatures=None):
    """The draws named ``method`` for the fitted ``model`` (a ValueError for an unknown name)."""
    if method not in DRAWS:
        names = " or ".join(repr(name) for name in DRAWS)
        raise ValueError(f"method must be {names}, got {method!r}.")
    return DRAWS[method].for_model(model, n_temperatures)


def make_sampler(method, settings):
    """The sampler named ``method``, built with its parameters from ``settings``.

    ``settings`` is any object with the sampler's parameters as attributes
    (the estimator).  A registered instance is used as it is.
    """
    sampler = SAMPLERS[method]
    if isinstance(sampler, type):
        names = parameter_names(getattr(sampler, "parameters", ()))
        sampler = sampler(**{name: getattr(settings, name) for name in names})
    return sampler
