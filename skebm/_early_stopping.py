"""Early stopping: patience on a held-out score, and the best epoch kept."""

import numpy as np


def validation_score(record):
    """The held-out figure early stopping maximises, from one epoch's record.

    The held-out log-likelihood where the monitor computes it (log Z exact and
    cheap), otherwise minus the free-energy gap, which needs no partition
    function but measures over-fitting only.
    """
    if "validation_log_likelihood" in record:
        return record["validation_log_likelihood"]
    return -record["free_energy_gap"]


class EarlyStopping:
    """The patience rule of scikit-learn's MLP, on an RBM's validation score.

    An epoch improves on the best one when its score is higher by more than
    ``tol``; after ``n_iter_no_change`` epochs without such an improvement
    training stops.  The state of the highest-scoring epoch (any margin) is
    kept and restored by :meth:`restore_best`, so noise after the best epoch
    never costs the model anything.

    Parameters
    ----------
    estimator : BaseRBM
        The estimator being fitted; its ``tol`` and ``n_iter_no_change`` set
        the rule, and its attributes are what is kept and restored.
    """

    #: attributes that describe the run, not one epoch's model
    _RUN_ATTRIBUTES = ("history_", "n_iter_", "best_epoch_")

    def __init__(self, estimator):
        self.estimator = estimator
        self.best_score = -np.inf
        self.best_epoch = None
        self.best_state = None
        self.epochs_without_improvement = 0

    def update(self, record):
        """Take one epoch's record; True when training should stop."""
        score = validation_score(record)
        if score > self.best_score + self.estimator.tol:
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        if score > self.best_score:
            self.best_score = score
            self.best_epoch = record["epoch"]
            # the fitted arrays are replaced at every epoch, never changed in
            # place, so references keep this epoch's model
            self.best_state = {
                key: value
                for key, value in self.estimator.__dict__.items()
                if key not in self._RUN_ATTRIBUTES
            }
        return self.epochs_without_improvement >= self.estimator.n_iter_no_change

    def restore_best(self):
        """Put the best epoch's model back and record which one it was."""
        estimator = self.estimator
        if self.best_state is None:
            return
        estimator.__dict__.update(self.best_state)
        estimator.best_epoch_ = self.best_epoch
        for record in estimator.history_:
            if record["epoch"] == self.best_epoch:
                record["restored"] = True
        if estimator.verbose:
            print(
                f"[{estimator._progress_label()}] early stopping: kept epoch "
                f"{self.best_epoch} of {estimator.n_iter_} (best held-out score "
                f"{self.best_score:.4f})"
            )
