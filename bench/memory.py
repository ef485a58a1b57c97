"""Memory per live enrollment in the engine: its columns, its pair index, and its timer.

A million contacts are enrolled in four programs (a quarter each) and each enrollment waits on
a timer, as enrollments mostly do. tracemalloc sees every allocation of the columns
(``array``), of the pair indexes and of the wheel (PyMem). The pure twins' figure is measured
on fewer enrollments: their dicts cost the same per entry at any size.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

from parcours.core import pairs, wheel
from parcours.core._pairs import LiveIndex, PastIndex
from parcours.core._wheel import TimerWheel
from parcours.core.enrollments import Enrollments

START = 1_796_112_000


def bytes_per_enrollment(count: int, pure: bool = False) -> tuple[float, float]:
    """(bytes of enrollment state, bytes with its pending timer) per live enrollment."""
    tracemalloc.start()
    enrollments = Enrollments()
    enrollments.live, enrollments.past = _indexes(pure)
    timers = (wheel.TimerWheel if pure else TimerWheel)(START)
    before, _ = tracemalloc.get_traced_memory()
    for contact in range(count):
        slot = enrollments.open(contact, contact % 4, 1, START + contact * 0.01)
        enrollments.reached(slot, START + contact * 0.01)
    state, _ = tracemalloc.get_traced_memory()
    for slot in range(count):
        timers.schedule_one(slot, START + 60 + slot % (30 * 86400))
    total, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(enrollments) == count and len(timers) == count
    return (state - before) / count, (total - before) / count


def _indexes(pure: bool) -> tuple[Any, Any]:
    if pure:
        return pairs.LiveIndex(), pairs.PastIndex()
    return LiveIndex(), PastIndex()
