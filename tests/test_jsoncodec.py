"""The JSON codec brings every supported value back with its type, and users extend it."""

import datetime
import sys
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from eventstore_core import (
    DataIntegrityError,
    EncodingError,
    JSONObjectDecoder,
    JSONObjectEncoder,
)
from eventstore_core.testing import EXAMPLE_VALUES


def round_trip(value: Any, encoder: Any = None, decoder: Any = None) -> Any:
    text = (encoder or JSONObjectEncoder()).encode({"value": value})
    assert isinstance(text, str)
    return (decoder or JSONObjectDecoder()).decode(text)["value"]


@pytest.mark.parametrize("name", sorted(EXAMPLE_VALUES))
def test_every_value_type_comes_back_as_itself(name: str) -> None:
    value = EXAMPLE_VALUES[name]
    back = round_trip(value)
    assert type(back) is type(value)
    assert back == value
    if isinstance(value, datetime.datetime | datetime.time):
        assert back.utcoffset() == value.utcoffset()


def test_compact_output_as_the_document_shows() -> None:
    assert JSONObjectEncoder().encode({"foo": "bar"}) == '{"foo":"bar"}'


def test_nan_comes_back_as_nan() -> None:
    back = round_trip(float("nan"))
    assert back != back


def test_ints_at_the_64_bit_edges() -> None:
    for value in (2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**40):
        back = round_trip(value)
        assert back == value and type(back) is int


def test_decimal_keeps_its_exponent() -> None:
    assert str(round_trip(Decimal("1.500"))) == "1.500"


def test_tuples_and_sets_keep_their_type() -> None:
    assert round_trip((1, (2, "x"))) == (1, (2, "x"))
    assert round_trip({1, 2}) == {1, 2}


def test_a_value_that_cannot_be_encoded_names_the_attribute() -> None:
    with pytest.raises(EncodingError) as caught:
        JSONObjectEncoder().encode({"good": 1, "bad": object()})
    assert "'bad'" in str(caught.value)
    assert "object" in str(caught.value)


def test_non_str_dict_keys_are_refused() -> None:
    with pytest.raises(EncodingError, match="dict key of type int is not a str") as caught:
        JSONObjectEncoder().encode({"mapping": {4111: "one"}})
    assert "4111" not in str(caught.value)  # a key may be a secret too


def test_corrupt_json_is_a_data_integrity_error() -> None:
    with pytest.raises(DataIntegrityError):
        JSONObjectDecoder().decode('{"foo": ')
    with pytest.raises(DataIntegrityError):
        JSONObjectDecoder().decode('{"when": {"__datetime__": "not a date"}}')


class Money:
    def __init__(self, cents: int, currency: str) -> None:
        self.cents, self.currency = cents, currency

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and vars(self) == vars(other)


class MoneyEncoder(JSONObjectEncoder):
    def default(self, obj: Any) -> Any:
        if isinstance(obj, Money):
            return {"__money__": [obj.cents, obj.currency]}
        return super().default(obj)


class MoneyDecoder(JSONObjectDecoder):
    def object_hook(self, obj: dict[str, Any]) -> Any:
        if set(obj) == {"__money__"}:
            return Money(*obj["__money__"])
        return super().object_hook(obj)


def test_users_extend_encoder_and_decoder_for_their_own_types() -> None:
    value = {
        "price": Money(1999, "EUR"), "when": datetime.date(2026, 1, 2), "list": [Money(1, "X")]
    }
    back = round_trip(value, MoneyEncoder(), MoneyDecoder())
    assert back == value


def test_a_default_that_returns_the_same_type_is_caught() -> None:
    class Loop(JSONObjectEncoder):
        def default(self, obj: Any) -> Any:
            return obj

    with pytest.raises(EncodingError):
        Loop().encode({"x": object()})


