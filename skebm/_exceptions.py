"""Exceptions that skebm raises on purpose, and where its warnings point."""

import os
import sys


class DivergenceError(FloatingPointError):
    """Training blew up: a parameter became non-finite or grew without bound.

    Raised by ``fit`` and ``partial_fit`` (a ``FloatingPointError``, so code
    that catches NumPy's floating-point errors catches it too).  The message
    names the likely cause: a learning rate too large for the model, or data
    far outside the range the model was trained on.  The estimator is left
    exactly as it was before the call.

    Examples
    --------
    >>> import numpy as np
    >>> from skebm import BernoulliRBM, DivergenceError
    >>> X = np.random.RandomState(0).rand(50, 8) > 0.5
    >>> try:
    ...     BernoulliRBM(n_components=4, learning_rate=1e6, random_state=0).fit(X)
    ... except DivergenceError as exc:
    ...     print("diverged")
    diverged
    """


def caller_stacklevel():
    """The ``stacklevel`` that points a warning at the user's line.

    Counted from the function that calls ``warnings.warn``: frames in skebm
    and in scikit-learn (its ``fit`` wrappers, ``Pipeline``, searches) are
    skipped, so the warning names the line in the user's code, however deep
    inside the package it was raised.
    """
    inside = tuple(
        os.path.dirname(os.path.abspath(module.__file__)) + os.sep
        for module in (sys.modules[__package__], sys.modules["sklearn"])
    )
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(inside):
        frame, level = frame.f_back, level + 1
    return level
