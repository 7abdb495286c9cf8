"""Timestamps as sequence positions: ``Decimal`` seconds, exact to the microsecond.

A float cannot hold today's time to the microsecond (it has 15-16 significant digits), so
positions are ``Decimal`` values with six decimal places, made from integer nanoseconds.
"""

from __future__ import annotations

import datetime
import threading
import time
from decimal import Decimal

MICROSECOND = Decimal("0.000001")
_lock = threading.Lock()
_last = 0


def decimal_timestamp() -> Decimal:
    """Now, in seconds since the epoch, as an exact Decimal with microseconds.

    Strictly increasing within one process, so two events made in a row never share a
    timestamp here (across processes they can, and then the second is a ConcurrencyError).
    """
    global _last
    with _lock:
        micros = max(time.time_ns() // 1000, _last + 1)
        _last = micros
    return Decimal(micros).scaleb(-6)


def timestamp_from_datetime(moment: datetime.datetime) -> Decimal:
    """An aware datetime as a Decimal timestamp (naive datetimes are refused: ambiguous)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a naive datetime is ambiguous as a timestamp: {moment!r}")
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    delta = moment - epoch
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Decimal(micros).scaleb(-6)


def datetime_from_timestamp(timestamp: Decimal) -> datetime.datetime:
    """A Decimal timestamp as an aware UTC datetime (exact: integer arithmetic)."""
    micros = int(timestamp.scaleb(6).to_integral_exact())
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    return epoch + datetime.timedelta(microseconds=micros)
