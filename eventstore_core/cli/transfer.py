"""Moving items, in batches: store to store (``copy``), store to file (``export``), file to
store (``import``). One loop does all three.

Resuming. After each batch is written, a state file records how far the source was read
(the global position where the source has a global order, else the number of items read).
Run the same command again and it reads on from there. The first batch written after a
(re)start is checked against the target, one query per sequence in it, and any item the
target already holds is skipped; the check goes on batch after batch for as long as it
finds such items. So a batch that was written just before an interruption, but not yet
recorded, is neither duplicated nor missed, and re-running a finished copy writes nothing.

Items go as stored (ciphertext stays ciphertext), except that an export from a store opened
with a cipher key decrypts, and an import of a decrypted export into a store with a cipher
key encrypts.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from ..cipher import associated_data, takes_associated_data
from ..eventstore import EventStore
from ..exceptions import DataIntegrityError, EventStoreError
from . import jsonlines
from .stores import estimated_items, ordered_items

Item = Any


class Progress(Protocol):
    """How far long work is (``eventstore_core.cli.progress`` draws it)."""

    def start(self, total: int | None, done: int = 0) -> None: ...
    def advance(self, count: int) -> None: ...
    def finish(self) -> None: ...


class Interrupted(EventStoreError):
    """The user asked to stop (SIGINT); what was written is recorded in the state file."""


# -- sources ----------------------------------------------------------------------------
class StoreSource:
    """The items of a store, with the token to resume after each one."""

    def __init__(self, store: EventStore, name: str, decrypt: bool = False) -> None:
        self.store = store
        self.name = name
        self.decrypt = decrypt
        self.cipher = store.sequenced_item_mapper.cipher if decrypt else None
        self.ordered = store.active_record_strategy.capabilities.global_order

    def total(self) -> int:
        return estimated_items(self.store)

    def read(self, token: int, page_size: int) -> Iterator[tuple[int, Item]]:
        after = token if self.ordered else 0
        if self.ordered:
            # a feed that shows an item only after a delay (Cassandra's): wait it out, so that
            # everything appended before this read began is read
            time.sleep(self.store.active_record_strategy.capabilities.global_order_delay)
        count = 0
        for global_position, item in ordered_items(self.store, page_size, after=after):
            count += 1
            if not self.ordered and count <= token:
                continue  # resuming a store without a global order: read past what was copied
            if self.cipher is not None:
                item = decrypted(self.cipher, item)
            yield (global_position if global_position is not None else count), item


def row_binding(cipher: Any, item: Item) -> dict[str, bytes]:
    """The keyword that binds a ciphertext to the item's row, for a cipher that takes it
    (as the mapper binds it, see ``eventstore_core.cipher``)."""
    if not takes_associated_data(cipher):
        return {}
    return {"associated_data": associated_data(item[0], item[1], item[2])}


def decrypted(cipher: Any, item: Item) -> Item:
    try:
        plain = cipher.decrypt(item[3], **row_binding(cipher, item))
        return item._replace(**{item._fields[3]: plain})
    except EventStoreError as error:
        raise type(error)(f"sequence {item[0]} at position {item[1]}: {error}") from error


class FileSource:
    """The items of an export file; the token is the number of items read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        self._stream: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.reader = jsonlines.ExportReader(self._stream, str(path))
        self.decrypted = self.reader.header.get("data") == jsonlines.DECRYPTED

    def total(self) -> None:
        return None  # the count is on the last line; progress counts items without a total

    def read(self, token: int, page_size: int) -> Iterator[tuple[int, Item]]:
        count = token
        for item in self.reader.items(skip=token):
            count += 1
            yield count, item
        self.reader.check_finished()

    def close(self) -> None:
        self._stream.close()


