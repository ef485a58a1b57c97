"""The timer wheel: both twins against a plain reference, and against each other (hypothesis)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parcours.core import wheel
from parcours.core._wheel import TimerWheel as CompiledWheel

TWINS = {"compiled": CompiledWheel, "pure": wheel.TimerWheel}
START = 1_796_112_000
#: delays from seconds to more than a year, around the levels' edges
DELAYS = st.one_of(
    st.integers(-10, 70),
    st.integers(4000, 4200),
    st.integers(250_000, 270_000),
    st.integers(0, 40_000_000),
    st.sampled_from([64, 4096, 262_144, 16_777_216, 31_536_000]),
)
STEPS = st.one_of(st.integers(0, 70), st.sampled_from([3600, 86_400, 10**6, 2 * 10**7, 4 * 10**7]))
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("schedule"), st.lists(st.tuples(st.integers(0, 60), DELAYS), max_size=20)
        ),
        st.tuples(st.just("cancel"), st.integers(0, 60)),
        st.tuples(st.just("advance"), STEPS),
    ),
    max_size=40,
)


@pytest.fixture(params=list(TWINS))
def make(request: pytest.FixtureRequest) -> Any:
    return TWINS[request.param]


class Reference:
    """What a wheel must do, the obvious way: a dict, sorted when time moves."""

    def __init__(self, now: int) -> None:
        self.now = now
        self.pending: dict[int, int] = {}

    def apply(self, operation: tuple[str, Any]) -> Any:
        kind, argument = operation
        if kind == "schedule":
            for handle, delay in argument:
                self.pending[handle] = self.now + delay
            return None
        if kind == "cancel":
            return self.pending.pop(argument, None) is not None
        self.now += argument
        due = sorted((d, h) for h, d in self.pending.items() if d <= self.now)
        for _, handle in due:
            del self.pending[handle]
        return [h for _, h in due]


def play(wheel_class: Any, operations: list[tuple[str, Any]]) -> list[Any]:
    """Apply operations to a wheel and a reference; record what the wheel answered."""
    timers = wheel_class(START)
    reference = Reference(START)
    answers = []
    for operation in operations:
        kind, argument = operation
        if kind == "schedule":
            handles = [h for h, _ in argument]
            timers.schedule(handles, [reference.now + d for _, d in argument])
            answer: Any = None
        elif kind == "cancel":
            answer = timers.cancel(argument)
        else:
            answer = timers.advance(reference.now + argument).tolist()
        expected = reference.apply(operation)
        assert answer == expected, (operation, answer, expected)
        pending = reference.pending
        assert len(timers) == len(pending)
        assert timers.next_due() == (min(pending.values()) if pending else None)
        moment = timers.next_moment()
        assert (moment is None) == (not pending)
        # a lower bound of the next due time; timers already due are due now
        assert moment is None or moment <= max(min(pending.values()), reference.now)
        assert timers.dues(-2, 64).tolist() == [pending.get(h, 0) for h in range(-2, 64)]
        answers.append(answer)
    return answers


CASES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@CASES
@given(OPERATIONS)
def test_each_twin_matches_the_reference(operations: list[tuple[str, Any]]) -> None:
    for twin in TWINS.values():
        play(twin, operations)


@CASES
@given(OPERATIONS)
def test_twins_answer_alike(operations: list[tuple[str, Any]]) -> None:
    assert play(CompiledWheel, operations) == play(wheel.TimerWheel, operations)


def test_far_timers_wait_in_overflow_and_cascade_down(make: Any) -> None:
    timers = make(START)
    year = 366 * 86_400
    timers.schedule([7, 8], [START + year, START + 2 * year])
    assert timers.advance(START + year - 1).tolist() == []
    assert timers.next_due() == START + year
    assert timers.advance(START + year).tolist() == [7]
    assert timers.advance(START + 3 * year).tolist() == [8]


def test_cancel_and_reschedule_are_exact(make: Any) -> None:
    timers = make(START)
    timers.schedule([1, 2, 3], [START + 10, START + 10, START + 5])
    assert timers.cancel(2) and not timers.cancel(2) and not timers.cancel(99)
    timers.schedule_one(3, START + 20)
    assert timers.due(3) == START + 20 and timers.due(2) is None
    assert timers.advance(START + 30).tolist() == [1, 3]
    assert len(timers) == 0


def test_timers_already_due_come_out_first(make: Any) -> None:
    timers = make(START)
    timers.schedule([5, 4], [START - 100, START])
    assert timers.next_moment() == START
    assert timers.advance(START).tolist() == [5, 4]


def test_bad_handles_are_refused() -> None:
    timers = CompiledWheel(START)
    with pytest.raises(ValueError):
        timers.schedule([-1], [START])
    with pytest.raises(ValueError):
        timers.schedule([1, 2], [START])


@pytest.mark.parametrize("count", [40, 1_000, 100_000])
def test_many_timers_of_one_second_come_out_by_handle(make: Any, count: int) -> None:
    handles = np.random.default_rng(count).permutation(count * 3)[:count]
    timers = make(START)
    timers.schedule(handles, np.full(count, START + 90_000))
    assert timers.advance(START + 100_000).tolist() == sorted(handles.tolist())
