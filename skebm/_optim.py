"""The update rule: optimisers (SGD with momentum, Adam), schedules, centering.

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

import math


class SGD:
    """Gradient ascent with classical momentum and an L2 penalty on the weights.

    With momentum ``m`` each parameter keeps a velocity ``u <- m u + s g``
    (``s`` the step scale) and moves by ``learning_rate * u``; without it
    the parameter moves by ``learning_rate * s * g`` directly.  The weight
    gradient is ``g_W - weight_decay * W``.

    Parameters
    ----------
    learning_rate : float
        Step size.
    momentum : float, default=0.0
        Fraction of the previous velocity kept.
    weight_decay : float, default=0.0
        L2 penalty on the weights.
    """

    parameters = ("learning_rate", "momentum", "weight_decay")

    def __init__(self, learning_rate, momentum=0.0, weight_decay=0.0):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay

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
            if momentum:
                key_velocity = velocity[key]
                key_velocity *= momentum
                key_velocity += grad * step_scale
                params[key] += lr * key_velocity
            else:
                # no velocity to keep: it would be overwritten by the next step
                params[key] += (lr * step_scale) * grad


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

    parameters = ("learning_rate", "weight_decay")
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

    def fused_weight_step(self, bk, params, state, hidden, row_weights, visible, step_scale):
        # one step count per update: the weight step comes first
        state["steps"] += 1.0
        t = float(bk.item(state["steps"][0]))
        # bias corrections of both moments folded into the step and the denominator
        self._unbias = 1.0 / math.sqrt(1.0 - self.beta2**t)
        step = self.learning_rate / (1.0 - self.beta1**t)
        hidden *= row_weights  # weighted in place, as the samplers' after_update expect
        grad = bk.matmul(hidden.T, visible)
        grad *= step_scale
        if self.weight_decay:
            grad -= (step_scale * self.weight_decay) * params["W"]
        self._move(state, "W", params["W"], grad, step)
        self._step = step
        return hidden.sum(axis=0)

    def update_params(self, bk, params, state, grads, step_scale):
        for key, grad in grads.items():
            self._move(state, key, params[key], grad * step_scale, self._step)


#: the optimisers an estimator's ``optimizer`` names
OPTIMIZERS = {
    "sgd": SGD,
    "adam": Adam,
}


def make_optimizer(name, settings):
    """The optimiser named ``name``, built with its parameters from ``settings`` (the estimator)."""
    optimizer = OPTIMIZERS[name]
    return optimizer(**{key: getattr(settings, key) for key in optimizer.parameters})


# ---------------------------------------------------------------------------
# learning-rate schedules
# ---------------------------------------------------------------------------
def constant_rate(learning_rate, epoch, n_epochs, power_t, floor):
    return learning_rate


def linear_rate(learning_rate, epoch, n_epochs, power_t, floor):
    # from learning_rate at the first epoch to floor at the last, then floor;
    # a stream (n_epochs None) has no last epoch to decay towards
    if n_epochs is None:
        return learning_rate
    progress = min(1.0, (epoch - 1) / max(n_epochs - 1, 1))
    return learning_rate + (floor - learning_rate) * progress


def inverse_scaling_rate(learning_rate, epoch, n_epochs, power_t, floor):
    return max(floor, learning_rate / epoch**power_t)


#: the ``learning_rate_schedule`` options: ``rate(learning_rate, epoch,
#: n_epochs, power_t, floor)``, with ``epoch`` counted from 1 and
#: ``n_epochs`` the run's length (None for a stream); a new schedule is one
#: function and one entry here
SCHEDULES = {
    "constant": constant_rate,
    "linear": linear_rate,
    "invscaling": inverse_scaling_rate,
}


# ---------------------------------------------------------------------------
# sparsity
# ---------------------------------------------------------------------------
class Sparsity:
    """A target mean activity for the hidden units, as a term of the update rule.

    Each hidden unit's mean activity on the data, ``q_j`` (the running mean
    of ``E[h_j | v]`` over the data rows of the updates, ``q <- decay q +
    (1 - decay) mean``), is pulled towards ``target`` by adding ``cost *
    (target - q_j)`` to the gradient of its bias: the gradient of ``-cost``
    times the squared distance of its input from the one that gives the
    target, as Lee, Ekanadham & Ng (2008) regularise sparse RBMs and
    Hinton's practical guide (section 11) recommends.  Units that are on too
    often are pushed off, rarely used ones on, so that each learns a feature
    of its own.

    Parameters
    ----------
    target : float
        The mean activity each hidden unit is pulled towards.
    cost : float
        Weight of the pull, in units of the log-likelihood gradient.
    decay : float, default=0.9
        How much of the running mean each update keeps.
    """

    def __init__(self, target, cost, decay=0.9):
        self.target = target
        self.cost = cost
        self.decay = decay

    def init_state(self, bk, params, hidden_mean):
        """The running mean activity, started at ``hidden_mean`` (the units' mean with no input)."""
        return {"mean_activity": bk.zeros(params["b"].shape) + hidden_mean}

    def resume_state(self, bk, params, saved, hidden_mean):
        if saved is None or tuple(saved["mean_activity"].shape) != tuple(params["b"].shape):
            return self.init_state(bk, params, hidden_mean)
        return {"mean_activity": bk.copy(saved["mean_activity"])}

    def adjust(self, bk, state, activity, grads):
        """Move the running mean by the batch's mean ``activity``; add the pull to the bias gradient."""
        mean = state["mean_activity"]
        mean *= self.decay
        mean += (1.0 - self.decay) * activity
        grads["b"] += self.cost * (self.target - mean)


# ---------------------------------------------------------------------------
# centering
# ---------------------------------------------------------------------------
class Centering:
    """The centered gradient (Melchior, Fischer & Wiskott 2016) for an uncentered model.

    The centered RBM measures every unit from an offset: its energy is
    ``-(v - mu).a_c - (h - lambda).b_c - (h - lambda)^T W (v~ - mu~)``, the
    same distribution as the ordinary RBM with ``a = a_c - W^T lambda`` and
    ``b = b_c - W mu~`` (``~`` the units' ``scale_visible``).  Its gradients
    are the ordinary ones except for the weights, whose gradient is taken
    from the centered rows ``(h - lambda)`` and ``(v_w - mu_w)``.  The
    parameters are kept uncentered: after the optimiser's step moves the
    weights by ``dW`` (and the biases by their centered steps),
    ``a -= dW^T lambda`` and ``b -= dW mu~`` finish the centered update, and
    an offset that moves needs no change of parameters at all.  ``mu`` and
    ``lambda`` are running means of the data's visible units and of their
    hidden probabilities: each update moves them ``rate`` of the way to the
    batch's means.

    Parameters
    ----------
    rate : float, default=0.01
        How far each update moves the offsets towards the batch's means.
    hidden_offset : float, default=0.5
        The hidden offsets of a new model: the hidden units' mean with no
        input (1/2 for binary units).
    """

    def __init__(self, rate=0.01, hidden_offset=0.5):
        self.rate = rate
        self.hidden_offset = hidden_offset

    def init_state(self, bk, params, stats):
        """Offsets of a new model: the data's means, and ``hidden_offset`` for the hidden units."""
        return {
            "visible": bk.asarray(stats["mean"]),
            "hidden": bk.zeros(params["b"].shape) + self.hidden_offset,
        }

    def resume_state(self, bk, params, saved, stats):
        if saved is None or tuple(saved["visible"].shape) != tuple(params["a"].shape) or tuple(
            saved["hidden"].shape
        ) != tuple(params["b"].shape):
            return self.init_state(bk, params, stats)
        return {key: bk.copy(value) for key, value in saved.items()}

    def center(self, bk, units, params, offsets, buffers, visible_w):
        """Center the stacked rows in place; returns what ``finish`` needs.

        ``buffers.hidden`` and the visible factor ``visible_w`` of the
        weight gradient lose their offsets, so that the fused product gives
        the centered weight gradient.  The batch's means are taken first,
        for the offsets' update.
        """
        mu, lam = offsets["visible"], offsets["hidden"]
        mu_tilde = units.scale_visible(bk, params, mu[None, :])[0]
        batch_means = (buffers.data.mean(axis=0), buffers.data_hidden.mean(axis=0))
        before = (bk.matmul(lam, params["W"]), bk.matmul(params["W"], mu_tilde))
        visible_w -= units.weight_gradient_visible(bk, params, mu[None, :])
        buffers.hidden -= lam
        return mu_tilde, batch_means, before

    def finish(self, bk, params, offsets, centered):
        """Turn the optimiser's centered step into the uncentered one; move the offsets."""
        mu_tilde, (visible_mean, hidden_mean), (lam_w, w_mu) = centered
        lam = offsets["hidden"]
        # a -= dW^T lambda and b -= dW mu~, from the products before and after the step
        params["a"] -= bk.matmul(lam, params["W"]) - lam_w
        params["b"] -= bk.matmul(params["W"], mu_tilde) - w_mu
        for key, mean in (("visible", visible_mean), ("hidden", hidden_mean)):
            offsets[key] *= 1.0 - self.rate
            offsets[key] += self.rate * mean
