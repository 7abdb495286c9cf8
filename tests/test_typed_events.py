"""Typed events (issue 12 part 6): DomainEvents, frozen and slotted dataclasses, pydantic v2
models and msgspec Structs as event classes, through one mechanism (eventstore_core.eventkinds):
each round-trips exactly (same types and values) on every path of the mapper (plain,
encrypted, upcast, under topic aliases, as a snapshot's state) and through every backend."""

from __future__ import annotations

import dataclasses
import datetime
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pydantic
import pytest
from eventstore_aes import AESCipher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_same_answer_everywhere import BACKENDS, _open

from eventstore_core import (
    DataIntegrityError,
    DomainEvent,
    EncodingError,
    EventKind,
    EventStore,
    InMemoryActiveRecordStrategy,
    InvalidEventError,
    Repository,
    SequencedItemMapper,
    SnapshotStrategy,
    StoredEvent,
    TopicResolutionError,
    register_class,
    register_event_kind,
    register_topic,
    upcaster,
)
from eventstore_core.eventkinds import kind_of, reader_of
from eventstore_core.testing.roundtrip_tests import _zones, assert_same, same, values
from eventstore_core.testing.snapshot_tests import ReversingTestCipher

UTC_PLUS_5_30 = datetime.timezone(datetime.timedelta(hours=5, minutes=30))


# -- one event class of each kind, with every attribute type the codec supports -------------


class Changed(DomainEvent):
    pass


@register_class
@dataclasses.dataclass(frozen=True)
class ChangedDataclass:
    originator_id: UUID
    originator_version: int
    uid: UUID
    naive: datetime.datetime
    aware: datetime.datetime
    day: datetime.date
    moment: datetime.time
    amount: Decimal
    items: list[Any]
    mapping: dict[str, Any]
    anything: Any = None


@register_class
@dataclasses.dataclass(frozen=True, slots=True)
class ChangedSlots:
    originator_id: UUID
    originator_version: int
    uid: UUID
    naive: datetime.datetime
    aware: datetime.datetime
    day: datetime.date
    moment: datetime.time
    amount: Decimal
    items: list[Any]
    mapping: dict[str, Any]
    anything: Any = None


@register_class
class ChangedModel(pydantic.BaseModel):
    originator_id: UUID
    originator_version: int
    uid: UUID
    naive: datetime.datetime
    aware: datetime.datetime
    day: datetime.date
    moment: datetime.time
    amount: Decimal
    items: list[Any]
    mapping: dict[str, Any]
    anything: Any = None


@register_class(topic="shop.events#ChangedFrozenModel")  # stored under a topic of its own
class ChangedFrozenModel(ChangedModel):
    model_config = pydantic.ConfigDict(frozen=True)


@register_class
class ChangedStruct(msgspec.Struct):
    originator_id: UUID
    originator_version: int
    uid: UUID
    naive: datetime.datetime
    aware: datetime.datetime
    day: datetime.date
    moment: datetime.time
    amount: Decimal
    items: list[Any]
    mapping: dict[str, Any]
    anything: Any = None


@register_class
class ChangedFrozenStruct(msgspec.Struct, frozen=True, array_like=True, omit_defaults=True,
                          kw_only=True, rename="camel"):
    originator_id: UUID
    originator_version: int
    uid: UUID
    naive: datetime.datetime
    aware: datetime.datetime
    day: datetime.date
    moment: datetime.time
    amount: Decimal
    items: list[Any]
    mapping: dict[str, Any]
    anything: Any = None


KINDS: dict[str, type] = {
    "DomainEvent": Changed,
    "frozen dataclass": ChangedDataclass,
    "slots dataclass": ChangedSlots,
    "pydantic": ChangedModel,
    "pydantic frozen": ChangedFrozenModel,
    "msgspec": ChangedStruct,
    "msgspec frozen array_like": ChangedFrozenStruct,
}
EXPECTED_KIND = {
    "DomainEvent": "DomainEvent", "frozen dataclass": "dataclass", "slots dataclass": "dataclass",
    "pydantic": "pydantic model", "pydantic frozen": "pydantic model",
    "msgspec": "msgspec Struct", "msgspec frozen array_like": "msgspec Struct",
}


