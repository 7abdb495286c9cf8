"""What a backend can do. The conformance suite runs exactly the tests that apply."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    """Declared by each active record strategy as its ``capabilities`` class attribute."""

    #: A list spanning several sequences is written atomically (all or nothing).
    transactions_across_sequences: bool = True
    #: Several OS processes can write the same store at once (not so for in-memory).
    shared_between_processes: bool = True
    #: Items get a global position in commit order (``read_all``); see the global-order issue.
    global_order: bool = False
    #: Seconds after an append returns within which ``read_all`` may not show it yet (the
    #: global order is then fixed: nothing appears later below a position already read).
    #: 0: at once. Cassandra's feed (its ``feed_delay``) is the one backend with a delay.
    global_order_delay: float = 0.0
    #: Positions may be timestamps (``Decimal``) as well as integers.
    timestamp_positions: bool = False
    #: Snapshot record classes are provided.
    snapshots: bool = False
    #: Sequence ids may be strings (``"order-1234"``, a named stream) as well as UUIDs.
    named_streams: bool = False
    #: ``read_all(after, limit, category="order")`` reads the streams ``order-...`` only
    #: (in global order; needs ``global_order`` and ``named_streams``).
    category_reads: bool = False
    #: ``append(items, expected_version=...)`` checks the sequence atomically with the write.
    expected_versions: bool = False
    #: ``create_strategy("enveloped")`` stores ``EnvelopedItem`` records, each with an event
    #: id; an append of items already stored with the same ids writes nothing (a safe retry).
    event_ids: bool = False
    #: Enveloped records keep the ``metadata`` field (encoded by the mapper) beside the data.
    metadata: bool = False
