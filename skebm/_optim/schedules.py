"""Learning-rate schedules: the step size of each epoch."""

from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from .._parameters import Parameter


def constant_rate(learning_rate, epoch, n_epochs, power_t, floor):
    return learning_rate


def linear_rate(learning_rate, epoch, n_epochs, power_t, floor):
    # from learning_rate at the first epoch to floor at the last, then floor;
    # a stream (n_epochs None) has no last epoch to decay towards
    if n_epochs is None:
        return learning_rate
    progress = min(1.0, (epoch - 1) / max(n_epochs - 1, 1))
    return learning_rate + (floor - learning_rate) * progress


def inverse_scaling_rate(learning_rate, epoch, n_epochs, power_t, floor):
    return max(floor, learning_rate / epoch**power_t)


#: the ``learning_rate_schedule`` options: ``rate(learning_rate, epoch,
#: n_epochs, power_t, floor)``, with ``epoch`` counted from 1 and
#: ``n_epochs`` the run's length (None for a stream); a new schedule is one
#: function and one entry here
SCHEDULES = {
    "constant": constant_rate,
    "linear": linear_rate,
    "invscaling": inverse_scaling_rate,
}

#: the parameters of the learning-rate schedule
PARAMETERS = (
    Parameter(
        "learning_rate_schedule",
        "linear",
        [StrOptions(set(SCHEDULES))],
        """\
learning_rate_schedule : {"linear", "constant", "invscaling"}, default="linear"
    How the step size changes over the epochs of ``fit``: "linear"
    decays it linearly from ``learning_rate`` in the first epoch to
    ``min_learning_rate`` in the last (Tieleman 2008), which averages
    out the noise of the last updates and gives much better models for
    the same epochs (on MNIST-5k, 25-30 nats of held-out log-likelihood
    at scikit-learn's settings); "constant" keeps ``learning_rate``, as
    scikit-learn does; "invscaling" divides it by ``epoch ** power_t``.
    ``partial_fit`` counts its calls as epochs; a stream has no last
    epoch, so there "linear" keeps ``learning_rate``.""",
    ),
    Parameter(
        "power_t",
        0.5,
        [Interval(Real, 0, None, closed="left")],
        """\
power_t : float, default=0.5
    The exponent of the "invscaling" schedule.""",
    ),
    Parameter(
        "min_learning_rate",
        None,
        [Interval(Real, 0, None, closed="left"), None],
        """\
min_learning_rate : float, default=None
    The floor of the "linear" and "invscaling" schedules; None is a
    tenth of ``learning_rate``.""",
    ),
)
