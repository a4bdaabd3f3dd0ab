"""The unit-math interface every RBM is written against.

An RBM here is a layer of hidden units ``h`` joined to a layer of visible
units ``v`` by weights ``W`` (shape ``(n_hidden, n_visible)``).  Two
interfaces split the math:

:class:`BinaryUnits`
    A layer of independent 0/1 units seen through their total input ``x``:
    the conditional mean, a draw, ``log sum_h exp(h.x)``, the entropy and
    the enumeration of states.  Every model's hidden layer is one
    (``VisibleUnits.hidden``); binary visible units use the same math.
:class:`VisibleUnits`
    What depends on the visible units: how a visible vector enters the
    hidden units, the visible conditional, the free energy and the visible
    part of the gradient, plus the hidden-side formulas written once against
    ``self.hidden``.

Parameters travel as a plain dict of backend arrays: ``"W"``, ``"a"`` (visible
bias), ``"b"`` (hidden bias) and whatever a unit type adds (``"log_var"`` for
Gaussian units).  ``learned_keys(params)`` names those training moves; the
others in the dict are constants the unit type derives from the data
(``"log_var_data"``), which get no velocity.  Training, sampling, exact log Z
and AIS only call the methods below, so a new unit type is one small file:
a subclass of :class:`VisibleUnits`, its estimator (a subclass of
``BaseRBM`` naming it), and one line in ``RBM_BY_VISIBLE_UNITS``
(:mod:`skebm._dbn`) for the DBN's ``visible_units`` parameter.
"""

import copy

from .binary import BINARY


