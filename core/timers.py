"""Timers: handles that fall due at an instant.

This is the pure-Python queue (a heap with lazy cancellation). The engine keeps two: enrollment
slots (the hot path; the hierarchical timer wheel keeps the same interface) and its agenda of
program-wide moments (cron ticks, date entries, activation windows), keyed by tuples.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from typing import Generic, TypeVar

H = TypeVar("H", bound=Hashable)


class TimerQueue(Generic[H]):
    """Handles scheduled at due times; one pending due time per handle."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, H]] = []
        self._due: dict[H, tuple[float, int]] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self._due)

    def schedule(self, handle: H, due: float) -> None:
        """Set (or move) ``handle``'s due time."""
        self._seq += 1
        self._due[handle] = (due, self._seq)
        heapq.heappush(self._heap, (due, self._seq, handle))

    def cancel(self, handle: H) -> None:
        self._due.pop(handle, None)

    def due(self, handle: H) -> float | None:
        """When ``handle`` falls due, if it is scheduled."""
        found = self._due.get(handle)
        return None if found is None else found[0]

    def next_due(self) -> float | None:
        self._drop_cancelled()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> list[H]:
        """Handles due at or before ``now``, in due order (ties in scheduling order)."""
        expired: list[H] = []
        while True:
            self._drop_cancelled()
            if not self._heap or self._heap[0][0] > now:
                return expired
            _, _, handle = heapq.heappop(self._heap)
            del self._due[handle]
            expired.append(handle)

    def _drop_cancelled(self) -> None:
        heap = self._heap
        while heap and self._due.get(heap[0][2]) != (heap[0][0], heap[0][1]):
            heapq.heappop(heap)
