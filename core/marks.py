"""Which contacts' records changed since the last commit.

The tables a contact's record reads (contacts, history, enrollments) mark each contact whose
part they change in one set the shard shares (``Shard.touched``); a commit rewrites the records
of those contacts only (docs/architecture.md, "Durable state"). A table used on its own,
outside a shard (a benchmark, a test), has nothing to commit: it marks nothing, rather than
keep a mark for every contact it ever changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class Marks(Protocol):
    """Where a table marks the contacts it changes (a ``set[int]`` of slots is one)."""

    def add(self, slot: int, /) -> None: ...

    def update(self, slots: Iterable[int], /) -> None: ...


class NoMarks:
    """The marks of a table outside a shard: none are kept."""

    def add(self, slot: int, /) -> None:
        pass

    def update(self, slots: Iterable[int], /) -> None:
        pass


NO_MARKS = NoMarks()
