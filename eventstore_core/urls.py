"""Configuration strings: one URL names the backend, where it is, and options.

``scheme[+driver]://[user[:password]@]host[:port][,host[:port]...][/path][?name=value&...]``

The scheme (before any ``+driver``) chooses the backend that registered it
(``register(..., url_schemes=("postgresql",), options_from_url=...)``); query parameters are
options, checked like keyword options. Passwords and secret options (``cipher_key``,
``password``, ...) are never shown: ``repr()``, ``str()`` and every message use ``redacted``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from .exceptions import ConfigurationError

#: Query parameters whose values are hidden wherever a URL is shown.
SECRET_NAMES = frozenset({"password", "cipher_key", "key", "secret", "token"})
MASK = "***"

_URL = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9.\-]*)(?:\+(?P<driver>[A-Za-z0-9_.\-]+))?:"
    r"(?://(?P<authority>[^/?#]*))?(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?$"
)
_USERINFO = re.compile(r"^(//[^/@:?#]*):[^/@?#]*@")


def looks_like_url(text: str) -> bool:
    """A configuration string has a scheme (``memory://``, ``sqlite:///app.db``); a backend
    name (``sqlalchemy``) has none."""
    return ":" in text


def redact(text: str) -> str:
    """``text`` with the password of its user info and the values of secret parameters
    masked: safe to show even when it does not parse."""
    scheme, sep, rest = text.partition(":")
    if not sep:
        return text
    rest = _USERINFO.sub(rf"\1:{MASK}@", rest)
    head, qmark, query = rest.partition("?")
    if qmark:
        query = "&".join(
            f"{name}={MASK}" if unquote(name).lower() in SECRET_NAMES and eq else name + eq + value
            for name, eq, value in (part.partition("=") for part in query.split("&"))
        )
    return f"{scheme}:{head}{qmark}{query}"


@dataclass(frozen=True)
class Host:
    name: str
    port: int | None = None


@dataclass(frozen=True, repr=False)
class StoreURL:
    """A parsed configuration string. ``str()`` and ``repr()`` mask its secrets."""

    scheme: str
    driver: str | None = None
    username: str | None = None
    password: str | None = field(default=None, compare=False)
    hosts: tuple[Host, ...] = ()
    #: What follows the authority, without its leading "/" ("app.db", "/abs/app.db", "shop").
    path: str = ""
    query: tuple[tuple[str, str], ...] = ()
    #: The string as given, kept for backends that pass it on (``redacted`` to show it).
    text: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str) -> StoreURL:
        """Parse ``text``; ``ConfigurationError`` naming the part that is wrong."""
        shown = redact(text)
        match = _URL.match(text)
        if match is None:
            raise ConfigurationError(
                f"configuration string {shown!r} is not a URL of the form "
                f"scheme://[user[:password]@]host[:port][/path][?option=value&...]"
            )
        username = password = None
        hosts: tuple[Host, ...] = ()
        authority = match["authority"]
        if authority:
            userinfo, at, hostinfo = authority.rpartition("@")
            if at:
                user, colon, secret = userinfo.partition(":")
                username = unquote(user) or None
                password = unquote(secret) if colon else None
            hosts = tuple(_host(part, shown) for part in hostinfo.split(",") if part) if (
                hostinfo
            ) else ()
        path = match["path"]
        if authority is not None and path.startswith("/"):
            path = path[1:]
        return cls(
            scheme=match["scheme"].lower(),
            driver=match["driver"],
            username=username,
            password=password,
            hosts=hosts,
            path=unquote(path),
            query=_query(match["query"] or "", shown),
            text=text,
        )

    @property
    def redacted(self) -> str:
        return redact(self.text)

    def options(self) -> dict[str, str]:
        return dict(self.query)

    def without_query(self) -> str:
        """The string as given up to its query (for backends that pass it on)."""
        return self.text.partition("?")[0]

    def __repr__(self) -> str:
        return f"StoreURL({self.redacted!r})"

    __str__ = __repr__


def _host(text: str, shown: str) -> Host:
    name, colon, port = text.rpartition(":") if not text.endswith("]") else (text, "", "")
    if not colon:
        return Host(unquote(text))
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(
            f"configuration string {shown!r}: port {port!r} of host {name!r} is not a number "
            f"from 1 to 65535"
        )
    return Host(unquote(name), int(port))


def _query(text: str, shown: str) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for part in filter(None, text.split("&")):
        name, eq, value = part.partition("=")
        name = unquote(name)
        if not eq or not name:
            raise ConfigurationError(
                f"configuration string {shown!r}: query part {redact('x:?' + part)[3:]!r} "
                f"is not name=value"
            )
        if name in seen:
            raise ConfigurationError(
                f"configuration string {shown!r}: option {name!r} is given twice"
            )
        seen.add(name)
        pairs.append((name, unquote(value)))  # "+" stays "+" (base64 keys)
    return tuple(pairs)
