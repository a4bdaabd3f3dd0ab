"""Parts from outside the library: each is one class and one registration line.

A hidden-unit type, an optimiser and a sampler with a parameter of its own
are written here against the parts' contracts alone (:mod:`skebm._units`,
:mod:`skebm._optim`, :mod:`skebm._samplers`), registered, and trained with;
then the library's own Adam and sparsity term are held to their formulas.
"""

import itertools

import numpy as np
import pytest
from scipy.special import gammaln, logsumexp

from numbers import Integral

from sklearn.base import clone
from sklearn.utils._param_validation import Interval

from skebm import BernoulliRBM
from skebm._parameters import Parameter, declared_by
from skebm._backend import make_backend
from skebm._optim import OPTIMIZERS, Adam, Sparsity
from skebm._samplers import SAMPLERS
from skebm._samplers.pcd import PersistentContrastiveDivergence
from skebm._units import HIDDEN_UNITS


class BinomialUnits:
    """Hidden units h in {0, ..., n}: n binary copies with one weight vector.

    Summing over which copies are on gives the multiplicity C(n, h), so
    ``-own_energy(h) = log C(n, h)``, ``log Z(x) = n softplus(x)`` and h is
    Binomial(n, sigmoid(x)).  The model is exactly a binary RBM with every
    hidden unit repeated n times, which is the known answer below.
    """

    discrete = True
    mean_at_zero = None  # set from n

    def __init__(self, n):
        self.n = n
        self.name = f"binomial{n}"
        self.mean_at_zero = n / 2

    def mean(self, bk, x, out=None):
        return bk.sigmoid(x, out=out) * self.n

    def sample(self, bk, mean, out=None):
        draws = sum(bk.bernoulli(mean / self.n) for _ in range(self.n))
        if out is None:
            return draws
        out[...] = draws
        return out

    def sample_from_input(self, bk, x, out=None):
        return self.sample(bk, self.mean(bk, x), out=out)

    def own_energy(self, bk, h):
        log_choose = gammaln(self.n + 1) - gammaln(h + 1) - gammaln(self.n - h + 1)
        return -log_choose.sum(axis=1)

    def unit_log_partition(self, bk, x, out=None):
        return bk.softplus(x, out=out) * self.n

    def log_partition(self, bk, x):
        return self.n * bk.softplus(x).sum(axis=1)

    def free_log_partition(self, n_units):
        return n_units * self.n * np.log(2.0)

    def n_states(self, n_units):
        return (self.n + 1) ** n_units

    def states(self, start, stop, n_units):
        every = itertools.product(range(self.n + 1), repeat=n_units)
        return np.array(list(itertools.islice(every, start, stop)), dtype=float)


class SignDescent:
    """An optimiser of one parameter of its own kind: steps of ``learning_rate * sign(g)``.

    Its state counts the updates, to show that the trainer keeps and
    publishes what an optimiser keeps without knowing what it is.
    """

    parameters = ("learning_rate",)

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def init_state(self, bk, params, keys):
        return {"updates": bk.zeros((1,))}

    def resume_state(self, bk, params, saved, keys):
        return {"updates": bk.copy(saved["updates"])} if saved else self.init_state(bk, params, keys)

    def fused_weight_step(self, bk, params, state, hidden, row_weights, visible, step_scale):
        state["updates"] += 1.0
        hidden *= row_weights
        params["W"] += self.learning_rate * step_scale * np.sign(bk.matmul(hidden.T, visible))
        return hidden.sum(axis=0)

    def update_params(self, bk, params, state, grads, step_scale):
        for key, grad in grads.items():
            params[key] += self.learning_rate * step_scale * np.sign(grad)


class RestartingPCD(PersistentContrastiveDivergence):
    """PCD whose chains restart from the data every ``restart_every`` updates."""

    def __init__(self, restart_every):
        self.restart_every = restart_every

    def init_state(self, bk, units, params, chains, stats):
        return {"updates": np.zeros(1)}

    def resume_state(self, bk, units, params, saved, chains, stats):
        return {"updates": np.array(saved["updates"])} if saved else {"updates": np.zeros(1)}

    def step(self, bk, units, params, state, buffers, n_steps):
        ours = state["sampler"]
        ours["updates"] += 1
        if ours["updates"][0] % self.restart_every == 0:
            n = min(len(buffers.data), len(state["chains"]))
            state["chains"][:n] = units.hidden.sample(
                bk, units.mean_hidden(bk, params, buffers.data[:n])
            )
        super().step(bk, units, params, state, buffers, n_steps)


