"""What every contender (a library on a backend, or the raw driver) offers the workloads."""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from .workload import EventSpec


class Side(ABC):
    """One library (``ours``, ``eventsourcing``, ``raw``) on one backend.

    ``reset()`` gives an empty store (never timed); the other methods are what is timed.
    """

    library: str = ""
    backend: str = ""
    variant: str = ""
    #: Exceptions meaning "this position is already taken".
    conflict_errors: tuple[type[BaseException], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.library}:{self.variant}" if self.variant else self.library

    @abstractmethod
    def reset(self) -> None:
        """Start again from an empty store (drop/recreate, truncate or a new file)."""

    def close(self) -> None:  # noqa: B027 - optional for sides without connections
        """Release connections (the store may be reset and used again)."""

    def cleanup(self) -> None:
        """Release everything, temporary files included (the side is not used again)."""
        self.close()

    @abstractmethod
    def make_events(self, specs: Sequence[EventSpec]) -> list[Any]:
        """This side's objects for the events (domain events, or rows for the raw driver)."""

    @abstractmethod
    def append(self, events: list[Any]) -> None:
        """Store the events in one transaction."""

    @abstractmethod
    def read_sequence(self, sequence_id: UUID) -> list[Any]:
        """All events of a sequence, ascending, decoded (rows for the raw driver)."""

    @abstractmethod
    def read_last(self, sequence_id: UUID, count: int) -> list[Any]:
        """The last ``count`` events of a sequence, newest first."""

    def positions(self, sequence_id: UUID) -> list[int]:
        """The stored positions of a sequence, ascending (for the W5 check)."""
        return [self.position_of(e) for e in self.read_sequence(sequence_id)]

    def position_of(self, event: Any) -> int:
        return int(event.originator_version)

    # -- W6: reading in pages, never everything at once -----------------------------------
    def iter_all(self, page_size: int) -> Iterator[Any]:
        raise NotImplementedError(f"{self.label} on {self.backend} has no W6")

    def iter_sequence(self, sequence_id: UUID, page_size: int) -> Iterator[Any]:
        raise NotImplementedError(f"{self.label} on {self.backend} has no W6")


class TempDir:
    """A temporary directory removed on ``cleanup()`` (and at exit if forgotten)."""

    def __init__(self, prefix: str) -> None:
        self.path = tempfile.mkdtemp(prefix=prefix)

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def clear(self) -> None:
        for name in os.listdir(self.path):
            os.unlink(os.path.join(self.path, name))

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
