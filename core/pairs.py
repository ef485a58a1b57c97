"""Which enrollment a (contact, program) pair has, pure Python: the twin of ``_pairs.pyx``.

``LiveIndex`` finds the slot of a pair's live enrollment and tells the pair of a slot.
``PastIndex`` keeps, for a pair whose last enrollment ended, when it began and ended and
whether it converted: what re-entry rules and late goals read. The compiled twin holds both
in open-addressing tables of C integers (a live enrollment costs its index 6 bytes per slot
and one 4-byte bucket); here they are dicts, with the same interface and the same answers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
#: "no slot"
NO_SLOT = -1


class Past(NamedTuple):
    """What is kept of a pair's last enrollment once it ended."""

    entered_at: float
    exited_at: float
    converted: bool


class LiveIndex:
    """(contact, program) -> slot of the live enrollment, and slot -> its pair."""

    def __init__(self) -> None:
        self._slots: dict[tuple[int, int], int] = {}
        self._pairs: dict[int, tuple[int, int]] = {}

    def __len__(self) -> int:
        return len(self._slots)

    def get(self, contact: int, program: int) -> int:
        """The pair's live slot, or ``NO_SLOT``."""
        return self._slots.get((contact, program), NO_SLOT)

    def add(self, slot: int, contact: int, program: int) -> None:
        """Record a new live enrollment; a pair has at most one."""
        if (contact, program) in self._slots:
            raise KeyError(f"contact {contact} already has a live enrollment in program {program}")
        self._slots[(contact, program)] = slot
        self._pairs[slot] = (contact, program)

    def get_many(self, contacts: Ints, program: int) -> Ints:
        """:meth:`get` of each contact in one program."""
        return np.array([self.get(int(c), program) for c in contacts], dtype=np.int64)

    def add_many(self, slots: Ints, contacts: Ints, program: int) -> None:
        """:meth:`add` of each (slot, contact) in one program."""
        for slot, contact in zip(slots.tolist(), contacts.tolist(), strict=True):
            self.add(slot, contact, program)

    def pairs_of(self, start: int, stop: int) -> tuple[Ints, Ints]:
        """(contacts, programs) of slots ``start`` to ``stop``; -1 for a slot never used."""
        pairs = [self._pairs.get(slot, (-1, -1)) for slot in range(start, stop)]
        found = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        return found[:, 0], found[:, 1]

    def remove(self, slot: int) -> None:
        """The enrollment in ``slot`` ended; its pair is still readable until the slot is reused."""
        pair = self._pairs.get(slot)
        if pair is None or self._slots.get(pair) != slot:
            raise KeyError(f"slot {slot} holds no live enrollment")
        del self._slots[pair]

    def contact(self, slot: int) -> int:
        return self._pair(slot)[0]

    def program(self, slot: int) -> int:
        return self._pair(slot)[1]

    def slots(self, program: int = NO_SLOT) -> list[int]:
        """Live slots, of one program or of all, in slot order (deterministic in both twins)."""
        return sorted(s for (_, p), s in self._slots.items() if program in (NO_SLOT, p))

    def _pair(self, slot: int) -> tuple[int, int]:
        pair = self._pairs.get(slot)
        if pair is None:
            raise KeyError(f"slot {slot} never held an enrollment")
        return pair


class PastIndex:
    """(contact, program) -> :class:`Past` of its last ended enrollment."""

    def __init__(self) -> None:
        self._past: dict[tuple[int, int], Past] = {}

    def __len__(self) -> int:
        return len(self._past)

    def get(self, contact: int, program: int) -> Past | None:
        return self._past.get((contact, program))

    def set(
        self, contact: int, program: int, entered_at: float, exited_at: float, converted: bool
    ) -> None:
        self._past[(contact, program)] = Past(entered_at, exited_at, converted)

    def convert(self, contact: int, program: int) -> None:
        """The goal came after the enrollment ended (within the attribution window)."""
        past = self._past.get((contact, program))
        if past is None:
            raise KeyError(f"contact {contact} has no ended enrollment in program {program}")
        self._past[(contact, program)] = past._replace(converted=True)

    def remove(self, contact: int, program: int) -> bool:
        """Forget the pair (a new enrollment began, the contact was deleted)."""
        return self._past.pop((contact, program), None) is not None

    def exited_many(self, contacts: Ints, program: int) -> npt.NDArray[np.float64]:
        """When each contact's last enrollment in the program ended (NaN: it has none)."""
        found = (self._past.get((int(c), program)) for c in contacts)
        return np.array([np.nan if p is None else p.exited_at for p in found], dtype=np.float64)

    def remove_many(self, contacts: Ints, program: int) -> npt.NDArray[np.bool_]:
        """:meth:`remove` of each contact in one program; whether each had an entry."""
        return np.array([self.remove(int(c), program) for c in contacts], dtype=np.bool_)