def two_prototypes(seed, n_rows):
    """Rows of 8 pixels, one of two halves on, each pixel flipped w.p. 0.1.

    Independent pixels score about -5.5 nats; the two halves are worth about
    2 more, which 30 epochs of a 3-unit RBM recover (1.9-2.3 over seeds 0-2).
    """
    rng = np.random.default_rng(seed)
    prototypes = np.array([[1.0] * 4 + [0.0] * 4, [0.0] * 4 + [1.0] * 4])
    rows = prototypes[rng.integers(0, 2, n_rows)]
    return np.where(rng.random(rows.shape) < 0.1, 1.0 - rows, rows)


def test_a_registered_hidden_unit_type_is_exactly_its_replicated_binary_rbm(
    suite_seed, monkeypatch
):
    monkeypatch.setitem(HIDDEN_UNITS, "binomial2", BinomialUnits(2))
    X = two_prototypes(suite_seed, 300)
    rbm = BernoulliRBM(n_components=3, hidden_units="binomial2", n_iter=30,
                       learning_rate=0.05, random_state=suite_seed).fit(X)
    # the same model as six binary units, each weight vector twice
    twin = BernoulliRBM(n_components=6, n_iter=0, random_state=0).fit(X)
    twin.components_ = np.repeat(rbm.components_, 2, axis=0)
    twin.intercept_hidden_ = np.repeat(rbm.intercept_hidden_, 2)
    twin.intercept_visible_ = rbm.intercept_visible_
    # log Z over the 27 binomial states against the 64 binary ones, and both
    # against the sum over the 256 visible states
    log_z = rbm.estimate_log_partition(method="exact")
    assert log_z == pytest.approx(twin.estimate_log_partition(method="exact"), abs=1e-9)
    visible = np.array(list(itertools.product([0.0, 1.0], repeat=8)))
    assert log_z == pytest.approx(logsumexp(-twin.free_energy(visible)), abs=1e-9)
    np.testing.assert_allclose(rbm.score_samples(X), twin.score_samples(X), atol=1e-9)
    start = BernoulliRBM(n_components=3, hidden_units="binomial2", n_iter=0,
                         random_state=suite_seed).fit(X)
    assert rbm.score(X) > start.score(X) + 1.0


def test_a_registered_optimiser_trains_and_keeps_its_state(suite_seed, monkeypatch):
    monkeypatch.setitem(OPTIMIZERS, "sign", SignDescent)
    X = two_prototypes(suite_seed, 300)
    rbm = BernoulliRBM(n_components=3, optimizer="sign", learning_rate=0.02, n_iter=30,
                       batch_size=20, random_state=suite_seed)
    start = BernoulliRBM(n_components=3, n_iter=0, random_state=suite_seed).fit(X).score(X)
    assert rbm.fit(X).score(X) > start + 1.0
    assert rbm.training_state_["optimizer"]["updates"][0] == 30 * 15
    rbm.set_params(warm_start=True, n_iter=2).fit(X)
    assert rbm.training_state_["optimizer"]["updates"][0] == 32 * 15


def test_a_registered_sampler_with_a_parameter_of_its_own(suite_seed, monkeypatch):
    monkeypatch.setitem(SAMPLERS, "restarting", RestartingPCD(restart_every=7))
    X = two_prototypes(suite_seed, 300)
    rbm = BernoulliRBM(n_components=3, method="restarting", learning_rate=0.1, n_iter=30,
                       random_state=suite_seed).fit(X)
    start = BernoulliRBM(n_components=3, n_iter=0, random_state=suite_seed).fit(X).score(X)
    assert rbm.score(X) > start + 1.0
    assert rbm.training_state_["sampler"]["updates"][0] == 30 * 30


class DeclaredRestartingPCD(RestartingPCD):
    """The same sampler, its parameter declared once: name, default, constraint, documentation."""

    parameters = (
        Parameter(
            "restart_every",
            10,
            [Interval(Integral, 1, None, closed="left")],
            """\
restart_every : int, default=10
    Updates between restarts of the persistent chains from the data.""",
        ),
    )


class RestartingRBM(BernoulliRBM):
    """A BernoulliRBM that takes the restarting sampler's parameter as its own.

    Parameters
    ----------
    Every RBM estimator's, and the sampler's, listed here when the class is made.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Weights W.
    """

    _extra_parameters = declared_by([DeclaredRestartingPCD])