def example_attributes(**changes: Any) -> dict[str, Any]:
    attributes = {
        "originator_id": uuid4(),
        "originator_version": 0,
        "uid": UUID(int=7),
        "naive": datetime.datetime(2026, 12, 2, 8, 0, 0, 123456),
        "aware": datetime.datetime(2026, 12, 2, 8, 0, 0, 1, tzinfo=UTC_PLUS_5_30),
        "day": datetime.date(1999, 12, 31),
        "moment": datetime.time(23, 59, 59, 999999),
        "amount": Decimal("12345678901234567890.000000000000000001"),
        "items": [1, "two", 3.0, None, [UUID(int=1), Decimal("1E+3")], 2**100],
        "mapping": {"a": {"b": [True, None]}, "__uuid__": "not a uuid",
                    "when": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)},
        "anything": (1, frozenset({2}), b"\x00"),
    }
    return {**attributes, **changes}


def attributes_of(event: Any) -> dict[str, Any]:
    return reader_of(type(event))(event)


def mappers() -> dict[str, SequencedItemMapper[Any]]:
    return {
        "plain": SequencedItemMapper(sequenced_item_class=StoredEvent),
        "encrypted": SequencedItemMapper(sequenced_item_class=StoredEvent,
                                         cipher=ReversingTestCipher(), always_encrypt=True),
        "AES, bound to rows": SequencedItemMapper(sequenced_item_class=StoredEvent,
                                                  cipher=AESCipher(aes_key=b"k" * 32),
                                                  always_encrypt=True),
    }


@pytest.mark.parametrize("mapping", list(mappers()))
@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_round_trips_exactly(kind: str, mapping: str) -> None:
    cls = KINDS[kind]
    assert kind_of(cls).name == EXPECTED_KIND[kind]  # type: ignore[union-attr]
    mapper = mappers()[mapping]
    event = cls(**example_attributes())
    item = mapper.to_sequenced_item(event)
    if mapping != "plain":
        assert "12345678901234567890" not in item.state
    back = mapper.from_sequenced_item(item)
    assert type(back) is cls and back == event
    assert_same(attributes_of(event), attributes_of(back))
    assert mapper.from_sequenced_item(item) == event  # the second read: cached paths
    assert mapper.to_sequenced_item(back).state == item.state or mapping != "plain"


def test_each_kind_comes_back_as_what_it_is() -> None:
    mapper = mappers()["plain"]
    frozen = mapper.from_sequenced_item(mapper.to_sequenced_item(
        ChangedFrozenModel(**example_attributes())))
    with pytest.raises(pydantic.ValidationError):
        frozen.amount = Decimal(1)
    assert frozen.model_fields_set == set(ChangedFrozenModel.model_fields)
    assert repr(frozen).startswith("ChangedFrozenModel(originator_id=")  # the class's order
    assert frozen.model_dump() == ChangedFrozenModel(**example_attributes(
        originator_id=frozen.originator_id)).model_dump()
    struct = mapper.from_sequenced_item(mapper.to_sequenced_item(
        ChangedFrozenStruct(**example_attributes())))
    with pytest.raises(AttributeError):
        struct.amount = Decimal(1)  # type: ignore[misc]
    slotted = mapper.from_sequenced_item(mapper.to_sequenced_item(
        ChangedSlots(**example_attributes())))
    with pytest.raises(dataclasses.FrozenInstanceError):
        slotted.amount = Decimal(1)  # type: ignore[misc]
    assert not hasattr(slotted, "__dict__")


# -- property-based: any value of the codec's types, in every kind ---------------------------

_SETTINGS = settings(max_examples=40, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow])


