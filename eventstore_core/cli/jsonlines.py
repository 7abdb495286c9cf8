"""The export file: JSON Lines, one stored item a line, read and written as a stream.

Format version 1 (see docs/operations.md):

* line 1, the header: ``{"format": "eventstore-export", "version": 1, "data": "as-stored" |
  "decrypted", "exported_at": "...", "source": "..."}``;
* one line per item: ``{"sequence_id": "<uuid>", "position": 3, "topic": "module#Class",
  "data": "<the data column>"}``; a timestamp position is a string (``"1700000000.123456"``)
  so that no digit is lost;
* the last line: ``{"end": true, "items": N}``. A file without it was cut short.

``data`` is the item's data as the store holds it (encrypted where the store encrypts), or
decrypted when the export was given the key (``"data": "decrypted"`` in the header).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

import orjson

from ..exceptions import DataIntegrityError
from ..sequenceditem import SequencedItem

FORMAT = "eventstore-export"
VERSION = 1
AS_STORED, DECRYPTED = "as-stored", "decrypted"


def header(data: str, source: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "data": data,
        "exported_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "source": source,
    }


def item_line(item: Any) -> bytes:
    """One item as one line (with its newline)."""
    position = item[1]
    return orjson.dumps({
        "sequence_id": str(item[0]),
        "position": position if type(position) is int else str(position),
        "topic": item[2],
        "data": item[3],
    }, option=orjson.OPT_APPEND_NEWLINE)


def item_from_line(line: bytes, number: int) -> SequencedItem:
    try:
        obj = orjson.loads(line)
        position = obj["position"]
        return SequencedItem(
            UUID(obj["sequence_id"]),
            position if type(position) is int else Decimal(position),
            str(obj["topic"]),
            str(obj["data"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise DataIntegrityError(f"line {number} is not an item of format {FORMAT} "
                                 f"version {VERSION}: {error!r}") from None


def write_line(out: IO[bytes], obj: dict[str, Any]) -> None:
    out.write(orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE))


class ExportReader:
    """Reads an export file line by line: ``header``, then ``items()``; ``finished`` tells
    whether the closing line was there (and counted as many items as were read)."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self.stream = stream
        self.name = name
        self.line_number = 1
        first = stream.readline()
        try:
            found = orjson.loads(first) if first.strip() else None
        except orjson.JSONDecodeError:
            found = None
        if not isinstance(found, dict) or found.get("format") != FORMAT:
            raise DataIntegrityError(
                f"{name} is not an eventstore export: its first line is not the header "
                f'{{"format": "{FORMAT}", ...}}'
            )
        if found.get("version") != VERSION:
            raise DataIntegrityError(
                f"{name} has format version {found.get('version')!r}; this eventstore reads "
                f"version {VERSION}"
            )
        self.header: dict[str, Any] = found
        self.finished = False

    def items(self, skip: int = 0) -> Iterator[SequencedItem]:
        """The items after the first ``skip`` (those are read past, not decoded)."""
        seen = 0
        for line in self.stream:
            self.line_number += 1
            if line.startswith(b'{"end"'):
                counted = orjson.loads(line).get("items")
                if counted != seen:
                    raise DataIntegrityError(
                        f"{self.name}: its closing line counts {counted} items but {seen} "
                        f"are in the file"
                    )
                self.finished = True
                return
            seen += 1
            if seen > skip:
                yield item_from_line(line, self.line_number)

    def check_finished(self) -> None:
        if not self.finished:
            raise DataIntegrityError(
                f"{self.name} ends at line {self.line_number} without its closing line: "
                f"the file was cut short (the items before it were read)"
            )
