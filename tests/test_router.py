"""The event router: what it lets through, where it stops, and its twins against each other."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from parcours.core import router
from parcours.core._router import Router as CompiledRouter
from parcours.core.batch import EventBatch
from parcours.core.events import LATE_LIMIT, Event
from parcours.core.pairs import LiveIndex, PastIndex
from parcours.core.routing import Gate

START = 1_796_112_000.0
IDS = {"kept": 0, "routed": 1, "grouped": 2, "unrouted": 3}
INF = math.inf


def table(windows: tuple[float, float] = (-INF, INF)) -> dict[int, Any]:
    """kept: read back from history; routed: program 0 reacts when a live enrollment waits, or
    when path is /pricing; grouped: program 1 enters on joining 'vip' (and converts)."""
    pricing = Gate(0, *windows, live=True, last=False, entries=((("path", ("/pricing",), ()),),))
    vip = Gate(1, *windows, live=False, last=True, entries=((("group", ("vip",), ()),),))
    return {0: None, 1: (pricing,), 2: (vip,)}


def make(twin: Any, contacts: dict[str, int], gates: dict[int, Any] | None = None) -> Any:
    live, past = LiveIndex(), PastIndex()
    return twin(IDS, table() if gates is None else gates, contacts, live, past), live, past


TWINS = (router.Router, CompiledRouter)


def scan(found: Any, events: list[Any], **kwargs: Any) -> tuple[int, int, int, float]:
    options = {"now": START, "until": INF, "horizon": INF, "deleted": set(), "seen": {}}
    options.update(kwargs)
    result = found.scan(EventBatch.of(events), 0, **options)
    return result.stop, result.accepted, result.late, result.now


def test_events_that_concern_no_program_pass_and_move_the_clock() -> None:
    events = [
        Event("a", "unknown.name", START + 1),
        Event("a", "routed", START + 2, {"path": "/blog"}),
        Event("a", "unrouted", START + 3),
        Event("a", "routed", START + 4, {"path": "/pricing"}),
        Event("a", "unrouted", START + 5),
    ]
    for twin in TWINS:
        found, _, _ = make(twin, {"a": 0})
        assert scan(found, events) == (3, 3, 0, START + 3)
        assert found.scan(EventBatch.of(events), 4, START + 4, INF, INF, set(), {}).stop == 5


def test_the_scan_stops_where_the_full_path_is_needed() -> None:
    for twin in TWINS:
        found, live, past = make(twin, {"a": 0})
        assert scan(found, [Event("b", "unrouted", START)])[0] == 0  # a new contact
        assert scan(found, [Event("a", "kept", START)])[0] == 0
        assert scan(found, [Event("a", "email.opened", START)])[0] == 0  # feedback
        assert scan(found, [Event("a", "unrouted", START + 5)], until=START + 5)[0] == 0
        assert scan(found, [Event("a", "unrouted", START + 5)], horizon=START + 4)[0] == 0
        assert scan(found, [Event("a", "unrouted", START)], deleted={"a"})[0] == 0
        seen = {"m1": START}
        assert scan(found, [Event("a", "unrouted", START, {}, "m1")], seen=seen)[0] == 0
        assert scan(found, [Event("a", "grouped", START, {"group": "vip"})])[0] == 0
        assert scan(found, [Event("a", "routed", START, {"path": ["/x"]})])[0] == 0  # a list
        live.add(7, 0, 0)  # a live enrollment of program 0 may be waiting for 'routed'
        assert scan(found, [Event("a", "routed", START, {"path": "/blog"})])[0] == 0
        past.set(0, 1, START - 10, START - 5, False)  # program 1's goal may convert
        assert scan(found, [Event("a", "grouped", START, {"group": "other"})])[0] == 0


def test_late_events_and_message_ids_are_counted_and_remembered() -> None:
    for twin in TWINS:
        found, _, _ = make(twin, {"a": 0})
        seen: dict[str, float] = {}
        old = START - LATE_LIMIT - 1
        events = [
            Event("a", "routed", old, {"path": "/pricing"}, "m1"),
            Event("a", "unrouted", START),
        ]
        assert scan(found, events, seen=seen) == (2, 1, 1, START)
        assert seen == {"m1": START}


def test_a_program_outside_its_active_window_lets_events_pass() -> None:
    for twin in TWINS:
        found, _, _ = make(twin, {"a": 0}, table((START + 100, INF)))
        pricing = Event("a", "routed", START + 1, {"path": "/pricing"})
        assert scan(found, [pricing]) == (1, 1, 0, START + 1)
        assert scan(found, [pricing], now=START + 100)[0] == 0


NAMES = st.sampled_from(["kept", "routed", "grouped", "unrouted", "other", "email.opened"])
PROPS = st.fixed_dictionaries(
    {},
    optional={
        "path": st.sampled_from(["/pricing", "/blog", 3, None]) | st.just(["/pricing"]),
        "group": st.sampled_from(["vip", "other"]),
    },
)
EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "gone"]),
        NAMES,
        st.integers(-LATE_LIMIT - 100, 600).map(lambda s: START + s / 2),
        PROPS,
        st.sampled_from([None, None, "m1", "m2", "m3"]),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(
    EVENTS,
    st.integers(0, 5),
    st.sampled_from([INF, START + 100, START + 300]),
    st.sets(st.tuples(st.integers(0, 2), st.integers(0, 1))),
    st.sets(st.tuples(st.integers(0, 2), st.integers(0, 1))),
)
def test_compiled_and_pure_routers_agree(
    rows: list[Any], start: int, until: float, live_pairs: set[Any], past_pairs: set[Any]
) -> None:
    events = EventBatch.of(Event(*row) for row in rows)
    answers = []
    for twin in TWINS:
        found, live, past = make(twin, {"a": 0, "b": 1, "c": 2})
        for slot, (contact, program) in enumerate(sorted(live_pairs)):
            live.add(slot, contact, program)
        for contact, program in past_pairs:
            past.set(contact, program, START - 5, START - 1, False)
        seen: OrderedDict[str, float] = OrderedDict(m3=START)
        result = found.scan(events, start, START + 50, until, START + 250, {"gone"}, seen)
        answers.append((result.stop, result.accepted, result.late, result.now, dict(seen)))
    assert answers[0] == answers[1]


def test_in_the_engine_noise_passes_and_timers_still_fire_between_events() -> None:
    """A wait_for listens to 'clicked'; pages that mention no program pass the router, and a
    timeout falling due between two events fires before the later one."""
    from engine_support import DAY, outbox, shard_with

    mail = {"type": "email", "template": "t"}
    waits = {
        "program": "w", "name": "W", "category": "t",
        "entry": [{"on": "go", "where": {"prop": "form", "eq": "yes"}}],
        "nodes": {
            "wait": {"type": "wait_for", "event": "clicked", "timeout": "1d",
                     "then": "thanks", "on_timeout": "nudge"},
            "thanks": mail, "nudge": mail,
        },
    }  # fmt: skip
    shard, clock = shard_with(waits)
    shard.upsert_contact("a", {"email": "a@x.org"})
    shard.upsert_contact("b", {"email": "b@x.org"})
    clock.set(START + 3 * DAY)
    shard.ingest([
        Event("a", "go", START, {"form": "no"}),  # the guard shuts: no enrollment
        Event("b", "go", START, {"form": "yes"}),
        Event("a", "page.viewed", START + 10),
        Event("b", "page.viewed", START + DAY + 5),  # after b's timeout
        Event("b", "clicked", START + DAY + 6),  # too late for b
        Event("a", "clicked", START + DAY + 7),  # a waits for nothing
    ])  # fmt: skip
    assert [(contact, node, t - START) for _, _, contact, node, t in outbox(shard)] == [
        ("b", "nudge", DAY)
    ]
    assert shard.stats.events["accepted"] == 6 and shard.now == START + DAY + 7


def test_history_keeps_only_events_some_reader_could_count() -> None:
    """The only reader of 'viewed' counts paths starting with /pricing: other pages are not
    kept (they could never count), and pass the router."""
    from engine_support import shard_with

    counts = {
        "program": "p", "name": "P", "category": "t", "entry": [{"on": "go"}],
        "nodes": {"check": {"type": "condition", "if": {
            "did": "viewed", "where": {"prop": "path", "starts_with": "/pricing"}}}},
    }  # fmt: skip
    shard, _ = shard_with(counts)
    shard.upsert_contact("a", {})
    shard.ingest([
        Event("a", "viewed", START, {"path": "/blog"}),
        Event("a", "viewed", START + 1, {"path": "/pricing/teams"}),
        Event("a", "viewed", START + 2, {"path": ["/blog"]}),  # a list might hold a match
    ])  # fmt: skip
    slot, viewed = shard.contacts.slot("a"), shard.catalog.events.index["viewed"]
    assert slot is not None
    assert [e.time - START for e in shard.history.of(slot, viewed)] == [1, 2]
    assert shard.stats.passed == 1 and shard.stats.events["accepted"] == 3
