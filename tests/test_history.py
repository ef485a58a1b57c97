"""The history arena keeps what the engine's history always kept: the last KEEP events of each
kind per contact, nothing older than MAX_AGE before the latest recorded, in time order, and the
best status of each message; in typed arrays, with blocks reused."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parcours.core import history
from parcours.core.bytecode import NONE, Status
from parcours.core.catalog import Catalog
from parcours.core.evaluator import Event
from parcours.core.history import KEEP, MAX_AGE, PROGRESS, History

DAY = 86400.0
ORDER = 0  # the event ids of these tests
VISIT = 1


def fresh() -> History:
    catalog = Catalog()
    catalog.props.intern("amount")  # a property some program reads; others are dropped
    return History(catalog)


def times(past: History, slot: int, event: int = ORDER) -> list[float]:
    return [e.time for e in past.of(slot, event)]


def test_events_come_back_oldest_first_and_late_ones_find_their_place() -> None:
    past = fresh()
    for time, message in ((10.0, 1), (30.0, 2), (20.0, 3), (30.0, 4), (5.0, 5)):
        past.record(0, ORDER, time, 7, message, {})
    assert [(e.time, e.message) for e in past.of(0, ORDER)] == [
        (5.0, 5), (10.0, 1), (20.0, 3), (30.0, 2), (30.0, 4),  # a tie keeps arrival order
    ]  # fmt: skip
    assert past.of(0, VISIT) == () and past.of(1, ORDER) == () and past.of(99, ORDER) == ()


def test_only_the_last_keep_events_stay() -> None:
    past = fresh()
    for i in range(KEEP + 5):
        past.record(0, ORDER, float(i), NONE, NONE, {})
    assert times(past, 0) == [float(i) for i in range(5, KEEP + 5)]
    past.record(0, ORDER, 1.0, NONE, NONE, {})  # late and older than all: it is the one to go
    assert times(past, 0) == [float(i) for i in range(5, KEEP + 5)]
    past.record(0, ORDER, 7.5, NONE, NONE, {})  # late but among the last KEEP: the oldest goes
    assert times(past, 0)[:3] == [6.0, 7.0, 7.5] and len(times(past, 0)) == KEEP


def test_nothing_older_than_max_age_before_the_latest_stays() -> None:
    past = fresh()
    for time in (0.0, 100 * DAY, 200 * DAY):
        past.record(0, ORDER, time, NONE, NONE, {})
    past.record(0, ORDER, MAX_AGE + 50 * DAY, NONE, NONE, {})
    assert times(past, 0) == [100 * DAY, 200 * DAY, MAX_AGE + 50 * DAY]
    # a late arrival is measured against its own time: it does not forget newer events' past
    past.record(0, ORDER, 60 * DAY, NONE, NONE, {})
    assert times(past, 0) == [60 * DAY, 100 * DAY, 200 * DAY, MAX_AGE + 50 * DAY]


def test_only_properties_programs_read_are_kept() -> None:
    past = fresh()
    past.record(0, ORDER, 1.0, NONE, NONE, {"amount": 12.5, "coupon": "X"})
    past.record(0, ORDER, 2.0, NONE, NONE, {"coupon": "Y"})
    amount = past.catalog.props.get("amount")
    assert [dict(e.props) for e in past.of(0, ORDER)] == [{amount: 12.5}, {}]


def test_forgetting_a_contact_frees_its_rows_for_others() -> None:
    past = fresh()
    for slot in range(3):
        for i in range(5):
            past.record(slot, ORDER, float(i), NONE, NONE, {"amount": i})
        past.record(slot, VISIT, 1.0, NONE, NONE, {})
        past.raise_status(slot, 4, Status.OPENED)
    end, places = past.rows.end, len(past._props)
    past.forget(1)
    assert past.of(1, ORDER) == () and past.of(1, VISIT) == () and past.status(1, 4) == 0
    assert times(past, 0) == times(past, 2) == [0.0, 1.0, 2.0, 3.0, 4.0]
    for i in range(5):
        past.record(3, ORDER, float(i), NONE, NONE, {"amount": i})
    past.record(3, VISIT, 1.0, NONE, NONE, {})
    assert past.rows.end == end and len(past._props) == places  # the freed block, reused


def test_statuses_progress_and_failures_have_the_last_word() -> None:
    past = fresh()
    past.raise_status(0, 3, Status.SENT)
    past.raise_status(0, 3, Status.OPENED)
    past.raise_status(0, 3, Status.DELIVERED)  # arrives after the open: no step back
    assert past.status(0, 3) == Status.OPENED
    past.raise_status(0, 3, Status.BOUNCED)
    assert past.status(0, 3) == Status.BOUNCED
    past.restart(0, 3)  # sent again: the new send's status
    assert past.status(0, 3) == Status.SENT
    past.raise_status(0, NONE, Status.CLICKED)  # an event that names no message
    assert past.status(0, NONE) == Status.NONE and past.status(0, 4) == Status.NONE


def test_a_sum_column_holds_what_the_evaluator_adds() -> None:
    past = fresh()
    amount = past.catalog.props.intern("amount")
    for i in range(3):  # no property: the block's spare row holds no place in the side list
        past.record(1, ORDER, float(i), NONE, NONE, {})
    for i, value in enumerate((12, "3.5", None, True, "x", [1])):
        past.record(0, ORDER, float(i), NONE, NONE, {"amount": value})
    column = past.sums(amount)  # made over the rows already kept
    past.record(0, ORDER, 9.0, NONE, NONE, {"amount": "7"})  # and filled from then on
    runs = past.runs(ORDER)
    assert runs is not None
    start, count = runs.span(0)
    assert past.sums(amount) is past.rows.columns[f"sum {amount}"]
    assert past.rows.columns[f"sum {amount}"][start : start + count].tolist() == [
        12.0, 3.5, 0.0, 0.0, 0.0, 0.0, 7.0,
    ]  # fmt: skip
    assert len(column) >= 6


def test_loading_in_bulk_keeps_what_recording_one_by_one_keeps() -> None:
    slots = np.array([0, 0, 0, 2, 5, 5], dtype=np.int64)
    at = np.array([1.0, 2.0, 2.0, 9.0, 3.0, 4.0])
    loaded, recorded = fresh(), fresh()
    loaded.sums(0)
    loaded.load(ORDER, slots, at)
    for slot, time in zip(slots.tolist(), at.tolist(), strict=True):
        recorded.record(slot, ORDER, time, NONE, NONE, {})
    for slot in range(7):
        assert list(loaded.of(slot, ORDER)) == list(recorded.of(slot, ORDER))
    loaded.record(0, ORDER, 5.0, NONE, NONE, {})  # loaded runs grow as recorded ones do
    assert times(loaded, 0) == [1.0, 2.0, 2.0, 5.0]
    with pytest.raises(ValueError):
        loaded.load(ORDER, np.array([1, 1]), np.array([2.0, 1.0]))  # out of time order
    with pytest.raises(ValueError):
        loaded.load(ORDER, np.array([2]), np.array([1.0]))  # contact 2 has events already
    with pytest.raises(ValueError):
        loaded.load(VISIT, np.zeros(KEEP + 1, np.int64), np.arange(KEEP + 1.0))


def test_a_kept_event_costs_a_small_fraction_of_an_object() -> None:
    """Two or three events per contact, arriving interleaved (the worst case for blocks, all
    outgrown together): about 320 bytes per event as objects in lists under dicts; rows, the
    blocks' spare rows, freed blocks and run tables take under a quarter of that."""
    tracemalloc.start()
    past = fresh()
    for i in range(100_000):
        past.record(i % 40_000, ORDER, float(i), NONE, NONE, {})
    used, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert used / 100_000 < 80


