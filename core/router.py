"""The event router, pure Python: the twin of ``_router.pyx``, same interface.

``scan`` walks a batch of events from ``start`` and takes every event that can change nothing
but the clock: a known contact, an event no program reads back, whose every gate (see
:mod:`routing`) is shut, stamped before anything falls due. It stops at the first event that
needs the engine's full path (or is refused there) and returns its index; the shard runs that
one event, then scans on.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from .bytecode import NONE
from .events import LATE_LIMIT, Event
from .pairs import NO_SLOT
from .routing import FEEDBACK, Gate, passes


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

    def scan(
        self,
        events: Sequence[Any],
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
        index = start
        for index in range(start, len(events)):
            event = events[index]
            if type(event) is not Event or (deleted and event.contact in deleted):
                break
            time, message_id = event.time, event.message_id
            if time > horizon or (time > now and time >= until):
                break
            if message_id is not None and message_id in seen:
                break
            slot = self._contacts.get(event.contact)
            is_late = time < now - LATE_LIMIT
            moment = max(now, time)
            if slot is None or not self._inert(event, slot, moment, is_late):
                break
            now = moment
            if is_late:
                late += 1
            else:
                accepted += 1
            if message_id is not None:
                seen[message_id] = now
        else:
            index = len(events)
        return Scanned(index, accepted, late, now)

    def _inert(self, event: Event, slot: int, now: float, is_late: bool) -> bool:
        name = event.name
        if name in FEEDBACK:
            return False
        event_id = self._ids.get(name)
        if event_id is None:
            return True
        if event_id not in self._table:
            return True
        gates = self._table[event_id]
        if gates is None:
            return False  # history keeps every such event, late or not
        for gate in gates:
            if is_late and gate.program != NONE:
                continue  # a late event triggers nothing; history may still keep it
            if not self._shut(gate, event.properties, slot, now):
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
