"""Adam (Kingma & Ba 2015), the adaptive optimiser."""

import math

from .sgd import WEIGHT_DECAY


class Adam:
    """Adam (Kingma & Ba 2015): steps scaled by running moments of each gradient.

    Each parameter keeps running means of its gradient ``m`` and of the
    gradient's square ``s`` (decay ``beta1 = 0.9`` and ``beta2 = 0.999``)
    and moves by ``learning_rate * m_hat / (sqrt(s_hat) + 1e-8)``, with the
    bias-corrected moments ``m_hat`` and ``s_hat``: every parameter takes
    steps of about ``learning_rate`` whatever the scale of its gradient,
    which suits parameters whose gradients differ by orders of magnitude
    (weights, biases, rarely active units).  Steps are in the parameters'
    own units, so ``learning_rate`` is far smaller than for SGD (1e-3 to
    1e-2).  ``weight_decay`` is an L2 penalty added to the weight gradient.

    Parameters
    ----------
    learning_rate : float
        Step size.
    weight_decay : float, default=0.0
        L2 penalty on the weights.
    """

    parameters = ("learning_rate", WEIGHT_DECAY)
    beta1, beta2, epsilon = 0.9, 0.999, 1e-8

    def __init__(self, learning_rate, weight_decay=0.0):
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay

    def init_state(self, bk, params, keys):
        """Zero moments per learned parameter, and the count of steps taken."""
        state = {"steps": bk.zeros((1,))}
        for key in keys:
            state["mean_" + key] = bk.zeros(params[key].shape)
            state["square_" + key] = bk.zeros(params[key].shape)
        return state

    def resume_state(self, bk, params, saved, keys):
        fresh = self.init_state(bk, params, keys)
        if saved is None or any(
            key not in saved or tuple(saved[key].shape) != tuple(fresh[key].shape)
            for key in fresh
        ):
            return fresh
        return {key: bk.copy(saved[key]) for key in fresh}

    def _move(self, state, key, param, grad, step):
        """One Adam step of ``param`` along ``grad`` (ascent), moments updated in place."""
        mean, square = state["mean_" + key], state["square_" + key]
        mean *= self.beta1
        mean += (1.0 - self.beta1) * grad
        square *= self.beta2
        square += (1.0 - self.beta2) * grad * grad
        param += step * mean / ((square ** 0.5) * self._unbias + self.epsilon)

    def _count_step(self, bk, state):
        """Count one update; its bias corrections, folded into the step and the denominator."""
        state["steps"] += 1.0
        t = float(bk.item(state["steps"][0]))
        self._unbias = 1.0 / math.sqrt(1.0 - self.beta2**t)
        self._step = self.learning_rate / (1.0 - self.beta1**t)
        return self._step

    def fused_weight_step(self, bk, params, state, hidden, row_weights, visible, step_scale):
        # one step count per update: the weight step comes first
        step = self._count_step(bk, state)
        hidden *= row_weights  # weighted in place, as the samplers' after_update expect
        grad = bk.matmul(hidden.T, visible)
        grad *= step_scale
        if self.weight_decay:
            grad -= (step_scale * self.weight_decay) * params["W"]
        self._move(state, "W", params["W"], grad, step)
        return hidden.sum(axis=0)

    def update_params(self, bk, params, state, grads, step_scale):
        for key, grad in grads.items():
            self._move(state, key, params[key], grad * step_scale, self._step)

    def update_all(self, bk, params, state, grads, step_scale):
        """One update of every parameter from its gradient (a model with no fused weight step)."""
        self._count_step(bk, state)
        self.update_params(bk, params, state, grads, step_scale)
