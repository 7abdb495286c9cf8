"""One example of every attribute value type that must round-trip with its type."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

EXAMPLE_VALUES: dict[str, Any] = {
    "text": "héllo, wörld ✓ \"quoted\" \\ back",
    "empty_text": "",
    "integer": 42,
    "negative": -7,
    "big_integer": 2**100 + 1,
    "negative_big_integer": -(2**80),
    "floating": 3.141592653589793,
    "float_whole": 2.0,
    "infinity": float("inf"),
    "true": True,
    "false": False,
    "nothing": None,
    "listed": [1, "two", 3.0, None, [4]],
    "mapping": {"a": 1, "nested": {"b": [True, None]}},
    "tag_like_dict": {"__uuid__": "not a uuid"},
    "uuid": UUID("12345678-1234-5678-1234-567812345678"),
    "naive_datetime": datetime.datetime(2026, 11, 27, 12, 30, 45, 123456),
    "aware_datetime": datetime.datetime(
        2026, 11, 27, 12, 30, 45, 1,
        tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30)),
    ),
    "utc_datetime": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    "date": datetime.date(1999, 12, 31),
    "time": datetime.time(23, 59, 59, 999999),
    "decimal": Decimal("12345678901234567890.000000000000000001"),
    "decimal_exponent": Decimal("1E+3"),
    "uuids_in_list": [UUID(int=1), UUID(int=2)],
}
