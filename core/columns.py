"""Contact fields as columns: what compiled conditions read, one typed array per field.

Each cell keeps a value's kind, its number (``as_number``), its instant (``as_epoch``) and its
symbol (text), computed once when the value is written, so comparisons need no Python object.
Lists (tags, interests) keep their members as cells in a shared arena. Group membership is a
bit matrix. ``values.compare`` stays the definition: a cell answers what the value would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from .symbols import Symbols
from .values import as_epoch, as_number, is_missing

NAN = math.nan


class Kind(IntEnum):
    MISSING = 0
    NUMBER = 1
    TEXT = 2
    BOOL = 3
    LIST = 4
    OTHER = 5  #: a mapping or anything else no comparison reads


@dataclass
class Column:
    """One field over every contact slot."""

    kind: npt.NDArray[np.uint8]
    number: npt.NDArray[np.float64]  #: as_number of the value, NaN when it has none
    epoch: npt.NDArray[np.float64]  #: as_epoch of the value, NaN when it has none
    symbol: npt.NDArray[np.int32]  #: TEXT: the symbol; BOOL: 0/1; LIST: first member; else -1
    count: npt.NDArray[np.int32]  #: LIST: its number of members

    @classmethod
    def empty(cls, size: int) -> Column:
        return cls(
            np.zeros(size, np.uint8), np.full(size, NAN), np.full(size, NAN),
            np.full(size, -1, np.int32), np.zeros(size, np.int32),
        )  # fmt: skip

    def grown(self, size: int) -> Column:
        grown = Column.empty(size)
        n = len(self.kind)
        for name in ("kind", "number", "epoch", "symbol", "count"):
            getattr(grown, name)[:n] = getattr(self, name)
        return grown


@dataclass
class Members:
    """The arena of list members: cells like a column's, end to end."""

    kind: list[int] = field(default_factory=list)
    number: list[float] = field(default_factory=list)
    epoch: list[float] = field(default_factory=list)
    symbol: list[int] = field(default_factory=list)

    def arrays(self) -> tuple[npt.NDArray[Any], ...]:
        return (
            np.array(self.kind, np.uint8), np.array(self.number, np.float64),
            np.array(self.epoch, np.float64), np.array(self.symbol, np.int32),
        )  # fmt: skip


class ColumnStore:
    """Typed columns for the fields conditions read, groups as bits, over contact slots."""

    def __init__(self, symbols: Symbols, capacity: int = 1024) -> None:
        self.symbols = symbols
        self.capacity = capacity
        self.size = 0  #: slots in use (0..size-1)
        self.columns: dict[int, Column] = {}
        self.members = Members()
        self.groups = np.zeros((capacity, 1), dtype=np.uint64)

    def reserve(self, slots: int) -> None:
        """Make room for slots 0..slots-1."""
        if slots > self.capacity:
            size = max(slots, 2 * self.capacity)
            self.columns = {f: c.grown(size) for f, c in self.columns.items()}
            groups = np.zeros((size, self.groups.shape[1]), dtype=np.uint64)
            groups[: self.capacity] = self.groups
            self.groups = groups
            self.capacity = size
        self.size = max(self.size, slots)

    def column(self, field: int) -> Column:
        found = self.columns.get(field)
        if found is None:
            found = self.columns[field] = Column.empty(self.capacity)
        return found

    def set(self, slot: int, field: int, value: Any) -> None:
        """Write one value; its cell is computed here, once."""
        self.reserve(slot + 1)
        column = self.column(field)
        if isinstance(value, list) and value:
            column.kind[slot] = Kind.LIST
            column.number[slot] = column.epoch[slot] = NAN
            column.symbol[slot] = len(self.members.kind)
            column.count[slot] = len(value)
            for member in value:
                self._append_member(member)
            return
        kind, number, epoch, symbol = self.cell(value)
        column.kind[slot], column.number[slot], column.epoch[slot] = kind, number, epoch
        column.symbol[slot], column.count[slot] = symbol, 0

    def cell(self, value: Any) -> tuple[int, float, float, int]:
        """(kind, number, epoch, symbol) of a scalar value."""
        if is_missing(value):
            return Kind.MISSING, NAN, NAN, -1
        if isinstance(value, bool):
            return Kind.BOOL, NAN, NAN, int(value)
        if isinstance(value, (int, float)):
            return Kind.NUMBER, float(value), float(value), -1
        if isinstance(value, str):
            number, epoch = as_number(value), as_epoch(value)
            return (
                Kind.TEXT, NAN if number is None else number, NAN if epoch is None else epoch,
                self.symbols.intern(value),
            )  # fmt: skip
        return Kind.OTHER, NAN, NAN, -1

    def _append_member(self, value: Any) -> None:
        # a member is compared as it is: "" is text there; only a whole value is "missing"
        kind: int
        if value == "" and isinstance(value, str):
            kind, number, epoch, symbol = Kind.TEXT, NAN, NAN, self.symbols.intern("")
        else:
            kind, number, epoch, symbol = self.cell(value)
        if kind == Kind.MISSING and isinstance(value, list):
            kind = Kind.OTHER  # an empty list inside a list: no comparison reads it
        self.members.kind.append(kind)
        self.members.number.append(number)
        self.members.epoch.append(epoch)
        self.members.symbol.append(symbol)

    def join(self, slot: int, group: int) -> None:
        self.reserve(slot + 1)
        word, bit = divmod(group, 64)
        if word >= self.groups.shape[1]:
            wider = np.zeros((self.capacity, word + 1), dtype=np.uint64)
            wider[:, : self.groups.shape[1]] = self.groups
            self.groups = wider
        self.groups[slot, word] |= np.uint64(1 << bit)

    def leave(self, slot: int, group: int) -> None:
        word, bit = divmod(group, 64)
        if slot < self.capacity and word < self.groups.shape[1]:
            self.groups[slot, word] &= ~np.uint64(1 << bit)
