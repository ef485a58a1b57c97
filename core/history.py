"""Each contact's event history and the best status of each message it was sent, in typed
arrays that the compiled condition evaluator reads as they are.

Only events that some compiled program can ask about are kept (their names are in the
catalog), with only the properties programs read; each (contact, event) keeps its most recent
``KEEP`` events and nothing older than ``MAX_AGE`` before the latest one recorded.

Layout (blocks and runs are :mod:`arena`'s):

- Events: one arena of rows ``time`` (float64), ``program`` and ``message`` (int32 catalog ids,
  NONE when the event names none) and ``props`` (int32: where the event's kept properties sit
  in a side list, -1 when it has none, as most events ``did`` counts have). For each event id,
  a :class:`~arena.Runs` table gives every contact slot its run of rows in time order (a late
  arrival is inserted in place). ``did`` finds the run with two array reads and scans it back
  from the newest row to the window's start, in contiguous memory and without the GIL.
- Sums: ``did ... sum`` needs the numbers of a property without the Python objects, so the first
  compiled condition that sums a property adds a float64 column to the arena (``as_number`` of
  the value or 0, what the reference evaluator adds), filled from then on.
- Statuses: a second arena of rows ``message`` (int32) and ``status`` (uint8), one run per contact
  slot in the order its messages were first sent. A contact is sent few distinct messages: a
  linear scan of a short contiguous run finds one.

Why: a kept event was a NamedTuple, a float and a dict in a list under two levels of dicts:
about 320 bytes with two or three events per contact, 560 with one. A row is 20 bytes (8 more
per summed property); with the spare rows of blocks, blocks freed and not yet reused and the
run tables (8 bytes per contact slot and kept event), 35 to 65 bytes per event on the same
workloads. A status was about 100 bytes of dicts; it is now about 12.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from .arena import Arena, Runs
from .bytecode import NONE, Status
from .catalog import Catalog
from .evaluator import Event
from .marks import NO_MARKS, Marks
from .values import Value, as_number

#: events kept per contact and event name
KEEP = 200
#: seconds after which an event is forgotten (a little over a year: yearly conditions work)
MAX_AGE = 400 * 86400
#: statuses that a later, better status replaces (``sent < delivered < opened < clicked``)
PROGRESS = (Status.NONE, Status.SENT, Status.DELIVERED, Status.OPENED, Status.CLICKED)
#: the columns of a kept event, and of a message status
EVENT_COLUMNS = {"time": np.float64, "program": np.int32, "message": np.int32, "props": np.int32}
STATUS_COLUMNS = {"message": np.int32, "status": np.uint8}
#: the properties of an event that has none a program reads
NO_PROPS: Mapping[int, Value] = MappingProxyType({})


class History:
    """Past events and message statuses of a shard's contacts, by contact slot."""

    def __init__(self, catalog: Catalog, touched: Marks = NO_MARKS) -> None:
        self.catalog = catalog
        #: slots whose kept events or statuses changed (the shard's, since its last commit)
        self.touched = touched
        #: every kept event, in runs per (contact slot, event id)
        self.rows = Arena(EVENT_COLUMNS)
        #: every message status, in one run per contact slot
        self.statuses = Runs(Arena(STATUS_COLUMNS, smallest=4))
        self._events: dict[int, Runs] = {}
        self._props: list[Mapping[int, Value]] = []  #: a freed place holds NO_PROPS
        self._free_props: list[int] = []
        self._sums: dict[int, str] = {}  #: summed prop -> its column in ``rows``

    def record(
        self,
        slot: int,
        event: int,
        time: float,
        program: int,
        message: int,
        props: Mapping[str, Any],
    ) -> None:
        """Keep one event; props that no program reads are dropped. Past ``KEEP`` events, or
        reaching back more than ``MAX_AGE`` before this one, the oldest are forgotten."""
        self.touched.add(slot)
        kept = self._kept(props)
        row = {"time": time, "program": program, "message": message, "props": self._keep(kept)}
        for prop, name in self._sums.items():
            row[name] = as_number(kept.get(prop)) or 0.0
        runs = self._runs_of(event)
        start, count = runs.span(slot)
        times = self.rows.cells["time"]
        if count == 0 or (
            count < KEEP and times[start + count - 1] <= time and times[start] >= time - MAX_AGE
        ):
            runs.append(slot, row, (start, count))  # the common case: the newest, nothing to forget
        else:
            self._insert(runs, slot, (start, count), row)

    def load(
        self, event: int, slots: npt.NDArray[np.int64], times: npt.NDArray[np.float64]
    ) -> None:
        """Keep many events of one kind at once, with no program, message or property (a
        partition loading its contacts' past; the benchmarks). ``slots`` ascending and each
        contact's ``times`` ascending, for contacts with none of these events yet, and no more
        than :meth:`record` keeps (``KEEP`` each, within ``MAX_AGE`` of the contact's latest).

        Raises:
            ValueError: when the events are out of order or more than would be kept.
        """
        steps = np.diff(slots)
        if (steps < 0).any() or ((steps == 0) & (np.diff(times) < 0)).any():
            raise ValueError("events must come in contact order, then time order")
        _, first, counts = np.unique(slots, return_index=True, return_counts=True)
        latest = np.repeat(times[first + counts - 1], counts)
        if len(slots) and (counts.max() > KEEP or (times < latest - MAX_AGE).any()):
            raise ValueError(f"at most {KEEP} events per contact, within {MAX_AGE} seconds")
        empty = {"program": NONE, "message": NONE, "props": -1}
        sums = {name: 0.0 for name in self._sums.values()}
        self._runs_of(event).load(slots, {"time": times, **empty, **sums})
        self.touched.update(slots.tolist())

    def of(self, slot: int, event: int) -> Sequence[Event]:
        """The contact's kept events of one kind, oldest first."""
        runs = self._events.get(event)
        start, count = (0, 0) if runs is None else runs.span(slot)
        if count == 0:
            return ()
        cells = self.rows.cells
        time, program, message = cells["time"], cells["program"], cells["message"]
        props = cells["props"]
        return [
            Event(time[row], program[row], message[row], self._props_at(props[row]))
            for row in range(start, start + count)
        ]

    def kept_columns(
        self, slot: int
    ) -> list[tuple[int, list[float], list[int], list[int], list[Mapping[int, Value]]]]:
        """Every kept event of the contact as columns (event id, times, programs, messages,
        props), oldest first: what a record is made of, read a slice at a time rather than
        an array cell at a time."""
        cells = self.rows.cells
        found = []
        for event, runs in self._events.items():
            start, count = runs.span(slot)
            if count:
                end = start + count
                found.append((
                    event,
                    cells["time"][start:end].tolist(),
                    cells["program"][start:end].tolist(),
                    cells["message"][start:end].tolist(),
                    [self._props_at(index) for index in cells["props"][start:end].tolist()],
                ))  # fmt: skip
        return found

    def statuses_of(self, slot: int) -> list[tuple[int, int]]:
        """(message, status) of every message the contact was sent, in first-sent order."""
        start, count = self.statuses.span(slot)
        if not count:
            return []
        cells, end = self.statuses.arena.cells, start + count
        messages, statuses = cells["message"][start:end], cells["status"][start:end]
        return list(zip(messages.tolist(), statuses.tolist(), strict=True))

    def runs(self, event: int) -> Runs | None:
        """Where each contact's events of one kind sit in ``rows`` (None: none kept yet)."""
        return self._events.get(event)

    def sums(self, prop: int) -> npt.NDArray[np.float64]:
        """Per row of ``rows``, what a ``sum`` over ``prop`` adds: ``as_number`` of the value,
        or 0. The column is made on the first call and kept up to date from then on; compiled
        code holds it, so a new array replaces it when the arena grows."""
        name = self._sums.get(prop)
        if name is None:
            column = np.zeros(self.rows.capacity)
            props = self.rows.columns["props"]
            for runs in self._events.values():
                rows = runs.rows()
                for row, index in zip(rows.tolist(), props[rows].tolist(), strict=True):
                    if index >= 0:
                        column[row] = as_number(self._props[index].get(prop)) or 0.0
            name = self._sums[prop] = f"sum {prop}"
            self.rows.add(name, column)
        return self.rows.columns[name]

    def status(self, slot: int, message: int) -> int:
        row = self._status_row(slot, message)
        return Status.NONE if row < 0 else int(self.statuses.arena.cells["status"][row])

    def raise_status(self, slot: int, message: int, status: Status) -> None:
        """Progress statuses only move forward; a failure (bounce, block, error, unsubscribe)
        replaces whatever came before, since it is the last word on that message."""
        if message == NONE:
            return
        row = self._status_row(slot, message)
        current = Status.NONE if row < 0 else self.statuses.arena.cells["status"][row]
        if (
            status in PROGRESS
            and current in PROGRESS
            and PROGRESS.index(status) <= PROGRESS.index(current)
        ):
            return
        self._write_status(slot, row, message, status)

    def restart(self, slot: int, message: int) -> None:
        """The message was sent again: its status is now this send's (``sent``)."""
        self._write_status(slot, self._status_row(slot, message), message, Status.SENT)

    def forget(self, slot: int) -> None:
        props = self.rows.columns["props"]
        for runs in self._events.values():
            start, count = runs.span(slot)
            for index in props[start : start + count].tolist():
                self._drop(index)
            runs.clear(slot)
        self.statuses.clear(slot)

    def _runs_of(self, event: int) -> Runs:
        runs = self._events.get(event)
        if runs is None:
            runs = self._events[event] = Runs(self.rows)
        return runs

    def _kept(self, props: Mapping[str, Any]) -> dict[int, Value]:
        kept = {}
        for name, value in props.items():
            prop = self.catalog.props.get(name)
            if prop is not None:
                kept[prop] = value
        return kept

    def _props_at(self, index: int) -> Mapping[int, Value]:
        return NO_PROPS if index < 0 else self._props[index]

    def _keep(self, kept: dict[int, Value]) -> int:
        """Where an event's kept properties go in the side list (-1 for none)."""
        if not kept:
            return -1
        if self._free_props:
            index = self._free_props.pop()
            self._props[index] = kept
            return index
        self._props.append(kept)
        return len(self._props) - 1

    def _drop(self, index: int) -> None:
        if index >= 0:
            self._props[index] = NO_PROPS
            self._free_props.append(index)

    def _insert(self, runs: Runs, slot: int, span: tuple[int, int], row: dict[str, Any]) -> None:
        """Insert after the events of the same time or older (a late arrival keeps the run in
        time order), then forget the oldest past ``KEEP`` or older than ``MAX_AGE`` before this
        event (it may be one of them)."""
        start, count = span
        time = row["time"]
        columns = self.rows.columns
        position = int(np.searchsorted(columns["time"][start : start + count], time, "right"))
        merged = {
            name: np.insert(column[start : start + count], position, row[name])
            for name, column in columns.items()
        }
        below = int(np.searchsorted(merged["time"], time - MAX_AGE, "left"))
        first = max(count + 1 - KEEP, below)
        for index in merged["props"][:first].tolist():
            self._drop(index)
        runs.place(slot, {name: values[first:] for name, values in merged.items()})

    def _status_row(self, slot: int, message: int) -> int:
        """The row of the contact's status of ``message`` (-1: never sent)."""
        start, count = self.statuses.span(slot)
        if count:
            column = self.statuses.arena.cells["message"]
            messages: list[int] = column[start : start + count].tolist()
            if message in messages:
                return start + messages.index(message)
        return -1

    def _write_status(self, slot: int, row: int, message: int, status: Status) -> None:
        self.touched.add(slot)
        if row < 0:
            self.statuses.append(slot, {"message": message, "status": status})
        else:
            self.statuses.arena.cells["status"][row] = status