def typed_attributes() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({
        "originator_id": st.uuids(),
        "originator_version": st.integers(0, 2**62),
        "uid": st.uuids(),
        "naive": st.datetimes(),
        "aware": st.datetimes(timezones=_zones().filter(lambda zone: zone is not None)),
        "day": st.dates(),
        "moment": st.times(timezones=_zones()),
        "amount": st.decimals(allow_nan=False, allow_infinity=False),
        "items": st.lists(values(8), max_size=4),
        "mapping": st.dictionaries(st.text(max_size=6), values(8), max_size=4),
        "anything": values(8),
    })


@pytest.mark.parametrize("mapping", ["plain", "encrypted"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_any_typed_values_round_trip_in_each_kind(kind: str, mapping: str) -> None:
    cls = KINDS[kind]
    mapper = mappers()[mapping]

    @_SETTINGS
    @given(typed_attributes())
    def round_trip(attributes: dict[str, Any]) -> None:
        event = cls(**attributes)
        assert same(attributes_of(event), attributes), "the class changed a value it was given"
        item = mapper.to_sequenced_item(event)
        for _ in range(2):
            back = mapper.from_sequenced_item(item)
            assert type(back) is cls
            assert_same(attributes_of(event), attributes_of(back))

    round_trip()


# -- rebuilt without validation: exact, whatever the validators do ---------------------------


@register_class
class Rounded(pydantic.BaseModel):
    sequence_id: UUID
    position: int
    price: Decimal
    note: str = "none"

    @pydantic.field_validator("price")
    @classmethod
    def two_places(cls, price: Decimal) -> Decimal:
        return price.quantize(Decimal("0.01")) + Decimal("0.001")  # changes it every time


@register_class
class WithExtras(pydantic.BaseModel, extra="allow"):
    sequence_id: UUID
    position: int
    _cache: dict[str, Any] = pydantic.PrivateAttr(default_factory=dict)


def test_pydantic_models_are_rebuilt_without_validation() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper()
    event = Rounded(sequence_id=uuid4(), position=0, price=Decimal("9.999"))
    assert event.price == Decimal("10.001")
    back = mapper.from_sequenced_item(mapper.to_sequenced_item(event))
    assert_same(event.price, back.price)  # a validator run again would have changed it
    assert back == event

    extra = WithExtras(sequence_id=uuid4(), position=1, colour="red", size=3)
    back_extra = mapper.from_sequenced_item(mapper.to_sequenced_item(extra))
    assert back_extra == extra and back_extra.__pydantic_extra__ == {"colour": "red", "size": 3}
    assert back_extra._cache == {}  # private attributes get their defaults


def test_a_stored_state_missing_a_field_gets_its_default_or_is_refused() -> None:
    mapper: SequencedItemMapper[Any] = SequencedItemMapper()
    sequence_id = uuid4()
    item = mapper.to_sequenced_item(Rounded(sequence_id=sequence_id, position=3, price=1))
    without_note = item._replace(data=item.data.replace(',"note":"none"', ""))
    assert "note" not in without_note.data
    back = mapper.from_sequenced_item(without_note)
    assert back.note == "none" and back.price == Decimal("1.001")

    struct_item = mapper.to_sequenced_item(Priced(sequence_id, 4, Decimal(1)))
    with pytest.raises(DataIntegrityError, match=f"sequence {sequence_id} at position 4.*price"):
        mapper.from_sequenced_item(struct_item._replace(data="{}"))


# -- upcasting and renamed topics, for each kind --------------------------------------------


@register_class
@dataclasses.dataclass(frozen=True)
class PricedDataclass:
    sequence_id: UUID
    position: int
    price: Decimal
    currency: str
    __version__ = 2


@register_class
class PricedModel(pydantic.BaseModel, frozen=True):
    sequence_id: UUID
    position: int
    price: Decimal
    currency: str
    __version__ = 2


@register_class
class Priced(msgspec.Struct, frozen=True):
    sequence_id: UUID
    position: int
    price: Decimal
    currency: str = "?"
    __version__ = 2


class PricedEvent(DomainEvent):
    __version__ = 2


PRICED = [PricedEvent, PricedDataclass, PricedModel, Priced]
for _cls in PRICED:
    register_topic(f"old.shop#{_cls.__name__}", _cls)  # the name of its version 1

    @upcaster(_cls, from_version=1)
    def _add_currency(state: dict[str, Any]) -> dict[str, Any]:
        return {**state, "currency": "EUR"}


@pytest.mark.parametrize("mapping", ["plain", "encrypted"])
@pytest.mark.parametrize("cls", PRICED, ids=lambda cls: cls.__name__)
def test_each_kind_is_upcast_under_its_old_topic(cls: type, mapping: str) -> None:
    mapper = SequencedItemMapper(**({"cipher": ReversingTestCipher(), "always_encrypt": True}
                                    if mapping == "encrypted" else {}))
    sequence_id = uuid4()
    version_1 = '{"price":{"__decimal__":"2.50"}}'  # what the old release wrote
    data = version_1 if mapping == "plain" else ReversingTestCipher().encrypt(version_1)
    old = mapper.sequenced_item_class(sequence_id, 0, f"old.shop#{cls.__name__}", data)
    back = mapper.from_sequenced_item(old)
    assert type(back) is cls
    assert_same(attributes_of(back), {"price": Decimal("2.50"), "currency": "EUR",
                                      "sequence_id": sequence_id, "position": 0}
                if cls is PricedEvent else
                {"sequence_id": sequence_id, "position": 0, "price": Decimal("2.50"),
                 "currency": "EUR"})
    new = mapper.to_sequenced_item(back)  # written again: the current version, own topic
    assert new.topic.endswith(f"#{cls.__name__}") and not new.topic.startswith("old.")
    assert mapper.from_sequenced_item(new) == back


@register_class
@dataclasses.dataclass(frozen=True)
class CardDataclass:
    sequence_id: UUID
    position: int
    card: str
    __always_encrypt__ = True


@register_class
class CardModel(pydantic.BaseModel, frozen=True):
    sequence_id: UUID
    position: int
    card: str = pydantic.Field(repr=False)
    __always_encrypt__ = True


@register_class
class CardStruct(msgspec.Struct, frozen=True):
    sequence_id: UUID
    position: int
    card: str
    __always_encrypt__ = True


@pytest.mark.parametrize("cls", [CardDataclass, CardModel, CardStruct],
                         ids=lambda cls: cls.__name__)
def test_a_class_of_each_kind_asks_to_be_encrypted(cls: type) -> None:
    mapper = SequencedItemMapper(cipher=AESCipher(aes_key=b"c" * 32))  # not always_encrypt
    event = cls(sequence_id=uuid4(), position=0, card="4111-1111")
    item = mapper.to_sequenced_item(event)
    assert "4111" not in item.data and "card" not in item.data
    assert mapper.from_sequenced_item(item) == event
    with pytest.raises(EncodingError, match="no cipher"):
        SequencedItemMapper().to_sequenced_item(event)


def test_a_topic_of_its_own_is_used_for_a_pydantic_model() -> None:
    mapper = mappers()["plain"]
    item = mapper.to_sequenced_item(ChangedFrozenModel(**example_attributes()))
    assert item.event_type == "shop.events#ChangedFrozenModel"


# -- snapshots of such objects --------------------------------------------------------------


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind != "DomainEvent"])
def test_snapshots_of_each_kind_restore_exactly(kind: str) -> None:
    cls = KINDS[kind]
    snapshots = SnapshotStrategy(EventStore(
        SequencedItemMapper(sequenced_item_class=StoredEvent, cipher=ReversingTestCipher(),
                            always_encrypt=True),
        InMemoryActiveRecordStrategy(sequenced_item_class=StoredEvent)))
    state = cls(**example_attributes())
    snapshots.take_snapshot(state.originator_id, state, 5)  # type: ignore[attr-defined]
    found = snapshots.get_snapshot(state.originator_id)  # type: ignore[attr-defined]
    assert found is not None
    restored = found.restore()
    assert type(restored) is cls and restored == state
    assert_same(attributes_of(restored), attributes_of(state))


