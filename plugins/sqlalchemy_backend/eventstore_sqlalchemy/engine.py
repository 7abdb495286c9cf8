"""Creating a SQLAlchemy engine that suits an event store, whatever the database."""

from __future__ import annotations

import os
import re
import weakref
from typing import Any

from eventstore_core.exceptions import ConfigurationError
from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from . import sqlite

#: Seconds to wait for a database server to answer before ``DatastoreError``.
CONNECT_TIMEOUT = 10

#: The extra to pip-install for each database's driver.
DRIVER_EXTRAS = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}


def parse_url(uri: str | URL) -> URL:
    """The URL object of a database URI; ``ConfigurationError`` if it is not one (naming
    it with any password hidden)."""
    try:
        return make_url(uri)
    except (sa_exc.ArgumentError, ValueError) as error:
        shown = hide_password(str(uri))
        raise ConfigurationError(
            f"uri={shown!r} is not a database URL such as 'sqlite:///eventstore.sqlite3' or "
            f"'postgresql+psycopg://user:password@host:5432/database': "
            f"{hide_password(str(error))}"
        ) from None


#: ``scheme://user:password@`` (or ``user:password@`` without a scheme): what comes between
#: the user's colon and the last ``@`` is a password, whatever else could not be parsed.
_CREDENTIALS = re.compile(r"(://[^:/?#@\s]*:|^[^:/?#@\s]*:)[^\s]*@")


def hide_password(text: str) -> str:
    """``text`` with the password of any URL in it replaced by ``***``."""
    return _CREDENTIALS.sub(r"\1***@", text)


def create_engine_for(
    url: URL, sqlite_options: sqlite.SQLiteOptions, engine_kwargs: dict[str, Any]
) -> Engine:
    """An engine for ``url``: SQLite set up for concurrent writers, servers with a timeout."""
    backend = url.get_backend_name()
    kwargs = dict(engine_kwargs)
    if backend == "sqlite":
        kwargs = sqlite.engine_arguments(url, sqlite_options, kwargs)
    elif backend in ("postgresql", "mysql", "mariadb"):
        connect_args = dict(kwargs.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT)
        kwargs["connect_args"] = connect_args
    try:
        engine = create_engine(url, **kwargs)
    except (sa_exc.NoSuchModuleError, ModuleNotFoundError) as error:
        extra = DRIVER_EXTRAS.get(backend)
        fix = f"pip install 'eventstore-sqlalchemy[{extra}]'" if extra else "install its driver"
        raise ConfigurationError(
            f"no driver for {url.drivername!r} (from uri={url.render_as_string()!r}): {fix}"
        ) from error
    except (sa_exc.ArgumentError, TypeError) as error:
        raise ConfigurationError(
            f"cannot create an engine for {url.render_as_string()!r}: {error}"
        ) from error
    if backend == "sqlite":
        sqlite.configure_engine(engine, sqlite_options)
    _forget_connections_after_fork(engine)
    return engine


#: The engines made here: a forked child makes its own connections instead of its parent's.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
_FORK_HANDLER: list[bool] = []


def _forget_connections_after_fork(engine: Engine) -> None:
    """A forked child process opens its own connections instead of sharing its parent's.

    This is SQLAlchemy's documented advice for multiprocessing (``dispose(close=False)``);
    one fork handler for the process, installed with the first engine.
    """
    _ENGINES.add(engine)
    if not _FORK_HANDLER:
        _FORK_HANDLER.append(True)
        os.register_at_fork(after_in_child=_after_fork_in_child)


def _after_fork_in_child() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)
