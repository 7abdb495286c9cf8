"""The fault suite: private servers (see ``private_servers``) and its figures.

A private server that cannot be started skips the tests that need it on a developer's machine;
in CI (``CI=true``) it fails them: a green CI must mean the faults were tried.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from availability import unavailable
from outcomes import REPORTS
from private_servers import PrivateMariaDB, PrivatePostgres, PrivateServer, ServerUnavailable


def _private(server_class: type[PrivateServer]) -> Iterator[PrivateServer]:
    try:
        server = server_class()
    except ServerUnavailable as error:
        unavailable(str(error))
    try:
        server.setup()
    except ServerUnavailable as error:
        server.stop()
        unavailable(str(error))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivateServer]:
    """A PostgreSQL of the suite's own (killed and frozen by its tests)."""
    yield from _private(PrivatePostgres)


@pytest.fixture(scope="session")
def private_mariadb() -> Iterator[PrivateServer]:
    """A MariaDB of the suite's own (killed and frozen by its tests)."""
    yield from _private(PrivateMariaDB)


SERVER_FIXTURES = {"postgresql": "private_postgres", "mariadb": "private_mariadb"}


@pytest.fixture
def private_server(request: pytest.FixtureRequest) -> Iterator[PrivateServer]:
    """The private server named by the parameter ("postgresql" or "mariadb"); whatever the
    test did to it, it is thawed and running afterwards."""
    server: PrivateServer = request.getfixturevalue(SERVER_FIXTURES[request.param])
    yield server
    if server.frozen:
        server.thaw()
    if server.process is None or server.process.poll() is not None:
        server.start()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults: kills, freezes or starves a database server (pytest -m 'not faults')"
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORTS:
        terminalreporter.section("fault suite figures")
        for line in REPORTS:
            terminalreporter.write_line(line)

