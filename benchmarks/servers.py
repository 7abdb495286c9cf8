"""Where the database servers are (from the environment of scripts/servers/env.sh)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str
    ours_db: str
    theirs_db: str
    raw_db: str

    @property
    def ours_uri(self) -> str:
        return (
            f"postgresql+psycopg://{self.user}:{self.password}@{self.host}:{self.port}/"
            f"{self.ours_db}"
        )

    def conninfo(self, dbname: str) -> str:
        return (
            f"host={self.host} port={self.port} user={self.user} password={self.password} "
            f"dbname={dbname} connect_timeout=5"
        )


def postgres() -> Postgres:
    uri = os.environ.get(
        "EVENTSTORE_BENCH_POSTGRES_URI",
        "postgresql+psycopg://eventstore:eventstore@127.0.0.1:5432/eventstore_bench",
    )
    url = make_url(uri)
    return Postgres(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "eventstore",
        password=url.password or "",
        ours_db=url.database or "eventstore_bench",
        theirs_db=os.environ.get("EVENTSOURCING_BENCH_POSTGRES_DBNAME", "eventsourcing_bench"),
        raw_db=os.environ.get("RAW_BENCH_POSTGRES_DBNAME", "raw_bench"),
    )


def cassandra_hosts() -> list[str]:
    hosts = os.environ.get("CASSANDRA_HOSTS", "127.0.0.1")
    return [h.strip() for h in hosts.split(",") if h.strip()]


def cassandra_port() -> int:
    return int(os.environ.get("CASSANDRA_PORT", "9042"))


def port_open(host: str, port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def postgres_problem() -> str | None:
    """None when PostgreSQL answers with the benchmark databases, else why not."""
    pg = postgres()
    if not port_open(pg.host, pg.port):
        return f"nothing listens on {pg.host}:{pg.port} (start it: scripts/servers/postgres.sh)"
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    for db in (pg.ours_db, pg.theirs_db):
        try:
            psycopg.connect(pg.conninfo(db)).close()
        except psycopg.Error as error:
            return f"cannot connect to database {db}: {error}".strip()
    return None


def ensure_raw_database() -> str:
    """The raw driver's own database (created once); falls back to the ours database."""
    import psycopg

    pg = postgres()
    try:
        psycopg.connect(pg.conninfo(pg.raw_db)).close()
        return pg.raw_db
    except psycopg.Error:
        pass
    try:
        with psycopg.connect(pg.conninfo(pg.ours_db), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{pg.raw_db}"')
        return pg.raw_db
    except psycopg.Error:
        return pg.ours_db


def cassandra_problem() -> str | None:
    hosts = cassandra_hosts()
    if not any(port_open(h, cassandra_port()) for h in hosts):
        return f"nothing listens on {hosts}:{cassandra_port()} (scripts/servers/cassandra.sh start)"
    return None
