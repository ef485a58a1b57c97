"""The shard state machine on focused cases: bad input, time, caps, life cycle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from engine_support import DAY, START, compiled, outbox, shard_with

from parcours.core.bytecode import Status
from parcours.core.events import Event
from parcours.core.lifecycle import LifecycleError
from parcours.core.program import FrequencyCap
from parcours.core.schedule import local, zone
from parcours.rules.compiler import compile_program
from parcours.rules.model import Program
from parcours.rules.program import check_program, duplicate
from parcours.rules.source import Document

WELCOME: dict[str, Any] = {
    "program": "welcome", "name": "Welcome", "category": "test",
    "entry": [{"on": "form.submitted", "where": {"form": "newsletter"}}],
    "nodes": {
        "hello": {"type": "email", "template": "t", "next": "wait"},
        "wait": {"type": "delay", "for": "2d", "next": "again"},
        "again": {"type": "email", "template": "t"},
    },
}  # fmt: skip


def validated(data: dict[str, Any]) -> Program:
    check = check_program(Document("p.yaml", data))
    assert check.program is not None
    return check.program


def paris(moment: float) -> str:
    return local(moment, zone("Europe/Paris")).strftime("%Y-%m-%d %H:%M %z")


def test_bad_events_are_refused_and_counted() -> None:
    shard, _ = shard_with(WELCOME)
    shard.ingest([
        {"event": "form.submitted"},
        {"contact": "c1"},
        {"contact": "c1", "event": "x", "properties": [1, 2]},
        {"contact": "c1", "event": "x", "timestamp": "yesterday"},
        {"contact": "c1", "event": "x", "timestamp": START + 2 * DAY},
    ])  # fmt: skip
    refused = {k: v for k, v in shard.stats.events.items() if k.startswith("refused:")}
    assert refused == {
        "refused:no_contact": 1, "refused:no_name": 1, "refused:bad_properties": 1,
        "refused:bad_timestamp": 1, "refused:future": 1,
    }  # fmt: skip
    assert len(shard.contacts) == 0  # nothing refused left a trace in the state


def test_an_unknown_contact_is_created_on_first_sight() -> None:
    shard, _ = shard_with(WELCOME)
    shard.upsert_contact("known", {"email": "k@x.org"})
    shard.ingest(
        [{"contact": "new", "event": "form.submitted", "properties": {"form": "newsletter"}}]
    )
    assert shard.contacts.slot("new") is not None
    assert shard.stats.enrolled["welcome"] == 1
    assert shard.stats.suppressed[("welcome", "hello")] == 1  # no email address yet


def test_duplicate_message_ids_are_refused_for_a_day() -> None:
    shard, clock = shard_with(WELCOME)
    event = {"contact": "c1", "event": "page.viewed", "messageId": "m-1", "timestamp": START}
    shard.ingest([event, event])
    clock.set(START + DAY + 60)
    shard.tick()
    shard.ingest([{**event, "timestamp": START + DAY + 60}])
    assert shard.stats.events["refused:duplicate"] == 1
    assert shard.stats.events["accepted"] == 2


def test_late_events_update_history_but_trigger_nothing() -> None:
    reader = {**WELCOME, "filter": {"not": {"did": "form.submitted", "at_least": 9}}}
    shard, clock = shard_with(reader)  # it reads form.submitted back: history keeps them
    shard.upsert_contact("c1", {"email": "a@x.org"})
    clock.set(START + 10 * DAY)
    shard.tick()
    shard.ingest([Event("c1", "form.submitted", START + DAY, {"form": "newsletter"})])
    assert shard.stats.events["late"] == 1
    assert shard.stats.enrolled["welcome"] == 0
    event_id = shard.catalog.events.get("form.submitted")
    assert event_id is not None and len(shard.history.of(0, event_id)) == 1


def test_wrong_types_in_conditions_are_false_not_errors() -> None:
    program = {**WELCOME, "filter": {"field": "age", "gte": 18}}
    shard, _ = shard_with(program)
    for contact, age in (("a", 30), ("b", "thirty"), ("c", None), ("d", "42"), ("e", [1])):
        shard.upsert_contact(contact, {"email": f"{contact}@x.org", "age": age})
        shard.ingest([Event(contact, "form.submitted", START, {"form": "newsletter"})])
    assert {key[2] for key in outbox(shard)} == {"a", "d"}
    assert shard.stats.refused[("welcome", "filter")] == 3


def paris_send_times(settings: dict[str, Any], submitted: datetime) -> list[str]:
    """Submit the form at ``submitted`` (Paris time); the times the two emails go out."""
    shard, clock = shard_with({**WELCOME, "settings": {"timezone": "Europe/Paris", **settings}})
    moment = submitted.replace(tzinfo=zone("Europe/Paris")).timestamp()
    clock.set(moment)
    shard.upsert_contact("c1", {"email": "a@x.org"})
    shard.ingest([Event("c1", "form.submitted", moment, {"form": "newsletter"})])
    clock.set(moment + 10 * DAY)
    shard.tick()
    return [paris(t) for *_, t in outbox(shard)]


def test_days_are_calendar_days_across_dst() -> None:
    saturday = datetime(2027, 3, 27, 9, 0)  # the clocks go forward that night
    assert paris_send_times({}, saturday) == ["2027-03-27 09:00 +0100", "2027-03-29 09:00 +0200"]


def test_a_window_closed_on_the_weekend_opens_on_monday() -> None:
    window = {"days": ["mon", "tue", "wed", "thu", "fri"], "hours": "09:00-18:00"}
    friday_evening = datetime(2026, 12, 4, 19, 30)
    assert paris_send_times({"send_window": window}, friday_evening) == [
        "2026-12-07 09:00 +0100",
        "2026-12-09 09:00 +0100",
    ]


def test_caps_defer_and_the_highest_priority_goes_first() -> None:
    def single(name: str, priority: int) -> dict[str, Any]:
        nodes = {"hello": {"type": "email", "template": "t"}}
        return {**WELCOME, "program": name, "settings": {"priority": priority}, "nodes": nodes}

    cap = (FrequencyCap("email", 1, DAY),)
    # deployed in this order; the event reaches them by priority, and so do the deferred
    # messages that fall due together the next day
    shard, clock = shard_with(single("low", 1), single("mid", 5), single("high", 9), caps=cap)
    shard.upsert_contact("c1", {"email": "a@x.org"})
    shard.ingest([Event("c1", "form.submitted", START, {"form": "newsletter"})])
    clock.set(START + 5 * DAY)
    shard.tick()
    entries = shard.outbox.entries  # type: ignore[attr-defined]
    assert [(e.program, (e.time - START) / DAY) for e in entries] == [
        ("high", 0), ("mid", 1), ("low", 2),
    ]  # fmt: skip


def test_if_capped_skip_drops_the_message() -> None:
    skipping = {**WELCOME, "program": "skipper", "nodes": {
        "hello": {"type": "email", "template": "t", "if_capped": "skip", "next": "after"},
        "after": {"type": "sms", "text": "hi"},
    }}  # fmt: skip
    shard, _ = shard_with(WELCOME, skipping, caps=(FrequencyCap("email", 1, DAY),))
    shard.upsert_contact("c1", {"email": "a@x.org", "phone": "+33600000000"})
    shard.ingest([Event("c1", "form.submitted", START, {"form": "newsletter"})])
    assert [(p, n) for _, _, _, n, _ in outbox(shard) for p in [n]] == [
        ("hello", "hello"),
        ("after", "after"),
    ]
    assert [e.program for e in shard.outbox.entries] == ["welcome", "skipper"]  # type: ignore[attr-defined]


def test_deploying_a_version_keeps_contacts_on_nodes_that_remain() -> None:
    shard, clock = shard_with(WELCOME)
    for contact in ("a", "b"):
        shard.upsert_contact(contact, {"email": f"{contact}@x.org"})
    shard.ingest([Event("a", "form.submitted", START, {"form": "newsletter"})])
    version2 = {**WELCOME, "nodes": {
        "hello": {"type": "email", "template": "t", "next": "pause"},
        "pause": {"type": "delay", "for": "1d", "next": "again"},
        "again": {"type": "email", "template": "t"},
    }}  # fmt: skip
    new = compiled(version2, shard.catalog)
    assert shard.plan(new).removed == {"wait": 1}
    report = shard.deploy(new)
    assert (report.kept, report.removed) == (0, {"wait": 1})
    assert shard.stats.exited[("welcome", "node removed by a new version")] == 1
    shard.ingest([Event("b", "form.submitted", START + 60, {"form": "newsletter"})])
    clock.set(START + 3 * DAY)
    shard.tick()
    assert [(c, n) for _, _, c, n, _ in outbox(shard)] == [
        ("a", "hello"),
        ("b", "hello"),
        ("b", "again"),
    ]


def test_pause_parks_due_steps_until_resume() -> None:
    shard, clock = shard_with(WELCOME)
    shard.upsert_contact("a", {"email": "a@x.org"})
    shard.ingest([Event("a", "form.submitted", START, {"form": "newsletter"})])
    shard.pause("welcome")
    clock.set(START + 3 * DAY)
    shard.tick()
    shard.ingest([Event("a", "form.submitted", START + 3 * DAY, {"form": "newsletter"})])
    assert len(outbox(shard)) == 1
    shard.resume("welcome")
    assert [(n, (t - START) / DAY) for _, _, _, n, t in outbox(shard)] == [
        ("hello", 0),
        ("again", 3),
    ]
    with pytest.raises(LifecycleError):
        shard.resume("welcome")


def test_deleting_a_contact_forgets_it_and_refuses_its_events() -> None:
    shard, clock = shard_with(WELCOME)
    shard.upsert_contact("a", {"email": "a@x.org"})
    shard.ingest([Event("a", "form.submitted", START, {"form": "newsletter"})])
    slot, hello = shard.contacts.slot("a"), shard.catalog.messages.get("welcome/hello")
    assert (
        slot is not None and hello is not None and shard.history.status(slot, hello) == Status.SENT
    )
    shard.delete_contact("a")
    clock.set(START + 3 * DAY)
    shard.tick()
    shard.ingest([Event("a", "form.submitted", START + 3 * DAY, {"form": "newsletter"})])
    assert len(outbox(shard)) == 1 and len(shard.enrollments) == 0
    assert shard.stats.events["refused:deleted_contact"] == 1
    assert shard.contacts.slot("a") is None and shard.history.status(slot, hello) == Status.NONE


def test_a_duplicate_is_a_new_draft_with_its_own_messages() -> None:
    original = validated(WELCOME)
    copy = duplicate(original, "welcome-v2")
    shard, _ = shard_with()
    for program in (original, copy):
        shard.deploy(compile_program(program, shard.catalog))
    assert {p.id: p.status.value for p in shard.programs} == {
        "welcome": "draft",
        "welcome-v2": "draft",
    }
    shard.activate("welcome-v2")
    shard.upsert_contact("c1", {"email": "a@x.org"})
    shard.ingest([Event("c1", "form.submitted", START, {"form": "newsletter"})])
    entries = shard.outbox.entries  # type: ignore[attr-defined]
    assert [(e.program, e.node) for e in entries] == [("welcome-v2", "hello")]
    assert shard.catalog.messages.get("welcome-v2/hello") is not None
    with pytest.raises(ValueError):
        duplicate(original, "Not An Id")


def test_segments_run_over_columns_and_match_the_contact_by_contact_answer() -> None:
    segment = {"all": [{"field": "age", "gte": 30}, {"any": [{"in_group": "vip"},
               {"field": "tags", "contains": "gold"}]}]}  # fmt: skip
    columns = {**WELCOME, "program": "columns", "entry": [{"segment": segment, "schedule": "once"}]}
    rows = {**columns, "program": "rows", "settings": {"timezone": "contact"}}  # one by one
    shard, _ = shard_with()
    expected = set()
    for i in range(300):
        age, vip, gold = i % 60, i % 3 == 0, i % 5 == 0
        fields: dict[str, Any] = {
            "email": f"{i}@x.org",
            "age": age,
            "tags": ["gold"] if gold else [],
        }
        if vip:
            fields["groups"] = ["vip"]
        shard.upsert_contact(f"c{i}", fields)
        if age >= 30 and (vip or gold):
            expected.add(f"c{i}")
    shard.upsert_contact("c0", {"age": 45})  # changed after creation: the column follows
    expected.add("c0")
    for data in (columns, rows):
        shard.deploy(compiled(data, shard.catalog), activate=True)
    entries = shard.outbox.entries  # type: ignore[attr-defined]
    for name in ("columns", "rows"):
        assert {e.contact for e in entries if e.program == name} == expected
