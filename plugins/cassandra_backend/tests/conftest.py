"""Every test here runs against a real Cassandra server.

When none answers the tests are skipped on a developer's machine, but in CI (``CI=true``) that
is a failure: a green CI must mean the backend was tested.
"""

from __future__ import annotations

import os

import pytest
from cassandra_server import server_problem


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults: kills or pauses the Cassandra server; run last (test_zz_faults.py)"
    )


@pytest.fixture(autouse=True, scope="session")
def cassandra_server() -> None:
    """Check once per session that the server answers CQL."""
    problem = server_problem()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"CI needs a Cassandra server for these tests: {problem}", pytrace=False)
    pytest.skip(f"no Cassandra server: {problem}")
