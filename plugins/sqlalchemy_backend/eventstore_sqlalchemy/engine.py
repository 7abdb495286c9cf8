"""Creating a SQLAlchemy engine that suits an event store, whatever the database."""

from __future__ import annotations

import os
import re
from typing import Any

from eventstore_core.exceptions import ConfigurationError
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from . import databases

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


def create_engine_for(url: URL, settings: Any) -> Engine:
    """An engine for ``url``, set up by its database (``databases``); ``settings`` an
    ``SQLAlchemySettings``."""
    backend = url.get_backend_name()
    database = databases.database_class(backend)
    kwargs = database.engine_arguments(url, settings, dict(settings.engine_kwargs))
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
    database.configure_engine(engine, settings)
    _new_connections_after_fork(engine)
    return engine


def _new_connections_after_fork(engine: Engine) -> None:
    """A forked child opens its own connections instead of sharing its parent's: the pool
    notes each connection's process, and one checked out in another process is replaced,
    never touched (SQLAlchemy's documented pool events recipe; no fork handler)."""

    @event.listens_for(engine, "connect")
    def on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info["pid"] = os.getpid()

    @event.listens_for(engine, "checkout")
    def on_checkout(_dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.info.get("pid", os.getpid()) != os.getpid():
            record.dbapi_connection = proxy.dbapi_connection = None
            raise sa_exc.DisconnectionError(
                f"connection made in process {record.info['pid']}, used in {os.getpid()}"
            )
