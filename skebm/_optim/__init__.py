"""The update rule: optimisers (SGD with momentum, Adam), schedules, sparsity, centering.

One module per part: :mod:`.sgd`, :mod:`.adam`, :mod:`.schedules`,
:mod:`.sparsity`, :mod:`.centering`.

An optimiser is a class with this contract (the one the trainer uses; the
estimators' ``optimizer`` parameter names one in :data:`OPTIMIZERS`):

``parameters``
    The estimator parameters the class takes as keyword arguments: a
    :class:`~skebm._parameters.Parameter` for one it declares, or the name
    of one declared elsewhere (``"learning_rate"``); the estimator builds
    one optimiser per fit from its own values.
``learning_rate``
    The current step size, an attribute the learning-rate schedule sets.
``init_state(bk, params, keys)`` and ``resume_state(bk, params, saved, keys)``
    The optimiser's own state (a dict of backend arrays) for the learned
    parameters ``keys``: new, or continued from ``saved`` (NumPy arrays a
    previous fit published; a new state where they do not fit).  The trainer
    keeps it as ``state["optimizer"]`` and never looks inside.
``fused_weight_step(bk, params, state, hidden, row_weights, visible, step_scale)``
    Take the weight step from the stacked rows of an update: the gradient of
    ``W`` is ``(hidden * row_weights)^T visible``, block of hidden units by
    block of hidden units (``bk.map_blocks``).  Returns the hidden-bias
    gradient, the column sums of the weighted ``hidden``, which it computes
    on the way.
``update_params(bk, params, state, grads, step_scale)``
    Apply the gradients ``grads`` of the other parameters, in place.

``update_all(bk, params, state, grads, step_scale)`` (optional)
    One update of every parameter from ``grads``, for a model with no
    fused weight step (:class:`~skebm.DBNClassifier`'s fine-tuning).

``step_scale`` is the batch's share of a full batch.  A new optimiser is one
class and one line in :data:`OPTIMIZERS`.
"""

from sklearn.utils._param_validation import StrOptions

from .._parameters import Parameter, parameter_names
from .adam import Adam
from .centering import Centering
from .schedules import SCHEDULES
from .sgd import SGD
from .sparsity import Sparsity

#: the optimisers an estimator's ``optimizer`` names
OPTIMIZERS = {
    "sgd": SGD,
    "adam": Adam,
}


#: the parameter that names the optimiser (each optimiser declares its own in ``parameters``)
PARAMETERS = (
    Parameter(
        "optimizer",
        "sgd",
        [StrOptions(OPTIMIZERS.keys())],
        """\
optimizer : {"sgd", "adam"}, default="sgd"
    The update rule. "sgd": gradient steps with ``momentum``; "adam":
    Adam (Kingma & Ba 2015), which scales each parameter's step by
    running moments of its gradient, so that every parameter moves about
    ``learning_rate`` per update (use a far smaller ``learning_rate``,
    1e-3 to 1e-2; ``momentum`` is not used).""",
    ),
)


def make_optimizer(name, settings):
    """The optimiser named ``name``, built with its parameters from ``settings`` (the estimator)."""
    optimizer = OPTIMIZERS[name]
    return optimizer(**{key: getattr(settings, key) for key in parameter_names(optimizer.parameters)})


__all__ = ["OPTIMIZERS", "SCHEDULES", "SGD", "Adam", "Centering", "Sparsity", "make_optimizer"]
