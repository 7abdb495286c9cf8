"""``eventstore verify``: reads every item once and reports what is wrong.

Checked: every sequence with integer positions is contiguous from its first position (no
gap); every item's data decrypts (when the store was opened with its key) and decodes to an
object; every topic names a class that can be imported here (unless told not to); and,
given the snapshot store, every snapshot is of a version its sequence has, and decodes too.
Memory: one small entry per sequence, never per item.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..eventstore import EventStore
from ..exceptions import DataIntegrityError, EventStoreError
from ..topics import resolve_topic
from .stores import ordered_items
from .transfer import Progress, row_binding

GAP, UNREADABLE, TOPIC, SNAPSHOT = "gap", "unreadable", "topic", "snapshot"
KIND_TITLES = {
    GAP: "positions missing",
    UNREADABLE: "items whose data cannot be read",
    TOPIC: "topics that name no importable class",
    SNAPSHOT: "inconsistent snapshots",
}


@dataclass
class SequenceState:
    first: Any
    last: Any
    low: Any
    high: Any
    count: int = 1
    gap_found: bool = False


@dataclass
class Report:
    items: int = 0
    sequences: int = 0
    snapshots: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # kind -> number of problems
    listed: dict[str, list[str]] = field(default_factory=dict)  # kind -> first messages
    hints: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.counts

    def add(self, kind: str, message: str, limit: int) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        listed = self.listed.setdefault(kind, [])
        if len(listed) < limit:
            listed.append(message)


class Verifier:
    def __init__(self, store: EventStore, resolve_topics: bool = True, limit: int = 20) -> None:
        self.store = store
        self.mapper = store.sequenced_item_mapper
        self.resolve_topics = resolve_topics
        self.limit = limit
        self.report = Report()
        self.sequences: dict[Any, SequenceState] = {}
        self._topics: dict[str, str | None] = {}  # topic -> problem (None: resolves)
        self._topic_items: dict[str, int] = {}

    def items(self, progress: Progress, page_size: int = 1000) -> Iterator[Any]:
        """Every item of the store, checked as it goes by."""
        done = 0
        for _, item in ordered_items(self.store, page_size):
            self.check_item(item)
            done += 1
            if done == page_size:
                progress.advance(done)
                done = 0
            yield item
        progress.advance(done)

    def check_item(self, item: Any) -> None:
        report = self.report
        report.items += 1
        sequence_id, position, topic = item[0], item[1], item[2]
        self._check_data(self.mapper, item, "item")
        if self.resolve_topics:
            self._check_topic(topic)
        state = self.sequences.get(sequence_id)
        if state is None:
            self.sequences[sequence_id] = SequenceState(position, position, position, position)
            return
        state.count += 1
        if type(position) is int and type(state.last) is int and position > state.last + 1:
            state.gap_found = True
            missing = (f"position {state.last + 1}" if position == state.last + 2
                       else f"positions {state.last + 1} to {position - 1}")
            report.add(GAP, f"sequence {sequence_id}: {missing} missing", self.limit)
        state.last = position
        state.low = min(state.low, position)
        state.high = max(state.high, position)

    def _check_data(self, mapper: Any, item: Any, what: str) -> Any:
        data = item[3]
        try:
            if mapper.cipher is not None:
                data = mapper.cipher.decrypt(data, **row_binding(mapper.cipher, item))
            state = mapper.json_decoder.decode(data)
            if type(state) is not dict:
                raise DataIntegrityError(f"data is a {type(state).__name__}, not an object")
            return state
        except EventStoreError as error:
            self.report.add(
                UNREADABLE, f"{what} at position {item[1]} of sequence {item[0]}: {error}",
                self.limit,
            )
            if mapper.cipher is None and not str(item[3]).lstrip().startswith(("{", "[")):
                self._hint("data that is not JSON may be encrypted: open the store with its "
                           "cipher and key (e.g. ?cipher=aes and EVENTSTORE_CIPHER_KEY)")
            return None

    def _check_topic(self, topic: str) -> None:
        if topic not in self._topics:
            try:
                resolve_topic(topic)
                self._topics[topic] = None
            except EventStoreError as error:
                self._topics[topic] = str(error)
                self._hint("topics are resolved by importing their modules: run verify where "
                           "the application's modules can be imported (PYTHONPATH), or pass "
                           "--skip-topics")
        if self._topics[topic] is not None:
            self._topic_items[topic] = self._topic_items.get(topic, 0) + 1

    def _hint(self, hint: str) -> None:
        if hint not in self.report.hints:
            self.report.hints.append(hint)

    def finish(self) -> Report:
        report = self.report
        report.sequences = len(self.sequences)
        for sequence_id, state in self.sequences.items():
            if state.gap_found or type(state.low) is not int or type(state.high) is not int:
                continue
            span = state.high - state.low + 1
            if span != state.count:  # read out of order: the gaps' places are not known
                report.add(GAP, f"sequence {sequence_id}: {span - state.count} of positions "
                                f"{state.low} to {state.high} missing", self.limit)
        for topic, problem in self._topics.items():
            if problem is not None:
                report.add(TOPIC, f"{problem} ({self._topic_items[topic]} items)", self.limit)
        return report

    def check_snapshots(self, snapshots: EventStore, progress: Progress) -> None:
        """Each snapshot must be of a version its sequence has, and be readable."""
        mapper = snapshots.sequenced_item_mapper
        for _, item in ordered_items(snapshots):
            self.report.snapshots += 1
            progress.advance(1)
            sequence_id, version = item[0], item[1]
            state = self.sequences.get(sequence_id)
            if state is None:
                self.report.add(SNAPSHOT, f"snapshot of sequence {sequence_id} at version "
                                          f"{version}: the sequence has no events", self.limit)
            elif not state.low <= version <= state.high:
                self.report.add(
                    SNAPSHOT, f"snapshot of sequence {sequence_id} at version {version}: the "
                              f"sequence's events are at {state.low} to {state.high}", self.limit)
            decoded = self._check_data(mapper, item, "snapshot")
            if self.resolve_topics and decoded is not None:
                self._check_topic(item[2])
                inner = decoded.get("topic")
                if isinstance(inner, str):
                    self._check_topic(inner)
