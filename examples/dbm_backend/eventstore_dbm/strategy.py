"""The backend: sequenced items in a ``dbm`` file, one key per sequence.

Each sequence is one key (its UUID) whose value is the JSON of ``{position: [topic, data]}``.
Every call opens the file under an exclusive lock of ``<path>.lock`` and closes it before it
returns: writers in other threads and processes wait their turn, and nothing is held open
across ``fork()``. (Simple, not fast: a sequence is read and rewritten whole on each append.)
A list of items spanning several sequences would be several dbm writes, which a crash could
split, so this backend does not declare ``transactions_across_sequences`` and refuses such
lists; the base class checks every argument before these methods see them.
"""

from __future__ import annotations

import dbm
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventstore_core import (
    AbstractActiveRecordStrategy,
    Capabilities,
    ConcurrencyError,
    DataIntegrityError,
    DatastoreError,
    InvalidEventError,
    SequencedItem,
)


class DbmActiveRecordStrategy(AbstractActiveRecordStrategy[SequencedItem]):
    capabilities = Capabilities(transactions_across_sequences=False,
                                shared_between_processes=True)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(sequenced_item_class=SequencedItem)
        self.path = os.fspath(path)
        with self._opened():  # create the file now: a bad path fails here, clearly
            pass

    @contextmanager
    def _opened(self) -> Iterator[Any]:
        """The open database, under the exclusive lock; closed (and unlocked) after."""
        try:
            with open(self.path + ".lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                with dbm.open(self.path, "c") as db:
                    yield db
        except OSError as error:
            raise DatastoreError(f"dbm store {self.path}: {error}") from error

    def _load(self, db: Any, sequence_id: UUID) -> dict[str, list[str]]:
        raw = db.get(str(sequence_id))
        try:
            return {} if raw is None else dict(json.loads(raw))
        except ValueError as error:
            raise DataIntegrityError(
                f"sequence {sequence_id} in {self.path} is not valid JSON") from error

    def _append(self, items: list[SequencedItem]) -> None:
        sequence_ids = {item.sequence_id for item in items}
        if len(sequence_ids) > 1:
            raise InvalidEventError(
                "this backend writes one sequence per append (capabilities."
                "transactions_across_sequences is False); got items of "
                + ", ".join(sorted(map(str, sequence_ids))))
        (sequence_id,) = sequence_ids
        with self._opened() as db:
            stored = self._load(db, sequence_id)
            taken = [item.position for item in items if str(item.position) in stored]
            if taken:
                raise ConcurrencyError(
                    f"position(s) {', '.join(map(str, taken))} of sequence {sequence_id} "
                    f"already taken (nothing of this append was written)")
            stored.update({str(item.position): [item.topic, item.data] for item in items})
            db[str(sequence_id)] = json.dumps(stored)

    def _get_items(self, sequence_id: UUID, gt: Any, gte: Any, lt: Any, lte: Any,
                   limit: int | None, is_ascending: bool) -> list[SequencedItem]:
        with self._opened() as db:
            stored = self._load(db, sequence_id)
        positions = sorted(
            p for p in map(int, stored)
            if (gt is None or p > gt) and (gte is None or p >= gte)
            and (lt is None or p < lt) and (lte is None or p <= lte)
        )
        if not is_ascending:
            positions.reverse()
        return [SequencedItem(sequence_id, p, *stored[str(p)]) for p in positions[:limit]]

    def _iter_pages(self, page_size: int) -> Iterator[list[SequencedItem]]:
        with self._opened() as db:
            keys = sorted(key.decode() for key in db.keys())
        page: list[SequencedItem] = []
        for key in keys:
            page.extend(self._get_items(UUID(key), None, None, None, None, None, True))
            while len(page) >= page_size:
                yield page[:page_size]
                page = page[page_size:]
        if page:
            yield page
