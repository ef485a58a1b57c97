"""The event router, pure Python: the twin of ``_router.pyx``, same interface.

``scan`` walks a batch of events (:class:`~batch.EventBatch`, in columns) from ``start`` and
takes every event that can change nothing but the clock: a known contact, an event no program
reads back, whose every gate (see :mod:`routing`) is shut, stamped before anything falls due.
It stops at the first event that needs the engine's full path (or is refused there) and
returns its index; the shard runs that one event, then scans on.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from .batch import EventBatch
from .bytecode import NONE
from .events import LATE_LIMIT
from .pairs import NO_SLOT
from .routing import FEEDBACK, Gate, passes

#: what the router does with an event of a given name (its plan, per name of a batch)
INERT, FULL = "inert", "full"


class Scanned:
    """What a scan took: where it stopped, how many events it accepted or found late, and
    the clock it leaves (the latest time it took)."""

    __slots__ = ("accepted", "late", "now", "stop")

    def __init__(self, stop: int, accepted: int, late: int, now: float) -> None:
        self.stop, self.accepted, self.late, self.now = stop, accepted, late, now


class Router:
    """Events that need nothing, let through in one pass.

    Parameters:
        event_ids: the catalog's live name -> id table.
        table: event id -> the gates of the programs it is routed to, or None when the full
            path must see every such event (:func:`routing.gates`).
        contacts: contact id -> slot; enrollments' ``live`` and ``past`` pair indexes.
    """

    def __init__(
        self,
        event_ids: Mapping[str, int],
        table: Mapping[int, tuple[Gate, ...] | None],
        contacts: Mapping[str, int],
        live: Any,
        past: Any,
    ) -> None:
        self._ids, self._table, self._contacts = event_ids, table, contacts
        self._live, self._past = live, past
        #: the plan of the last batch's names (a batch is scanned once per full-path event)
        self._names: list[str] | None = None
        self._steps: list[str | tuple[Gate, ...]] = []

    def scan(
        self,
        batch: EventBatch,
        start: int,
        now: float,
        until: float,
        horizon: float,
        deleted: set[str],
        seen: MutableMapping[str, float],
    ) -> Scanned:
        """Take events from ``start`` while they need nothing. ``until``: the next moment
        something falls due; ``horizon``: the latest time an event may carry."""
        accepted = late = 0
        plan = self._plan_of(batch.names)
        contacts, times, codes = batch.contacts, batch.times, batch.codes
        properties, message_ids = batch.properties, batch.message_ids
        index = start
        for index in range(start, len(batch)):
            contact, time, message_id = contacts[index], times[index], message_ids[index]
            if deleted and contact in deleted:
                break
            if time > horizon or (time > now and time >= until):
                break
            if message_id is not None and message_id in seen:
                break
            slot = self._contacts.get(contact)
            is_late = time < now - LATE_LIMIT
            moment = max(now, time)
            step = plan[codes[index]]
            if slot is None or step is FULL:
                break
            if isinstance(step, tuple) and not self._shut_all(
                step, properties[index], slot, moment, is_late
            ):
                break
            now = moment
            if is_late:
                late += 1
            else:
                accepted += 1
            if message_id is not None:
                seen[message_id] = now
        else:
            index = len(batch)
        return Scanned(index, accepted, late, now)

    def _plan_of(self, names: list[str]) -> list[str | tuple[Gate, ...]]:
        if names is not self._names or len(names) != len(self._steps):
            self._names, self._steps = names, [self._plan(name) for name in names]
        return self._steps

    def _plan(self, name: str) -> str | tuple[Gate, ...]:
        """INERT: nothing reads events of this name; FULL: the full path must see every one;
        otherwise the gates to check."""
        if name in FEEDBACK:
            return FULL
        event_id = self._ids.get(name)
        if event_id is None or event_id not in self._table:
            return INERT
        gates = self._table[event_id]
        return FULL if gates is None else gates  # None: history keeps every such event

    def _shut_all(
        self, gates: tuple[Gate, ...], props: Mapping[str, Any], slot: int, now: float, late: bool
    ) -> bool:
        for gate in gates:
            if late and gate.program != NONE:
                continue  # a late event triggers nothing; history may still keep it
            if not self._shut(gate, props, slot, now):
                return False
        return True

    def _shut(self, gate: Gate, props: Mapping[str, Any], slot: int, now: float) -> bool:
        if not gate.active_from <= now < gate.active_until:
            return True
        if gate.live and self._live.get(slot, gate.program) != NO_SLOT:
            return False
        if gate.last and (
            self._live.get(slot, gate.program) != NO_SLOT
            or self._past.get(slot, gate.program) is not None
        ):
            return False
        return all(guard is not None and not passes(guard, props) for guard in gate.entries)
