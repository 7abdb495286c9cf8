"""The conformance suite: abstract test cases that every backend runs.

A backend author subclasses :class:`ActiveRecordStrategyTestCase` and provides one factory,
``create_strategy()``, returning a ready strategy on a test database; the suite runs the
tests that the strategy's declared ``capabilities`` make applicable. Tests use fresh random
sequence ids, so the database needs no cleaning between them.

    from eventstore_core.testing import ActiveRecordStrategyTestCase

    class TestMyBackend(ActiveRecordStrategyTestCase):
        def create_strategy(self):
            return MyStrategy(...)
"""

from .strategy_tests import ActiveRecordStrategyTestCase
from .values import EXAMPLE_VALUES

__all__ = ["EXAMPLE_VALUES", "ActiveRecordStrategyTestCase"]
