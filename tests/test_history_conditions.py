"""Conditions on history and statuses over the arena: the compiled evaluator, its pure twin and
the reference evaluator (reading the same history through ``History.of``) answer alike on
random histories, statuses and conditions (hypothesis)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_conditions import TWINS, compile_condition, store_of, today
from test_differential import (
    EVENTS,
    GROUPS,
    MESSAGES,
    NOW,
    PROGRAMS,
    condition,
    did_test,
    field_test,
    field_values,
    prop_test,
    status_test,
)

from parcours.core import conditions
from parcours.core.bytecode import NONE, Status
from parcours.core.catalog import Catalog, message_key
from parcours.core.evaluator import evaluate
from parcours.core.history import History
from parcours.core.values import Moment

#: ``did`` without ``where``: the compiled evaluator runs those
plain_did = did_test(prop_test()).map(lambda d: {k: v for k, v in d.items() if k != "where"})
history_conditions = condition(
    st.one_of(
        field_test(),
        st.sampled_from(GROUPS).map(lambda g: {"in_group": g}),
        plain_did,
        status_test(),
    )
)
#: days before NOW that fall on a window's bounds: now, 1d, 30d and 180d ago, MAX_AGE
BOUNDS = st.sampled_from([0, 1, 30, 180, 400])
#: past events as (event, days before NOW, program, message, amount): most in the windows
#: conditions ask about, some before MAX_AGE, some after NOW, many on a bound
past_events = st.tuples(
    st.sampled_from(EVENTS),
    st.one_of(BOUNDS, st.integers(-2, 35), st.integers(-2, 200), st.integers(395, 420)).map(float),
    st.sampled_from([*PROGRAMS, None]),
    st.sampled_from([*MESSAGES, None]),
    st.fixed_dictionaries({}, optional={"amount": field_values}),
)
sendings = st.tuples(
    st.sampled_from(PROGRAMS), st.sampled_from(MESSAGES), st.sampled_from(list(Status)[1:])
)
people = st.lists(
    st.fixed_dictionaries(
        {
            "fields": st.fixed_dictionaries({}, optional={"score": field_values}),
            "groups": st.sets(st.sampled_from(GROUPS)),
            "past": st.lists(past_events, max_size=8),
            "sent": st.lists(st.tuples(sendings, st.booleans()), max_size=4),
            "entered": st.one_of(st.none(), BOUNDS, st.integers(0, 60)).map(
                lambda days: None if days is None else float(days)
            ),
        }
    ),
    min_size=1,
    max_size=6,
)


class HistoryView:
    """A contact as the reference evaluator reads it, as ContactView does: history through
    ``History.of`` and ``History.status``, fields and groups as they were written."""

    def __init__(self, catalog: Catalog, past: History, slot: int, person: dict[str, Any]) -> None:
        self.catalog, self.past, self.slot, self.person = catalog, past, slot, person
        self.moment = Moment(NOW.timestamp(), NOW.date())
        entered = person["entered"]
        self.entry_time = None if entered is None else days_ago(entered)

    def field(self, field: int) -> Any:
        return self.person["fields"].get(self.catalog.fields.name(field))

    def prop(self, prop: int) -> Any:
        return None

    def in_group(self, group: int) -> bool:
        return self.catalog.groups.name(group) in self.person["groups"]

    def status(self, message: int) -> int:
        return self.past.status(self.slot, message)

    def history(self, event: int) -> Any:
        return self.past.of(self.slot, event)


def days_ago(days: float) -> float:
    return (NOW - timedelta(days=days)).timestamp()


def history_of(catalog: Catalog, contacts: list[dict[str, Any]]) -> History:
    """Each contact's events recorded in the order drawn (late arrivals included)."""
    past = History(catalog)
    for slot, person in enumerate(contacts):
        for event, days, program, message, props in person["past"]:
            ident = catalog.programs.intern(program) if program else NONE
            key = message_key(program, message) if program and message else None
            sent = catalog.messages.intern(key) if key else NONE
            past.record(slot, catalog.events.intern(event), days_ago(days), ident, sent, props)
        for (program, message, status), again in person["sent"]:
            sent = catalog.messages.intern(message_key(program, message))
            if again:
                past.restart(slot, sent)
            else:
                past.raise_status(slot, sent, status)
    return past


