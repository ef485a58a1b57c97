"""A commit rewrites the records of the contacts the shard marked ``touched``, and only those:
every contact whose record changes must be marked (random programs and streams, and every
journey over the examples). An unmarked change would be lost at the next restart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from engine_support import DAY, START, shard_with
from hypothesis import given
from test_engine_properties import CASES, programs, run, streams
from test_journeys import JOURNEYS

from parcours.core.events import Event
from parcours.core.records import Record, contact_record
from parcours.core.shard import Shard
from parcours.ops.journey import run_journey
from parcours.ops.journey_file import read_journey

#: what changes a shard from outside (the others are called from these)
ENTRY_POINTS = (
    "ingest", "run_until", "upsert_contact", "delete_contact", "deploy", "activate", "pause",
    "resume", "stop", "enroll",
)  # fmt: skip


def records(shard: Shard) -> dict[int, Record]:
    return {slot: contact_record(shard, slot) for slot in shard.contacts.live_slots()}


@contextmanager
def unmarked_changes() -> Iterator[list[tuple[str, set[str]]]]:
    """Check every outermost call of an entry point: (entry point, contacts) of each call that
    changed a record without marking its contact."""
    missed: list[tuple[str, set[str]]] = []
    depth = [0]

    def checked(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(shard: Shard, *args: Any, **kwargs: Any) -> Any:
            if depth[0]:
                return method(shard, *args, **kwargs)
            before = records(shard)
            shard.touched.clear()
            depth[0] += 1
            try:
                return method(shard, *args, **kwargs)
            finally:
                depth[0] -= 1
                after = records(shard)
                changed = {slot for slot, record in after.items() if before.get(slot) != record}
                if changed - shard.touched:
                    missed.append((name, {after[slot][0] for slot in changed - shard.touched}))

        return call

    with pytest.MonkeyPatch.context() as patch:
        for name in ENTRY_POINTS:
            patch.setattr(Shard, name, checked(name, getattr(Shard, name)))
        yield missed


@CASES
@given(programs(), streams())
def test_random_runs_mark_every_record_they_change(
    program: dict[str, Any], events: list[Event]
) -> None:
    with unmarked_changes() as missed:
        run(program, events, [len(events) // 3, len(events) // 2])
    assert missed == []


@pytest.mark.parametrize("path", JOURNEYS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_journey_marks_every_record_it_changes(path: Path) -> None:
    with unmarked_changes() as missed:
        result = run_journey(read_journey(path))
    assert result.passed
    assert missed == []


REMINDER = {
    "program": "reminder", "name": "R", "category": "t",
    "entry": [{"date": "renewal", "at": "09:00", "repeat": "once"}],
    "nodes": {"hello": {"type": "email", "template": "t"}},
}  # fmt: skip


def test_a_stopped_programs_date_that_falls_due_marks_its_contact() -> None:
    # the date leaves the agenda, and the contact's record lists it: a stale date would come
    # back at every restart
    shard, clock = shard_with(REMINDER)
    shard.upsert_contact("c1", {"email": "c1@x.org", "renewal": "2026-12-04"})
    shard.stop("reminder")
    with unmarked_changes() as missed:
        clock.set(START + 5 * DAY)
        shard.tick()
    assert missed == []
    assert contact_record(shard, shard.contacts.slot_of["c1"])[8:] == []  # no date left
