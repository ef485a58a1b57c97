"""The timer wheel's pure-Python twin: the same interface and the same answers as
``_wheel.pyx``, built on a binary heap, the fastest structure in pure Python.

The compiled wheel (Varghese & Lauck: four levels of 64 one-second slots and an overflow,
cascading down) is checked against this twin on random operations (tests/test_wheel.py).
Timers are handles (enrollment slots) due at whole seconds; expired handles come out in due
order, ties by handle.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt


class TimerWheel:
    """Pending timers: ``schedule`` a batch, ``cancel`` one, ``advance`` to an instant."""

    def __init__(self, now: int = 0) -> None:
        self.now = int(now)
        self._heap: list[tuple[int, int, int]] = []  # (due, handle, version)
        self._pending: dict[int, tuple[int, int]] = {}  # handle -> (due, version)
        self._version = 0

    def __len__(self) -> int:
        return len(self._pending)

    def schedule(self, handles: Iterable[int], dues: Iterable[int]) -> None:
        """Schedule (or move) each handle at its due second."""
        pairs = list(zip(handles, dues, strict=True))
        if any(not 0 <= int(h) <= 2**31 - 2 for h, _ in pairs):
            raise ValueError("handles are in 0..2^31-2")
        for handle, due in pairs:
            self.schedule_one(int(handle), int(due))

    def schedule_one(self, handle: int, due: int) -> None:
        """Schedule (or move) one handle."""
        self._version += 1
        self._pending[handle] = (due, self._version)
        heapq.heappush(self._heap, (due, handle, self._version))

    def cancel(self, handle: int) -> bool:
        """Forget a handle's timer; return whether it had one."""
        return self._pending.pop(handle, None) is not None

    def due(self, handle: int) -> int | None:
        found = self._pending.get(handle)
        return None if found is None else found[0]

    def dues(self, start: int, stop: int) -> npt.NDArray[np.int64]:
        """The due second of handles ``start`` to ``stop`` (0 for a handle with no timer)."""
        found = (self._pending.get(handle) for handle in range(start, stop))
        return np.array([0 if f is None else f[0] for f in found], dtype=np.int64)

    def next_due(self) -> int | None:
        """The earliest due second among pending timers (None when there is none)."""
        heap, pending = self._heap, self._pending
        while heap:
            due, handle, version = heap[0]
            if pending.get(handle) == (due, version):
                return due
            heapq.heappop(heap)  # cancelled or moved since
        return None

    def next_moment(self) -> int | None:
        """A lower bound of the next due time (timers already due are due now), in O(1): the
        heap's top, even if cancelled since, is never later than the next due timer."""
        if not self._pending:
            return None
        due = self._heap[0][0]
        return due if due > self.now else self.now

    def advance(self, now: int) -> npt.NDArray[np.int64]:
        """Move the wheel's time to ``now``; return the handles due by then, in due order."""
        expired = []
        while True:
            due = self.next_due()
            if due is None or due > now:
                break
            _, handle, _ = heapq.heappop(self._heap)
            del self._pending[handle]
            expired.append(handle)
        self.now = max(self.now, int(now))
        return np.array(expired, dtype=np.int64)
