"""Test-session set-up shared by tests/ and the doctests in skebm/."""

import os

import pytest
from threadpoolctl import threadpool_limits

#: SKEBM_TEST_SEED (an integer, default 0) re-draws the random numbers of the
#: statistical tests: the estimators' random_state, the seeds of AIS and of
#: the samplers, and random data.  Their margins are derived from the
#: estimators' own spread, so the suite must pass for every value, e.g.
#: ``SKEBM_TEST_SEED=1 python -m pytest``.  Tests of exact reproducibility
#: and the known answers they check against keep their fixed seeds.
SUITE_SEED = int(os.environ.get("SKEBM_TEST_SEED", "0"))


def pytest_report_header(config):
    return f"SKEBM_TEST_SEED={SUITE_SEED} (the statistical tests' draws)"


@pytest.fixture(scope="session")
def suite_seed():
    """The seed statistical tests derive their draws from (``SKEBM_TEST_SEED``)."""
    return SUITE_SEED


@pytest.fixture(autouse=True, scope="session")
def one_blas_thread_per_worker():
    """Pin BLAS and OpenMP to one thread when pytest-xdist runs several workers.

    Two workers each running a multi-threaded BLAS on two cores oversubscribe
    them, and the many small matrix products of RBM training then slow down
    by an order of magnitude.
    """
    if os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") != "1":
        with threadpool_limits(limits=1):
            yield
    else:
        yield
