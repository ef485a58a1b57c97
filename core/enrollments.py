"""Enrollments: which contact stands where in which program, as parallel integer columns.

A row (slot) is one live enrollment; finished rows are reused. The columns are plain typed
arrays so that a compiled engine can address them by slot (about 50 bytes a row here).
"""

from __future__ import annotations

from array import array
from enum import IntEnum

from .bytecode import NONE


class Wait(IntEnum):
    """What a live enrollment is waiting for."""

    NOTHING = 0  #: being stepped now
    TIMER = 1  #: a delay, a send window or a frequency cap: its due time
    EVENT = 2  #: a wait_for: an event, or its timeout (the due time)
    PARKED = 3  #: its program is paused; it runs on resume


class Enrollments:
    def __init__(self) -> None:
        self.ident = array("q")  #: unique enrollment id (outbox keys, traces)
        self.contact = array("q")
        self.program = array("i")  #: the shard's program index
        self.node = array("i")
        self.entered_at = array("d")
        self.node_at = array("d")  #: when it reached its current node
        self.visits = array("q")  #: nodes entered so far (the ``visit`` of outbox keys)
        self.wait = array("b")
        self.due = array("d")
        self.free: list[int] = []
        self.live: dict[tuple[int, int], int] = {}  #: (contact, program) -> slot
        self.last_exit: dict[tuple[int, int], float] = {}  #: for reentry rules
        self.loops: dict[int, dict[int, int]] = {}  #: slot -> goto node -> jumps taken
        self.last_entry: dict[tuple[int, int], float] = {}  #: when the last enrollment began
        self.converted: set[tuple[int, int]] = set()  #: the last enrollment reached its goal
        self.next_ident = 1

    def __len__(self) -> int:
        return len(self.live)

    def open(self, contact: int, program: int, node: int, now: float) -> int:
        """A new live enrollment at ``node``; return its slot."""
        if self.free:
            slot = self.free.pop()
        else:  # a new row; its values are set below
            slot = len(self.ident)
            for column in self._columns():
                column.append(0)
        self.ident[slot] = self.next_ident
        self.next_ident += 1
        self.contact[slot] = contact
        self.program[slot] = program
        self.node[slot] = node
        self.entered_at[slot] = self.node_at[slot] = now
        self.visits[slot] = 0
        self.wait[slot] = Wait.NOTHING
        self.due[slot] = -1.0
        self.live[(contact, program)] = slot
        self.loops.pop(slot, None)
        self.last_entry[(contact, program)] = now
        self.converted.discard((contact, program))
        return slot

    def close(self, slot: int, now: float) -> None:
        key = (self.contact[slot], self.program[slot])
        del self.live[key]
        self.last_exit[key] = now
        self.node[slot] = NONE
        self.wait[slot] = Wait.NOTHING
        self.loops.pop(slot, None)
        self.free.append(slot)

    def is_live(self, slot: int) -> bool:
        return self.node[slot] != NONE

    def of(self, contact: int, program: int) -> int | None:
        return self.live.get((contact, program))

    def _columns(self) -> tuple[array, ...]:  # type: ignore[type-arg]
        return (
            self.ident, self.contact, self.program, self.node, self.entered_at,
            self.node_at, self.visits, self.wait, self.due,
        )  # fmt: skip
