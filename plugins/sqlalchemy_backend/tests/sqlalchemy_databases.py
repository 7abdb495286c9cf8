"""The databases the backend's tests run on.

PostgreSQL and MariaDB are real servers (``scripts/servers/postgres.sh`` and ``mariadb.sh``
start them); their URLs come from ``EVENTSTORE_TEST_POSTGRES_URI`` and
``EVENTSTORE_TEST_MYSQL_URI``. A server that does not answer fails the tests: never a skip.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

POSTGRES_URI = os.environ.get(
    "EVENTSTORE_TEST_POSTGRES_URI",
    "postgresql+psycopg://eventstore:eventstore@127.0.0.1:5432/eventstore_test",
)
MYSQL_URI = os.environ.get(
    "EVENTSTORE_TEST_MYSQL_URI",
    "mysql+pymysql://eventstore:eventstore@127.0.0.1:3306/eventstore_test",
)

_tmp = tempfile.TemporaryDirectory(prefix="eventstore-sqlalchemy-tests-")


def sqlite_file_uri(name: str = "tests") -> str:
    """A SQLite file in a temporary folder that lives as long as the test run."""
    return f"sqlite:///{Path(_tmp.name) / name}.sqlite3"


#: name -> URI of every database a test parametrized over "any database" runs on.
SERVER_URIS = {"postgresql": POSTGRES_URI, "mariadb": MYSQL_URI}


def all_uris() -> dict[str, str]:
    return {"sqlite_file": sqlite_file_uri(), "sqlite_memory": "sqlite:///:memory:", **SERVER_URIS}
