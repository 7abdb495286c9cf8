"""What the fault suite does when something it needs is missing: fail in CI, skip elsewhere."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def unavailable(reason: str) -> NoReturn:
    """A failure in CI (``CI=true``: a green CI must mean the faults were tried), else a skip."""
    if in_ci():
        pytest.fail(f"CI needs this for the fault suite: {reason}", pytrace=False)
    pytest.skip(reason)
