"""SGD with momentum: the default optimiser."""

from numbers import Real

from sklearn.utils._param_validation import Interval

from .._parameters import Parameter

MOMENTUM = Parameter(
    "momentum",
    0.0,
    [Interval(Real, 0, 1, closed="left")],
    """\
momentum : float, default=0.0
    Fraction of the previous update added to the current one. PCD learns
    best without it: momentum moves the weights faster than the persistent
    chains can follow.""",
)

WEIGHT_DECAY = Parameter(
    "weight_decay",
    0.0,
    [Interval(Real, 0, None, closed="left")],
    """\
weight_decay : float, default=0.0
    L2 penalty on the weights, subtracted from their gradient.""",
)


class SGD:
    """Gradient ascent with classical momentum and an L2 penalty on the weights.

    With momentum ``m`` each parameter keeps a velocity ``u <- m u + s g``
    (``s`` the step scale) and moves by ``learning_rate * u``; without it
    the parameter moves by ``learning_rate * s * g`` directly.  The weight
    gradient is ``g_W - weight_decay * W``.  With ``velocity="step"`` the
    velocity holds the step itself, ``u <- m u + learning_rate * s * g``,
    and the parameter moves by ``u`` (Sutskever et al. 2013's form): the
    same moves while the learning rate is constant, the form
    :class:`~skebm.DBNClassifier`'s fine-tuning takes.

    Parameters
    ----------
    learning_rate : float
        Step size.
    momentum : float, default=0.0
        Fraction of the previous velocity kept.
    weight_decay : float, default=0.0
        L2 penalty on the weights.
    velocity : {"gradient", "step"}, default="gradient"
        What the velocity accumulates (see above).
    """

    parameters = ("learning_rate", MOMENTUM, WEIGHT_DECAY)

    def __init__(self, learning_rate, momentum=0.0, weight_decay=0.0, velocity="gradient"):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = velocity

    def init_state(self, bk, params, keys):
        """A velocity of zeros per learned parameter."""
        return {key: bk.zeros(params[key].shape) for key in keys}

    def resume_state(self, bk, params, saved, keys):
        if saved is None or any(
            key not in saved or tuple(saved[key].shape) != tuple(params[key].shape)
            for key in keys
        ):
            return self.init_state(bk, params, keys)
        return {key: bk.copy(saved[key]) for key in keys}

    def fused_weight_step(self, bk, params, velocity, hidden, row_weights, visible, step_scale):
        lr, momentum, decay = self.learning_rate, self.momentum, self.weight_decay
        hidden_grad = bk.empty(params["b"].shape)

        def update_weights(wk, cols):
            # a block of hidden units: their rows of W and of its velocity
            block = hidden[:, cols]
            block *= row_weights
            hidden_grad[cols] = block.sum(axis=0)
            weights = params["W"][cols]
            if momentum:
                weight_velocity = velocity["W"][cols]
                weight_velocity *= momentum
                if decay:
                    weight_velocity -= (step_scale * decay) * weights
                wk.addmm_(weight_velocity, block.T, visible, alpha=step_scale)
                weights += lr * weight_velocity
            else:
                if decay:
                    weights *= 1.0 - lr * step_scale * decay
                wk.addmm_(weights, block.T, visible, alpha=lr * step_scale)

        bk.map_blocks(hidden.shape[1], update_weights)
        return hidden_grad

    def update_params(self, bk, params, velocity, grads, step_scale):
        lr, momentum = self.learning_rate, self.momentum
        for key, grad in grads.items():
            if momentum and self.velocity == "step":
                key_velocity = velocity[key]
                key_velocity *= momentum
                key_velocity += lr * (grad * step_scale)
                params[key] += key_velocity
            elif momentum:
                key_velocity = velocity[key]
                key_velocity *= momentum
                key_velocity += grad * step_scale
                params[key] += lr * key_velocity
            else:
                # no velocity to keep: it would be overwritten by the next step
                params[key] += (lr * step_scale) * grad

    def update_all(self, bk, params, velocity, grads, step_scale):
        """One update of every parameter from its gradient (a model with no fused weight step)."""
        self.update_params(bk, params, velocity, grads, step_scale)
