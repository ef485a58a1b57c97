"""The pair indexes: both twins on fixed cases, and against each other on random operations."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parcours.core import pairs
from parcours.core._pairs import LiveIndex as CompiledLive
from parcours.core._pairs import PastIndex as CompiledPast
from parcours.core.enrollments import Enrollments

LIVE = {"compiled": CompiledLive, "pure": pairs.LiveIndex}
PAST = {"compiled": CompiledPast, "pure": pairs.PastIndex}


@pytest.fixture(params=list(LIVE))
def twin(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_live_index_finds_adds_and_removes(twin: str) -> None:
    index = LIVE[twin]()
    index.add(3, 10, 1)
    index.add(0, 10, 2)
    index.add(7, 11, 1)
    assert (index.get(10, 1), index.get(10, 2), index.get(11, 1), index.get(11, 2)) == (3, 0, 7, -1)
    assert index.slots() == [0, 3, 7] and index.slots(1) == [3, 7] and len(index) == 3
    with pytest.raises(KeyError, match="already has a live enrollment"):
        index.add(9, 10, 1)
    index.remove(3)
    assert index.get(10, 1) == -1 and len(index) == 2
    assert (index.contact(3), index.program(3)) == (10, 1)  # readable until reused
    with pytest.raises(KeyError, match="holds no live enrollment"):
        index.remove(3)
    with pytest.raises(KeyError, match="never held"):
        index.contact(4)


def test_past_index_keeps_the_last_enrollment(twin: str) -> None:
    index = PAST[twin]()
    assert index.get(1, 0) is None
    index.set(1, 0, 100.5, 200.25, False)
    index.convert(1, 0)
    assert index.get(1, 0) == pairs.Past(100.5, 200.25, True)
    index.set(1, 0, 300.0, 400.0, False)  # the next enrollment ended: it replaces the first
    assert index.get(1, 0) == pairs.Past(300.0, 400.0, False) and len(index) == 1
    assert index.remove(1, 0) and not index.remove(1, 0) and index.get(1, 0) is None
    with pytest.raises(KeyError, match="no ended enrollment"):
        index.convert(1, 0)


def test_tables_grow_and_shrink_through_many_pairs(twin: str) -> None:
    live, past = LIVE[twin](), PAST[twin]()
    for slot in range(5000):
        live.add(slot, slot // 3, slot % 3)
        past.set(slot // 3, slot % 3, float(slot), float(slot + 1), slot % 2 == 0)
    for slot in range(0, 5000, 2):
        live.remove(slot)
        past.remove(slot // 3, slot % 3)
    assert all(live.get(s // 3, s % 3) == (s if s % 2 else -1) for s in range(5000))
    assert all((past.get(s // 3, s % 3) is None) == (s % 2 == 0) for s in range(5000))
    assert len(live) == len(past) == 2500


def test_bulk_adds_and_removes_are_the_single_ones(twin: str) -> None:
    live, past = LIVE[twin](), PAST[twin]()
    live.add_many(np.array([5, 6, 7]), np.array([1, 2, 3]), 2)
    assert [live.get(c, 2) for c in (1, 2, 3, 4)] == [5, 6, 7, -1]
    with pytest.raises(KeyError, match="already has a live enrollment"):
        live.add_many(np.array([8]), np.array([2]), 2)
    past.set(2, 1, 10.0, 20.0, False)
    assert past.remove_many(np.array([1, 2, 2]), 1).tolist() == [False, True, False]
    assert past.get(2, 1) is None and len(past) == 0


def test_the_compiled_index_refuses_what_its_columns_cannot_hold() -> None:
    with pytest.raises(OverflowError, match="out of the index's range"):
        CompiledLive().add(0, 2**31, 0)
    with pytest.raises(OverflowError, match="out of the index's range"):
        CompiledPast().set(0, 40_000, 0.0, 1.0, False)
    assert CompiledLive().get(-1, 0) == -1 and CompiledPast().get(0, -1) is None


CONTACTS = st.integers(0, 40)
PROGRAMS = st.integers(0, 3)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("open"), CONTACTS, PROGRAMS),
        st.tuples(st.just("close"), st.integers(0, 200)),
        st.tuples(st.just("convert"), CONTACTS, PROGRAMS),
        st.tuples(st.just("forget"), CONTACTS),
    ),
    max_size=120,
)


def _run(enrollments: Enrollments, operations: list[tuple[Any, ...]]) -> list[Any]:
    """Apply operations through the engine's table; record every answer."""
    seen: list[Any] = []
    for now, (kind, *args) in enumerate(operations):
        if kind == "open" and enrollments.of(*args) is None:
            seen.append(("open", enrollments.open(args[0], args[1], 0, float(now))))
        elif kind == "close":
            live = enrollments.live.slots()
            if live:
                enrollments.close(live[args[0] % len(live)], now + 0.5)
        elif kind == "convert" and enrollments.last(*args) is not None:
            enrollments.convert(*args)
        elif kind == "forget":
            enrollments.forget(args[0], 4)
        seen.append((enrollments.pairs(), len(enrollments.past)))
        seen.append([enrollments.last(c, p) for c in range(41) for p in range(4)])
        seen.append(_bulk_answers(enrollments))
    return seen


def _bulk_answers(enrollments: Enrollments) -> list[Any]:
    """What the bulk reads answer, held equal to the one-at-a-time reads they stand for."""
    contacts = np.arange(-1, 42)
    live, past = enrollments.live, enrollments.past
    answers = []
    for program in range(4):
        slots = live.get_many(contacts, program).tolist()
        assert slots == [live.get(int(c), program) for c in contacts]
        exited = [None if np.isnan(e) else e for e in past.exited_many(contacts, program)]
        each = [past.get(int(c), program) for c in contacts]
        assert exited == [None if p is None else p.exited_at for p in each]
        answers.append((slots, exited))
    used, programs = live.pairs_of(-1, 210)
    assert [(c, p) for c, p in zip(used, programs, strict=True) if p >= 0] == [
        (live.contact(s), live.program(s)) for s in range(0, 210) if programs[s + 1] >= 0
    ]
    answers.append((used.tolist(), programs.tolist()))
    return answers


@settings(max_examples=150, deadline=None)
@given(OPERATIONS)
def test_compiled_and_pure_tables_answer_alike(operations: list[tuple[Any, ...]]) -> None:
    compiled, pure = Enrollments(), Enrollments()
    pure.live, pure.past = pairs.LiveIndex(), pairs.PastIndex()
    compiled.live, compiled.past = CompiledLive(), CompiledPast()
    assert _run(compiled, operations) == _run(pure, operations)
