"""Enrollments: which contact stands where in which program, as parallel typed columns.

A row (slot) is one live enrollment; finished rows are reused. Per live enrollment the engine
keeps 24 bytes of columns here and about 14 in the pair index (:mod:`pairs`), so a million
live enrollments fit in about 40 MB (``python bench/hotpath.py`` measures it). What the
reentry rules and late goals need of an ended enrollment moves to the past index.

Times of a live enrollment: ``entered_at`` to the microsecond; ``node_at`` as a float32 offset
from it, since only a wait_for held by a pause reads it, to tell events before the node from
those after (within a second after half a year).
"""

from __future__ import annotations

from array import array
from enum import IntEnum
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from .bytecode import NONE
from .hotpath import LiveIndex, PastIndex
from .marks import NO_MARKS, Marks
from .pairs import NO_SLOT, Past

Ints = npt.NDArray[np.int64]

#: ``ident`` = generation << IDENT_SHIFT | slot: unique per enrollment, as slots are reused
IDENT_SHIFT = 32


class Wait(IntEnum):
    """What a live enrollment is waiting for."""

    NOTHING = 0  #: being stepped now
    TIMER = 1  #: a delay, a send window or a frequency cap: its due time
    EVENT = 2  #: a wait_for: an event, or its timeout (the due time)
    PARKED = 3  #: its program is paused; it runs on resume


class Row(NamedTuple):
    """One live enrollment's columns, as the store keeps them."""

    generation: int
    node: int
    wait: int
    converted: int
    visits: int
    entered_at: float
    node_after: float
    loops: list[tuple[int, int]]


