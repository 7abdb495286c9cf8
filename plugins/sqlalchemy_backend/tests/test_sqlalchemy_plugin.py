"""The backend as a plugin: entry point, options, and ``EventStore.from_config``."""

from __future__ import annotations

import importlib.metadata
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventstore_core.config import Option
from eventstore_core.events import DomainEvent, TimestampedEvent
from eventstore_core.eventstore import EventStore
from eventstore_core.exceptions import ConfigurationError
from eventstore_core.sequenceditem import SequencedItem, StoredEvent

import eventstore_sqlalchemy.plugin as plugin
from eventstore_sqlalchemy import SQLAlchemyActiveRecordStrategy


def registered() -> dict[str, Any]:
    calls: dict[str, Any] = {}

    def register(name: str, factory: Any, **extra: Any) -> None:
        calls[name] = (factory, extra)

    plugin.register_backends(register)
    return calls


def test_entry_point_names_the_plugin_module() -> None:
    (entry_point,) = [
        ep for ep in importlib.metadata.entry_points(group="eventstore") if ep.name == "sqlalchemy"
    ]
    assert entry_point.value == "eventstore_sqlalchemy.plugin"
    assert entry_point.dist is not None and entry_point.dist.name == "eventstore-sqlalchemy"


def test_registers_the_sqlalchemy_backend_with_its_options() -> None:
    factory, extra = registered()["sqlalchemy"]
    assert "distribution" not in extra  # the plugin manager finds it
    options = {option.name: option for option in extra["options"]}
    assert all(isinstance(option, Option) for option in options.values())
    assert options["uri"].default == "sqlite:///eventstore.sqlite3"
    assert factory is plugin.create_strategy


def test_factory_returns_a_ready_strategy(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'plugin.db'}"
    strategy = plugin.create_strategy(uri=uri)
    assert isinstance(strategy, SQLAlchemyActiveRecordStrategy)
    assert strategy.sequenced_item_class is SequencedItem
    item = SequencedItem(uuid4(), 0, "m#T", "{}")
    strategy.append(item)
    assert strategy.get_items(item.sequence_id) == [item]
    strategy.close()

    stored_events = plugin.create_strategy(uri=uri, record="stored_event")
    assert stored_events.sequenced_item_class is StoredEvent
    assert stored_events.table.name == "stored_events"
    stored_events.close()

    with pytest.raises(ConfigurationError, match="integer, stored_event"):
        plugin.create_strategy(uri=uri, record="bogus")


def test_from_config_assembles_a_store_on_the_backend(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'from_config.db'}"
    with EventStore.from_config("sqlalchemy", uri=uri, sqlite_synchronous="NORMAL") as store:
        originator_id = uuid4()
        event = DomainEvent(originator_id=originator_id, originator_version=0, foo="bar")
        store.append(event)
        assert store.get_domain_events(originator_id) == [event]


def test_record_choices_for_timestamps_and_snapshots(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'records.db'}"
    timestamps = plugin.create_strategy(uri=uri, record="timestamp")
    assert timestamps.table.name == "timestamp_sequenced_items"
    assert timestamps.position_type is Decimal
    assert timestamps.capabilities.global_order and timestamps.capabilities.timestamp_positions
    timestamps.close()
    snapshots = plugin.create_strategy(uri=uri, record="snapshot")
    assert snapshots.table.name == "snapshots"
    assert not snapshots.capabilities.global_order  # snapshots are not followed
    snapshots.close()

    with EventStore.from_config(
        "sqlalchemy", uri=uri, record="timestamp", position_attr_name="timestamp"
    ) as store:
        originator_id = uuid4()
        events = [TimestampedEvent(originator_id=originator_id, n=n) for n in range(3)]
        store.append(events)
        assert store.get_domain_events(originator_id, gt=events[0].timestamp) == events[1:]