@register_class
class Account(msgspec.Struct, frozen=True):
    balance: Decimal
    owner: str


@register_class
class Deposited(pydantic.BaseModel, frozen=True):
    originator_id: UUID
    originator_version: int
    amount: Decimal
    owner: str = ""


def _apply(account: Account | None, event: Deposited) -> Account:
    if account is None:
        return Account(event.amount, event.owner)
    return msgspec.structs.replace(account, balance=account.balance + event.amount)


def test_a_repository_of_msgspec_state_from_pydantic_events() -> None:
    events = EventStore(SequencedItemMapper(sequenced_item_class=StoredEvent),
                        InMemoryActiveRecordStrategy(sequenced_item_class=StoredEvent))
    snapshots = SnapshotStrategy(EventStore(
        SequencedItemMapper(sequenced_item_class=StoredEvent),
        InMemoryActiveRecordStrategy(sequenced_item_class=StoredEvent)))
    repository = Repository(events, _apply, snapshots, snapshot_every=3)
    account_id = uuid4()
    repository.save([Deposited(originator_id=account_id, originator_version=v,
                               amount=Decimal("1.10"), owner="ann") for v in range(7)])
    assert snapshots.get_snapshot(account_id) is not None
    rebuilt = repository.get(account_id)
    assert rebuilt == repository.get(account_id, use_snapshots=False) == Account(
        Decimal("7.70"), "ann")


