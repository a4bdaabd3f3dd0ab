"""Mixed visible units: blocks of columns, each block of its own unit type.

A table's columns split into blocks (binary, categorical, Gaussian), each a
contiguous range of the visible vector modelled by its own unit type.  The
energy is the sum of the blocks' energies with one hidden layer over all of
them, so given h the blocks are independent and each is drawn, averaged and
summed out exactly as its type does alone; the free energy, the visible
layer's log partition given h, the gradients and the AIS base model (the
product of the blocks' independent marginals) are sums or concatenations
over the blocks.

Parameters stay one dict: ``"W"`` and ``"a"`` over every visible unit, and
the Gaussian block's ``"log_var"`` and ``"log_var_data"`` over its columns.
Each block sees its own slice (views: a block's in-place update lands in
the shared arrays).
"""

import numpy as np

from .base import VisibleUnits

#: the keys a block's parameters cover only over its own columns (Gaussian sigma)
_BLOCK_KEYS = ("log_var", "log_var_data")


class MixedVisible(VisibleUnits):
    """Visible units of several types side by side.

    Parameters
    ----------
    blocks : list of (VisibleUnits, slice)
        Each block's unit type and its range of the visible vector, in order
        and covering it without gaps.  At most one block may carry
        per-column parameters of its own (the Gaussian one).
    """

    name = "mixed"
    discrete = False

    def __init__(self, blocks):
        self.blocks = list(blocks)
        # the trainer's divergence check measures the weights as the
        # strictest block does
        self.max_scaled_weight = min(
            (units.max_scaled_weight for units, _ in self.blocks), default=1e2
        )

    # --- the blocks' views ---------------------------------------------------
    @staticmethod
    def _rows(v, columns):
        return v[:, columns]

    def _part(self, params, columns):
        part = {"W": params["W"][:, columns], "a": params["a"][columns], "b": params["b"]}
        for key in _BLOCK_KEYS:
            if key in params:
                part[key] = params[key]
        return part

    def _stats(self, X_stats, columns):
        return {
            key: (value[columns] if isinstance(value, np.ndarray) and value.ndim else value)
            for key, value in X_stats.items()
        }

    def _each(self, params):
        for units, columns in self.blocks:
            yield units.with_hidden(self.hidden), columns, self._part(params, columns)

    def _concatenate(self, bk, pieces):
        return pieces[0] if len(pieces) == 1 else bk.concatenate(pieces, axis=1)

    # --- the contract ------------------------------------------------------
    def learned_keys(self, params):
        keys = {"W", "a", "b"}
        for units, _ in self.blocks:
            keys.update(units.learned_keys(params))
        return tuple(key for key in ("W", "a", "b", "log_var") if key in keys)

    def largest_scaled_weight(self, bk, params):
        return max(
            units.largest_scaled_weight(bk, part) for units, _, part in self._each(params)
        )

    def divergence_advice(self, learning_rate, n_hidden):
        # the Gaussian block bounds the step, where there is one
        units = next((u for u, _ in self.blocks if u.name == "gaussian"), self.blocks[0][0])
        return units.divergence_advice(learning_rate, n_hidden)

    def scale_visible(self, bk, params, v):
        return self._concatenate(bk, [
            units.scale_visible(bk, part, self._rows(v, columns))
            for units, columns, part in self._each(params)
        ])

    def weight_gradient_visible(self, bk, params, v):
        return self._concatenate(bk, [
            units.weight_gradient_visible(bk, part, self._rows(v, columns))
            for units, columns, part in self._each(params)
        ])

    def mean_visible(self, bk, params, h):
        return self._concatenate(bk, [
            units.mean_visible(bk, part, h) for units, _, part in self._each(params)
        ])

    def sample_visible(self, bk, params, h):
        return self.sample_visible_given(bk, params, self.visible_activation(bk, params, h))

    def sample_visible_given(self, bk, params, x, out=None):
        pieces = [
            units.sample_visible_given(bk, part, self._rows(x, columns))
            for units, columns, part in self._each(params)
        ]
        draw = self._concatenate(bk, pieces)
        if out is None:
            return draw
        out[...] = draw
        return out

    def visible_energy(self, bk, params, v):
        total = 0.0
        for units, columns, part in self._each(params):
            total = total + units.visible_energy(bk, part, self._rows(v, columns))
        return total

    def hidden_log_weight(self, bk, params, h):
        # each block sums its own units out; the hidden bias term is counted once
        total = self.hidden_bias_term(bk, params, h)
        for units, _, part in self._each(params):
            total = total + (
                units.hidden_log_weight(bk, part, h) - units.hidden_bias_term(bk, part, h)
            )
        return total

    def independent_log_partition(self, bk, params):
        return sum(
            units.independent_log_partition(bk, part) for units, _, part in self._each(params)
        )

    def visible_gradients(self, bk, params, v_pos, h_pos, v_neg, h_neg):
        grads, pieces = {}, []
        for units, columns, part in self._each(params):
            block = units.visible_gradients(
                bk, part, self._rows(v_pos, columns), h_pos, self._rows(v_neg, columns), h_neg
            )
            pieces.append(block.pop("a"))
            grads.update(block)
        grads["a"] = bk.concatenate(pieces, axis=0) if len(pieces) > 1 else pieces[0]
        return grads

    def initial_params(self, X_stats, n_hidden, rng):
        params, pieces = {}, []
        for units, columns in self.blocks:
            block = units.initial_params(self._stats(X_stats, columns), n_hidden, rng)
            pieces.append(np.asarray(block.pop("a"), dtype=np.float64))
            params.update(block)
        params["a"] = np.concatenate(pieces)
        return params

    def scale_initial_weights(self, params):
        for units, columns, part in self._each(params):
            units.scale_initial_weights(part)  # W's columns are a view: scaled in place

    def base_params(self, params, X_stats):
        base, pieces = {}, []
        for units, columns, part in self._each(params):
            block = units.base_params(part, self._stats(X_stats, columns))
            pieces.append(np.asarray(block.pop("a"), dtype=np.float64))
            base.update(block)
        base["a"] = np.concatenate(pieces)
        return base

    def clip_params(self, bk, params):
        for units, _, part in self._each(params):
            units.clip_params(bk, part)

    def follow_stats(self, bk, params, X_stats):
        for units, columns, part in self._each(params):
            units.follow_stats(bk, part, self._stats(X_stats, columns))
            for key in _BLOCK_KEYS:
                if key in part:
                    params[key] = part[key]

    def _first_message(self, name, X):
        """The first block's ``name`` message about its columns of X, or None."""
        if X.ndim != 2:
            return None
        messages = (getattr(units, name)(X[:, columns]) for units, columns in self.blocks)
        return next((message for message in messages if message is not None), None)

    def range_message(self, X):
        return self._first_message("range_message", X)

    def rejection_message(self, X):
        return self._first_message("rejection_message", X)

    def range_hint(self, X_stats):
        return "".join(
            units.range_hint(self._stats(X_stats, columns)) for units, columns in self.blocks
        )
