"""Training: the loop of mini-batch updates (:mod:`.trainer`) and early stopping (:mod:`.early_stopping`).

The trainer runs the parts it is given (unit math from :mod:`skebm._units`,
a sampler from :mod:`skebm._samplers`, an optimiser and the other terms of
the update rule from :mod:`skebm._optim`) without knowing which ones they
are, and keeps their state as a dict keyed by part.
"""
