"""``BackendTestCase``: the one class a backend author subclasses (``eventstore_core.testing``)."""

from __future__ import annotations

from typing import Any

from ..activerecordstrategy import AbstractActiveRecordStrategy
from .asyncview import unwrap
from .global_order_tests import GlobalOrderTests
from .registration_tests import RegistrationTests
from .requirements import unmet
from .snapshot_tests import SnapshotTests
from .strategy_tests import StrategyTests
from .stream_tests import StreamTests
from .timestamp_tests import TimestampTests


class BackendTestCase(
    StrategyTests, StreamTests, TimestampTests, SnapshotTests, GlobalOrderTests,
    RegistrationTests,
):
    """Every test of the backend contract; each runs when the capabilities call for it.

    Implement ``create_strategy(record)``. Tests that need a capability the strategy does
    not declare are skipped with the reason; a declared capability runs its tests, so one
    that is not honoured fails.
    """

    __test__ = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__test__" not in cls.__dict__:  # collected once a subclass has the factory
            cls.__test__ = cls.create_strategy is not BackendTestCase.create_strategy  # type: ignore[attr-defined]

    def create_strategy(self, record: str = "integer") -> AbstractActiveRecordStrategy[Any]:
        """A ready strategy on the test store (tables set up). ``record`` is one of
        "integer" (``SequencedItem``-shaped items with int positions; the default),
        "stored_event" (``StoredEvent``-shaped), "timestamp" (``Decimal`` positions),
        "snapshot" (a store of snapshots, apart from the events) and "enveloped"
        (``EnvelopedItem`` records with event ids and metadata; asked for only where the
        capabilities declare ``event_ids``).

        Called at least once per test (in ``setUp``, for ``self.record``), again by tests
        that need more writers, and in the child processes of the process tests, on a fresh
        instance of the test case whose ``setUp`` has not run. Every call for one ``record``
        must reach the same store, in this process and in the others (for a store that lives
        in one process: return the same object, and do not declare
        ``shared_between_processes``).
        """
        raise NotImplementedError

    def setUp(self) -> None:
        self._opened: dict[str, AbstractActiveRecordStrategy[Any]] = {}
        self.strategy = self.opened(self.record)
        self.item_class = self.strategy.sequenced_item_class
        self.capabilities = self.strategy.capabilities
        reason = unmet(getattr(self, self._testMethodName), self.capabilities,
                       type(unwrap(self.strategy)).__name__)
        if reason is not None:
            self.tearDown()
            self.skipTest(reason)

    def tearDown(self) -> None:
        opened, self._opened = self._opened, {}
        for strategy in opened.values():
            strategy.close()

    def opened(self, record: str) -> AbstractActiveRecordStrategy[Any]:
        """This test's strategy for ``record`` (made once per test, closed after it)."""
        if record not in self._opened:
            strategy = self._opened[record] = self.create_strategy(record)
            if record == "enveloped" and not unwrap(strategy).enveloped:
                self.fail(f"create_strategy('enveloped') gave a store of "
                          f"{strategy.sequenced_item_class.__name__}: a backend declaring "
                          f"capabilities.event_ids stores EnvelopedItem records for it")
        return self._opened[record]
