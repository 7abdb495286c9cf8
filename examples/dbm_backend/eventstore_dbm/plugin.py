"""What eventstore loads (entry point ``dbm``): names and options only, nothing heavy.

The backend module is imported inside the factory, so that a program using another backend
pays nothing for this one being installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import eventstore_core
from eventstore_core import Option
from eventstore_core.hookspecs import BackendRegistrar
from eventstore_core.urls import StoreURL

if TYPE_CHECKING:
    from .strategy import DbmActiveRecordStrategy

DEFAULT_PATH = "eventstore.dbm"
OPTIONS = (
    Option("path", "the dbm file of the store (a .lock file goes beside it)",
           default=DEFAULT_PATH),
)


def create_strategy(path: str = DEFAULT_PATH) -> DbmActiveRecordStrategy:
    """The factory: one keyword parameter per option, with the same defaults."""
    from .strategy import DbmActiveRecordStrategy

    return DbmActiveRecordStrategy(path)


def options_from_url(url: StoreURL) -> dict[str, Any]:
    """``dbm:///relative/file`` or ``dbm:////absolute/file``: the path is the file."""
    return {"path": url.path} if url.path else {}


@eventstore_core.hookimpl
def register_backends(register: BackendRegistrar) -> None:
    register("dbm", create_strategy, options=OPTIONS, url_schemes=("dbm",),
             options_from_url=options_from_url)
