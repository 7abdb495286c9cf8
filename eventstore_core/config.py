"""Options of plugins, read from keyword arguments or ``EVENTSTORE_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .exceptions import ConfigurationError


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Option:
    """One keyword a plugin factory takes.

    Its value comes from the keyword argument ``name``, else from the environment variable
    ``EVENTSTORE_<NAME>`` (parsed by ``parse``), else ``default``; an option without a default
    is required.
    """

    name: str
    help: str
    default: Any = REQUIRED
    parse: Callable[[str], Any] = str

    @property
    def env(self) -> str:
        return "EVENTSTORE_" + self.name.upper()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def comma_list(text: str) -> list[str]:
    """Parse ``"a, b"`` into ``["a", "b"]`` (for options such as hosts)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def boolean(text: str) -> bool:
    """Parse ``true``/``false`` (also 1/0, yes/no, on/off), as an environment variable or a
    configuration string's query parameter spells it."""
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{text!r} is not true or false")


def resolve_options(
    what: str,
    options: Sequence[Option],
    given: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Values for ``options`` from ``given`` or the environment; errors name every source."""
    environ = os.environ if environ is None else environ
    known = {option.name: option for option in options}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigurationError(
            f"{what} got unknown option(s) {', '.join(unknown)}; it accepts: "
            + (describe_options(options) or "no options")
        )
    values: dict[str, Any] = {}
    missing = []
    for option in options:
        if option.name in given and given[option.name] is not None:
            values[option.name] = given[option.name]
        elif option.env in environ and environ[option.env] != "":
            raw = environ[option.env]
            try:
                values[option.name] = option.parse(raw)
            except (TypeError, ValueError) as error:
                raise ConfigurationError(
                    f"{what}: environment variable {option.env}={raw!r} is not a valid "
                    f"value for option {option.name!r}: {error}"
                ) from error
        elif option.required:
            missing.append(option)
        else:
            values[option.name] = option.default
    if missing:
        raise ConfigurationError(
            f"{what} needs option(s) that were not given: "
            + "; ".join(f"{o.name}= (or environment variable {o.env}): {o.help}" for o in missing)
            + ". Options looked at: "
            + describe_options(options)
        )
    return values


def describe_options(options: Sequence[Option]) -> str:
    return ", ".join(
        f"{o.name}= / ${o.env}" + ("" if o.required else f" (default {o.default!r})")
        for o in options
    )
