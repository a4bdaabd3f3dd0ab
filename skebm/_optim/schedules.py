"""Learning-rate schedules: the step size of each epoch."""

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