# -- sinks ------------------------------------------------------------------------------
class StoreSink:
    """Appends batches to a store: the whole batch atomically where the backend writes
    several sequences in one transaction, else one append per sequence."""

    def __init__(self, store: EventStore, name: str, encrypt: bool = False) -> None:
        self.store = store
        self.name = name
        self.strategy = store.active_record_strategy
        self.cipher = store.sequenced_item_mapper.cipher if encrypt else None
        self.item_class = self.strategy.sequenced_item_class
        self.across = self.strategy.capabilities.transactions_across_sequences

    def present(self, batch: list[Item]) -> set[tuple[Any, Any]]:
        """The (sequence, position) keys of the batch the target holds already."""
        bounds: dict[Any, list[Any]] = {}
        for item in batch:
            low_high = bounds.setdefault(item[0], [item[1], item[1]])
            low_high[0] = min(low_high[0], item[1])
            low_high[1] = max(low_high[1], item[1])
        found: set[tuple[Any, Any]] = set()
        for sequence_id, (low, high) in bounds.items():
            for stored in self.strategy.get_items(sequence_id, gte=low, lte=high):
                found.add((stored[0], stored[1]))
        return found

    def write(self, batch: list[Item]) -> None:
        items = [self._convert(item) for item in batch]
        if self.across:
            self.strategy.append(items)
            return
        groups: dict[Any, list[Item]] = {}
        for item in items:
            groups.setdefault(item[0], []).append(item)
        for group in groups.values():
            self.strategy.append(group)

    def _convert(self, item: Item) -> Item:
        data = item[3] if self.cipher is None else self.cipher.encrypt(
            item[3], **row_binding(self.cipher, item))
        if type(item) is self.item_class and self.cipher is None:
            return item
        return tuple.__new__(self.item_class, (item[0], item[1], item[2], data))

    def finish(self, count: int) -> None:
        pass


class FileSink:
    """Writes an export file; ``finish`` adds the closing line and moves it into place, so
    an interrupted export leaves no file that looks complete."""

    def __init__(self, path: Path, source_name: str, decrypted: bool) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.stream: IO[bytes] = open(self.partial, "wb")  # noqa: SIM115 - closed by finish()
        data = jsonlines.DECRYPTED if decrypted else jsonlines.AS_STORED
        jsonlines.write_line(self.stream, jsonlines.header(data, source_name))

    def present(self, batch: list[Item]) -> set[tuple[Any, Any]]:
        return set()

    def write(self, batch: list[Item]) -> None:
        line = jsonlines.item_line
        self.stream.write(b"".join(line(item) for item in batch))

    def finish(self, count: int) -> None:
        jsonlines.write_line(self.stream, {"end": True, "items": count})
        self.stream.close()
        os.replace(self.partial, self.path)

    def abandon(self) -> None:
        self.stream.close()
        self.partial.unlink(missing_ok=True)