# The decoder remembers top-level keys that held tagged values and untags them without a
# walk when that accounts for every '"__' in the text; anything else must still be walked.
@pytest.mark.parametrize(
    "later",
    [
        {"at": datetime.datetime(2024, 1, 1), "inner": {"id": UUID(int=7)}},  # nested tag too
        {"at": UUID(int=3)},  # the same key, another tag
        {"at": datetime.datetime(2024, 1, 1), "items": [(1, 2), {UUID(int=1)}]},
        {"at": datetime.datetime(2024, 1, 1), "text": 'a "__datetime__" in a string'},
        {"at": {"__datetime__": "not a tag, a user's dict"}},  # escaped by the encoder
        {"at": datetime.datetime(2024, 1, 1), "__note__": "a key that looks like a tag"},
        {"at": [datetime.date(2024, 1, 2)]},
        {"at": "2024-01-01T00:00:00"},  # a plain string under the known key
    ],
)
def test_remembered_keys_never_hide_another_tag(later: dict[str, object]) -> None:
    encoder, decoder = JSONObjectEncoder(), JSONObjectDecoder()
    first = {"at": datetime.datetime(2023, 5, 6, 7, 8, 9, tzinfo=datetime.UTC), "n": 1}
    assert decoder.decode(encoder.encode(first)) == first  # learns "at"
    back = decoder.decode(encoder.encode(later))
    assert back == later
    assert {key: type(value) for key, value in back.items()} == {
        key: type(value) for key, value in later.items()
    }
    assert decoder.decode(encoder.encode(first)) == first  # and still right afterwards


def test_encoding_never_changes_the_callers_values() -> None:
    """Containers are passed to orjson as they are unless a value in them is tagged, and
    then copied: the caller's dicts and lists stay as they were."""
    inner = {"when": datetime.datetime(2024, 1, 1), "n": 1}
    items = ["a", UUID(int=1), [2**70]]
    value = {"inner": inner, "items": items, "plain": ["x", "y"]}
    before = repr(value)
    text = JSONObjectEncoder().encode(value)
    assert repr(value) == before
    assert type(inner["when"]) is datetime.datetime and type(items[1]) is UUID
    assert JSONObjectDecoder().decode(text) == value


def test_a_nested_non_str_key_is_named() -> None:
    with pytest.raises(EncodingError, match=r"dict key of type int is not a str"):
        JSONObjectEncoder().encode({"a": [{"b": {3: "x"}}]})


# -- issue 15 part 6: the codec never changes a value and never fails raw -----------------


@pytest.mark.parametrize("name", ["__int__", "__uuid__", "__datetime__", "__tuple__"])
def test_an_attribute_named_like_a_tag_reads_the_same_every_time(name: str) -> None:
    """The state's only attribute has a tag's name: the encoder escapes the dict, and the
    decoder's remembered keys must not take the escape for a tagged value on a second read."""
    text = JSONObjectEncoder().encode({name: "5"})
    decoder = JSONObjectDecoder()
    for _ in range(3):
        assert decoder.decode(text) == {name: "5"}


_PARIS = ZoneInfo("Europe/Paris")
_ODD_DATETIMES = {
    "offset_500us": datetime.datetime(
        2020, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(microseconds=500))
    ),
    "offset_minus_3us": datetime.datetime(
        2020, 1, 1, 12, tzinfo=datetime.timezone(-datetime.timedelta(microseconds=3))
    ),
    "offset_1s_500us": datetime.datetime(
        2020, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(seconds=1, microseconds=500))
    ),
    "zoneinfo": datetime.datetime(2024, 7, 1, 12, 0, tzinfo=_PARIS),
    "zoneinfo_fold_0": datetime.datetime(2021, 10, 31, 2, 30, tzinfo=_PARIS, fold=0),
    "zoneinfo_fold_1": datetime.datetime(2021, 10, 31, 2, 30, tzinfo=_PARIS, fold=1),
    "zoneinfo_skipped": datetime.datetime(2021, 3, 28, 2, 30, tzinfo=_PARIS, fold=1),
    "naive_fold_1": datetime.datetime(2021, 10, 31, 2, 30, fold=1),
    "time_offset_500us": datetime.time(
        1, tzinfo=datetime.timezone(datetime.timedelta(microseconds=500))
    ),
    "time_zoneinfo": datetime.time(1, 2, 3, tzinfo=_PARIS),
    "time_fold_1": datetime.time(1, 2, 3, fold=1),
}


@pytest.mark.parametrize("name", sorted(_ODD_DATETIMES))
def test_offsets_zones_and_fold_come_back_exactly(name: str) -> None:
    value = _ODD_DATETIMES[name]
    back = round_trip(value)
    assert type(back) is type(value) and back == value
    assert back.tzinfo == value.tzinfo  # the same zone, not just the same offset
    assert back.fold == value.fold
    assert back.utcoffset() == value.utcoffset()
    assert back.isoformat() == value.isoformat()
    back_in_list = round_trip([value])[0]
    assert back_in_list.tzinfo == value.tzinfo and back_in_list.fold == value.fold