def answers(data: dict[str, Any], contacts: list[dict[str, Any]]) -> None:
    catalog = Catalog()
    bytecode, pc = compile_condition(data, catalog)
    store = store_of(catalog, [(p["fields"], p["groups"]) for p in contacts])
    past = history_of(catalog, contacts)
    assert conditions.supported(bytecode.code, pc, bytecode.history)
    kinds, values = conditions.link(bytecode, store.symbols)
    views = [HistoryView(catalog, past, slot, p) for slot, p in enumerate(contacts)]
    enrolled = [evaluate(bytecode, pc, view) for view in views]
    for view in views:
        view.entry_time = None
    outside = [evaluate(bytecode, pc, view) for view in views]
    now, slots = NOW.timestamp(), range(len(contacts))
    for name, twin in TWINS.items():
        bound = twin(bytecode.code, kinds, values, pc, store, past, bytecode.history)
        entry = [entry_of(contacts[s]) for s in slots]
        got = [bound.evaluate(s, now, *today(), entry_time=entry[s]) for s in slots]
        assert got == enrolled, (name, data)
        assert bound.segment(len(contacts), now, *today()).tolist() == outside, (name, data)
        assert bound.evaluate_slots(list(slots)[::-1], now, *today()).tolist() == outside[::-1]


def entry_of(person: dict[str, Any]) -> float:
    entered = person["entered"]
    return float("-inf") if entered is None else days_ago(entered)


CASES = settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@CASES
@given(history_conditions, people)
def test_history_and_statuses_answer_as_the_reference(
    data: dict[str, Any], contacts: list[dict[str, Any]]
) -> None:
    answers(data, contacts)


@CASES
@given(st.one_of(plain_did, status_test()), people)
def test_each_history_clause_answers_as_the_reference(
    data: dict[str, Any], contacts: list[dict[str, Any]]
) -> None:
    """One clause at a time: each case tests its window, filters, bounds and sum."""
    answers(data, contacts)


@pytest.mark.parametrize(
    ("clause", "days", "entered", "expected"),
    [
        ({"within": "30d"}, 30.0, None, True),  # the window's start is in it
        ({"within": "30d"}, 30.0 + 1 / 86400, None, False),
        ({}, 0.0, None, True),  # so is now
        ({}, -1 / 86400, None, False),  # a second later is not yet past
        ({"since": "entry"}, 5.0, 5.0, True),  # the moment of entry counts
        ({"since": "entry"}, 5.0 + 1 / 86400, 5.0, False),
        ({"since": "entry"}, 500.0, None, True),  # outside an enrollment: since ever
    ],
)  # fmt: skip
def test_the_window_holds_its_bounds(
    clause: dict[str, Any], days: float, entered: float | None, expected: bool
) -> None:
    person = {"fields": {}, "groups": set(), "sent": [], "entered": entered}
    person["past"] = [("order.completed", days, None, None, {})]
    catalog = Catalog()
    bytecode, pc = compile_condition({"did": "order.completed", **clause}, catalog)
    store, past = store_of(catalog, [({}, set())]), history_of(catalog, [person])
    kinds, values = conditions.link(bytecode, store.symbols)
    view = HistoryView(catalog, past, 0, person)
    assert evaluate(bytecode, pc, view) is expected
    for twin in TWINS.values():
        bound = twin(bytecode.code, kinds, values, pc, store, past, bytecode.history)
        assert bound.evaluate(0, NOW.timestamp(), *today(), entry_time=entry_of(person)) is expected


