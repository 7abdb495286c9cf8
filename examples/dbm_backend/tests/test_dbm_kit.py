"""The template's proof: eventstore's backend kit, run on the dbm backend.

Run it with ``pytest`` after ``pip install .`` of this folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from eventstore_dbm.strategy import DbmActiveRecordStrategy

from eventstore_core.testing import BackendTestCase

#: One store for every test of the run, in this process and in the processes the kit spawns
#: (they import this module afresh, but inherit the environment).
STORE = os.environ.setdefault(
    "EVENTSTORE_DBM_TEST_STORE", str(Path(tempfile.mkdtemp(prefix="eventstore-dbm-")) / "kit"))


class TestDbmBackend(BackendTestCase):
    backend_name = "dbm"  # proves the entry point, the options and the environment too
    config_url = f"dbm:///{STORE}"

    def create_strategy(self, record: str = "integer") -> DbmActiveRecordStrategy:
        return DbmActiveRecordStrategy(STORE)
