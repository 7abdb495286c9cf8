"""Where the tests' Cassandra is, and how to tell whether it answers.

The server is the real one that ``scripts/servers/cassandra.sh start`` runs (or any node at
``CASSANDRA_HOSTS``/``CASSANDRA_PORT``). Tests write into their own keyspace,
``eventstore_tests`` (``EVENTSTORE_CASSANDRA_TEST_KEYSPACE``), with fresh random sequence ids.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from eventstore_cassandra import CassandraSettings
from eventstore_cassandra.datastore import close, connect

TEST_KEYSPACE = os.environ.get("EVENTSTORE_CASSANDRA_TEST_KEYSPACE", "eventstore_tests")
REPO = Path(__file__).resolve().parents[3]
SERVER_SCRIPT = REPO / "scripts" / "servers" / "cassandra.sh"


def test_settings(**overrides: Any) -> CassandraSettings:
    """Settings for the test keyspace on the test server."""
    overrides.setdefault("keyspace", TEST_KEYSPACE)
    return CassandraSettings(**overrides)


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def server_problem() -> str | None:
    """None if a CQL query answers, else why not (for a failure or skip message)."""
    settings = test_settings(connect_timeout=5.0)
    try:
        connection = connect(settings)
    except Exception as error:
        return f"{error} (start one with: {SERVER_SCRIPT} start)"
    try:
        connection.session.execute("SELECT release_version FROM system.local")
    except Exception as error:
        return f"Cassandra at {settings.endpoints} does not answer a query: {error}"
    finally:
        close(connection)
    return None


def server_script(command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/servers/cassandra.sh <command>``; its output is kept for messages."""
    return subprocess.run(
        ["bash", str(SERVER_SCRIPT), command], capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL, check=False,
    )
