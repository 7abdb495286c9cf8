"""Translate the database drivers' errors into the project's exceptions.

SQLAlchemy wraps driver errors (``sqlalchemy.exc.DBAPIError`` with the driver's error as
``.orig``), choosing the wrapper's class (``IntegrityError``, ``OperationalError``, ...) by
the driver's own exception classes; where this backend runs a statement on the driver's
connection itself, it wraps the driver's error the same way (``wrap``), with the dialect that
knows the driver's module. Errors are then recognised by those classes and by the codes each
driver documents, without importing any optional driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventstore_core.exceptions import (
    ConcurrencyError,
    DataIntegrityError,
    DatastoreError,
    EventStoreError,
    InvalidEventError,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

# sqlite3 primary result codes, PostgreSQL SQLSTATEs, MySQL/MariaDB error numbers.
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_SQLITE_DUPLICATE = ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE")
_PG_UNIQUE_VIOLATION = "23505"
_PG_RETRY = ("40001", "40P01")  # serialization failure, deadlock detected
_MYSQL_DUPLICATE = 1062
_MYSQL_RETRY = (1205, 1213)  # lock wait timeout, deadlock


def wrap(error: BaseException, dialect: Any) -> BaseException:
    """A driver's error as SQLAlchemy wraps it (the class by the driver's exception class,
    through ``dialect``'s DB-API module); other errors as they are."""
    dbapi = getattr(dialect, "loaded_dbapi", None)
    if dbapi is None or not isinstance(error, dbapi.Error):
        return error
    wrapped: BaseException = sa_exc.DBAPIError.instance(
        None, None, error, dbapi.Error, dialect=dialect  # type: ignore[arg-type]
    )
    return wrapped


def driver_error(error: BaseException) -> BaseException:
    """The driver's own exception inside a SQLAlchemy wrapper (or the error itself)."""
    orig = getattr(error, "orig", None)
    return orig if isinstance(orig, BaseException) else error


def _mysql_errno(error: BaseException) -> int | None:
    args = getattr(error, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def is_duplicate_key(error: BaseException) -> bool:
    """Whether an insert failed because its primary key (sequence, position) is taken."""
    orig = driver_error(error)
    if getattr(orig, "sqlite_errorname", None) in _SQLITE_DUPLICATE:
        return True
    if getattr(orig, "sqlstate", None) == _PG_UNIQUE_VIOLATION:
        return True
    if getattr(orig, "pgcode", None) == _PG_UNIQUE_VIOLATION:  # psycopg2
        return True
    if isinstance(error, sa_exc.IntegrityError) and _mysql_errno(orig) == _MYSQL_DUPLICATE:
        return True
    return False


def is_transient(error: BaseException) -> bool:
    """Whether the whole transaction may simply be run again: busy, deadlocked, serialization."""
    orig = driver_error(error)
    if is_sqlite_busy(orig):
        return True
    if getattr(orig, "sqlstate", None) in _PG_RETRY or getattr(orig, "pgcode", None) in _PG_RETRY:
        return True
    return isinstance(error, sa_exc.OperationalError) and _mysql_errno(orig) in _MYSQL_RETRY


def is_sqlite_busy(error: BaseException) -> bool:
    code = getattr(driver_error(error), "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)


def is_missing_table(error: BaseException) -> bool:
    orig = driver_error(error)
    if getattr(orig, "sqlstate", None) == "42P01":  # undefined_table
        return True
    if _mysql_errno(orig) == 1146:  # ER_NO_SUCH_TABLE
        return True
    return "no such table" in str(orig)


def is_missing_global_position(error: BaseException) -> bool:
    """Whether a statement failed because the table has no ``global_position`` column."""
    orig = driver_error(error)
    text = str(orig)
    if "global_position" not in text:
        return False
    return (
        getattr(orig, "sqlstate", None) == "42703"  # undefined_column
        or _mysql_errno(orig) == 1054  # ER_BAD_FIELD_ERROR
        or "has no column named" in text
        or "no such column" in text
    )


def is_disconnect(error: BaseException) -> bool:
    """Whether the database cannot be reached (or the connection was lost)."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)


def safe_url(url: URL | str | None) -> str:
    """The database URL as text, with any password hidden."""
    if url is None:
        return "<no database URL>"
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    return url


def describe_positions(items: Sequence[Any], limit: int = 10) -> str:
    """Which positions of which sequences ``items`` are at, for error messages."""
    by_sequence: dict[Any, list[Any]] = {}
    for item in items:
        by_sequence.setdefault(item[0], []).append(item[1])
    parts = []
    for sequence_id, positions in by_sequence.items():
        if len(positions) == 1:
            where = f"position {positions[0]!r}"
        elif len(positions) <= limit:
            where = "positions " + ", ".join(repr(p) for p in positions)
        else:
            where = f"{len(positions)} positions from {min(positions)!r} to {max(positions)!r}"
        parts.append(f"{where} of sequence {sequence_id}")
    return "; ".join(parts)


def _driver_message(error: BaseException) -> str:
    orig = driver_error(error)
    return " ".join(str(orig).split()) or type(orig).__name__


def translate_write_error(
    error: BaseException, items: Sequence[Any], url: URL | None
) -> EventStoreError:
    """The project's exception for a failed append of ``items``."""
    if isinstance(error, EventStoreError):
        return error
    where = describe_positions(items)
    if is_duplicate_key(error) and "global_position" in _driver_message(error):
        return DataIntegrityError(
            f"{where}: the global positions given to this append are taken already (MariaDB: "
            f"the table's row in global_position_counters is behind the table, was it "
            f"changed?; PostgreSQL: the table holds positions above this transaction's, "
            f"written by hand or before version 0.2); nothing of this append was written "
            f"[{_driver_message(error)}]"
        )
    if is_duplicate_key(error):
        return ConcurrencyError(
            f"{where}: already taken (another writer got there first); nothing of this "
            f"append was written [{_driver_message(error)}]"
        )
    if isinstance(error, sa_exc.DataError | OverflowError):
        return InvalidEventError(f"{where}: cannot be stored: {_driver_message(error)}")
    return translate_error(error, f"append of {where}", url)


def translate_error(error: BaseException, what: str, url: URL | str | None) -> EventStoreError:
    """The project's exception for any other failure of ``what`` on the database at ``url``."""
    if isinstance(error, EventStoreError):
        return error
    message = _driver_message(error)
    if is_sqlite_busy(error):
        # Never "database is locked": say what happened and what to change.
        message = (
            "another connection kept the database busy for longer than the busy timeout "
            "(raise sqlite_busy_timeout, or look for a transaction left open)"
        )
    elif is_transient(error):
        message += " (still deadlocked after retrying)"
    elif is_missing_table(error):
        message += " (create the table with SQLAlchemyDatastore.setup_tables())"
    elif is_missing_global_position(error):
        message += (
            " (the table was made by an earlier version, without the global_position column"
            " of the global order: create it again with SQLAlchemyDatastore.setup_tables(),"
            " or add the column, BIGINT NOT NULL with a unique index)"
        )
    elif is_disconnect(error):
        message += " (is the database server running and reachable?)"
    return DatastoreError(f"{what} failed on {safe_url(url)}: {message}")