def test_a_part_declares_a_parameter_the_estimator_takes(suite_seed, monkeypatch):
    monkeypatch.setitem(SAMPLERS, "restarting", DeclaredRestartingPCD)
    rbm = RestartingRBM(n_components=3, method="restarting", restart_every=7, n_iter=3,
                        random_state=suite_seed)
    # a scikit-learn parameter: in get_params and clone, validated, documented
    assert clone(rbm).get_params()["restart_every"] == 7
    assert "restart_every : int, default=10" in RestartingRBM.__doc__
    with pytest.raises(ValueError, match="restart_every"):
        clone(rbm).set_params(restart_every=0).fit(two_prototypes(suite_seed, 50))
    rbm.fit(two_prototypes(suite_seed, 60))
    # the sampler was built with the estimator's value: 6 updates per epoch, 3 epochs
    assert rbm.training_state_["sampler"]["updates"][0] == 18


def test_adam_takes_the_textbook_steps():
    rng = np.random.default_rng(0)
    bk = make_backend(None, np.float64, seed=0)
    params = {"W": rng.normal(size=(3, 4)), "a": rng.normal(size=4), "b": rng.normal(size=3)}
    reference = {key: value.copy() for key, value in params.items()}
    adam = Adam(learning_rate=0.01, weight_decay=0.001)
    state = adam.init_state(bk, params, ("W", "a", "b"))
    moments = {key: (np.zeros_like(v), np.zeros_like(v)) for key, v in params.items()}
    for t in range(1, 4):
        hidden, visible = rng.random((6, 3)), rng.random((6, 4))
        row_weights = np.r_[np.full(3, 1 / 3), np.full(3, -1 / 3)][:, None]
        grads = {"a": rng.normal(size=4)}
        expected = {
            "W": (hidden * row_weights).T @ visible - 0.001 * reference["W"],
            "b": (hidden * row_weights).sum(axis=0),
            "a": grads["a"],
        }
        grads["b"] = adam.fused_weight_step(bk, params, state, hidden.copy(), row_weights,
                                            visible, 1.0)
        adam.update_params(bk, params, state, grads, 1.0)
        for key, g in expected.items():
            m, s = moments[key]
            m[...] = 0.9 * m + 0.1 * g
            s[...] = 0.999 * s + 0.001 * g * g
            m_hat, s_hat = m / (1 - 0.9**t), s / (1 - 0.999**t)
            reference[key] = reference[key] + 0.01 * m_hat / (np.sqrt(s_hat) + 1e-8)
            np.testing.assert_allclose(params[key], reference[key], rtol=1e-10, atol=1e-12)


def test_adam_learns(suite_seed):
    X = two_prototypes(suite_seed, 300)
    start = BernoulliRBM(n_components=4, n_iter=0, random_state=suite_seed).fit(X).score(X)
    rbm = BernoulliRBM(n_components=4, optimizer="adam", learning_rate=0.02, n_iter=30,
                       random_state=suite_seed).fit(X)
    assert rbm.score(X) > start + 1.0


def test_sparsity_pulls_the_bias_gradient_towards_the_target():
    bk = make_backend(None, np.float64, seed=0)
    params = {"b": np.zeros(3)}
    sparsity = Sparsity(target=0.1, cost=0.5, decay=0.9)
    state = sparsity.init_state(bk, params, 0.5)
    activity = np.array([0.9, 0.5, 0.0])
    grads = {"b": np.zeros(3)}
    sparsity.adjust(bk, state, activity, grads)
    running = 0.9 * 0.5 + 0.1 * activity
    np.testing.assert_allclose(state["mean_activity"], running)
    np.testing.assert_allclose(grads["b"], 0.5 * (0.1 - running))


def test_a_sparsity_target_lowers_the_hidden_activity(suite_seed):
    X = two_prototypes(suite_seed, 300)
    settings = dict(n_components=16, n_iter=15, learning_rate=0.05, random_state=suite_seed)
    free = BernoulliRBM(**settings).fit(X)
    sparse = BernoulliRBM(**settings, sparsity_target=0.05, sparsity_cost=0.5).fit(X)
    # the running mean the pull acts on, and the activity it produces
    assert sparse.training_state_["sparsity"]["mean_activity"].mean() < 0.2
    assert sparse.transform(X).mean() < free.transform(X).mean() - 0.1
