"""Categorical visible units: each feature is one of its own set of levels.

Feature ``f`` with ``K_f`` levels is a group of ``K_f`` one-hot visible
units, exactly one of which is on.  With ``v`` the concatenated one-hot
groups, the energy is the binary RBM's, ``E(v, h) = -a.v - b.h - h.W.v``,
but the visible states are only the valid ones (one level per feature), so
``p(v_f = k | h)`` is a softmax over the group's activations
``a + W^T h``, the groups are independent given ``h``, and summing the
visible layer out gives ``sum_f logsumexp_k(activation_fk)``.  The base
model of AIS and parallel tempering (``W = 0``) is a product of
independent categoricals with the training data's level frequencies.

The estimator takes the table as categories (integer codes, as
:class:`~sklearn.preprocessing.OrdinalEncoder` gives, strings, or pandas
categoricals) and one-hot encodes it for the shared training core.
"""

import numpy as np

from .base import VisibleUnits

#: pseudo-count per level that keeps the log-frequency of an unseen level finite
LEVEL_SMOOTHING = 0.01


def level_log_frequencies(column_means, n_samples, n_levels):
    """Per-level log-frequencies of the one-hot columns, smoothed, each group normalised."""
    counts = np.asarray(column_means, dtype=np.float64) * n_samples + LEVEL_SMOOTHING
    out = np.empty_like(counts)
    start = 0
    for k in n_levels:
        group = counts[start:start + k]
        out[start:start + k] = np.log(group) - np.log(group.sum())
        start += k
    return out


class CategoricalVisible(VisibleUnits):
    """One-hot groups of visible units, ``p(v_f = k | h) = softmax_k(a + W^T h)`` per feature.

    Parameters
    ----------
    n_levels : sequence of int
        Levels of each feature; the visible layer has ``sum(n_levels)`` units.
    """

    name = "categorical"
    discrete = True

    def __init__(self, n_levels):
        self.n_levels = tuple(int(k) for k in n_levels)
        starts = np.concatenate([[0], np.cumsum(self.n_levels)]).astype(int)
        self.groups = [slice(int(s), int(e)) for s, e in zip(starts[:-1], starts[1:])]
        # Groups are padded to one width so that every feature's softmax is
        # one vectorised operation: a (rows, features, width) block whose
        # padding entries are -inf (probability 0).  ``_padding`` picks the
        # block's entries from the columns (column n_visible is the -inf
        # one), ``_unpadding`` picks the columns back from the flat block.
        width = max(self.n_levels, default=1)
        n_visible = int(starts[-1])
        self._padding = np.full((len(self.n_levels), width), n_visible)
        self._unpadding = np.empty(n_visible, dtype=np.int64)
        for feature, (group, k) in enumerate(zip(self.groups, self.n_levels)):
            self._padding[feature, :k] = np.arange(group.start, group.stop)
            self._unpadding[group] = feature * width + np.arange(k)

    def _padded(self, bk, x):
        """The (rows, features, width) block of ``x``'s groups, -inf where a group is short."""
        blank = bk.zeros((x.shape[0], 1)) - np.inf
        return bk.concatenate([x, blank], axis=1)[:, bk.index(self._padding)]

    def _unpadded(self, bk, block):
        return block.reshape(block.shape[0], -1)[:, bk.index(self._unpadding)]

    def _padded_softmax(self, bk, x):
        """Each group's softmax in the padded block, and each group's log normaliser."""
        block = self._padded(bk, x)
        log_norm = bk.logsumexp(block, axis=2)
        return bk.exp(block - log_norm[:, :, None]), log_norm

    def scale_visible(self, bk, params, v):
        return v

    def mean_visible(self, bk, params, h):
        probabilities, _ = self._padded_softmax(bk, self.visible_activation(bk, params, h))
        return self._unpadded(bk, probabilities)

    def sample_visible(self, bk, params, h):
        return self.sample_visible_given(bk, params, self.visible_activation(bk, params, h))

    def sample_visible_given(self, bk, params, x, out=None):
        """One level per feature by inverting each group's cumulative distribution."""
        probabilities, _ = self._padded_softmax(bk, x)
        n_rows, n_features, _ = probabilities.shape
        cum = probabilities.cumsum(axis=2)
        # scaled by the total so that rounding never leaves u above every level
        u = bk.uniform((n_rows, n_features, 1)) * cum[:, :, -1:]
        below = bk.concatenate([bk.zeros((n_rows, n_features, 1)), cum[:, :, :-1]], axis=2)
        # u < cum steps up at the chosen level, u < below the same step one
        # level later: the difference is exactly one-hot (0 on the padding)
        draw = self._unpadded(bk, bk.less(u, cum) - bk.less(u, below))
        if out is None:
            return draw
        out[...] = draw
        return out

    def visible_energy(self, bk, params, v):
        return -bk.matmul(v, params["a"])

    def hidden_log_weight(self, bk, params, h):
        _, log_norm = self._padded_softmax(bk, self.visible_activation(bk, params, h))
        return self.hidden_bias_term(bk, params, h) + log_norm.sum(axis=1)

    def independent_log_partition(self, bk, params):
        return bk.logsumexp(self._padded(bk, params["a"][None, :]), axis=2).sum()

    def visible_gradients(self, bk, params, v_pos, h_pos, v_neg, h_neg):
        return {"a": v_pos.mean(axis=0) - v_neg.mean(axis=0)}

    def initial_params(self, X_stats, n_hidden, rng):
        return {"a": level_log_frequencies(X_stats["mean"], X_stats["n_samples"], self.n_levels)}

    def base_params(self, params, X_stats):
        return self.initial_params(X_stats, 0, None)

    def n_states(self, n_units):
        return int(np.prod(self.n_levels, dtype=object))

    def states(self, start, stop, n_units):
        """Valid one-hot rows in mixed-radix order, the last feature counting fastest."""
        codes = np.arange(start, stop, dtype=np.int64)
        out = np.zeros((stop - start, sum(self.n_levels)))
        rows = np.arange(stop - start)
        for group, k in zip(reversed(self.groups), reversed(self.n_levels)):
            out[rows, group.start + codes % k] = 1.0
            codes = codes // k
        return out

    def pseudo_log_likelihood(self, bk, params, v):
        """sum_f log p(v_f | v_-f): each feature's level against every other level.

        Setting feature f to level k changes the hidden input by
        ``W[:, k] - W[:, current]`` and the visible energy by ``a_current -
        a_k``; the log-probability of the observed level is the softmax of
        minus the free energies over the group.
        """
        W, a = params["W"], params["a"]
        x = self.hidden_activation(bk, params, v)
        # -F(v) up to the visible energy of the other features, the same for every feature
        unit_log_partition = self.hidden.unit_log_partition
        observed_softplus = unit_log_partition(bk, x).sum(axis=1)
        total = bk.zeros((v.shape[0],))
        for group in self.groups:
            current = v[:, group]
            w_current = bk.matmul(current, W[:, group].T)
            a_current = bk.matmul(current, a[group])
            rest = x - w_current
            # -F(v with feature f at level k) up to terms that do not depend on k
            scores = bk.concatenate(
                [
                    (unit_log_partition(bk, rest + W[:, j][None, :]).sum(axis=1) + a[j])[:, None]
                    for j in range(group.start, group.stop)
                ],
                axis=1,
            )
            observed = observed_softplus + a_current
            total = total + observed - bk.logsumexp(scores, axis=1)
        return total
