"""All or nothing: the one mechanism that makes a public method transactional.

Every estimator method that changes the estimator (``fit``, ``partial_fit``)
runs inside :class:`Transaction`.  If the call raises anything (a rejected
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


class Transaction:
    """Restore an object's ``__dict__`` when the block it guards raises.

    The saved state is a deep copy, so nothing the call does in place (a
    random generator advanced, a list appended to) survives a failure.  The
    constructor parameters (``get_params(deep=False)``) are kept by
    reference: they are the user's objects, not the estimator's state.

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
        self._before = self._saved_state()
        return self

    def checkpoint(self):
        """Mark the current state as the one an interrupt should keep."""
        self._checkpoint = self._saved_state()

    def _saved_state(self):
        get_params = getattr(self._obj, "get_params", None)
        params = set(get_params(deep=False)) if get_params is not None else set()
        return {
            key: value if key in params else copy.deepcopy(value)
            for key, value in self._obj.__dict__.items()
        }

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            return False
        keep = self._before
        if self._checkpoint is not None and issubclass(exc_type, KeyboardInterrupt):
            keep = self._checkpoint
        self._obj.__dict__.clear()
        self._obj.__dict__.update(keep)
        return False  # the caller still sees the exception
