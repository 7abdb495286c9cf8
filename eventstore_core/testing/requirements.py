"""Which capabilities a test case needs: ``BackendTestCase`` skips it, with the reason, when
the backend's strategy does not declare them (SQLAlchemy's requirement-driven suite, small)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

from ..capabilities import Capabilities

F = TypeVar("F", bound=Callable[..., Any])
NAMES = frozenset(f.name for f in fields(Capabilities))


def requires(*names: str) -> Callable[[F], F]:
    """Run the test only when the strategy declares every capability in ``names``."""
    return _mark(names, True)


def requires_not(*names: str) -> Callable[[F], F]:
    """Run the test only when the strategy declares none of ``names`` (what it must do
    instead: refuse clearly)."""
    return _mark(names, False)


def _mark(names: tuple[str, ...], wanted: bool) -> Callable[[F], F]:
    unknown = set(names) - NAMES
    if unknown:
        raise ValueError(f"no capability named {', '.join(sorted(unknown))}")

    def mark(test: F) -> F:
        test.requirements = (*getattr(test, "requirements", ()),  # type: ignore[attr-defined]
                             *((name, wanted) for name in names))
        return test

    return mark


def requirements_of(test: Callable[..., Any]) -> tuple[tuple[str, bool], ...]:
    return tuple(getattr(test, "requirements", ()))


def unmet(test: Callable[..., Any], capabilities: Capabilities, strategy: str) -> str | None:
    """Why ``test`` does not apply to a strategy with ``capabilities``, or None."""
    for name, wanted in requirements_of(test):
        if bool(getattr(capabilities, name)) != wanted:
            declared = "declares" if not wanted else "does not declare"
            return f"{strategy} {declared} capabilities.{name}"
    return None
