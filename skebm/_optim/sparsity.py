"""Sparsity: a target mean activity for the hidden units, one term of the update rule."""

from numbers import Real

from sklearn.utils._param_validation import Interval

from .._parameters import Parameter


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


#: the parameters of the sparsity term
PARAMETERS = (
    Parameter(
        "sparsity_target",
        None,
        [Interval(Real, 0, None, closed="neither"), None],
        """\
sparsity_target : float, default=None
    A target mean activity of the hidden units (e.g. 0.05): each unit's
    running mean of ``E[h | v]`` on the data is pulled towards it by
    adding ``sparsity_cost * (target - mean)`` to its bias gradient
    (Lee, Ekanadham & Ng 2008; Hinton's practical guide), so that units
    are active on a few rows each and learn distinct features. None
    adds no pull.""",
    ),
    Parameter(
        "sparsity_cost",
        0.1,
        [Interval(Real, 0, None, closed="left")],
        """\
sparsity_cost : float, default=0.1
    Weight of the sparsity pull.""",
    ),
)
