"""The parts behind the ``eventstore`` command, in process: what ``info`` asks a backend
(``describe()``), the export format, progress lines, the feed's end, broken plugins."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from eventstore_core import EventStore, InMemoryActiveRecordStrategy, SequencedItem
from eventstore_core.cli import jsonlines
from eventstore_core.cli.progress import PlainProgress
from eventstore_core.cli.stores import Describable, last_global_position, summarize
from eventstore_core.exceptions import DataIntegrityError
from eventstore_core.sequenceditemmapper import SequencedItemMapper

TOPIC = "eventstore_core.events#DomainEvent"


class DescribedStrategy(InMemoryActiveRecordStrategy[Any]):
    """A backend that tells its sizes and counts (as a database backend would)."""

    def describe(self) -> dict[str, Any]:
        return {"backend": "described (memory)", "items": 1234, "size_bytes": 4096,
                "tables": [{"name": "items", "rows": 1234, "bytes": 4096}]}


def store_on(strategy: Any) -> EventStore:
    return EventStore(SequencedItemMapper(), strategy)


def test_info_uses_describe_where_the_backend_offers_it_and_scans_the_rest() -> None:
    strategy = DescribedStrategy()
    assert isinstance(strategy, Describable)
    sequence = uuid4()
    strategy.append([SequencedItem(sequence, v, TOPIC, "{}") for v in range(3)])
    summary = summarize(store_on(strategy))
    assert summary.items == 1234  # the backend's word, not a count
    assert summary.sequences == 1 and summary.global_position == 3  # from the scan
    assert summary.size_bytes == 4096 and summary.tables[0]["name"] == "items"
    assert summary.counted_by == "backend and scan"

    plain = InMemoryActiveRecordStrategy[Any]()
    assert not isinstance(plain, Describable)
    plain.append([SequencedItem(sequence, v, TOPIC, "{}") for v in range(3)])
    summary = summarize(store_on(plain))
    assert (summary.items, summary.size_bytes, summary.counted_by) == (3, None, "scan")


@pytest.mark.parametrize("count", [0, 1, 2, 3, 7, 64, 65, 1000])
def test_the_end_of_the_feed_is_found_in_a_few_reads(count: int) -> None:
    strategy = InMemoryActiveRecordStrategy[Any]()
    for v in range(count):
        strategy.append(SequencedItem(uuid4(), v, TOPIC, "{}"))
    reads = 0
    read_all = strategy.read_all

    def counted(after: int = 0, limit: int = 1000) -> Any:
        nonlocal reads
        reads += 1
        return read_all(after, limit)

    strategy.read_all = counted  # type: ignore[method-assign]
    assert last_global_position(store_on(strategy)) == count
    assert reads <= 2 * max(count, 1).bit_length() + 2


def test_export_lines_round_trip_integer_and_timestamp_positions() -> None:
    sequence = uuid4()
    items = [SequencedItem(sequence, 3, TOPIC, '{"a":"\\u00e9\\n"}'),
             SequencedItem(sequence, Decimal("1700000000.123456"), TOPIC, "ciphertext==")]
    lines = [jsonlines.item_line(item) for item in items]
    assert json.loads(lines[1])["position"] == "1700000000.123456"
    back = [jsonlines.item_from_line(line, n) for n, line in enumerate(lines, 2)]
    assert back == items and type(back[1][1]) is Decimal
    with pytest.raises(DataIntegrityError, match="line 7 is not an item"):
        jsonlines.item_from_line(b'{"sequence_id": "nope"}', 7)


def test_plain_progress_lines_have_count_rate_and_time_left() -> None:
    out = io.StringIO()
    progress = PlainProgress("copy", "items", out, interval=0.0)
    progress.start(total=1000, done=100)
    progress.advance(400)
    progress.finish()
    lines = out.getvalue().splitlines()
    assert lines[0] == "copy: resuming after 100 items"
    assert lines[1].startswith("copy: 500/1,000 items (50%), ") and "items/s" in lines[1]
    assert " s left" in lines[1]
    assert lines[-1].startswith("copy: 500 items (400 in ")


def test_plugins_shows_a_broken_plugin_with_its_error(tmp_path: Path) -> None:
    dist = tmp_path / "broken_eventstore_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-eventstore-plugin\n"
                                   "Version: 0.1\n")
    (dist / "entry_points.txt").write_text("[eventstore]\nbroken = no_such_module_here\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "COLUMNS": "200"}
    done = subprocess.run([str(Path(sys.executable).parent / "eventstore"), "plugins"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "broken-eventstore-plugin" in done.stdout and "no_such_module_here" in done.stdout
    assert "memory (eventstore-core)" in done.stdout  # the others still work
