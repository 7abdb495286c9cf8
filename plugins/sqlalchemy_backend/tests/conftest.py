from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy_databases import all_uris

from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy


@pytest.fixture(params=list(all_uris()))
def any_uri(request: pytest.FixtureRequest) -> str:
    """Each database in turn: SQLite file, SQLite in memory, PostgreSQL, MariaDB."""
    return all_uris()[request.param]


@pytest.fixture
def strategy(any_uri: str) -> Iterator[SQLAlchemyActiveRecordStrategy[Any]]:
    """A ready strategy (integer sequenced items) on each database in turn."""
    made: SQLAlchemyActiveRecordStrategy[Any] = SQLAlchemyActiveRecordStrategy(uri=any_uri)
    yield made
    made.close()
