"""The conformance suite: abstract test cases that every backend runs.

A backend author subclasses the test cases that match the backend's declared
``capabilities`` and provides one factory, ``create_strategy()``, returning a ready strategy
on a test database (the snapshot case also takes ``create_snapshot_strategy()``). Tests use
fresh random sequence ids, so the database needs no cleaning between them.

    from eventstore_core.testing import ActiveRecordStrategyTestCase

    class TestMyBackend(ActiveRecordStrategyTestCase):
        def create_strategy(self):
            return MyStrategy(...)

| test case | runs when the backend declares |
| --- | --- |
| ``ActiveRecordStrategyTestCase`` | always |
| ``TimestampSequencedTestCase`` | ``timestamp_positions`` |
| ``SnapshotTestCase`` | ``snapshots`` |
| ``GlobalOrderTestCase`` | ``global_order`` |
"""

from .global_order_tests import GlobalOrderTestCase
from .snapshot_tests import SnapshotTestCase
from .strategy_tests import ActiveRecordStrategyTestCase
from .timestamp_tests import TimestampSequencedTestCase
from .values import EXAMPLE_VALUES

__all__ = [
    "EXAMPLE_VALUES",
    "ActiveRecordStrategyTestCase",
    "GlobalOrderTestCase",
    "SnapshotTestCase",
    "TimestampSequencedTestCase",
]