class ListHistory:
    """The former history: lists of events under dicts, trimmed by list comprehension."""

    def __init__(self, catalog: Catalog, keep: int, max_age: float) -> None:
        self.catalog, self.keep, self.max_age = catalog, keep, max_age
        self.events: dict[tuple[int, int], list[Event]] = {}
        self.statuses: dict[tuple[int, int], int] = {}

    def record(self, slot: int, event: int, time: float, props: Mapping[str, Any]) -> None:
        kept = {self.catalog.props.intern(k): v for k, v in props.items() if k == "amount"}
        past = self.events.setdefault((slot, event), [])
        past.append(Event(time, NONE, NONE, kept))
        past.sort(key=lambda e: e.time)
        past[:] = [e for e in past[-self.keep :] if e.time >= time - self.max_age]

    def raise_status(self, slot: int, message: int, status: Status) -> None:
        current = self.statuses.get((slot, message), Status.NONE)
        if status in PROGRESS and current in PROGRESS and status <= current:
            return
        self.statuses[slot, message] = status

    def forget(self, slot: int) -> None:
        for key in [k for k in (*self.events, *self.statuses) if k[0] == slot]:
            self.events.pop(key, None)
            self.statuses.pop(key, None)


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("record"), st.integers(0, 3), st.integers(0, 1), st.integers(0, 60),
            st.sampled_from([{}, {"amount": 3}, {"other": 1}]),
        ),
        st.tuples(st.just("forget"), st.integers(0, 3)),
        st.tuples(
            st.just("status"), st.integers(0, 3), st.integers(0, 2),
            st.sampled_from(list(Status)[1:]),
        ),
    ),
    max_size=80,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(operations)
def test_the_arena_keeps_what_the_former_lists_kept(steps: list[tuple[Any, ...]]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(history, "KEEP", 4)  # small enough for runs to fill, move and shrink
        patch.setattr(history, "MAX_AGE", 30)
        past = fresh()
        model = ListHistory(past.catalog, 4, 30)
        for step in steps:
            apply(past, model, step)
            for slot, event in product(4, 2):
                assert list(past.of(slot, event)) == model.events.get((slot, event), [])
            for slot, message in product(4, 3):
                assert past.status(slot, message) == model.statuses.get((slot, message), 0)


def apply(past: History, model: ListHistory, step: tuple[Any, ...]) -> None:
    if step[0] == "record":
        _, slot, event, time, props = step
        past.record(slot, event, float(time), NONE, NONE, props)
        model.record(slot, event, float(time), props)
    elif step[0] == "forget":
        past.forget(step[1])
        model.forget(step[1])
    else:
        past.raise_status(*step[1:])
        model.raise_status(*step[1:])


def product(a: int, b: int) -> Iterator[tuple[int, int]]:
    return ((i, j) for i in range(a) for j in range(b))
