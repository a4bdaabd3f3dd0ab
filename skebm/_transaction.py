"""All or nothing: the one mechanism that makes a public method transactional.

Every estimator method that changes the estimator (``fit``, ``partial_fit``,
and the methods that advance ``random_state_`` or fill a cache: sampling,
conditional sampling, ``estimate_log_partition``, ``score``) runs inside
:class:`Transaction`, most through the :func:`transactional` decorator.  If the call raises anything (a rejected
parameter or device, bad data, ``DivergenceError``, ``KeyboardInterrupt``),
every attribute is put back exactly as it was before the call: an unfitted
estimator stays unfitted, a fitted one keeps its parameters, random state,
``n_features_in_`` and ``feature_names_in_``.

Long training loops may mark consistent intermediate states with
:meth:`Transaction.checkpoint` (the end of an epoch).  Only a
``KeyboardInterrupt`` stops at a checkpoint, so that Ctrl-C during a long fit
keeps the epochs that are done; any other error still restores the state
from before the call.
"""

import copy
import functools

import numpy as np
import pandas as pd


class Transaction:
    """Restore an object's ``__dict__`` when the block it guards raises.

    The saved state is a deep copy, so nothing the call does in place (a
    random generator advanced, a list appended to, a nested estimator
    refitted) survives a failure, with two exceptions kept by reference: the
    constructor parameters (``get_params(deep=False)``), which are the user's
    objects, not the estimator's state, and NumPy arrays, which skebm never
    writes in place once they are attributes (training works on copies and
    publishes new arrays), so that a snapshot costs no copy of the model.

    Parameters
    ----------
    obj : object
        The estimator to guard.

    Examples
    --------
    >>> class Counter:
    ...     def __init__(self):
    ...         self.count = 0
    >>> counter = Counter()
    >>> try:
    ...     with Transaction(counter):
    ...         counter.count = 1
    ...         raise ValueError("rejected")
    ... except ValueError:
    ...     pass
    >>> counter.count
    0
    """

    def __init__(self, obj):
        self._obj = obj
        self._before = None
        self._checkpoint = None

    def __enter__(self):
        self._before = _attributes_snapshot(self._obj)
        return self

    def checkpoint(self):
        """Mark the current state as the one an interrupt should keep."""
        self._checkpoint = _attributes_snapshot(self._obj)

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            return False
        keep = self._before
        if self._checkpoint is not None and issubclass(exc_type, KeyboardInterrupt):
            keep = self._checkpoint
        self._obj.__dict__.clear()
        self._obj.__dict__.update(keep)
        return False  # the caller still sees the exception


def _attributes_snapshot(obj):
    """A copy of ``obj.__dict__`` to restore later (see :class:`Transaction`)."""
    get_params = getattr(obj, "get_params", None)
    params = set(get_params(deep=False)) if get_params is not None else set()
    return {
        key: value if key in params else _snapshot(value)
        for key, value in obj.__dict__.items()
    }


def _snapshot(value):
    """A deep copy of ``value`` that shares its NumPy arrays."""
    if isinstance(value, (np.ndarray, np.dtype, pd.api.extensions.ExtensionDtype)):
        # dtypes are immutable values too, and a copy of one would be a new
        # object, which pickles differently from the shared original
        return value
    if isinstance(value, dict):
        return {key: _snapshot(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return type(value)(_snapshot(item) for item in value)
    if hasattr(value, "get_params") and hasattr(value, "__dict__"):
        # a nested estimator (a DBN's layers): a new object with its state
        nested = copy.copy(value)
        nested.__dict__ = _attributes_snapshot(value)
        return nested
    return copy.deepcopy(value)


def transactional(method):
    """Run an estimator method inside a :class:`Transaction` of its estimator.

    For the methods that change state on the way to their answer (draws
    from ``random_state_``, a cached log Z): a call that raises leaves the
    estimator as it was.

    Examples
    --------
    >>> class Dice:
    ...     def __init__(self):
    ...         self.rolls = 0
    ...     @transactional
    ...     def roll(self, n):
    ...         self.rolls += 1
    ...         if n < 1:
    ...             raise ValueError("n must be positive")
    ...         return n
    >>> dice = Dice()
    >>> try:
    ...     dice.roll(0)
    ... except ValueError:
    ...     pass
    >>> dice.rolls
    0
    """

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        with Transaction(self):
            return method(self, *args, **kwargs)

    return guarded
