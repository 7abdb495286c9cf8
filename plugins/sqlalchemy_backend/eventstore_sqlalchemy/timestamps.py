"""Timestamp positions in SQL: exact integer microseconds, the same on every database.

A timestamp position is a ``Decimal`` number of seconds with at most six decimal places.
SQLAlchemy's ``Numeric`` is a float on SQLite (digits are lost beyond the 15th), so the column
holds the timestamp as integer microseconds in a ``BIGINT`` instead: exact, sortable, and
identical on SQLite, PostgreSQL and MySQL/MariaDB. ``MicrosecondTimestamp`` converts
``Decimal`` seconds to microseconds when writing and back when reading.

Range bounds (``gt``, ``gte``, ``lt``, ``lte``) may fall between two microseconds
(``lt=Decimal("1.0000005")``). They are rounded to the microsecond in the direction that keeps
the comparison exact, so the database selects exactly what comparing the ``Decimal`` values
would: ``gt`` and ``lte`` round down, ``gte`` and ``lt`` round up. Bounds beyond what the
column can hold are clamped to its range, which selects the same items.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, Dialect
from sqlalchemy.types import TypeDecorator

MICROSECOND = Decimal("0.000001")
#: The timestamps a signed 64-bit column of microseconds holds (about ±292,000 years).
MIN_MICROS, MAX_MICROS = -(2**63), 2**63 - 1
MIN_SECONDS = Decimal(MIN_MICROS).scaleb(-6)
MAX_SECONDS = Decimal(MAX_MICROS).scaleb(-6)


def to_microseconds(seconds: Decimal) -> int:
    """Exact integer microseconds of a Decimal timestamp; ``ValueError`` if that would round."""
    micros = seconds.scaleb(6)
    if not micros.is_finite() or micros != micros.to_integral_value():
        raise ValueError(
            f"timestamp {seconds!r} is not a whole number of microseconds (at most 6 decimal "
            f"places)"
        )
    return int(micros)


def from_microseconds(micros: int) -> Decimal:
    """A Decimal timestamp with six decimal places from integer microseconds."""
    return Decimal(micros).scaleb(-6)


def bound(name: str, value: Any) -> Decimal:
    """A ``gt``/``gte``/``lt``/``lte`` bound, made a whole microsecond without changing what
    it selects (see the module docstring)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise ValueError(
            f"{name}={value!r} is not a timestamp: give a Decimal (or int) number of seconds"
        )
    try:
        seconds = Decimal(value)  # exact, also for a float
    except (ValueError, InvalidOperation) as error:
        raise ValueError(f"{name}={value!r} is not a finite timestamp") from error
    if not seconds.is_finite():
        raise ValueError(f"{name}={value!r} is not a finite timestamp")
    seconds = min(max(seconds, MIN_SECONDS), MAX_SECONDS)
    rounding = ROUND_FLOOR if name in ("gt", "lte") else ROUND_CEILING
    return seconds.quantize(MICROSECOND, rounding=rounding)


class MicrosecondTimestamp(TypeDecorator[Decimal]):
    """A ``Decimal`` timestamp (seconds) stored as integer microseconds in a ``BIGINT``."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = Decimal(value)
        if not isinstance(value, Decimal):
            raise TypeError(f"a timestamp position must be a Decimal, got {value!r}")
        return to_microseconds(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_microseconds(value)

    @property
    def python_type(self) -> type:
        return Decimal
