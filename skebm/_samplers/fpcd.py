"""Fast PCD: persistent chains pushed away from where they linger by fast weights."""

from numbers import Real

from sklearn.utils._param_validation import Interval

from .._parameters import Parameter
from .pcd import PersistentContrastiveDivergence

#: the parameters that get fast copies (weights and both biases)
FAST_KEYS = ("W", "a", "b")


FAST_LEARNING_RATE = Parameter(
    "fast_learning_rate",
    None,
    [Interval(Real, 0, None, closed="left"), None],
    """\
fast_learning_rate : float, default=None
    ``method="fpcd"``: step size of the fast weights; None uses
    ``learning_rate``.""",
)

FAST_DECAY = Parameter(
    "fast_decay",
    0.95,
    [Interval(Real, 0, 1, closed="both")],
    """\
fast_decay : float, default=0.95
    ``method="fpcd"``: fraction of the fast weights kept at every update.""",
)


class FastPersistentContrastiveDivergence(PersistentContrastiveDivergence):
    """Fast persistent contrastive divergence (Tieleman & Hinton 2009).

    The chains move under ``theta + theta_fast`` instead of ``theta``.  After
    every update, with ``g`` that update's gradient estimate,
    ``theta_fast <- fast_decay * theta_fast + fast_learning_rate * g``: the
    fast weights learn quickly and forget quickly, raising the energy of
    wherever the chains have just been, so that they move on and mix faster
    than the slowly changing model would let them.  The negative phase is
    the chains' states, with P(h = 1 | v) under the model itself; the fast
    weights never enter the fitted parameters (``components_`` and the
    intercepts are ``theta`` alone).  See :mod:`skebm._samplers` for the
    contract.

    Parameters
    ----------
    fast_learning_rate : float or None, default=None
        Step size of the fast weights; None uses ``learning_rate``.
    fast_decay : float, default=0.95
        Fraction of the fast weights kept at every update (19/20).
    learning_rate : float, default=0.1
        The model's learning rate (the default of ``fast_learning_rate``).
    """

    parameters = (FAST_LEARNING_RATE, FAST_DECAY, "learning_rate")

    def __init__(self, fast_learning_rate=None, fast_decay=0.95, learning_rate=0.1):
        self.fast_learning_rate = (
            learning_rate if fast_learning_rate is None else fast_learning_rate
        )
        self.fast_decay = fast_decay

    def init_state(self, bk, units, params, chains, stats):
        return {key: bk.zeros(params[key].shape) for key in FAST_KEYS}

    def resume_state(self, bk, units, params, saved, chains, stats):
        if saved is None or any(
            key not in saved or tuple(saved[key].shape) != tuple(params[key].shape)
            for key in FAST_KEYS
        ):
            return self.init_state(bk, units, params, chains, stats)
        return {key: bk.copy(saved[key]) for key in FAST_KEYS}

    def chain_params(self, params, state):
        fast = state["sampler"]
        moving = dict(params)
        for key in FAST_KEYS:
            moving[key] = params[key] + fast[key]
        return moving

    def after_update(self, bk, units, params, state, buffers, grads):
        # the fused update left the rows weighted +1/n_data, -1/n_chains in
        # ``hidden``: one more product gives the weight gradient itself
        visible = units.weight_gradient_visible(bk, params, buffers.visible)
        gradients = {"W": bk.matmul(buffers.hidden.T, visible), "a": grads["a"], "b": grads["b"]}
        fast = state["sampler"]
        for key in FAST_KEYS:
            fast[key] *= self.fast_decay
            fast[key] += self.fast_learning_rate * gradients[key]