# -- what is refused, and what is not imported ----------------------------------------------


@dataclasses.dataclass(frozen=True)
class NotRegistered:
    originator_id: UUID
    originator_version: int


def test_unregistered_classes_and_non_events_are_refused_clearly() -> None:
    mapper = mappers()["plain"]
    with pytest.raises(TopicResolutionError, match="not an event class"):
        mapper.to_sequenced_item(NotRegistered(uuid4(), 0))
    store = EventStore(mapper, InMemoryActiveRecordStrategy(sequenced_item_class=StoredEvent))
    struct = ChangedStruct(**example_attributes())
    for bad in (None, {"originator_id": uuid4()}, "text", 3):
        with pytest.raises(InvalidEventError, match=f"value 1 is a {type(bad).__name__}"):
            store.append([struct, bad])
    assert store.get_domain_events(struct.originator_id) == []
    store.append([struct])  # a Struct (no __dict__) is an event
    assert store.get_domain_events(struct.originator_id) == [struct]


@register_class
class Point:
    """No dataclass and no __dict__: readable only through a kind of its own."""

    __slots__ = ("sequence_id", "position", "x")

    def __init__(self, sequence_id: UUID, position: int, x: Decimal) -> None:
        self.sequence_id, self.position, self.x = sequence_id, position, x


class PointKind(EventKind):
    name = "point"

    def claims(self, cls: type) -> bool:
        return cls is Point

    def reader(self, cls: type) -> Callable[[Any], dict[str, Any]]:
        return lambda point: {name: getattr(point, name) for name in Point.__slots__}

    def builder(self, cls: type) -> Callable[[dict[str, Any]], Any]:
        return lambda state: Point(**state)


def test_an_application_adds_a_kind_of_its_own() -> None:
    point = Point(uuid4(), 0, Decimal("1.50"))
    with pytest.raises(InvalidEventError, match="Point is no event"):
        SequencedItemMapper().to_sequenced_item(point)
    register_event_kind(PointKind())
    mapper = SequencedItemMapper()
    back = mapper.from_sequenced_item(mapper.to_sequenced_item(point))
    assert type(back) is Point and (back.position, back.x) == (0, Decimal("1.50"))
    with pytest.raises(TypeError, match="EventKind"):
        register_event_kind(PointKind)  # type: ignore[arg-type]


