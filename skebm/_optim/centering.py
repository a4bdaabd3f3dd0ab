"""Centering: the centered gradient for an uncentered model."""

from .._parameters import Parameter


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


#: the parameter that turns centering on
PARAMETERS = (
    Parameter(
        "centered",
        False,
        ["boolean"],
        """\
centered : bool, default=False
    Train the centered RBM (Melchior, Fischer & Wiskott 2016): the
    gradient is taken in the parameterisation whose energy measures each
    unit from an offset, the running mean of the data's visible units
    and of their hidden probabilities, which makes it better conditioned
    (larger steps, momentum, and many more units learn stably).  The
    fitted parameters are converted back, so every other method sees an
    ordinary RBM.""",
    ),
)