class Enrollments:
    def __init__(self, touched: Marks = NO_MARKS) -> None:
        #: contact slots whose records changed since the last durable commit (an ended
        #: enrollment is kept in its contact's record)
        self.touched = touched
        #: 1 for each row changed since the last durable commit (the store keeps rows,
        #: :mod:`rows`): a byte a row, so a shard that never commits (journeys, simulations)
        #: keeps one byte per row, not a growing set
        self.dirty = array("b")
        #: the highest generation any row reached: a restored shard starts its free rows there,
        #: so no ident is ever given twice (they key outbox entries)
        self.top = 0
        self.generation = array("I")  #: times the row was opened (part of ``ident``)
        self.node = array("h")
        self.wait = array("b")
        self.converted = array("b")  #: the enrollment reached its program's goal
        self.visits = array("i")  #: nodes entered so far (the ``visit`` of outbox keys)
        self.entered_at = array("d")
        self.node_after = array("f")  #: node_at - entered_at
        self.free = array("i")
        self.live = LiveIndex()
        self.past = PastIndex()
        self.loops: dict[int, dict[int, int]] = {}  #: slot -> goto node -> jumps taken

    def __len__(self) -> int:
        return len(self.live)

    def open(self, contact: int, program: int, node: int, now: float) -> int:
        """A new live enrollment at ``node``; return its slot."""
        if self.free:
            slot = self.free.pop()
        else:  # a new row; its values are set below
            slot = len(self.node)
            for column in self._columns():
                column.append(0)
            self.generation[slot] = self.top  # past every ident given before a restore
        self.live.add(slot, contact, program)
        if self.past.remove(contact, program):
            self.touched.add(contact)
        self.dirty[slot] = 1
        self.generation[slot] += 1
        self.top = max(self.top, self.generation[slot])
        self.node[slot] = node
        self.wait[slot] = Wait.NOTHING
        self.converted[slot] = False
        self.visits[slot] = 0
        self.entered_at[slot] = now
        self.node_after[slot] = 0.0
        self.loops.pop(slot, None)
        return slot

    def open_many(self, contacts: Ints, program: int, node: int, now: float) -> Ints:
        """:meth:`open` for many contacts at once (none enrolled in ``program``); return the
        slots, free rows first as :meth:`open` takes them, then new rows."""
        reused = np.array(self.free[::-1][: len(contacts)], dtype=np.int64)
        del self.free[len(self.free) - len(reused) :]
        first = len(self.node)
        fresh = len(contacts) - len(reused)
        for column in self._columns():
            column.frombytes(bytes(fresh * column.itemsize))
        slots = np.concatenate([reused, np.arange(first, first + fresh, dtype=np.int64)])
        self.live.add_many(slots, contacts, program)
        self.touched.update(contacts[self.past.remove_many(contacts, program)].tolist())
        self._set_opened(slots, reused, first, node, now)
        for slot in reused.tolist():
            self.loops.pop(slot, None)
        return slots

    def _set_opened(self, slots: Ints, reused: Ints, first: int, node: int, now: float) -> None:
        generation = np.frombuffer(self.generation, dtype=np.uint32)
        generation[reused] += 1
        if len(reused):
            self.top = max(self.top, int(generation[reused].max()))
        fresh = len(generation) - first  # each new row starts past every ident given before
        generation[first:] = self.top + np.arange(1, fresh + 1, dtype=np.uint32)
        self.top += fresh
        for column, value in ((self.node, node), (self.entered_at, now)):
            np.frombuffer(column, dtype=column.typecode)[slots] = value
        for column in (self.wait, self.converted, self.visits, self.node_after):
            np.frombuffer(column, dtype=column.typecode)[reused] = 0  # new rows are zeros
        np.frombuffer(self.dirty, dtype=np.int8)[slots] = 1
        del generation  # a view of an array.array must go before the array grows again

    def close(self, slot: int, now: float) -> None:
        """End the enrollment; keep what reentry rules and late goals need of it."""
        contact, program = self.contact(slot), self.program(slot)
        self.touched.add(contact)
        self.dirty[slot] = 1
        self.live.remove(slot)
        self.past.set(contact, program, self.entered_at[slot], now, bool(self.converted[slot]))
        self.node[slot] = NONE
        self.wait[slot] = Wait.NOTHING
        self.loops.pop(slot, None)
        self.free.append(slot)

    def restore(self, slot: int, contact: int, program: int, row: Row) -> None:
        """Put back a live enrollment read from the store, in the slot it had (so its ident,
        its outbox keys and the parked lists that name it stay what they were)."""
        while len(self.node) <= slot:
            for column in self._columns():
                column.append(0)
            self.node[-1] = NONE
        self.live.add(slot, contact, program)
        self.generation[slot] = row.generation
        self.node[slot], self.wait[slot] = row.node, row.wait
        self.converted[slot], self.visits[slot] = row.converted, row.visits
        self.entered_at[slot], self.node_after[slot] = row.entered_at, row.node_after
        if row.loops:
            self.loops[slot] = dict(row.loops)

    def settle(self, top: int) -> None:
        """After :meth:`restore`: rows not restored are free, and start past every generation
        given before (``top``, from the store)."""
        self.top = max(self.top, top)
        free = [slot for slot in range(len(self.node)) if self.node[slot] == NONE]
        for slot in free:
            self.generation[slot] = self.top
        self.free = array("i", reversed(free))  # the lowest first, as a fresh shard would

    def row(self, slot: int) -> Row:
        """What :meth:`restore` needs to put the live enrollment back."""
        return Row(
            self.generation[slot], self.node[slot], self.wait[slot], self.converted[slot],
            self.visits[slot], self.entered_at[slot], self.node_after[slot],
            sorted(self.loops.get(slot, {}).items()),
        )  # fmt: skip

    def ident(self, slot: int) -> int:
        """The enrollment's id: unique in its partition (outbox keys, staleness checks)."""
        return self.generation[slot] << IDENT_SHIFT | slot

    def contact(self, slot: int) -> int:
        return self.live.contact(slot)

    def program(self, slot: int) -> int:
        return self.live.program(slot)

    def node_at(self, slot: int) -> float:
        """When the enrollment reached its current node."""
        return self.entered_at[slot] + self.node_after[slot]

    def changed_rows(self) -> Ints:
        """Every row changed since :meth:`committed`, in slot order."""
        return np.flatnonzero(np.frombuffer(self.dirty, dtype=np.int8)).astype(np.int64)

    def committed(self) -> None:
        """The changed rows are in the store."""
        np.frombuffer(self.dirty, dtype=np.int8)[:] = 0

    def changed(self, slot: int) -> None:
        """A column of the row was written outside this class (its node, what it waits for)."""
        self.dirty[slot] = 1

    def reached(self, slot: int, now: float) -> None:
        self.node_after[slot] = now - self.entered_at[slot]

    def is_live(self, slot: int) -> bool:
        return self.node[slot] != NONE

    def holds(self, slot: int, ident: int) -> bool:
        """Whether ``slot`` still holds the live enrollment ``ident`` (one that a pause parked).
        A slot past the table holds none: a restart restores only the rows of live
        enrollments, so the row of one that ended at the end of the table is not there."""
        return slot < len(self.node) and self.is_live(slot) and self.ident(slot) == ident

    def of(self, contact: int, program: int) -> int | None:
        slot = self.live.get(contact, program)
        return None if slot == NO_SLOT else slot

    def slots_of(self, program: int) -> list[int]:
        """The program's live slots, in slot order."""
        return self.live.slots(program)

    def pairs(self) -> dict[tuple[int, int], int]:
        """(contact, program) -> slot of every live enrollment (reports, tests)."""
        return {(self.contact(s), self.program(s)): s for s in self.live.slots()}

    def last(self, contact: int, program: int) -> Past | None:
        """The pair's last enrollment: live (not yet exited) or ended; None if it never had one."""
        slot = self.live.get(contact, program)
        if slot == NO_SLOT:
            return self.past.get(contact, program)
        return Past(self.entered_at[slot], float("inf"), bool(self.converted[slot]))

    def convert(self, contact: int, program: int) -> None:
        """The pair's last enrollment reached the goal."""
        slot = self.live.get(contact, program)
        if slot == NO_SLOT:
            self.past.convert(contact, program)
            self.touched.add(contact)
        else:
            self.converted[slot] = True
            self.dirty[slot] = 1

    def forget(self, contact: int, programs: int) -> None:
        """Forget what ended enrollments left of a deleted contact."""
        for program in range(programs):
            self.past.remove(contact, program)

    def _columns(self) -> tuple[array, ...]:  # type: ignore[type-arg]
        return (
            self.generation, self.node, self.wait, self.converted, self.visits, self.entered_at,
            self.node_after, self.dirty,
        )  # fmt: skip
