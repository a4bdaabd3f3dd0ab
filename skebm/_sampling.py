"""Sampling from a fitted RBM: Gibbs steps, chains, and rows completed given their observed entries.

:class:`SamplingMixin` holds the estimator methods that draw from the model
(``gibbs``, ``sample``, ``conditional_sample``, ``conditional_mean``), each
a transaction (a rejected call leaves ``random_state_`` as it was).  How
``sample`` and ``conditional_sample`` draw is their ``method``'s, an entry
of :data:`skebm._samplers.DRAWS` (block-Gibbs chains, parallel tempering)
behind one contract.
"""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._conditional import as_missing_mask, clamped_chain, pandas_missing_as_nan
from ._data import row_blocks
from ._layer import check_chain_settings
from ._samplers import make_draws
from ._samplers.gibbs import GibbsChains
from ._strings import explain_strings
from ._transaction import transactional


class SamplingMixin:
    """The sampling methods of :class:`~skebm._base.BaseRBM`."""

    @transactional
    def gibbs(self, v):
        """One block-Gibbs step: sample h ~ p(h | v), then v' ~ p(v | h).

        The draws come from the fitted ``random_state_``, so successive calls
        continue one random stream.

        Parameters
        ----------
        v : array-like of shape (n_samples, n_features)
            Visible vectors to start from.

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features)
            The visible vectors after one step, in the dtype of v.
        """
        check_is_fitted(self)
        X = self._validate_X(v, reset=False)
        bk = self._inference_backend(X.dtype, seed=self.random_state_.randint(2**31 - 1))
        layer = self._layer(bk)
        out = [bk.to_numpy(layer.gibbs_step(bk.asarray(block))[0]) for block in row_blocks(X)]
        return np.concatenate(out, axis=0)

    @transactional
    def sample(
        self, n_samples=1, *, n_steps=1000, random_state=None, method="gibbs",
        n_temperatures=None,
    ):  # fmt: skip
        """Draw visible vectors from the model by Markov chain Monte Carlo.

        Chains are independent, so the rows are independent draws, each
        approximately from the model for large ``n_steps``.

        With ``method="gibbs"`` each chain starts from an independent draw of
        the visible units given all hidden units off, p(v | h = 0), and runs
        ``n_steps`` block-Gibbs steps.  Gibbs chains rarely cross between
        well-separated modes, so their samples fall where they started.

        With ``method="pt"`` each chain is ``n_temperatures`` replicas on a
        ladder of temperatures from the model (``beta = 1``) to independent
        units with the training data's means (``beta = 0``), all started from
        draws of that base model, which reach every mode of the data.  Each
        of the ``n_steps`` sweeps is a Gibbs step of every replica and a
        round of swaps between neighbours (see ``method="pt"`` in the class
        description); the ladder starts from the one training tuned (when
        the model was trained with ``method="pt"`` and as many
        temperatures), or evenly spaced, is tuned towards ``swap_target``
        during the first half of the sweeps and kept fixed in the second.
        The samples are the model's replicas after the last sweep.  A sweep
        costs about ``n_temperatures`` Gibbs steps.

        Parameters
        ----------
        n_samples : int, default=1
            Number of vectors (chains).
        n_steps : int, default=1000
            Gibbs steps (sweeps, for "pt") run by every chain before its state
            is returned.
        random_state : int, RandomState instance or None, default=None
            Seed of the chains; None draws one from the fitted ``random_state_``.
        method : {"gibbs", "pt"}, default="gibbs"
            Plain block-Gibbs chains, or parallel tempering.
        n_temperatures : int, default=None
            Replicas per chain for "pt"; None uses the ``n_temperatures``
            parameter.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples.
        """
        check_is_fitted(self)
        draws = make_draws(method, self, n_temperatures)
        check_chain_settings(
            n_samples, n_steps, n_units=sum(self.components_.shape),
            n_replicas=draws.n_replicas, itemsize=self.components_.dtype.itemsize,
        )  # fmt: skip
        rng = self.random_state_ if random_state is None else check_random_state(random_state)
        bk = self._inference_backend(self.components_.dtype, seed=rng.randint(2**31 - 1))
        return bk.to_numpy(draws.draw(bk, self._layer(bk), n_samples, n_steps))

    def _validate_incomplete(self, X):
        """X for conditional sampling: validated with ``np.nan`` allowed (the missing entries)."""
        check_is_fitted(self)
        with explain_strings(type(self).__name__):
            X = validate_data(
                self, pandas_missing_as_nan(X), dtype=(np.float64, np.float32),
                reset=False, ensure_all_finite="allow-nan",
            )  # fmt: skip
        self._check_values(X[~np.isnan(X)])
        return X

    @transactional
    def conditional_sample(
        self, X, *, n_samples=1, n_steps=200, random_state=None, method="gibbs",
        n_temperatures=None,
    ):  # fmt: skip
        """Draws of the missing entries of each row, given its observed ones.

        Missing entries are ``np.nan``.  For every row and every one of
        ``n_samples`` independent chains, the missing entries start at the
        training data's feature means (``feature_mean_``) and move by
        ``n_steps`` block-Gibbs steps with the observed entries clamped: the
        chain's stationary distribution is p(v_missing | v_observed), so
        after the burn-in the state is a draw from it.  A conditional with
        modes far apart (the other half of a digit that could be a 3 or an
        8) traps Gibbs chains in the mode they reach first; ``method="pt"``
        runs every chain as parallel-tempering replicas with the same
        observed entries clamped in each (see :meth:`sample`; ``n_steps``
        then counts sweeps), which cross between such modes.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Rows with ``np.nan`` where an entry is missing.
        n_samples : int, default=1
            Draws (independent chains) per row.
        n_steps : int, default=200
            Clamped Gibbs steps of every chain.
        random_state : int, RandomState instance or None, default=None
            Seed of the chains; None draws one from the fitted ``random_state_``.
        method : {"gibbs", "pt"}, default="gibbs"
            Clamped block-Gibbs chains, or clamped parallel tempering.
        n_temperatures : int, default=None
            Replicas per chain for "pt"; None uses the ``n_temperatures``
            parameter.

        Returns
        -------
        samples : ndarray of shape (n_samples, n_rows, n_features)
            The rows with their missing entries drawn; observed entries are
            returned as given.

        Examples
        --------
        >>> import numpy as np
        >>> from skebm import BernoulliRBM
        >>> X = np.repeat([[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]], 50, axis=0)
        >>> rbm = BernoulliRBM(n_components=2, n_iter=50, learning_rate=0.1,
        ...                    random_state=0).fit(X)
        >>> draws = rbm.conditional_sample([[1.0, np.nan, np.nan, np.nan]], n_samples=3,
        ...                                random_state=0)
        >>> draws.shape
        (3, 1, 4)
        """
        X = self._validate_incomplete(X)
        draws = make_draws(method, self, n_temperatures)
        check_chain_settings(
            n_samples, n_steps, n_units=sum(self.components_.shape), n_rows=X.shape[0],
            n_replicas=draws.n_replicas, itemsize=X.dtype.itemsize,
        )  # fmt: skip
        rng = self.random_state_ if random_state is None else check_random_state(random_state)
        bk = self._inference_backend(X.dtype, seed=rng.randint(2**31 - 1))
        values, missing = as_missing_mask(X)
        rows = bk.tile_rows(bk.asarray(values), n_samples)
        mask = bk.tile_rows(bk.asarray(missing), n_samples)
        v = draws.draw(bk, self._layer(bk), rows.shape[0], n_steps, clamp=(rows, mask))
        return bk.to_numpy(v).reshape(n_samples, *X.shape)

    @transactional
    def conditional_mean(self, X, *, n_steps=200, burn_in=50, random_state=None):
        """E[v_missing | v_observed] of each row, filled in where the row has ``np.nan``.

        One clamped Gibbs chain per row (see :meth:`conditional_sample`)
        runs ``burn_in`` steps, then ``n_steps`` more; the estimate is the
        mean over those steps of E[v_missing | h] at each step's hidden
        state, which averages exact conditional means instead of draws
        (Rao-Blackwellisation): much less noise for the same steps.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Rows with ``np.nan`` where an entry is missing.
        n_steps : int, default=200
            Steps averaged after the burn-in.
        burn_in : int, default=50
            Steps run before averaging starts.
        random_state : int, RandomState instance or None, default=None
            Seed of the chains; None draws one from the fitted ``random_state_``.

        Returns
        -------
        X_filled : ndarray of shape (n_rows, n_features)
            The rows with every missing entry replaced by its estimated
            conditional mean; observed entries as given.
        """
        X = self._validate_incomplete(X)
        check_chain_settings(1, n_steps)
        if n_steps < 1:
            # with nothing averaged there is no estimate, only the zeros it starts from
            raise ValueError(f"n_steps must be at least 1 to average over, got {n_steps!r}.")
        if not isinstance(burn_in, Integral) or burn_in < 0:
            raise ValueError(f"burn_in must be a non-negative integer, got {burn_in!r}.")
        rng = self.random_state_ if random_state is None else check_random_state(random_state)
        bk = self._inference_backend(X.dtype, seed=rng.randint(2**31 - 1))
        layer = self._layer(bk)
        values, missing = as_missing_mask(X)
        rows, mask = bk.asarray(values), bk.asarray(missing)
        total = bk.zeros(tuple(rows.shape))

        def accumulate(step, h):
            if step >= burn_in:
                total[...] += layer.mean_visible(h)

        clamped_chain(
            layer, rows, mask, GibbsChains.for_model(self).clamped_start(bk, tuple(rows.shape)),
            burn_in + n_steps, on_step=accumulate,
        )  # fmt: skip
        filled = values + bk.to_numpy(total) / max(n_steps, 1) * missing
        return filled.astype(X.dtype, copy=False)
