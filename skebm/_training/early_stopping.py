"""Early stopping: patience on a held-out score, and the best epoch kept."""


def validation_score(record):
    """The held-out figure an RBM's early stopping maximises, from one epoch's record.

    The held-out log-likelihood where the monitor computes it (log Z exact and
    cheap), otherwise minus the free-energy gap, which needs no partition
    function but measures over-fitting only.
    """
    if "validation_log_likelihood" in record:
        return record["validation_log_likelihood"]
    return -record["free_energy_gap"]


class EarlyStopping:
    """The patience rule of scikit-learn's MLP, with the best epoch's state kept.

    An epoch improves on the best one when its score is higher by more than
    ``tol``; after ``n_iter_no_change`` epochs without such an improvement
    :meth:`update` says stop.  What ``keep()`` returns at the highest-scoring
    epoch (any margin) is held in ``best_state``, so that the caller can put
    that epoch's model back and noise after it never costs anything.

    Scores are numbers, or tuples compared in order (a classifier's
    ``(accuracy, -loss)``: accuracy first, loss to break ties) when ``tol``
    is 0.

    Parameters
    ----------
    n_iter_no_change : int
        Epochs without improvement tolerated before stopping.
    tol : float, default=0.0
        The margin an improvement must exceed.
    keep : callable
        ``keep()`` returns the state of the epoch just scored.
    """

    def __init__(self, n_iter_no_change, tol=0.0, *, keep):
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.keep = keep
        self.best_score = None
        self.best_epoch = None
        self.best_state = None
        self.epochs_without_improvement = 0

    def update(self, epoch, score):
        """Take one epoch's score; True when training should stop."""
        best = self.best_score
        if best is None or score > (best + self.tol if self.tol else best):
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        if best is None or score > best:
            self.best_score = score
            self.best_epoch = epoch
            self.best_state = self.keep()
        return self.epochs_without_improvement >= self.n_iter_no_change
