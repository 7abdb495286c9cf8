"""The backend kit: every test the backends of this project pass, for yours to pass too.

Subclass ``BackendTestCase`` and implement one factory, ``create_strategy(record)``::

    from eventstore_core.testing import BackendTestCase

    class TestMyBackend(BackendTestCase):
        backend_name = "mydb"            # also prove the plugin's registration

        def create_strategy(self, record="integer"):
            return MyStrategy(path=..., record=record)

Each test runs when your strategy's ``capabilities`` call for it and is skipped, with the
reason, when they do not; a capability you declare runs its tests, so one you do not honour
fails. Tests use fresh random sequence ids, so the store needs no cleaning between them.
Knobs (class attributes): ``racers`` and ``race_positions`` (the thread and process races),
``writers``, ``events_per_writer`` and ``events_per_append`` (the live global-order test),
``long_sequence`` (snapshots), ``start_method`` ("spawn", the default, or "fork": how child
processes start), ``record`` (what the strategy tests ask for), ``backend_name`` and
``config_url`` (registration). See ``docs/plugins.md``.

| tests | run when the strategy declares |
| --- | --- |
| writing, reading, bounds, limits, bad input, thread races | always |
| lists spanning sequences are all or nothing | ``transactions_across_sequences`` |
| lists spanning sequences are refused | not ``transactions_across_sequences`` |
| process races (``start_method``) | ``shared_between_processes`` |
| timestamps (``create_strategy("timestamp")``) | ``timestamp_positions`` |
| snapshots (``create_strategy("snapshot")``) | ``snapshots`` |
| ``read_all``, live subscription, resume | ``global_order`` |
| expected versions (atomic with the write, racers) | ``expected_versions`` |
| retries by event id (``create_strategy("enveloped")``) | ``event_ids`` |
| metadata beside the state, encrypted only if asked | ``metadata`` |
| string sequence ids; category reads | ``named_streams``; ``category_reads`` |
| entry point, options, environment, AES | ``backend_name`` is set |

``AsyncBackendTestCase`` is the same kit for an async strategy: implement
``create_async_strategy(record)`` instead, and every test above runs against it (through
``SyncView``, with the async stores), plus tests of many tasks at once and of cancellation.
"""

from .asynckit import AsyncBackendTestCase
from .kit import BackendTestCase
from .requirements import requires, requires_not
from .values import EXAMPLE_VALUES

__all__ = [
    "EXAMPLE_VALUES", "AsyncBackendTestCase", "BackendTestCase", "requires", "requires_not",
]