# -- resuming ---------------------------------------------------------------------------
class StateFile:
    """Where a copy or import has got to: ``{"job": <hash>, "token": int, "copied": int}``.

    The job is a hash of the source and target names (no password is written), so a state
    file is never applied to another job."""

    def __init__(self, path: Path, source: str, target: str) -> None:
        self.path = path
        self.job = hashlib.sha256(f"{source}\n{target}".encode()).hexdigest()[:16]

    @staticmethod
    def default_path(source: str, target: str) -> Path:
        job = hashlib.sha256(f"{source}\n{target}".encode()).hexdigest()[:12]
        return Path(f".eventstore-copy-{job}.json")

    def load(self) -> dict[str, int] | None:
        try:
            state = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return None
        except orjson.JSONDecodeError as error:
            raise DataIntegrityError(f"state file {self.path} is not JSON: {error}") from None
        if state.get("job") != self.job:
            raise DataIntegrityError(
                f"state file {self.path} belongs to another source or target; remove it or "
                f"pass --state with another path"
            )
        return {"token": int(state["token"]), "copied": int(state["copied"])}

    def save(self, token: int, copied: int) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        # the token as text: a global position may exceed 64 bits (Cassandra's feed)
        state = {"job": self.job, "token": str(token), "copied": copied}
        temporary.write_bytes(orjson.dumps(state))
        os.replace(temporary, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


# -- the loop ---------------------------------------------------------------------------
@dataclass
class TransferResult:
    copied: int = 0  # items written by all runs of this job
    written_now: int = 0  # items written by this run
    skipped: int = 0  # items the target held already
    resumed_at: int | None = None  # items written before this run (when resuming)
    #: each sequence's count and last position as read from the source, where this run
    #: read all of it (not when resuming): the check after a copy need not read it again
    source_ends: dict[Any, tuple[int, Any]] | None = None


def transfer(
    source: StoreSource | FileSource,
    sink: StoreSink | FileSink,
    progress: Progress,
    batch_size: int = 1000,
    state: StateFile | None = None,
    stop_requested: Callable[[], bool] = lambda: False,
    gather_ends: bool = False,
) -> TransferResult:
    """Every item of ``source`` into ``sink``, ``batch_size`` at a time (see module doc).

    ``gather_ends``: note each sequence's count and last position on the way, for the check
    after a copy (``result.source_ends``, when this run read the whole source)."""
    if batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {batch_size}")
    result = TransferResult()
    saved = state.load() if state is not None else None
    token = 0
    if saved is not None:
        token, result.copied = saved["token"], saved["copied"]
        result.resumed_at = result.copied
    progress.start(source.total(), done=result.copied)
    checking = True
    batch: list[Item] = []
    last_token = token
    ends: dict[Any, tuple[int, Any]] = {}
    add_end = partial(_add_end, ends) if gather_ends else _ignore

    def flush() -> None:
        nonlocal checking, batch
        handled = len(batch)
        if checking:
            present = sink.present(batch)
            if present:
                batch = [item for item in batch if (item[0], item[1]) not in present]
                result.skipped += handled - len(batch)
            checking = bool(present)
        if batch:
            sink.write(batch)
        result.copied += len(batch)
        result.written_now += len(batch)
        if state is not None:
            state.save(last_token, result.copied)
        progress.advance(handled)
        batch = []

    try:
        for read_to, item in source.read(token, batch_size):
            batch.append(item)
            add_end(item)
            last_token = read_to
            if len(batch) >= batch_size:
                flush()
                if stop_requested():
                    raise Interrupted(
                        f"interrupted after {result.copied:,} items; run the same command "
                        f"again to go on from there"
                    )
        if batch:
            flush()
        sink.finish(result.copied)
    finally:
        progress.finish()
    if saved is None and gather_ends:
        result.source_ends = ends
    return result


@contextmanager
def stop_on_sigint() -> Iterator[Callable[[], bool]]:
    """While inside: the first SIGINT (or SIGTERM) asks the loop to stop after the batch it
    is writing (so the state file is exact); a second one interrupts at once. The handlers
    are set even where the shell started the command with SIGINT ignored (a background
    job)."""
    asked = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield asked.is_set
        return

    def handler(signum: int, frame: Any) -> None:
        if asked.is_set():
            raise KeyboardInterrupt
        asked.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield asked.is_set
    finally:
        for sig, earlier in previous.items():
            signal.signal(sig, earlier)


# -- the check after a copy -------------------------------------------------------------
def _ignore(item: Item) -> None:
    pass


def _add_end(ends: dict[Any, tuple[int, Any]], item: Item) -> None:
    count, last = ends.get(item[0], (0, item[1]))
    ends[item[0]] = (count + 1, item[1] if item[1] > last else last)


def sequence_ends(store: EventStore, page_size: int = 1000) -> dict[Any, tuple[int, Any]]:
    """Each sequence's item count and last (highest) position, by one scan of every item (in
    the backend's own order: a global order may show the newest items only after a delay)."""
    ends: dict[Any, tuple[int, Any]] = {}
    for item in store.active_record_strategy.all_items(page_size=page_size):
        _add_end(ends, item)
    return ends


def check_copy(source: EventStore, target: EventStore, limit: int = 20,
               source_ends: dict[Any, tuple[int, Any]] | None = None) -> list[str]:
    """What differs between source and target: every sequence of the source must be in the
    target with the same number of items and the same last position (``source_ends``: the
    source's, if they were gathered while copying)."""
    wanted = sequence_ends(source) if source_ends is None else source_ends
    found = sequence_ends(target)
    problems = []
    for sequence_id, (count, last) in wanted.items():
        got = found.get(sequence_id)
        if got is None:
            problems.append(f"sequence {sequence_id}: missing in the target ({count} items)")
        elif got != (count, last):
            problems.append(
                f"sequence {sequence_id}: source has {count} items up to position {last}, "
                f"target has {got[0]} up to {got[1]}"
            )
    total_wanted = sum(count for count, _ in wanted.values())
    total_found = sum(found[s][0] for s in wanted if s in found)
    if total_wanted != total_found:
        problems.insert(0, f"the source's sequences hold {total_wanted} items, the target "
                           f"{total_found} of them")
    shown = problems[:limit]
    if len(problems) > limit:
        shown.append(f"... and {len(problems) - limit} more")
    return shown