def test_random_cases_reach_both_answers_on_each_kind_of_clause() -> None:
    words = ("sum", "since", "within", "at_most", "message", "status", "status_not")
    seen: set[tuple[str, bool]] = set()

    @settings(max_examples=1500, deadline=None, derandomize=True)
    @given(history_conditions, people)
    def collect(data: dict[str, Any], contacts: list[dict[str, Any]]) -> None:
        catalog = Catalog()
        bytecode, pc = compile_condition(data, catalog)
        store = store_of(catalog, [(p["fields"], p["groups"]) for p in contacts])
        past = history_of(catalog, contacts)
        kinds, values = conditions.link(bytecode, store.symbols)
        bound = TWINS["compiled"](bytecode.code, kinds, values, pc, store, past, bytecode.history)
        text = str(data)
        for slot, person in enumerate(contacts):
            answer = bound.evaluate(slot, NOW.timestamp(), *today(), entry_time=entry_of(person))
            seen.update((word, answer) for word in words if f"'{word}'" in text)

    collect()
    assert {(w, a) for w in words for a in (True, False)} <= seen, seen


def test_a_did_with_where_or_without_a_history_is_not_bound() -> None:
    catalog = Catalog()
    where = {"did": "order.completed", "where": {"prop": "amount", "gt": 10}}
    bytecode, pc = compile_condition(where, catalog)
    store, past = store_of(catalog, []), History(catalog)
    assert not conditions.supported(bytecode.code, pc, bytecode.history)
    plain, plain_pc = compile_condition({"message": "welcome", "status": ["opened"]}, catalog)
    for twin in TWINS.values():
        with pytest.raises(ValueError, match="where"):
            twin(bytecode.code, bytecode.const_kind, bytecode.const_value, pc, store, past,
                 bytecode.history)  # fmt: skip
        with pytest.raises(ValueError, match="history"):
            twin(plain.code, plain.const_kind, plain.const_value, plain_pc, store)


def test_a_segment_over_many_contacts_histories() -> None:
    """Histories loaded in bulk, a purchase in the last 30 days and a total over them."""
    catalog = Catalog()
    data = {
        "all": [
            {"did": "purchase", "within": "30d", "at_least": 1},
            {"did": "purchase", "at_most": 2},
        ]
    }
    bytecode, pc = compile_condition(data, catalog)
    size, rng = 20_000, np.random.default_rng(4)
    counts = rng.integers(0, 4, size)
    slots = np.repeat(np.arange(size), counts)
    days = rng.integers(0, 90, len(slots))
    order = np.lexsort((-days, slots))  # by contact, oldest first
    past = History(catalog)
    past.load(catalog.events.intern("purchase"), slots[order], days_ago_all(days[order]))
    store = store_of(catalog, [({}, set())] * size)
    kinds, values = conditions.link(bytecode, store.symbols)
    bound = TWINS["compiled"](bytecode.code, kinds, values, pc, store, past, bytecode.history)
    recent = np.zeros(size, bool)
    recent[slots[days < 30]] = True
    expected = recent & (counts <= 2)
    mask = bound.segment(size, NOW.timestamp(), *today())
    assert (mask == expected).all() and 0 < mask.sum() < size


def days_ago_all(days: Any) -> Any:
    """Epoch seconds of an hour before NOW, ``days`` days back."""
    return NOW.timestamp() - 3600 - days * 86400.0


def test_a_binding_older_than_the_arena_reads_nothing_outside_its_arrays() -> None:
    """Bind again after history records; a stale binding must still never read past the
    arrays it holds (the arena moved to new ones as it grew)."""
    catalog = Catalog()
    bytecode, pc = compile_condition({"did": "purchase", "at_least": 1}, catalog)
    store, past = store_of(catalog, [({}, set())] * 4), History(catalog)
    purchase = catalog.events.intern("purchase")
    kinds, values = conditions.link(bytecode, store.symbols)
    for twin in TWINS.values():
        stale = twin(bytecode.code, kinds, values, pc, store, past, bytecode.history)
        for i in range(5_000):
            past.record(i % 4, purchase, NOW.timestamp() - i, NONE, NONE, {})
        assert stale.segment(4, NOW.timestamp(), *today()).tolist() in ([False] * 4, [True] * 4)
        fresh = twin(bytecode.code, kinds, values, pc, store, past, bytecode.history)
        assert fresh.segment(4, NOW.timestamp(), *today()).tolist() == [True] * 4
