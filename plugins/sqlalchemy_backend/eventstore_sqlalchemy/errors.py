"""Translate the database drivers' errors into the project's exceptions.

SQLAlchemy wraps driver errors (``sqlalchemy.exc.DBAPIError`` with the driver's error as
``.orig``), choosing the wrapper's class (``IntegrityError``, ``OperationalError``, ...) by
the driver's own exception classes; where this backend runs a statement on the driver's
connection itself, it wraps the driver's error the same way (``wrap``), with the dialect that
knows the driver's module. What a driver's error means (a taken key, busy, deadlocked, a
missing table) is for its database to say (``databases``): by the driver's exception classes
and the codes each database documents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventstore_core.exceptions import (
    ConcurrencyError,
    DataIntegrityError,
    DatastoreError,
    EventStoreError,
    InvalidEventError,
    OutcomeUnknownError,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from .records import GLOBAL_POSITION

Database = Any  # databases.Database (imported lazily: it imports this module's users)


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


def transient_on(database: Database | None) -> Callable[[BaseException], bool]:
    """Whether the whole transaction may simply be run again on ``database``."""
    if database is None:
        return lambda error: False
    check = database.is_transient
    return lambda error: check(driver_error(error))


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
    error: BaseException, items: Sequence[Any], url: URL | None, database: Database | None
) -> EventStoreError:
    """The project's exception for a failed append of ``items``."""
    where = describe_positions(items)
    if isinstance(error, OutcomeUnknownError):
        return OutcomeUnknownError(f"append of {where}: {error}")
    if isinstance(error, EventStoreError):
        return error
    duplicate = database is not None and database.is_duplicate_key(driver_error(error))
    if duplicate and GLOBAL_POSITION in _driver_message(error):
        return DataIntegrityError(
            f"{where}: the global positions given to this append are taken already (MariaDB: "
            f"the table's row in global_position_counters is behind the table, was it "
            f"changed?; PostgreSQL: the table holds positions above this transaction's, "
            f"written by hand or before version 0.2); nothing of this append was written "
            f"[{_driver_message(error)}]"
        )
    if duplicate:
        return ConcurrencyError(
            f"{where}: already taken (another writer got there first); nothing of this "
            f"append was written [{_driver_message(error)}]"
        )
    if isinstance(error, sa_exc.DataError | OverflowError):
        return InvalidEventError(f"{where}: cannot be stored: {_driver_message(error)}")
    return translate_error(error, f"append of {where}", url, database)


def translate_error(
    error: BaseException, what: str, url: URL | str | None, database: Database | None
) -> EventStoreError:
    """The project's exception for any other failure of ``what`` on the database at ``url``."""
    if isinstance(error, EventStoreError):
        return error
    message = _driver_message(error)
    orig = driver_error(error)
    if database is not None and database.is_busy(orig):
        # Never "database is locked": say what happened and what to change.
        message = (
            "another connection kept the database busy for longer than the busy timeout "
            "(raise sqlite_busy_timeout, or look for a transaction left open)"
        )
    elif database is not None and database.is_transient(orig):
        message += " (still deadlocked after retrying)"
    elif database is not None and database.is_missing_table(orig):
        message += " (create the table with SQLAlchemyDatastore.setup_tables())"
    elif database is not None and database.is_missing_column(orig) and (
        GLOBAL_POSITION in str(orig)
    ):
        message += (
            " (the table was made by an earlier version, without the global_position column"
            " of the global order: create it again with SQLAlchemyDatastore.setup_tables(),"
            " or add the column, BIGINT NOT NULL with a unique index)"
        )
    elif is_disconnect(error):
        message += " (is the database server running and reachable?)"
    return DatastoreError(f"{what} failed on {safe_url(url)}: {message}")
