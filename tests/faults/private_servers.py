"""Private database servers for the fault suite, started and killed by the suite alone.

The shared servers (PostgreSQL on 5432, MariaDB on 3306, Cassandra) are used by every other
test and by other people: a test that kills or freezes a server must never touch them. So the
fault suite starts its own PostgreSQL and MariaDB from the installed binaries, in a temporary
folder, listening on 127.0.0.2 on a free port, with durability at the servers' defaults
(``fsync``, ``synchronous_commit``, ``innodb_flush_log_at_trx_commit=1``).

``kill()`` is a SIGKILL of the server and every process it started, at once (as a power cut
would), ``freeze()`` a SIGSTOP of all of them.
PostgreSQL refuses to run as root: as root, both servers run as their system users
(``postgres``, ``mysql``), which own the temporary folder.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

#: Where the servers listen: not 127.0.0.1, where the shared servers are.
HOST = "127.0.0.2"
#: Ports a private server must never take (Cassandra's, and the shared SQL servers').
RESERVED_PORTS = frozenset({9042, 9142, 7000, 7001, 7199, 5432, 3306})
#: Seconds a server has to accept connections after it is started.
START_SECONDS = 60.0
#: The user and password of the private servers, and their database.
USER = PASSWORD = "eventstore"
DATABASE = "eventstore_faults"

POSTGRES_BIN = Path(os.environ.get("EVENTSTORE_FAULTS_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))


class ServerUnavailable(Exception):
    """A private server could not be set up or started (the message says why)."""


def free_port() -> int:
    """A TCP port free on ``HOST`` now, outside ``RESERVED_PORTS``."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            port = int(probe.getsockname()[1])
        if port not in RESERVED_PORTS:
            return port
    raise ServerUnavailable(f"no free port on {HOST}")


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class PrivateServer:
    """A database server of this suite's own: ``start()``, ``kill()``, ``freeze()``, ``thaw()``,
    ``stop()``; ``uri`` is its SQLAlchemy URL for ``DATABASE``."""

    name = "server"
    system_user = "nobody"

    def __init__(self) -> None:
        self.user = self.system_user if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix=f"eventstore-faults-{self.name}-"))
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.root / "server.log"
        self.frozen = False
        atexit.register(self.stop)

    # -- what each server does differently ---------------------------------------------------
    def initialise(self) -> None:
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def answers(self) -> bool:
        raise NotImplementedError

    def prepare(self) -> None:
        """Create the user and database (once, after the first start)."""

    @property
    def uri(self) -> str:
        return self.uri_via(self.port)

    def uri_via(self, port: int) -> str:
        """The URI of the database through another port (a proxy in front of the server)."""
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------------
    def run(self, args: list[str], timeout: float = 120) -> None:
        """Run a set-up program as the server's user; ``ServerUnavailable`` if it fails."""
        try:
            done = subprocess.run(
                args, user=self.user, cwd=self.root, capture_output=True, timeout=timeout,
                stdin=subprocess.DEVNULL, check=False, env=self.environment(),
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise ServerUnavailable(f"{self.name}: {args[0]} could not run: {error}") from error
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
            raise ServerUnavailable(
                f"{self.name}: {' '.join(args)} exited with {done.returncode}: {output}"
            )

    def environment(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                "LC_ALL": "C.UTF-8", "HOME": str(self.root)}

    def setup(self) -> PrivateServer:
        self.initialise()
        self.start()
        self.prepare()
        return self

    def start(self) -> None:
        """Start the server (again, after a kill: it recovers) and wait until it answers."""
        if self.process is not None and self.process.poll() is None:
            raise ServerUnavailable(f"{self.name} is running already")
        with open(self.log, "ab") as log:
            try:
                self.process = subprocess.Popen(
                    self.command(), user=self.user, cwd=self.root, stdout=log,
                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True, env=self.environment(),
                )
            except OSError as error:
                raise ServerUnavailable(f"{self.name} could not start: {error}") from error
        deadline = time.monotonic() + START_SECONDS
        while not self.answers():
            if self.process.poll() is not None:
                raise ServerUnavailable(
                    f"{self.name} exited with {self.process.returncode} on start:\n"
                    f"{_log_tail(self.log)}"
                )
            if time.monotonic() > deadline:
                self.kill()
                raise ServerUnavailable(
                    f"{self.name} did not answer within {START_SECONDS:.0f} s:\n"
                    f"{_log_tail(self.log)}"
                )
            time.sleep(0.1)

    def pids(self) -> list[int]:
        """The server's process and all its descendants (PostgreSQL's backends each make
        themselves a process group leader, so a signal to the server's group misses them)."""
        if self.process is None:
            return []
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        found = [self.process.pid]
        for pid in found:
            found += [child for child, parent in parents.items() if parent == pid]
        return found

    def _signal_all(self, number: signal.Signals) -> None:
        if self.process is None:
            return
        # Stopped first, the server forks no new process while its children are signalled.
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGSTOP)
        pids = self.pids()
        for pid in reversed(pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, number)
        if number != signal.SIGSTOP:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGCONT if number == signal.SIGCONT else number)

    def kill(self) -> None:
        """SIGKILL the server and all its processes, and wait until every one is gone."""
        if self.process is None:
            return
        pids = self.pids()
        self._signal_all(signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(map(_alive, pids)):
            time.sleep(0.02)
        self.frozen = False

    def freeze(self) -> None:
        """SIGSTOP every process of the server: it accepts nothing and answers nothing."""
        self._signal_all(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        self._signal_all(signal.SIGCONT)
        self.frozen = False

    def stop(self) -> None:
        """Kill the server and remove its folder (safe to call more than once)."""
        if self.frozen:
            self.thaw()
        self.kill()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)


class PrivatePostgres(PrivateServer):
    """PostgreSQL 15 from ``POSTGRES_BIN``; trust authentication, on ``HOST`` only."""

    name = "postgresql"
    system_user = "postgres"

    @property
    def data(self) -> Path:
        return self.root / "data"

    def initialise(self) -> None:
        initdb = POSTGRES_BIN / "initdb"
        if not initdb.exists():
            raise ServerUnavailable(f"no PostgreSQL at {POSTGRES_BIN} (no {initdb})")
        # --no-sync only makes initdb itself faster; the server runs with fsync on.
        self.run([str(initdb), "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync"])

    def command(self) -> list[str]:
        settings = {
            "listen_addresses": HOST, "port": str(self.port),
            "unix_socket_directories": str(self.root), "fsync": "on",
            "synchronous_commit": "on", "full_page_writes": "on", "max_connections": "60",
            "shared_buffers": "32MB", "logging_collector": "off",
        }
        args = [str(POSTGRES_BIN / "postgres"), "-D", str(self.data)]
        for name, value in settings.items():
            args += ["-c", f"{name}={value}"]
        return args

    def connect(self, database: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(host=HOST, port=self.port, user=USER, dbname=database,
                               connect_timeout=2, autocommit=True)

    def answers(self) -> bool:
        try:
            self.connect().close()
        except Exception:
            return False
        return True

    def prepare(self) -> None:
        with self.connect() as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")

    def uri_via(self, port: int) -> str:
        return f"postgresql+psycopg://{USER}@{HOST}:{port}/{DATABASE}"


class PrivateMariaDB(PrivateServer):
    """MariaDB from ``mariadb-install-db`` and ``mariadbd --no-defaults``, on ``HOST`` only."""

    name = "mariadb"
    system_user = "mysql"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_path(self) -> Path:
        return self.root / "mysqld.sock"

    def initialise(self) -> None:
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        if install is None or shutil.which("mariadbd", path="/usr/sbin:/usr/bin") is None:
            raise ServerUnavailable("no MariaDB here (mariadb-install-db and mariadbd)")
        self.run([install, "--no-defaults", f"--datadir={self.data}",
                  "--auth-root-authentication-method=normal", "--skip-test-db"])

    def command(self) -> list[str]:
        mariadbd = shutil.which("mariadbd", path="/usr/sbin:/usr/bin") or "mariadbd"
        return [
            mariadbd, "--no-defaults", f"--datadir={self.data}", f"--bind-address={HOST}",
            f"--port={self.port}", f"--socket={self.socket_path}",
            f"--pid-file={self.root / 'mysqld.pid'}", "--skip-name-resolve", "--skip-log-bin",
            "--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=1",
            "--max-connections=60",
        ]

    def answers(self) -> bool:
        import pymysql

        try:
            pymysql.connect(unix_socket=str(self.socket_path), user="root",
                            connect_timeout=2).close()
        except Exception:
            return False
        return True

    def prepare(self) -> None:
        import pymysql

        connection = pymysql.connect(unix_socket=str(self.socket_path), user="root",
                                     autocommit=True)
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {DATABASE}")
                cursor.execute(f"CREATE USER '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'")
                cursor.execute(f"GRANT ALL ON {DATABASE}.* TO '{USER}'@'%'")
        finally:
            connection.close()

    def uri_via(self, port: int) -> str:
        return f"mysql+pymysql://{USER}:{PASSWORD}@{HOST}:{port}/{DATABASE}"