def test_a_zone_without_a_key_is_refused() -> None:
    import zoneinfo

    source = zoneinfo.TZPATH[0] + "/Europe/Paris" if zoneinfo.TZPATH else None
    if source is None:
        pytest.skip("no tz database on this machine")
    with open(source, "rb") as file:
        keyless = ZoneInfo.from_file(file)
    with pytest.raises(EncodingError, match="without a key"):
        JSONObjectEncoder().encode({"at": datetime.datetime(2024, 1, 1, tzinfo=keyless)})


def test_an_integer_beyond_the_digit_limit_is_an_encoding_error() -> None:
    huge = 10 ** (sys.get_int_max_str_digits() + 10)
    for value in ({"n": huge}, {"n": [huge]}, {"n": (huge,)}):
        with pytest.raises(EncodingError, match="digits"):
            JSONObjectEncoder().encode(value)


def test_a_stored_integer_beyond_the_digit_limit_is_a_data_integrity_error() -> None:
    text = '{"n":{"__int__":"' + "1" * (sys.get_int_max_str_digits() + 1) + '"}}'
    with pytest.raises(DataIntegrityError) as caught:
        JSONObjectDecoder().decode(text)
    assert "111111" not in str(caught.value)


def _nested(depth: int) -> Any:
    value: Any = {}
    for _ in range(depth):
        value = {"a": [value]}
    return value


def test_self_referencing_and_deep_values_are_encoding_errors() -> None:
    looped: list[Any] = [1]
    looped.append(looped)
    mapping: dict[str, Any] = {}
    mapping["self"] = mapping
    for value in (looped, mapping, _nested(5000), [_nested(5000)], (_nested(5000),)):
        with pytest.raises(EncodingError, match="nests too deeply"):
            JSONObjectEncoder().encode({"x": value})
    with pytest.raises(EncodingError):  # deeper than orjson writes, within Python's limit
        JSONObjectEncoder().encode({"x": _nested(300)})


def test_deep_stored_data_is_a_data_integrity_error() -> None:
    text = '{"x":' + '{"a":[' * 600 + '{"__uuid__":"1"}' + "]}" * 600 + "}"
    with pytest.raises(DataIntegrityError):
        JSONObjectDecoder().decode(text)


# -- issue 15 part 5: no value in a message -----------------------------------------------


def test_messages_never_show_the_value() -> None:
    class Card:
        def __repr__(self) -> str:
            return "Card(4111-1111-1111-1111)"

    with pytest.raises(EncodingError) as caught:
        JSONObjectEncoder().encode({"card": Card()})
    assert "4111" not in str(caught.value) and "'card'" in str(caught.value)

    class Same(JSONObjectEncoder):
        def default(self, obj: Any) -> Any:
            return obj

    with pytest.raises(EncodingError) as caught:
        Same().encode({"card": Card()})
    assert "4111" not in str(caught.value)
    for text in (
        '{"card":{"__int__":"4111-1111"}}',
        '{"card":{"__datetime__":"4111-1111"}}',
        '{"card":{"__decimal__":"4111-1111"}}',
        '{"card":{"__datetime_fields__":["4111-1111",null,0]}}',
        '{"card":{"__datetime_fields__":["2020-01-01T00:00:00","4111/1111",0]}}',
        '{"card":4111-1111}',
    ):
        with pytest.raises(DataIntegrityError) as read:
            JSONObjectDecoder().decode(text)
        assert "4111" not in str(read.value), text
        assert read.value.__cause__ is None or "4111" not in str(read.value.__cause__)


def test_a_set_gives_the_same_text_however_it_was_built() -> None:
    """Found by the property test: an event read back re-encoded its set in another order,
    so mapping item -> event -> item gave another item."""
    items = [2, UUID(int=1), UUID(int=2**127), "x", (1, "y")]
    texts = {
        JSONObjectEncoder().encode({"s": set(order), "f": frozenset(order)})
        for order in (items, items[::-1], items[2:] + items[:2])
    }
    assert len(texts) == 1
    text = texts.pop()
    assert JSONObjectEncoder().encode(JSONObjectDecoder().decode(text)) == text


@pytest.mark.parametrize("micros", [10000, 20000, 99999, 1, 100000])
def test_times_keep_their_microseconds(micros: int) -> None:
    """Found by the property test: orjson writes time(0, 0, 0, 10000) as "00:00:00.10000",
    which read back as 100000 microseconds."""
    value = datetime.time(0, 0, 0, micros)
    assert round_trip(value) == value
