"""Exceptions that skebm raises on purpose."""


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
