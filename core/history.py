"""Each contact's compact event history and the best status of each message it was sent.

Only events that some compiled program can ask about are kept (their names are in the
catalog), with only the properties programs read; each (contact, event) keeps its most recent
``KEEP`` events and nothing older than ``MAX_AGE``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .bytecode import NONE, Status
from .catalog import Catalog
from .evaluator import Event

#: events kept per contact and event name
KEEP = 200
#: seconds after which an event is forgotten (a little over a year: yearly conditions work)
MAX_AGE = 400 * 86400
#: statuses that a later, better status replaces (``sent < delivered < opened < clicked``)
PROGRESS = (Status.NONE, Status.SENT, Status.DELIVERED, Status.OPENED, Status.CLICKED)


class History:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.events: dict[int, dict[int, list[Event]]] = {}
        self.statuses: dict[int, dict[int, int]] = {}

    def record(
        self,
        slot: int,
        event: int,
        time: float,
        program: int,
        message: int,
        props: Mapping[str, Any],
    ) -> None:
        """Keep one event; props that no program reads are dropped."""
        kept = {}
        for name, value in props.items():
            prop = self.catalog.props.get(name)
            if prop is not None:
                kept[prop] = value
        past = self.events.setdefault(slot, {}).setdefault(event, [])
        past.append(Event(time, program, message, kept))
        if len(past) > 1 and past[-2].time > time:
            past.sort(key=lambda e: e.time)  # late arrivals keep the list in time order
        if len(past) > KEEP or past[0].time < time - MAX_AGE:
            past[:] = [e for e in past[-KEEP:] if e.time >= time - MAX_AGE]

    def of(self, slot: int, event: int) -> Sequence[Event]:
        return self.events.get(slot, {}).get(event, ())

    def status(self, slot: int, message: int) -> int:
        return self.statuses.get(slot, {}).get(message, Status.NONE)

    def raise_status(self, slot: int, message: int, status: Status) -> None:
        """Progress statuses only move forward; a failure (bounce, block, error, unsubscribe)
        replaces whatever came before, since it is the last word on that message."""
        if message == NONE:
            return
        statuses = self.statuses.setdefault(slot, {})
        current = statuses.get(message, Status.NONE)
        if (
            status in PROGRESS
            and current in PROGRESS
            and PROGRESS.index(status) <= PROGRESS.index(current)
        ):
            return
        statuses[message] = status

    def restart(self, slot: int, message: int) -> None:
        """The message was sent again: its status is now this send's (``sent``)."""
        self.statuses.setdefault(slot, {})[message] = Status.SENT

    def forget(self, slot: int) -> None:
        self.events.pop(slot, None)
        self.statuses.pop(slot, None)
