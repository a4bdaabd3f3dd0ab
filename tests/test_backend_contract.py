"""Both backends satisfy the Backend protocol: the same assertions, run on each."""

import inspect

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, logsumexp

from skebm._backend import Backend, make_backend

try:
    import torch
except ImportError:  # pragma: no cover - torch is a test dependency
    torch = None

BACKENDS = [
    pytest.param(None, id="numpy"),
    pytest.param("cpu", id="torch-cpu", marks=pytest.mark.skipif(torch is None, reason="no torch")),
]
PROTOCOL_METHODS = sorted(
    name
    for name, member in vars(Backend).items()
    if inspect.isfunction(member) and not name.startswith("_")
)


@pytest.mark.parametrize("device", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backend_keeps_the_contract(device, dtype):
    rng = np.random.default_rng(0)
    bk = make_backend(device, dtype, seed=5)
    assert isinstance(bk, Backend)
    for name in PROTOCOL_METHODS:
        assert callable(getattr(bk, name)), name
    tol = dict(rtol=2e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-13)

    def same(got, expected):
        got = bk.to_numpy(got)
        assert isinstance(got, np.ndarray)
        np.testing.assert_allclose(got, expected, **tol)

    # moving data
    x = rng.normal(size=(6, 4))
    a = bk.asarray(x)
    assert bk.to_numpy(a).dtype == dtype and bk.to_numpy(a).shape == (6, 4)
    same(bk.copy(a), x)
    assert bk.to_numpy(bk.zeros((2, 3))).tolist() == [[0.0] * 3] * 2
    assert bk.to_numpy(bk.empty((2, 3))).shape == (2, 3)
    same(bk.concatenate([a, a]), np.concatenate([x, x]))
    rows = np.array([4, 0, 2])
    out = bk.empty((3, 4))
    same(bk.gather_rows(x.astype(dtype), rows, out=out), x[rows])
    same(bk.gather_rows(sp.csr_matrix(x), rows, out=out), x[rows])
    same(bk.take_rows(a, rows), x[rows])
    same(bk.repeat_rows(a, 3), np.repeat(x, 3, axis=0))
    same(bk.tile_rows(a, 2), np.tile(x, (2, 1)))
    data = np.ascontiguousarray(x.astype(dtype))
    resident = bk.adopt(data)
    assert bk.holds(resident) == (resident is not data)
    index = bk.index(rows) if bk.holds(resident) else rows
    same(bk.gather_rows(resident, index, out=out), x[rows])

    # math
    b = rng.normal(size=(4, 5))
    same(bk.matmul(a, bk.asarray(b)), x @ b)
    c = rng.normal(size=(6, 5))
    expected = c + 0.5 * x @ b
    same(bk.addmm_(bk.copy(c), a, bk.asarray(b), alpha=0.5), expected)
    wide = np.array([[-800.0, -30.0, 0.0, 30.0, 800.0]])
    same(bk.sigmoid(bk.asarray(wide)), expit(wide))
    same(bk.softplus(bk.asarray(wide)), np.logaddexp(0, wide))
    same(bk.log_sigmoid(bk.asarray(wide[:, 1:4])), -np.logaddexp(0, -wide[:, 1:4]))
    same(bk.exp(a), np.exp(x))
    same(bk.log(bk.exp(a)), x)
    same(bk.square(a), x * x)
    same(bk.clip(a, -0.5, 0.5), np.clip(x, -0.5, 0.5))
    same(bk.where(a > 0, a, bk.zeros(a.shape)), np.where(x > 0, x, 0.0))
    same(bk.less(a, bk.zeros(a.shape)), (x < 0).astype(float))
    same(bk.logsumexp(a, axis=1), logsumexp(x, axis=1))
    assert abs(float(bk.logsumexp(a)) - logsumexp(x)) < 1e-5
    sums = bk.row_sums_float64(a)
    assert bk.to_numpy(sums).dtype == np.float64
    same(sums, x.astype(dtype).sum(axis=1))
    assert bk.to_numpy(bk.as_float64(a)).dtype == np.float64
    assert bk.all_finite(a) is True
    assert bk.all_finite(bk.asarray(np.array([1.0, np.inf]))) is False
    assert isinstance(bk.item(a.sum()), float)

    # work split: every row exactly once
    seen = np.zeros(11, int)

    def visit(worker, block):
        seen[block] += 1

    with bk.threads():
        bk.map_blocks(11, visit)
    assert seen.tolist() == [1] * 11

    # randomness: reproducible from the seed, at the stated rates
    u = bk.to_numpy(bk.uniform((20000,)))
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    again = make_backend(device, dtype, seed=5)
    np.testing.assert_array_equal(bk.to_numpy(again.uniform((20000,))), u)
    normal = bk.to_numpy(bk.normal((20000,)))
    assert abs(normal.mean()) < 5 / np.sqrt(normal.size)
    assert abs(normal.var() - 1) < 5 * np.sqrt(2 / normal.size)
    p = bk.asarray(np.full((20000,), 0.25))
    hits = bk.to_numpy(bk.bernoulli(p))
    assert set(np.unique(hits)) <= {0.0, 1.0}
    assert abs(hits.mean() - 0.25) < 5 * np.sqrt(0.25 * 0.75 / hits.size)
    assert sorted(bk.permutation(9).tolist()) == list(range(9))
    assert 0 <= bk.host_rng().integers(10) < 10
