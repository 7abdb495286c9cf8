"""A database password never appears in a message, a repr or a log line (SPEC, issue 15)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from eventstore_core.exceptions import ConfigurationError, DatastoreError
from sqlalchemy_databases import POSTGRES_URI

from eventstore_sqlalchemy import (
    SQLAlchemyActiveRecordStrategy,
    SQLAlchemyDatastore,
    SQLAlchemySettings,
)

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    "uri",
    [
        f"postgresql+psycopg://eventstore:{SECRET}@127.0.0.1:notaport/db",
        f"postgresql+psycopg://eventstore:{SECRET}@[::1/db",
        f"eventstore:{SECRET}@127.0.0.1/db",  # no scheme
    ],
)
def test_an_unparsable_uri_is_named_without_its_password(uri: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        SQLAlchemySettings(uri)
    message = str(raised.value)
    assert SECRET not in message and "***" in message
    assert raised.value.__suppress_context__  # the parser's own error (with the URI) not shown


def test_a_failing_database_is_named_without_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Wrong password and a port nobody listens on: the errors, reprs and logs."""
    caplog.set_level(logging.DEBUG)
    good = SQLAlchemySettings(POSTGRES_URI).url
    for uri in (
        good.set(password=SECRET),  # the server refuses it
        good.set(password=SECRET, port=1),  # nothing listens
    ):
        settings = SQLAlchemySettings(uri.render_as_string(hide_password=False))
        datastore = SQLAlchemyDatastore(settings)
        shown: list[Any] = [repr(settings), repr(datastore), str(datastore.engine.url)]
        with pytest.raises(DatastoreError) as raised:
            datastore.setup_tables()
        shown.append(str(raised.value))
        with pytest.raises(DatastoreError) as raised:
            SQLAlchemyActiveRecordStrategy(settings=settings)
        shown.append(str(raised.value))
        datastore.drop_connection()
        assert all(SECRET not in text for text in shown), shown
    assert SECRET not in caplog.text
