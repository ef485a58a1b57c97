"""Invariants of the engine over random programs and event streams (hypothesis)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine_support import DAY, START, outbox, shard_with
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parcours.core.bytecode import NONE
from parcours.core.events import Event
from parcours.core.shard import Shard

EVENTS = ["form.submitted", "order.completed", "page.viewed"]
CONTACTS = [f"c{i}" for i in range(6)]
CONDITIONS = [
    {"field": "city", "eq": "Paris"},
    {"did": "page.viewed", "within": "2d"},
    {"in_group": "vip"},
    {"message": "n0", "status": ["opened", "clicked"]},
    {"not": {"field": "score", "gte": 50}},
]


@st.composite
def programs(draw: st.DrawFn, name: str = "random") -> dict[str, Any]:
    """A valid program: a chain of random nodes, branches pointing forward, one bounded loop."""
    count = draw(st.integers(2, 7))
    ids = [f"n{i}" for i in range(count)]
    nodes: dict[str, Any] = {"n0": {"type": "email", "template": "t", "next": "n1"}}
    for i in range(1, count):
        after = ids[i + 1] if i + 1 < count else None
        nodes[ids[i]] = draw(_node(ids, i, after))
    entry: dict[str, Any] = {"on": draw(st.sampled_from(EVENTS))}
    if draw(st.booleans()):
        entry["where"] = {"prop": "form", "eq": draw(st.sampled_from(["a", "b"]))}
    settings_: dict[str, Any] = {
        "reentry": draw(st.sampled_from(["never", "always", {"after": "1d"}]))
    }
    if draw(st.booleans()):
        settings_["exit_on"] = {"did": "order.completed", "since": "entry"}
    return {
        "program": name, "name": "Random", "category": "test", "entry": [entry],
        "settings": settings_, "nodes": nodes,
    }  # fmt: skip


def _node(ids: list[str], i: int, after: str | None) -> st.SearchStrategy[dict[str, Any]]:
    """A node at position ``i``; only the last may loop back (a bounded goto) or exit."""
    if after is None:
        loop = {"type": "goto", "target": ids[max(0, i - 1)], "max_loops": 2}
        return st.sampled_from([loop, {"type": "exit"}, {"type": "email", "template": "t"}])
    nxt = {"next": after}
    two_ways = {"then": after, "else": ids[-1]}
    split = [{"weight": 1, "next": after}, {"weight": 2, "next": ids[-1]}]
    options = [
        st.just({"type": "email", "template": "t", **nxt}),
        st.just({"type": "sms", "text": "hi", **nxt}),
        st.sampled_from(["1h", "1d", "2d12h"]).map(lambda d: {"type": "delay", "for": d, **nxt}),
        st.sampled_from(EVENTS).map(
            lambda e: {
                "type": "wait_for",
                "event": e,
                "timeout": "1d",
                "then": after,
                "on_timeout": ids[-1],
            }
        ),
        st.sampled_from(CONDITIONS).map(lambda c: {"type": "condition", "if": c, **two_ways}),
        st.just({"type": "update", "ops": [{"tag": "seen"}, {"increment": {"score": 10}}], **nxt}),
        st.just({"type": "split", "branches": split, "holdout": 20}),
    ]
    return st.one_of(options)


@st.composite
def streams(draw: st.DrawFn) -> list[Event]:
    """Events over ten days, in time order."""
    names = st.sampled_from([*EVENTS, "email.unsubscribed", "email.opened"])
    minutes = st.integers(0, 10 * 24 * 60)
    one = st.tuples(minutes, st.sampled_from(CONTACTS), names, st.sampled_from(["a", "b"]))
    items = draw(st.lists(one, max_size=40))
    events = []
    for minute, contact, name, form in sorted(items):
        props: dict[str, Any] = {"form": form}
        if name.startswith("email."):
            props = {"program": "random", "message": "n0"}
        events.append(Event(contact, name, START + minute * 60, props))
    return events


def run(program: dict[str, Any], events: list[Event], batches: list[int] | None = None) -> Shard:
    shard, clock = shard_with(program)
    for index, contact in enumerate(CONTACTS):
        shard.upsert_contact(
            contact,
            {
                "email": f"{contact}@x.org",
                "phone": "+3360000000",
                "city": "Paris" if index % 2 else "Lyon",
                "do_not_mail": index == 5,
            },
        )
    cuts = [*sorted(set(batches or [])), len(events)]
    begin = 0
    for cut in cuts:
        batch = events[begin:cut]
        if batch:
            clock.set(max(clock.now(), batch[-1].time))
            shard.ingest(batch)
        begin = cut
    clock.set(START + 12 * DAY)
    shard.tick()
    return shard


def live_pairs(shard: Shard) -> Counter[tuple[int, int]]:
    enrollments = shard.enrollments
    return Counter(
        (enrollments.contact(slot), enrollments.program(slot))
        for slot in range(len(enrollments.node)) if enrollments.node[slot] != NONE
    )  # fmt: skip


CASES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@CASES
@given(programs(), streams())
def test_one_live_enrollment_per_contact_and_program(
    program: dict[str, Any], events: list[Event]
) -> None:
    shard = run(program, events)
    pairs = live_pairs(shard)
    assert all(count == 1 for count in pairs.values())
    assert set(pairs) == set(shard.enrollments.pairs())


@CASES
@given(programs(), streams())
def test_no_message_to_a_suppressed_contact(program: dict[str, Any], events: list[Event]) -> None:
    shard = run(program, events)
    unsubscribed = {}
    for event in events:
        if event.name == "email.unsubscribed":
            unsubscribed.setdefault(event.contact, event.time)
    for _, channel, contact, _, time in outbox(shard):
        if channel in ("email", "sms"):
            assert contact != "c5"  # do_not_mail from the start
            assert time < unsubscribed.get(contact, float("inf"))


@CASES
@given(programs(), streams())
def test_the_same_input_gives_the_same_output(program: dict[str, Any], events: list[Event]) -> None:
    first, second = run(program, events), run(program, events)
    assert outbox(first) == outbox(second)
    assert first.stats == second.stats
    assert first.enrollments.pairs() == second.enrollments.pairs()


@CASES
@given(programs(), streams(), st.lists(st.integers(0, 40), max_size=6))
def test_batches_do_not_change_the_result(
    program: dict[str, Any], events: list[Event], cuts: list[int]
) -> None:
    whole, split = run(program, events), run(program, events, cuts)
    assert outbox(whole) == outbox(split)
    assert whole.stats == split.stats
    assert whole.enrollments.pairs() == split.enrollments.pairs()


def test_split_proportions_over_ten_thousand_contacts() -> None:
    program = {
        "program": "ab", "name": "A/B/C", "category": "test", "entry": [{"api": True}],
        "nodes": {
            "split": {"type": "split", "holdout": 10, "branches": [{"weight": 50, "next": "a"},
                      {"weight": 30, "next": "b"}, {"weight": 20, "next": "c"}]},
            "a": {"type": "exit"}, "b": {"type": "exit"}, "c": {"type": "exit"},
        },
    }  # fmt: skip
    shard, _ = shard_with(program)
    total = 10_000
    for i in range(total):
        assert shard.enroll(f"contact-{i}", "ab")
    control = shard.stats.control[("ab", "split")]
    counts = {n: shard.node_counts()[("ab", n)] for n in "abc"}
    assert control + sum(counts.values()) == total
    expected = {"control": 0.10, "a": 0.45, "b": 0.27, "c": 0.18}
    observed = {"control": control, **counts}
    for name, share in expected.items():
        sigma = (total * share * (1 - share)) ** 0.5
        assert abs(observed[name] - total * share) < 4 * sigma, (name, observed)


def test_split_assignment_is_sticky() -> None:
    program = {
        "program": "sticky", "name": "Sticky", "category": "test", "entry": [{"api": True}],
        "settings": {"reentry": "always"},
        "nodes": {
            "split": {"type": "split", "branches": [{"weight": 1, "next": "a"},
                      {"weight": 1, "next": "b"}]},
            "a": {"type": "exit"}, "b": {"type": "exit"},
        },
    }  # fmt: skip
    shard, _ = shard_with(program, trace=True)
    for _ in range(3):
        for i in range(50):
            shard.enroll(f"p{i}", "sticky")
    for i in range(50):
        branches = {s.what for s in shard.trace.by_contact[f"p{i}"] if s.what.startswith("branch")}
        assert len(branches) == 1


def test_random_runs_do_things() -> None:
    """The generators are not degenerate: runs enroll, send, leave and refuse re-entries."""
    seen: Counter[str] = Counter()

    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(programs(), streams())
    def collect(program: dict[str, Any], events: list[Event]) -> None:
        shard = run(program, events)
        seen["sent"] += len(outbox(shard))
        seen["enrolled"] += shard.stats.enrolled["random"]
        seen["exited"] += sum(shard.stats.exited.values())
        seen["refused"] += sum(shard.stats.refused.values())

    collect()
    assert all(seen[key] > 0 for key in ("sent", "enrolled", "exited", "refused")), seen
