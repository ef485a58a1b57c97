"""Rows of typed columns handed out in blocks, and one contiguous run of rows per contact.

An :class:`Arena` is a set of parallel numpy columns whose rows are handed out in blocks of a
power of two; a freed block waits on the free list of its size until a run of that size needs
one, so the arena grows only when no freed block fits. A :class:`Runs` table gives each contact
slot one run of rows (its first row and its length), always in the smallest block that holds
it: compiled code finds a contact's rows with two array reads and scans them in order without
a pointer to follow, and Python reads them as slices. A run that outgrows its block moves to
a block twice as large, so appending is amortized O(1).

Python reads and writes single rows through memoryviews of the same arrays (``cells``): a
memoryview item costs a third of a numpy scalar, and the engine writes history row by row.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

#: rows (and contact slots) an empty arena (or table) makes room for: never zero, so compiled
#: code can always take the address of a column's first row
FIRST_CAPACITY = 64


class Arena:
    """Parallel typed columns; rows below ``end`` belong to blocks, in use or free. Blocks
    hold at least ``smallest`` rows (a power of two): more for runs that mostly grow past one
    row, to spare them the first moves."""

    def __init__(self, dtypes: Mapping[str, npt.DTypeLike], smallest: int = 1) -> None:
        self.columns: dict[str, npt.NDArray[Any]] = {
            name: np.zeros(FIRST_CAPACITY, dtype) for name, dtype in dtypes.items()
        }
        #: the same columns as memoryviews (typed Any: a view's item is a float or an int,
        #: as its column's format says)
        self.cells: dict[str, Any] = {name: column.data for name, column in self.columns.items()}
        self.capacity = FIRST_CAPACITY  #: rows each column has room for
        self.smallest = smallest
        self.end = 0
        #: block size -> first rows of free blocks (an array: 8 bytes each, not an int object)
        self._free: dict[int, array[int]] = {}

    def add(self, name: str, column: npt.NDArray[Any]) -> None:
        """A new column, as long as the others (its values for every row, in use or not)."""
        assert len(column) == self.capacity
        self.columns[name], self.cells[name] = column, column.data

    def block(self, rows: int) -> int:
        """The size of the block that holds a run of ``rows`` rows (at least one)."""
        return max(self.smallest, 1 << (rows - 1).bit_length())

    def allocate(self, rows: int) -> int:
        """The first row of a free block that holds ``rows`` rows."""
        size = self.block(rows)
        free = self._free.get(size)
        if free:
            return free.pop()
        return self.extend(size)

    def extend(self, rows: int) -> int:
        """The first of ``rows`` new rows at the end (a caller cuts them into blocks)."""
        start = self.end
        self.end += rows
        if self.end > self.capacity:
            # a new array for each column: compiled readers bound to the old ones keep them
            self.capacity = max(self.end, 2 * self.capacity)
            for name, column in self.columns.items():
                grown = np.zeros(self.capacity, column.dtype)
                grown[: len(column)] = column
                self.add(name, grown)
        return start

    def release(self, start: int, rows: int) -> None:
        """Give back the block that held a run of ``rows`` rows."""
        self._free.setdefault(self.block(rows), array("q")).append(start)


class Runs:
    """For each contact slot, one run of rows in ``arena``: ``start`` and ``count`` (0: none)."""

    def __init__(self, arena: Arena) -> None:
        self.arena = arena
        self._own_arrays(np.full(FIRST_CAPACITY, -1, np.int32), np.zeros(FIRST_CAPACITY, np.int32))

    def span(self, slot: int) -> tuple[int, int]:
        """The slot's first row and number of rows ((0, 0) when it has none)."""
        if slot < self._slots:
            count: int = self._count[slot]
            if count:
                return self._start[slot], count
        return 0, 0

    def append(
        self, slot: int, row: Mapping[str, object], span: tuple[int, int] | None = None
    ) -> None:
        """Add one row (a value for every column) at the end of the slot's run (``span``: the
        slot's span, when the caller has just read it)."""
        start, count = self.span(slot) if span is None else span
        if count == 0 or count == self.arena.block(count):  # no block yet, or a full one
            start = self._move(slot, start, count, count + 1)
        cells = self.arena.cells
        for name, value in row.items():
            cells[name][start + count] = value
        self._count[slot] = count + 1

    def place(self, slot: int, rows: Mapping[str, npt.NDArray[Any]]) -> None:
        """Make the slot's run exactly ``rows`` (an array for every column, at least one row)."""
        start, count = self.span(slot)
        size = len(next(iter(rows.values())))
        if count == 0 or self.arena.block(size) != self.arena.block(count):
            fresh = self.arena.allocate(size)
            if count:
                self.arena.release(start, count)
            start = self._own(slot, fresh)
        columns = self.arena.columns
        for name, values in rows.items():
            columns[name][start : start + size] = values
        self._count[slot] = size

    def clear(self, slot: int) -> None:
        """The slot has no rows any more; its block is freed."""
        start, count = self.span(slot)
        if count:
            self.arena.release(start, count)
            self._start[slot], self._count[slot] = -1, 0

    def rows(self) -> npt.NDArray[np.int64]:
        """Every row some slot's run holds, run after run."""
        owners = np.flatnonzero(self.count > 0)
        return runs_rows(self.start[owners].astype(np.int64), self.count[owners])

    def load(self, slots: npt.NDArray[np.int64], values: Mapping[str, npt.ArrayLike]) -> None:
        """Give slots that have no rows yet their rows in one go: ``slots`` ascending, one entry
        per row, ``values`` an array (or a scalar) per column, a slot's rows in run order."""
        owners, counts = np.unique(slots, return_counts=True)
        if len(owners) == 0:
            return
        self._reserve(int(owners[-1]))
        if self.count[owners].any():
            raise ValueError("some of these contacts already have rows")
        powers = np.left_shift(1, np.ceil(np.log2(counts)).astype(np.int64))
        sizes = np.maximum(powers, self.arena.smallest)
        starts = self.arena.extend(int(sizes.sum())) + np.cumsum(sizes) - sizes
        rows = runs_rows(starts, counts)
        for name, column in self.arena.columns.items():
            column[rows] = values[name]
        self.start[owners], self.count[owners] = starts, counts

    def _move(self, slot: int, start: int, count: int, rows: int) -> int:
        """Copy the run to a block for ``rows`` rows and free the old one; its new start."""
        fresh = self.arena.allocate(rows)
        if count:
            for column in self.arena.columns.values():
                column[fresh : fresh + count] = column[start : start + count]
            self.arena.release(start, count)
        return self._own(slot, fresh)

    def _own(self, slot: int, start: int) -> int:
        self._reserve(slot)
        self._start[slot] = start
        return start

    def _reserve(self, slot: int) -> None:
        if slot >= self._slots:
            size = max(slot + 1, 2 * self._slots)
            start, count = np.full(size, -1, np.int32), np.zeros(size, np.int32)
            start[: self._slots], count[: self._slots] = self.start, self.count
            self._own_arrays(start, count)

    def _own_arrays(self, start: npt.NDArray[np.int32], count: npt.NDArray[np.int32]) -> None:
        self.start, self.count = start, count  #: compiled readers bind these
        self._start, self._count = start.data, count.data
        self._slots = len(count)


def runs_rows(starts: npt.NDArray[np.int64], counts: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """The rows of runs given by their starts and lengths, run after run."""
    ends = np.cumsum(counts)
    return np.repeat(starts - (ends - counts), counts) + np.arange(
        int(ends[-1]) if len(ends) else 0
    )
