"""The JSON codec, through orjson: every value comes back as the type it went in as.

orjson writes UUIDs and datetimes as plain strings and refuses integers beyond 64 bits, so
values that JSON cannot carry with their type are written as one-key "tagged" objects
(``{"__uuid__": "..."}``) and turned back on the way out. Users extend both classes the way
they would extend ``json.JSONEncoder`` / ``json.JSONDecoder``: override ``default`` to turn an
object of their own type into something JSON-able (typically a tagged dict), and
``object_hook`` to turn that dict back.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import orjson

from .exceptions import DataIntegrityError, EncodingError

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_DICT_TAG = "__dict__"


def _decode_float(text: str) -> float:
    return float(text)


def _zone(zone: Any) -> datetime.tzinfo | None:
    """The time zone of a ``*_fields`` tag: None, a fixed offset (int microseconds) or the
    key of a ``ZoneInfo`` zone."""
    if zone is None:
        return None
    if type(zone) is int:
        return datetime.timezone(datetime.timedelta(microseconds=zone))
    if type(zone) is str:
        try:
            return ZoneInfo(zone)
        except (KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError("unknown time zone key") from None
    raise TypeError(f"a time zone is an int, a str or null, not a {type(zone).__name__}")


def _decode_datetime_fields(fields: list[Any]) -> datetime.datetime:
    """``[naive isoformat, zone, fold]``: what ``_wrap_datetime`` writes for the datetimes
    that ISO text alone does not carry exactly (``ZoneInfo`` zones, ``fold``, offsets with
    microseconds)."""
    text, zone, fold = fields
    return datetime.datetime.fromisoformat(text).replace(tzinfo=_zone(zone), fold=fold)


def _decode_time_fields(fields: list[Any]) -> datetime.time:
    """``[naive isoformat, zone, fold]`` of a ``time``, as for datetimes."""
    text, zone, fold = fields
    return datetime.time.fromisoformat(text).replace(tzinfo=_zone(zone), fold=fold)


#: Tag -> function that rebuilds the value from its JSON form.
DECODERS: dict[str, Callable[[Any], Any]] = {
    "__uuid__": UUID,
    "__datetime__": datetime.datetime.fromisoformat,
    "__date__": datetime.date.fromisoformat,
    "__time__": datetime.time.fromisoformat,
    "__decimal__": Decimal,
    "__int__": int,
    "__float__": _decode_float,
    "__tuple__": tuple,
    "__set__": set,
    "__frozenset__": frozenset,
    "__bytes__": bytes.fromhex,
    "__datetime_fields__": _decode_datetime_fields,
    "__time_fields__": _decode_time_fields,
}


def _is_tag(key: str) -> bool:
    return key.startswith("__") and key.endswith("__") and len(key) > 4


class JSONObjectEncoder:
    """Encodes a dict of attribute values to compact JSON text."""

    def encode(self, obj: Any) -> str:
        """Compact JSON text of ``obj``; ``EncodingError`` for anything it cannot carry.

        Messages name types and attribute names, never a value (a value may be a secret
        that is stored encrypted).
        """
        try:
            prepared = self._prepare_dict(obj) if type(obj) is dict else self._prepare(obj)
            return orjson.dumps(prepared).decode()
        except orjson.JSONEncodeError as error:
            key = _non_str_key(obj)  # dict keys are checked by orjson, named here
            if key is not _NONE:
                raise EncodingError(
                    f"a dict key of type {type(key).__name__} is not a str; JSON keys must "
                    f"be str"
                ) from None
            raise EncodingError(str(error)) from None  # orjson names the problem, not values
        except RecursionError:
            raise EncodingError(
                "the value nests too deeply, or a list or dict contains itself"
            ) from None

    def default(self, obj: Any) -> Any:
        """Return a JSON-able form of ``obj``; subclasses handle their own types first.

        The base class handles subclasses of the supported types and raises
        ``EncodingError`` for anything else.
        """
        for base in (datetime.datetime, datetime.date, datetime.time, UUID, Decimal):
            if isinstance(obj, base):
                return _WRAPPERS[base](obj)
        raise EncodingError(
            f"a value of type {type(obj).__module__}.{type(obj).__qualname__} cannot be "
            f"encoded as JSON; extend JSONObjectEncoder.default() to support it"
        )

    def _prepare(self, value: Any) -> Any:
        """``value`` with everything orjson would write without its type wrapped in a tag.

        Containers come back as they are unless something inside them changed (then as a
        copy; the caller's values are never changed). Tagged values stay Python objects where
        orjson writes them exactly (UUIDs, most datetimes), so the text is made in C.
        """
        kind = type(value)
        if kind is str or kind is bool or value is None:
            return value
        if kind is int:
            return value if _INT_MIN <= value <= _INT_MAX else _wrap_int(value)
        if kind is float:
            # inf - inf and nan - nan are nan, which is never equal to 0.0
            return value if value - value == 0.0 else {"__float__": repr(value)}
        if kind is dict:
            return self._prepare_dict(value)
        if kind is list:
            return self._prepare_list(value)
        wrapper = _WRAPPERS.get(kind)
        if wrapper is not None:
            return wrapper(value) if kind not in _CONTAINERS else wrapper(self, value)
        replaced = self.default(value)
        if type(replaced) is kind:
            raise EncodingError(f"default() returned a {kind.__name__} unchanged")
        if type(replaced) is dict:  # a tag made by default() is meant as a tag
            return self._prepare_dict(replaced, escape_tags=False)
        return self._prepare(replaced)

    def _prepare_dict(self, value: dict[Any, Any], escape_tags: bool = True) -> dict[Any, Any]:
        """``value`` itself if no value in it changes, else a copy with the changed values.

        The hot path of encoding: plain values are passed over inline; keys are left to
        orjson, which refuses any that is not a str (``encode`` names it).
        """
        prepared = None
        new: Any
        for key, item in value.items():
            kind = type(item)
            if kind is str or item is None or kind is bool:
                continue
            if kind is int:
                if _INT_MIN <= item <= _INT_MAX:
                    continue
            elif kind is float:
                if item - item == 0.0:
                    continue
            elif kind is list:
                new = self._prepare_list(item)
                if new is item:
                    continue
            try:
                if kind is datetime.datetime and item.tzinfo in _EXACT_ZONES and not item.fold:
                    new = {"__datetime__": item}  # (what _wrap_datetime does, inline)
                elif kind is not list:
                    new = _WRAPPERS[kind](item) if kind in _LEAVES else self._prepare(item)
            except EncodingError as error:
                raise EncodingError(f"attribute {key!r}: {error}") from None
            if new is not item:
                if prepared is None:
                    prepared = dict(value)
                prepared[key] = new
        result = value if prepared is None else prepared
        if escape_tags and len(result) == 1:
            (key,) = result
            if type(key) is str and _is_tag(key):
                return {_DICT_TAG: result}  # a user's dict that looks like a tag stays a dict
        return result

    def _prepare_list(self, value: list[Any]) -> list[Any]:
        """``value`` itself if no item in it changes, else a copy with the changed items."""
        prepared = None
        for index, item in enumerate(value):
            if type(item) is str:
                continue
            new = self._prepare(item)
            if new is not item:
                if prepared is None:
                    prepared = list(value)
                prepared[index] = new
        return value if prepared is None else prepared


_NONE: Any = object()


def _non_str_key(value: Any) -> Any:
    """The first dict key in ``value`` (searched depth first) that is not a str, else _NONE."""
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                return key
            found = _non_str_key(item)
            if found is not _NONE:
                return found
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            found = _non_str_key(item)
            if found is not _NONE:
                return found
    return _NONE


#: Time zones whose offset is whole minutes at every instant: orjson writes their datetimes
#: exactly (None: naive).
_EXACT_ZONES = frozenset({None, datetime.UTC})


def _wrap_int(value: int) -> dict[str, Any]:
    try:
        return {"__int__": str(value)}
    except ValueError:  # more digits than sys.get_int_max_str_digits() allows
        raise EncodingError(
            f"an integer of {value.bit_length()} bits has more decimal digits than Python "
            f"converts (sys.get_int_max_str_digits()), so it could not be read back"
        ) from None


def _wrap_datetime(value: datetime.datetime) -> dict[str, Any]:
    """The tag of a datetime: ISO text where it carries the value exactly, else its fields.

    ISO text loses a ``ZoneInfo`` zone (it keeps only the offset), ``fold``, and (CPython's
    ``fromisoformat``) an offset under one second; those datetimes are written as
    ``[naive isoformat, zone, fold]``.
    """
    zone = value.tzinfo
    if type(zone) is ZoneInfo:
        return {"__datetime_fields__": _fields(value, _zone_key(zone))}
    offset = value.utcoffset()
    if offset is not None and offset.microseconds or value.fold:
        micros = None if offset is None else offset // _MICROSECOND
        return {"__datetime_fields__": _fields(value, micros)}
    if offset is None or not offset.seconds % 60:
        return {"__datetime__": value}  # orjson writes it exactly, in C
    return {"__datetime__": value.isoformat()}  # orjson would round an offset's seconds


def _wrap_time(value: datetime.time) -> dict[str, Any]:
    zone = value.tzinfo
    if zone is None and not value.fold:
        # isoformat, not orjson: orjson 3.13 writes time(0, 0, 0, 10000) as "00:00:00.10000"
        return {"__time__": value.isoformat()}
    if type(zone) is ZoneInfo:  # a time has no offset in a zone: keep the zone itself
        return {"__time_fields__": _fields(value, _zone_key(zone))}
    offset = value.utcoffset()
    if offset is not None and offset.microseconds or value.fold:
        micros = None if offset is None else offset // _MICROSECOND
        return {"__time_fields__": _fields(value, micros)}
    return {"__time__": value.isoformat()}


_MICROSECOND = datetime.timedelta(microseconds=1)


def _fields(value: datetime.datetime | datetime.time, zone: int | str | None) -> list[Any]:
    return [value.replace(tzinfo=None, fold=0).isoformat(), zone, value.fold]


def _zone_key(zone: ZoneInfo) -> str:
    if zone.key is None:  # made by ZoneInfo.from_file: no name another process could load
        raise EncodingError("a ZoneInfo zone without a key (from_file) cannot be stored")
    return zone.key


_WRAPPERS: dict[type, Callable[..., Any]] = {
    UUID: lambda v: {"__uuid__": v},
    datetime.datetime: _wrap_datetime,
    datetime.date: lambda v: {"__date__": v},
    datetime.time: _wrap_time,
    Decimal: lambda v: {"__decimal__": str(v)},
    bytes: lambda v: {"__bytes__": v.hex()},
    tuple: lambda self, v: {"__tuple__": [self._prepare(i) for i in v]},
    set: lambda self, v: {"__set__": _sorted_items(self, v)},
    frozenset: lambda self, v: {"__frozenset__": _sorted_items(self, v)},
}


def _sorted_items(encoder: JSONObjectEncoder, items: set[Any] | frozenset[Any]) -> list[Any]:
    """The items of a set in the order of their JSON text: a set's own order changes when it
    is rebuilt, and the same event must always give the same text."""
    return sorted((encoder._prepare(item) for item in items), key=orjson.dumps)


_CONTAINERS = (tuple, set, frozenset)
_LEAVES = frozenset(_WRAPPERS).difference(_CONTAINERS)  # wrapped without walking inside


#: Tags whose value is a string that decodes to a plain value (no container to walk into).
_LEAF_TAGS = frozenset(DECODERS).difference(
    {"__tuple__", "__set__", "__frozenset__", "__datetime_fields__", "__time_fields__"}
)
#: How many top-level keys with tagged values a decoder remembers (see ``decode``).
_KNOWN_TAGS_MAX = 8


def _malformed(error: Exception) -> DataIntegrityError:
    """The error of a tagged value that does not decode; the message never quotes the data
    (``int()``, ``fromisoformat()`` and others put the bad text in theirs)."""
    return DataIntegrityError(
        f"data has a malformed tagged value ({type(error).__name__})"
    )


class JSONObjectDecoder:
    """Decodes what ``JSONObjectEncoder`` wrote back to the same types and values."""

    def __init__(self) -> None:
        self._always_walk = type(self).object_hook is not JSONObjectDecoder.object_hook
        #: (key, tag, decoder) of top-level keys seen holding a tagged plain value (an
        #: event's ``timestamp``, ...).
        self._known_tags: tuple[tuple[str, str, Callable[[str], Any]], ...] = ()

    def decode(self, text: str | bytes) -> Any:
        """The value ``text`` holds, with every tagged value turned back into its type.

        Walking every value to find the tags costs as much as ``orjson.loads`` itself, so the
        common case goes without: events of a class tend to have their tagged values (a
        timestamp, an id) under the same top-level keys. Those keys are remembered, and when
        untagging them accounts for every ``"__`` in the text (each tag starts with one),
        nothing else can be tagged and the walk is skipped.
        """
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise DataIntegrityError(f"data is not valid JSON: {error}") from None
        tags = text.count('"__' if isinstance(text, str) else b'"__')  # type: ignore[arg-type]
        if self._always_walk:
            return self._walk_checked(obj)
        if not tags:
            return obj
        if type(obj) is not dict or (len(obj) == 1 and _DICT_TAG in obj):
            # (a dict escaped because its one key looks like a tag has no remembered keys)
            return self._walk_checked(obj)
        try:
            for key, tag, decoder in self._known_tags:  # untag them, counting the tags
                item = obj.get(key)
                if type(item) is dict and len(item) == 1:
                    tagged = item.get(tag)
                    if type(tagged) is str:
                        obj[key] = decoder(tagged)
                        tags -= 1
        except (TypeError, ValueError, ArithmeticError) as error:
            raise _malformed(error) from None
        if not tags:
            return obj
        self._learn_tags(obj)
        return self._walk_checked(obj)

    def _walk_checked(self, obj: Any) -> Any:
        try:
            return self._walk(obj)
        except (TypeError, ValueError, ArithmeticError) as error:
            raise _malformed(error) from None
        except RecursionError:
            raise DataIntegrityError("data nests too deeply to be decoded") from None

    def _learn_tags(self, obj: dict[str, Any]) -> None:
        """Remember the top-level keys of ``obj`` that hold a tagged plain value."""
        known = self._known_tags
        for key, item in obj.items():
            if type(item) is dict and len(item) == 1 and len(known) < _KNOWN_TAGS_MAX:
                tag = next(iter(item))
                if tag in _LEAF_TAGS and (key, tag, DECODERS[tag]) not in known:
                    known += ((key, tag, DECODERS[tag]),)
        self._known_tags = known

    def object_hook(self, obj: dict[str, Any]) -> Any:
        """Turn a decoded dict back into the value it stands for (subclasses extend this)."""
        if len(obj) == 1:
            for key, value in obj.items():
                decoder = DECODERS.get(key)
                if decoder is not None:
                    return decoder(value)
        return obj

    def _walk(self, value: Any) -> Any:
        """Apply ``object_hook`` to every dict, innermost first, changing containers in place."""
        kind = type(value)
        if kind is dict:
            if len(value) == 1 and _DICT_TAG in value:
                inner = value[_DICT_TAG]
                self._walk_values(inner)
                return inner
            self._walk_values(value)
            if len(value) > 1 and not self._always_walk:
                return value  # what the base object_hook would return, without the call
            return self.object_hook(value)
        if kind is list:
            self._walk_list(value)
        return value

    def _walk_list(self, items: list[Any]) -> None:
        for index, item in enumerate(items):
            if type(item) is dict or type(item) is list:
                items[index] = self._walk(item)

    def _walk_values(self, obj: dict[str, Any]) -> None:
        base_hook = not self._always_walk
        for key, item in obj.items():
            kind = type(item)
            if kind is dict:
                if base_hook and len(item) == 1:  # inline: a tag of a plain value
                    ((tag, tagged),) = item.items()
                    decoder = DECODERS.get(tag)
                    if decoder is not None and type(tagged) is str:
                        obj[key] = decoder(tagged)
                        continue
                obj[key] = self._walk(item)
            elif kind is list:
                self._walk_list(item)
