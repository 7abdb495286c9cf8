"""W4: the mappers alone, no database: encode and decode, plain and with AES-GCM."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import eventsourcing_side, ours, workload
from .timing import Metric, Values, alternate, timed
from .workload import Sizes
from .workloads import Progress, Result

ENCODE_US = Metric("encode_us", "µs/event", False)
DECODE_US = Metric("decode_us", "µs/event", False)
AES_KEY = bytes(range(32))


class MapperContender:
    """Encode and decode functions of one library, with its own event objects."""

    def __init__(
        self,
        label: str,
        make_event: Callable[[Any], Any],
        encode: Callable[[Any], Any],
        decode: Callable[[Any], Any],
    ) -> None:
        self.label = label
        self.make_event = make_event
        self.encode = encode
        self.decode = decode


def contenders(aes: bool) -> list[MapperContender]:
    key = AES_KEY if aes else None
    ours_mapper = ours.mapper(key)
    theirs = eventsourcing_side.mapper(key)
    found = [
        MapperContender("ours", ours.make_event, ours_mapper.to_sequenced_item,
                        ours_mapper.from_sequenced_item),
        MapperContender("eventsourcing", eventsourcing_side.make_event, theirs.to_stored_event,
                        theirs.to_domain_event),
    ]
    if aes:  # eventsourcing's other AES cipher, through `cryptography` like ours (for reference)
        other = eventsourcing_side.mapper(key, "eventsourcing.cryptography:AESCipher")
        found.append(MapperContender("eventsourcing:cryptography", eventsourcing_side.make_event,
                                     other.to_stored_event, other.to_domain_event))
    return found


def w4(sizes: Sizes, aes: bool, progress: Progress) -> Result:
    specs = workload.one_sequence(sizes.w4_events)
    by_label = {c.label: c for c in contenders(aes)}
    events = {label: [c.make_event(s) for s in specs] for label, c in by_label.items()}
    for label, contender in by_label.items():  # warm up, and check the round trip
        items = [contender.encode(e) for e in events[label]]
        back = [contender.decode(i) for i in items]
        if back != events[label]:
            raise AssertionError(f"{label}: the mapper's round trip changed the events")

    def rep(label: str, _index: int) -> Values:
        contender, objects = by_label[label], events[label]
        encode, decode = contender.encode, contender.decode
        encode_s, items = timed(lambda: [encode(e) for e in objects])
        decode_s, _ = timed(lambda: [decode(i) for i in items])
        return {
            "encode_us": encode_s / len(objects) * 1e6,
            "decode_us": decode_s / len(objects) * 1e6,
        }

    rounds = alternate(list(by_label), rep, max(sizes.pairs, 5), progress)
    return Result("W4", "mapper+AES" if aes else "mapper", [ENCODE_US, DECODE_US], rounds)
