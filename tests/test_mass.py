"""Mass entries in bulk: the same enrollments, timers, counts and messages as contact by
contact (a traced shard takes the contact-by-contact path), and rows instead of records."""

from __future__ import annotations

from typing import Any

from engine_support import DAY, START, compiled, outbox
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import Partition
from parcours.core.mass import shared_due
from parcours.core.outbox import ListOutbox
from parcours.core.shard import Shard
from parcours.core.stores.memory import MemoryStore

SEGMENTS = [
    {"in_group": "vip"},
    {"field": "city", "eq": "Paris"},
    {"any": [{"in_group": "vip"}, {"field": "score", "gte": 50}]},
    {"did": "page.viewed", "within": "3d"},
]
DELAYS = [
    {"for": "2h"},
    {"for": "1d", "at": "09:00"},
    {"until": "2026-12-09T10:00:00Z"},
    {"for": "3d"},
]


@st.composite
def mass_programs(draw: st.DrawFn) -> dict[str, Any]:
    """A segment entry (once, or daily) whose first node is a delay, then an email."""
    schedule = draw(st.sampled_from(["once", "0 9 * * *"]))
    program: dict[str, Any] = {
        "program": "mass", "name": "Mass", "category": "test",
        "entry": [{"segment": draw(st.sampled_from(SEGMENTS)), "schedule": schedule}],
        "settings": {
            "reentry": draw(st.sampled_from(["never", "always", {"after": "2d"}])),
            "timezone": draw(st.sampled_from(["Europe/Paris", "UTC", "contact"])),
        },
        "nodes": {
            "wait": {"type": "delay", **draw(st.sampled_from(DELAYS)), "next": "hello"},
            "hello": {"type": "email", "template": "hello"},
        },
    }  # fmt: skip
    if draw(st.booleans()):
        program["filter"] = {"not": {"field": "city", "eq": "Lyon"}}
    return program


PROFILES = st.lists(
    st.fixed_dictionaries(
        {
            "city": st.sampled_from(["Paris", "Lyon", "Nice"]),
            "score": st.integers(0, 100),
            "groups": st.sampled_from([[], ["vip"]]),
            "email": st.just("x@example.org"),
        },
        optional={"timezone": st.sampled_from(["America/New_York", "Asia/Tokyo"])},
    ),
    max_size=25,
)


def run(program: dict[str, Any], profiles: list[dict[str, Any]], trace: bool) -> Shard:
    """Contacts first, a program that enrolls some of them by event, then the mass program;
    ten days on."""
    catalog, clock = Catalog(), VirtualClock(START)
    shard = Shard(catalog, clock, ListOutbox(), trace=trace, timezone="Europe/Paris")
    for index, profile in enumerate(profiles):
        shard.upsert_contact(f"c{index}", profile)
        if index % 3 == 0:
            shard.ingest([{"contact": f"c{index}", "event": "page.viewed", "timestamp": START}])
    shard.deploy(compiled(program, catalog), activate=True)
    for day in range(1, 11):
        clock.set(START + day * DAY)
        shard.tick()
    return shard


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mass_programs(), PROFILES)
def test_bulk_enrollment_is_contact_by_contact_enrollment(
    program: dict[str, Any], profiles: list[dict[str, Any]]
) -> None:
    bulk, one_by_one = run(program, profiles, False), run(program, profiles, True)
    assert outbox(bulk) == outbox(one_by_one)
    assert bulk.stats.enrolled == one_by_one.stats.enrolled
    assert bulk.stats.refused == one_by_one.stats.refused
    assert bulk.node_counts() == one_by_one.node_counts()
    assert bulk.enrollments.pairs() == one_by_one.enrollments.pairs()
    slots = bulk.enrollments.live.slots()
    assert [bulk.timers.due(s) for s in slots] == [one_by_one.timers.due(s) for s in slots]


def test_a_delay_on_each_contact_s_clock_or_due_now_is_not_shared() -> None:
    base = {
        "program": "p", "name": "P", "category": "t",
        "entry": [{"segment": {"in_group": "vip"}, "schedule": "once"}],
    }  # fmt: skip
    catalog = Catalog()
    shard = Shard(catalog, VirtualClock(START))
    cases = [
        ({"timezone": "contact"}, {"for": "1d"}, None),
        ({}, {"until": "2026-11-01T00:00:00Z"}, None),  # already past: no wait at all
        ({}, {"until_field": "renewal"}, None),
        ({"timezone": "UTC"}, {"for": "1d", "at": "09:00"}, START + DAY + 3600),
    ]
    for settings_, delay, expected in cases:
        nodes = {"w": {"type": "delay", **delay, "next": "m"}, "m": {"type": "exit"}}
        shard.deploy(compiled({**base, "settings": settings_, "nodes": nodes}, catalog))
        assert shared_due(shard, shard.by_id["p"]) == expected, (settings_, delay)


def test_a_mass_enrollment_writes_rows_not_contact_records() -> None:
    """Contacts that only enter and wait change their enrollment rows, not their records."""
    program = {
        "program": "mass", "name": "Mass", "category": "t",
        "entry": [{"segment": {"in_group": "all"}, "schedule": "once"}],
        "nodes": {"wait": {"type": "delay", "for": "3d", "next": "m"},
                  "m": {"type": "email", "template": "t"}},
    }  # fmt: skip
    catalog, clock, store = Catalog(), VirtualClock(START), MemoryStore()
    version = compiled(program, catalog)
    part = Partition(store, 0, lambda n: Shard(catalog, clock), lambda i, v: version)
    for index in range(50):
        part.upsert_contact(f"c{index}", {"groups": ["all"], "email": "a@b.org"})
    written: list[Any] = []
    commit = store.commit
    store.commit = lambda p, c: (written.append(c), commit(p, c))  # type: ignore[method-assign]
    part.deploy(version, activate=True)
    assert written[-1].contacts == {} and len(part.shard.enrollments) == 50
    assert sum(len(data) for runs in written[-1].rows.values() for _, data in runs) == 50 * 34
    clock.set(START + 4 * DAY)
    rebuilt = Partition(store, 0, lambda n: Shard(catalog, clock), lambda i, v: version)
    rebuilt.step()
    assert sorted(e.contact for e in store.outbox(0)) == sorted(f"c{i}" for i in range(50))
