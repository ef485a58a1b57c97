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
INFINITY = float("inf")


class TimerQueue(Generic[H]):
    """Handles scheduled at due times; one pending due time per handle.

    ``low`` is a lower bound of the next due time (exact after :meth:`next_due`): a caller that
    only needs to know whether anything could be due reads it without a call.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, H]] = []
        self._due: dict[H, tuple[float, int]] = {}
        self._seq = 0
        self.low = INFINITY

    def __len__(self) -> int:
        return len(self._due)

    def schedule(self, handle: H, due: float) -> None:
        """Set (or move) ``handle``'s due time."""
        self._seq += 1
        self._due[handle] = (due, self._seq)
        heapq.heappush(self._heap, (due, self._seq, handle))
        if due < self.low:
            self.low = due

    def cancel(self, handle: H) -> None:
        self._due.pop(handle, None)

    def due(self, handle: H) -> float | None:
        found = self._due.get(handle)
        return None if found is None else found[0]

    def handles(self) -> list[H]:
        """The pending handles."""
        return list(self._due)

    def next_due(self) -> float | None:
        self._drop_cancelled()
        if not self._heap:
            self.low = INFINITY
            return None
        self.low = self._heap[0][0]
        return self.low

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
        heap, pending = self._heap, self._due
        while heap:
            _, seq, handle = heap[0]
            found = pending.get(handle)
            if found is not None and found[1] == seq:
                return
            heapq.heappop(heap)
