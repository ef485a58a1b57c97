"""Live enrollments as fixed-width rows: how the store keeps the enrollment table.

An enrollment is 34 bytes in the store, the same row the shard holds in its columns plus its
due time, at a fixed place: row ``slot`` of the partition is at byte ``slot % CHUNK * ROW`` of
its chunk ``slot // CHUNK`` (a Redis string, written with ``SETRANGE``). A batch writes only
the rows it changed; a mass program that enrolls a million contacts writes a few long runs of
rows, not a million records. Contacts' own records (:mod:`records`) do not change when they
enroll.

A row names its contact by slot: contacts keep their slots across restarts (their records say
which). A row whose node is ``NONE`` is free, and so is one never written (all zeros: a chunk
starts as zeros, and a row ever opened has a generation of 1 or more).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .bytecode import NONE
from .enrollments import Row, Wait

if TYPE_CHECKING:
    from .shard import Shard

#: one enrollment as the store keeps it (little-endian, packed)
ROW_TYPE = np.dtype(
    [
        ("contact", "<i4"),
        ("program", "<i2"),
        ("node", "<i2"),
        ("wait", "i1"),
        ("converted", "i1"),
        ("generation", "<u4"),
        ("visits", "<i4"),
        ("entered_at", "<f8"),
        ("node_after", "<f4"),
        ("due", "<u4"),  #: whole seconds; 0: no timer
    ]
)
ROW = ROW_TYPE.itemsize
#: rows per stored chunk: 4,800 rows of 34 bytes fill the allocator's 160 KiB class
CHUNK = 4800
#: chunk -> (byte offset in it, the rows' bytes): what a commit writes
Runs = dict[int, list[tuple[int, bytes]]]


def dirty_runs(shard: Shard) -> Runs:
    """The rows the shard changed since its last commit, as runs of consecutive slots."""
    slots = shard.enrollments.changed_rows()
    runs: Runs = {}
    if not len(slots):
        return runs
    breaks = np.flatnonzero((np.diff(slots) != 1) | (np.diff(slots // CHUNK) != 0)) + 1
    for run in np.split(slots, breaks):
        first = int(run[0])
        data = rows_of(shard, first, first + len(run)).tobytes()
        runs.setdefault(first // CHUNK, []).append((first % CHUNK * ROW, data))
    return runs


def rows_of(shard: Shard, start: int, stop: int) -> npt.NDArray[np.void]:
    """Rows ``start`` to ``stop`` of the enrollment table, read from its columns."""
    enrollments = shard.enrollments
    rows = np.zeros(stop - start, dtype=ROW_TYPE)
    for name in ("generation", "node", "wait", "converted", "visits", "entered_at", "node_after"):
        column = np.frombuffer(getattr(enrollments, name), dtype=rows.dtype[name].base)
        rows[name] = column[start:stop]
    rows["contact"], rows["program"] = enrollments.live.pairs_of(start, stop)
    waiting = (rows["wait"] == Wait.TIMER) | (rows["wait"] == Wait.EVENT)
    rows["due"] = np.where(waiting & (rows["node"] != NONE), shard.timers.dues(start, stop), 0)
    return rows


def restore_rows(shard: Shard, chunks: Mapping[int, bytes]) -> Iterable[int]:
    """Put back every live enrollment of the stored chunks; return their contacts' slots."""
    enrollments, programs = shard.enrollments, shard.programs
    restored = []
    for chunk, data in sorted(chunks.items()):
        rows = np.frombuffer(data, dtype=ROW_TYPE)
        for index in np.flatnonzero((rows["node"] != NONE) & (rows["generation"] > 0)):
            row = rows[index]
            slot, program = chunk * CHUNK + int(index), int(row["program"])
            if not 0 <= program < len(programs):
                raise ValueError(f"enrollment {slot} names program #{program}, not deployed")
            if not 0 <= row["node"] < len(programs[program].compiled.nodes):
                raise ValueError(f"enrollment {slot} stands on node #{row['node']}, not there")
            contact = int(row["contact"])
            enrollments.restore(slot, contact, program, _row(row))
            if row["due"]:
                shard.timers.schedule_one(slot, int(row["due"]))
            restored.append(contact)
    return restored


def _row(row: np.void) -> Row:
    return Row(
        int(row["generation"]), int(row["node"]), int(row["wait"]), int(row["converted"]),
        int(row["visits"]), float(row["entered_at"]), float(row["node_after"]), [],
    )  # fmt: skip