def test_import_eventstore_core_imports_neither_pydantic_nor_msgspec() -> None:
    code = (
        "import sys, dataclasses, uuid\n"
        "import eventstore_core as core\n"
        "mapper = core.SequencedItemMapper()\n"
        "item = mapper.to_sequenced_item(core.DomainEvent(sequence_id=uuid.uuid4(), position=0))\n"
        "assert mapper.from_sequenced_item(item).position == 0\n"
        "@core.register_class(topic='app#Moved')\n"
        "@dataclasses.dataclass(frozen=True)\n"
        "class Moved:\n"
        "    sequence_id: uuid.UUID\n"
        "    position: int\n"
        "moved = Moved(uuid.uuid4(), 1)\n"
        "assert mapper.from_sequenced_item(mapper.to_sequenced_item(moved)) == moved\n"
        "store = core.EventStore.from_config('memory')\n"
        "try:\n"
        "    store.append(None)\n"
        "except core.InvalidEventError:\n"
        "    pass\n"
        "print(sorted(name for name in ('pydantic', 'msgspec') if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


# -- through every backend -------------------------------------------------------------------


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "aes"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_each_kind_round_trips_through_every_backend(backend: str, encrypted: bool) -> None:
    opened = _open(backend)
    strategy = opened.active_record_strategy
    mapper: SequencedItemMapper[Any] = SequencedItemMapper(
        sequenced_item_class=strategy.sequenced_item_class,
        **({"cipher": AESCipher(aes_key=b"b" * 32), "always_encrypt": True} if encrypted
           else {}),
    )
    id_name, position_name = mapper.sequence_id_attr_name, mapper.position_attr_name
    store = EventStore(mapper, strategy)
    try:
        sequence_id = uuid4()
        kinds: list[Callable[..., Any]] = list(KINDS.values())
        events = []
        for position, cls in enumerate(kinds):
            attributes = example_attributes()
            del attributes["originator_id"], attributes["originator_version"]
            events.append(_renamed(cls, id_name, position_name)(
                **attributes, **{id_name: sequence_id, position_name: position}))
        store.append(events)
        back = store.get_domain_events(sequence_id)
        assert [type(event) for event in back] == [type(event) for event in events]
        for event, read in zip(events, back, strict=True):
            assert_same(attributes_of(event), attributes_of(read))
    finally:
        store.close()


def _renamed(cls: type, id_name: str, position_name: str) -> type:
    """The class of the kind of ``cls`` whose id and position are named as the backend's
    items (``originator_id`` or ``sequence_id``)."""
    if id_name == "originator_id":
        return cls
    return SEQUENCE_ITEM_KINDS[cls]


def _sequence_item_kinds() -> dict[type, type]:
    """The same classes with ``sequence_id`` and ``position`` (the items of SequencedItem)."""
    made: dict[type, type] = {Changed: Changed}
    for cls in KINDS.values():
        if cls is Changed:
            continue
        if dataclasses.is_dataclass(cls):
            fields = [("sequence_id", UUID), ("position", int)] + [
                (f.name, f.type) for f in dataclasses.fields(cls)[2:]]
            params = cls.__dataclass_params__  # type: ignore[attr-defined]
            new: type = dataclasses.make_dataclass(
                cls.__name__ + "Item", fields, frozen=params.frozen,
                slots="__slots__" in vars(cls), namespace={"__module__": __name__})
        elif issubclass(cls, pydantic.BaseModel):
            definitions: Any = {name: (field.annotation, field) for name, field
                                in cls.model_fields.items() if name not in ("originator_id",
                                                                            "originator_version")}
            new = pydantic.create_model(cls.__name__ + "Item", __config__=cls.model_config,
                                        __module__=__name__, sequence_id=(UUID, ...),
                                        position=(int, ...), **definitions)
        else:
            config = cls.__struct_config__  # type: ignore[attr-defined]
            struct_fields = [("sequence_id", UUID), ("position", int)] + [
                (name, Any) for name in cls.__struct_fields__[2:]]  # type: ignore[attr-defined]
            new = msgspec.defstruct(cls.__name__ + "Item", struct_fields, frozen=config.frozen,
                                    array_like=config.array_like, module=__name__)
        globals()[new.__name__] = new
        made[cls] = register_class(new)
    return made


SEQUENCE_ITEM_KINDS = _sequence_item_kinds()
