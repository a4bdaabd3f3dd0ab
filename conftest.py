"""Test-session set-up shared by tests/ and the doctests in skebm/."""

import os

import pytest
from threadpoolctl import threadpool_limits


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
