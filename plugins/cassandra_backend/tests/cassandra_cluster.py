"""Where the tests' three-node cluster is (``scripts/servers/cassandra-cluster.sh``).

The cluster tests need it; on a developer's machine they are skipped when it is not started,
in CI (``CI=true``) that is a failure. Its keyspace has replication factor 3; the store
writes at QUORUM with SERIAL for the Paxos phase of conditional writes, and reads at QUORUM.
"""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
from cassandra_server import REPO, TEST_KEYSPACE

from eventstore_cassandra import CassandraSettings
from eventstore_cassandra.datastore import close, connect

CLUSTER_SCRIPT = REPO / "scripts" / "servers" / "cassandra-cluster.sh"
HOSTS = tuple(os.environ.get(
    "EVENTSTORE_CASSANDRA_CLUSTER_HOSTS", "127.0.0.1,127.0.0.2,127.0.0.3").split(","))
PORT = int(os.environ.get("EVENTSTORE_CASSANDRA_CLUSTER_PORT", "9142"))
CLUSTER_KEYSPACE = TEST_KEYSPACE + "_rf3"


def cluster_settings(**overrides: Any) -> CassandraSettings:
    """Settings for the cluster tests' keyspace: RF 3, QUORUM, SERIAL."""
    values: dict[str, Any] = {
        "hosts": HOSTS, "port": PORT, "keyspace": CLUSTER_KEYSPACE,
        "replication_factor": 3, "consistency_level": "QUORUM",
        "serial_consistency_level": "SERIAL", "reconnect_max_delay": 2.0,
    }
    values.update(overrides)
    return CassandraSettings(**values)


def cluster_problem() -> str | None:
    """None if every node of the cluster is up and answers, else why not."""
    settings = cluster_settings(connect_timeout=5.0)
    try:
        connection = connect(settings)
    except Exception as error:
        return f"{error} (start it with: {CLUSTER_SCRIPT} start)"
    try:
        hosts = connection.session.cluster.metadata.all_hosts()
        up = sorted(host.address for host in hosts if host.is_up)
        if len(up) < len(HOSTS):
            return f"only {up} of {HOSTS} are up (start them with: {CLUSTER_SCRIPT} start)"
    finally:
        close(connection)
    return None


def require_cluster() -> None:
    problem = cluster_problem()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"CI needs the three-node Cassandra cluster: {problem}", pytrace=False)
    pytest.skip(f"no three-node Cassandra cluster: {problem}")


def cluster_script(*arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(CLUSTER_SCRIPT), *arguments], capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL, check=False,
    )