class VisibleUnits:
    """Shared hidden-side math; subclasses implement the visible side."""

    #: short name used in messages and by the DBN's ``visible_units`` parameter
    name = None
    #: True when visible states can be enumerated (``states``; binary units)
    discrete = False
    #: the hidden layer's math
    hidden = BINARY
    #: weights (``largest_scaled_weight``) beyond which training counts as
    #: diverged: a weight of 100 moves a binary unit's log-odds by 100,
    #: saturating every conditional it touches (sigmoid(100) = 1 - 4e-44); no
    #: usable model comes near, while a run that blows up passes it long
    #: before it overflows
    max_scaled_weight = 1e2
    #: how ``largest_scaled_weight`` is measured, for messages
    weight_scale_name = ""

    def learned_keys(self, params):
        """The keys of ``params`` that training moves (the rest are constants)."""
        return ("W", "a", "b")

    def with_hidden(self, hidden):
        """These visible units joined to another hidden-unit type."""
        if hidden is self.hidden:
            return self
        units = copy.copy(self)
        units.hidden = hidden
        return units

    def hidden_bias_term(self, bk, params, h):
        """The hidden side of -E(v, h) that does not touch v: ``b.h`` minus the units' own energy."""
        term = bk.matmul(h, params["b"])
        own = self.hidden.own_energy(bk, h)
        return term if own is None else term - own

    def largest_scaled_weight(self, bk, params):
        """max |W_ji| in the units that decide saturation (log-odds for binary units)."""
        weights = bk.to_numpy(params["W"])
        # max and min rather than abs: no temporary copy of the weights
        return float(max(weights.max(initial=0.0), -weights.min(initial=0.0)))

    def divergence_advice(self, learning_rate, n_hidden):
        """What to change when training at ``learning_rate`` diverged."""
        return (
            "a learning_rate too large for this model: use a smaller one (e.g. "
            f"{learning_rate / 10:g})"
        )

    def n_states(self, n_units):
        """How many states ``n_units`` visible units have (``discrete`` units only)."""
        raise TypeError(f"{self.name} visible units have no finite set of states.")

    def states(self, start, stop, n_units):
        """Rows ``start..stop-1`` of the table of visible states (``discrete`` units only)."""
        raise TypeError(f"{self.name} visible units have no finite set of states.")

    def pseudo_log_likelihood(self, bk, params, v):
        """sum_i log p(v_i | v_-i) of each row (``discrete`` units only)."""
        raise TypeError(
            f"The pseudo-log-likelihood needs binary visible units, not {self.name} "
            "ones. Use score_samples for the log-likelihood instead."
        )

    # --- visible side: subclasses --------------------------------------------
    def scale_visible(self, bk, params, v):
        """How ``v`` enters the hidden units: ``v`` itself, or ``v / sigma**2``."""
        raise NotImplementedError

    def mean_visible(self, bk, params, h):
        """E[v | h]."""
        raise NotImplementedError

    def sample_visible(self, bk, params, h):
        """A draw from p(v | h)."""
        raise NotImplementedError

    def sample_visible_given(self, bk, params, x, out=None):
        """A draw from p(v | h) given the visible activation ``x = a + W^T h``.

        Written into ``out`` (which may be ``x``) when given.  Samplers that
        form the activation themselves (tempered models) draw through this.
        """
        raise NotImplementedError

    def sample_visible_into(self, bk, params, h, out):
        """A draw from p(v | h) written into the preallocated ``out``; returns it.

        The training loop calls this once per Gibbs step: the activation and
        the draw both reuse ``out``.
        """
        x = self.visible_activation(bk, params, h, out=out)
        return self.sample_visible_given(bk, params, x, out=x)

    def visible_energy(self, bk, params, v):
        """The hidden-independent part of E(v, h), one value per row."""
        raise NotImplementedError

    def hidden_log_weight(self, bk, params, h):
        """log sum_v exp(-E(v, h)) for each row of ``h`` (the visible layer summed out)."""
        raise NotImplementedError

    def independent_log_partition(self, bk, params):
        """log Z of the model with ``W = 0`` and ``b = 0``: the AIS base model."""
        raise NotImplementedError

    def visible_gradients(self, bk, params, v_pos, h_pos, v_neg, h_neg):
        """Mean of -dE/d(theta) over data minus over chains, for visible-side theta."""
        raise NotImplementedError

    def initial_params(self, X_stats, n_hidden, rng):
        """Visible-side NumPy parameters (``"a"`` and extras) for training data stats."""
        raise NotImplementedError

    def scale_initial_weights(self, params):
        """Rescale the initial weights ``params["W"]`` (NumPy) in place, if the units want to."""

    def base_params(self, params, X_stats):
        """Visible-side parameters of the AIS base model (weights and hidden bias zero)."""
        raise NotImplementedError

    def clip_params(self, bk, params):
        """Keep visible-side parameters in their valid range after an update."""

    def follow_stats(self, bk, params, X_stats):
        """Update, in place, parameters that follow the data instead of being learned.

        Called when training continues on more data (``partial_fit``,
        ``warm_start``) with the statistics of every row seen so far.
        """

    def range_message(self, X):
        """Why these units do not model the values of X, or None (a warning)."""
        return None

    def rejection_message(self, X):
        """Why X cannot be meant for these units at all, or None (raised as a ValueError).

        For values that are surely a mistake rather than merely outside the
        range the units model (which ``range_message`` warns about), e.g. 0/1
        data given to spin units.  ``X`` is a 2-D array, a sparse matrix or
        the 1-D array of a row set's observed values.
        """
        return None

    def range_hint(self, X_stats):
        """Why data with these column statistics could make training diverge, or ''."""
        return ""

    # --- hidden side: shared ----------------------------------------------------
    def hidden_activation(self, bk, params, v, out=None):
        """b + W v~, with v~ the scaled visible vector."""
        x = bk.matmul(self.scale_visible(bk, params, v), params["W"].T, out=out)
        x += params["b"]
        return x

    def mean_hidden(self, bk, params, v, out=None):
        """P(h = 1 | v)."""
        return self.hidden.mean(bk, self.hidden_activation(bk, params, v, out=out), out=out)

    def visible_activation(self, bk, params, h, out=None):
        """a + W^T h."""
        x = bk.matmul(h, params["W"], out=out)
        x += params["a"]
        return x

    def free_energy(self, bk, params, v):
        """F(v) = -log sum_h exp(-E(v, h)), one value per row."""
        x = self.hidden_activation(bk, params, v)
        return self.visible_energy(bk, params, v) - self.hidden.log_partition(bk, x)

    def gibbs_step(self, bk, params, v):
        """One block-Gibbs step v -> h -> v'; returns (v', P(h | v))."""
        h_prob = self.mean_hidden(bk, params, v)
        h = self.hidden.sample(bk, h_prob)
        return self.sample_visible(bk, params, h), h_prob

    def weight_gradient_visible(self, bk, params, v):
        """The visible factor of the weight gradient: ``mean(h v_w^T)``, data minus chains.

        The exact gradient of ``-E`` with respect to ``W`` is ``h v~^T`` with
        ``v~ = scale_visible(v)``; a unit type whose update is preconditioned
        (Gaussian units: by s^2 per feature) returns the preconditioned
        factor.  Training takes the weight step as one fused product of the
        stacked data and chain rows with this factor, for every unit type.
        """
        return self.scale_visible(bk, params, v)

    def gradients(self, bk, params, v_pos, h_pos, v_neg, h_neg):
        """Log-likelihood gradient estimate: data statistics minus chain statistics.

        ``h_pos`` and ``h_neg`` are P(h = 1 | v) of the data rows and of the
        chain states.  Means are taken over each set's own rows.  Training
        computes the same step fused (``Trainer.train_step``); this is its
        readable reference, which the tests hold it to.
        """
        n_pos = v_pos.shape[0]
        n_neg = v_neg.shape[0]
        grad_w = bk.matmul(h_pos.T, self.weight_gradient_visible(bk, params, v_pos))
        grad_w *= 1.0 / n_pos
        neg = bk.matmul(h_neg.T, self.weight_gradient_visible(bk, params, v_neg))
        neg *= 1.0 / n_neg
        grad_w -= neg
        grads = {
            "W": grad_w,
            "b": h_pos.mean(axis=0) - h_neg.mean(axis=0),
        }
        grads.update(self.visible_gradients(bk, params, v_pos, h_pos, v_neg, h_neg))
        return grads

    def interpolate(self, bk, base, params, beta):
        """The AIS model at inverse temperature ``beta``.

        The geometric path ``p_beta ~ p_base^(1-beta) p^beta`` between a base
        model with no weights and the model: visible biases are mixed linearly,
        weights and hidden biases scaled by ``beta``.  At ``beta=0`` the
        hidden units add ``n_hidden * log 2`` to the base model's log Z.
        """
        tempered = dict(params)
        tempered["a"] = (1.0 - beta) * base["a"] + beta * params["a"]
        tempered["W"] = beta * params["W"]
        tempered["b"] = beta * params["b"]
        return tempered

    def base_log_partition(self, bk, base, n_hidden):
        """log Z of the AIS base model (beta = 0) including its free hidden units."""
        return self.independent_log_partition(bk, base) + self.hidden.free_log_partition(n_hidden)
