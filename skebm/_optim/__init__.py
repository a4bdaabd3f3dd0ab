"""The update rule: optimisers (SGD with momentum, Adam), schedules, sparsity, centering.

One module per part: :mod:`.sgd`, :mod:`.adam`, :mod:`.schedules`,
:mod:`.sparsity`, :mod:`.centering`.

An optimiser is a class with this contract (the one the trainer uses; the
estimators' ``optimizer`` parameter names one in :data:`OPTIMIZERS`):

``parameters``
    Names of the estimator parameters the class takes as keyword arguments;
    the estimator builds one optimiser per fit from its own values.
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

``step_scale`` is the batch's share of a full batch.  A new optimiser is one
class and one line in :data:`OPTIMIZERS`.
"""

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


def make_optimizer(name, settings):
    """The optimiser named ``name``, built with its parameters from ``settings`` (the estimator)."""
    optimizer = OPTIMIZERS[name]
    return optimizer(**{key: getattr(settings, key) for key in optimizer.parameters})


__all__ = ["OPTIMIZERS", "SCHEDULES", "SGD", "Adam", "Centering", "Sparsity", "make_optimizer"]
