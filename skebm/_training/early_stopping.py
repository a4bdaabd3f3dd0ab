"""Early stopping: patience on a held-out score, and the best epoch kept."""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from .._parameters import Parameter



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


#: the early-stopping parameters of the RBM estimators
PARAMETERS = (
    Parameter(
        "validation_fraction",
        None,
        [Interval(Real, 0, 1, closed="neither"), None],
        """\
validation_fraction : float, default=None
    Share of the training rows held out to monitor training (in
    ``history_``: the free-energy gap, and the log-likelihoods where the
    exact log Z is cheap). None holds out nothing.""",
    ),
    Parameter(
        "early_stopping",
        False,
        ["boolean"],
        """\
early_stopping : bool, default=False
    Stop when the held-out score has not improved by more than ``tol``
    for ``n_iter_no_change`` epochs, then restore the parameters of the
    best epoch (``best_epoch_``). The score is the held-out
    log-likelihood where the exact log Z is cheap (at most 2**22 terms,
    e.g. 16 hidden units on 64 features), otherwise minus the free-energy
    gap. Needs ``validation_fraction``; ``partial_fit`` rejects it.""",
    ),
    Parameter(
        "n_iter_no_change",
        10,
        [Interval(Integral, 1, None, closed="left")],
        """\
n_iter_no_change : int, default=10
    Epochs without an improvement larger than ``tol`` before stopping.""",
    ),
    Parameter(
        "tol",
        1e-3,
        [Interval(Real, 0, None, closed="left")],
        """\
tol : float, default=1e-3
    Improvement of the held-out score (in nats) that counts as one.""",
    ),
)
