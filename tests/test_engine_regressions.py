"""Regressions: each test is a bug a review found in the shard, with the behaviour it must have."""

from __future__ import annotations

from typing import Any

from engine_support import DAY, START, compiled, outbox, shard_with

from parcours.core.schedule import local, zone


def program(name: str, nodes: dict[str, Any], entry: Any = None, **settings: Any) -> dict[str, Any]:
    return {
        "program": name, "name": name.upper(), "category": "t",
        "entry": entry or [{"on": "go"}], "settings": settings, "nodes": nodes,
    }  # fmt: skip


MAIL = {"type": "email", "template": "t"}


def test_a_nested_step_that_ends_the_caller_stops_it() -> None:
    a = program("a", {
        "s": {"type": "start_program", "program": "b", "next": "mail"},
        "mail": {**MAIL, "next": "w"}, "w": {"type": "delay", "for": "1d", "next": "mail2"},
        "mail2": MAIL,
    })  # fmt: skip
    b = program("b", {"e": {"type": "end_program", "program": "a"}}, [{"api": True}])
    shard, clock = shard_with(a, b)
    shard.upsert_contact("c1", {"email": "c@x.org"})
    shard.ingest([{"contact": "c1", "event": "go"}])
    clock.set(START + 2 * DAY)
    shard.tick()
    assert outbox(shard) == [] and len(shard.enrollments) == 0
    assert sorted(shard.enrollments.free) == [0, 1]


def test_a_slot_reused_within_a_batch_keeps_its_own_delay() -> None:
    a = program("a", {
        "w": {"type": "delay", "for": "1d", "next": "end_b"},
        "end_b": {"type": "end_program", "program": "b", "next": "start_c"},
        "start_c": {"type": "start_program", "program": "c"},
    })  # fmt: skip
    b = program("b", {"w": {"type": "delay", "for": "1d", "next": "mb"}, "mb": MAIL})
    c = program(
        "c", {"w": {"type": "delay", "for": "3d", "next": "mc"}, "mc": MAIL}, [{"api": True}]
    )
    shard, clock = shard_with(a, b, c)
    shard.upsert_contact("c1", {"email": "c@x.org"})
    shard.ingest([{"contact": "c1", "event": "go"}])
    clock.set(START + 5 * DAY)
    shard.tick()
    assert [(node, (t - START) / DAY) for *_, node, t in outbox(shard)] == [("mc", 4.0)]


def test_resume_ignores_a_parked_row_now_used_by_another_program() -> None:
    a = program("a", {"w": {"type": "delay", "for": "1d", "next": "ma"}, "ma": MAIL})
    b = program("b", {"w": {"type": "delay", "for": "1h", "next": "mb"}, "mb": MAIL})
    shard, clock = shard_with(a)
    shard.deploy(compiled(b, shard.catalog))
    shard.upsert_contact("c1", {"email": "1@x.org"})
    shard.upsert_contact("c2", {"email": "2@x.org"})
    shard.ingest([{"contact": "c1", "event": "go"}])
    shard.pause("a")
    clock.set(START + DAY)
    shard.tick()
    shard.delete_contact("c1")
    shard.activate("b")
    shard.ingest([{"contact": "c2", "event": "go"}])
    shard.pause("b")
    clock.set(START + DAY + 7200)
    shard.tick()
    shard.resume("a")
    assert outbox(shard) == []
    shard.resume("b")
    assert [(c, n) for _, _, c, n, _ in outbox(shard)] == [("c2", "mb")]


def test_a_new_version_rebuilds_the_agenda() -> None:
    v1 = program(
        "p",
        {"m": MAIL},
        [{"segment": {"field": "vip", "eq": True}, "schedule": "0 9 * * *"}],
        active_until="2026-12-03T00:00:00Z",
        reentry="always",
    )
    v2 = {**v1, "entry": [{"on": "go"}], "settings": {"active_until": "2026-12-31T00:00:00Z"}}
    shard, clock = shard_with(v1)
    shard.upsert_contact("vip", {"email": "v@x.org", "vip": True})
    shard.upsert_contact("nobody", {"email": "n@x.org", "vip": False})
    shard.deploy(compiled(v2, shard.catalog))
    clock.set(START + 3 * DAY)
    shard.tick()
    assert outbox(shard) == []  # no tick of the old cron entry
    assert shard.by_id["p"].status.value == "active"  # the new active_until holds
    v3 = {**v2, "entry": [{"on": "go"}, {"date": "birthday"}], "settings": {}}
    shard.upsert_contact("b", {"email": "b@x.org", "birthday": "2026-12-08"})
    shard.deploy(compiled(v3, shard.catalog))
    clock.set(START + 10 * DAY)
    shard.tick()
    assert [c for _, _, c, _, _ in outbox(shard)] == ["b"]


def test_activation_entries_run_on_resume_if_active_from_passed_during_a_pause() -> None:
    p = program("p", {"m": MAIL}, [{"segment": {"field": "vip", "eq": True}, "schedule": "once"}],
                active_from="2026-12-02T00:00:00Z")  # fmt: skip
    shard, clock = shard_with(p)
    shard.upsert_contact("c1", {"email": "c@x.org", "vip": True})
    clock.set(START + 0.5 * DAY)
    shard.tick()
    shard.pause("p")
    clock.set(START + 1.5 * DAY)
    shard.tick()
    shard.resume("p")
    assert [c for _, _, c, _, _ in outbox(shard)] == ["c1"]


def test_segments_read_today_in_the_programs_time_zone() -> None:
    p = program("bday", {"m": MAIL},
                [{"segment": {"field": "birthday", "month_day": "today"}, "schedule": "0 9 * * *"}],
                timezone="Pacific/Auckland", reentry="always")  # fmt: skip
    shard, clock = shard_with(p)
    shard.upsert_contact("dec2", {"email": "a@x.org", "birthday": "1990-12-02"})
    shard.upsert_contact("dec3", {"email": "b@x.org", "birthday": "1990-12-03"})
    clock.set(START + 2 * DAY)
    shard.tick()
    sent = [
        (c, local(t, zone("Pacific/Auckland")).date().isoformat())
        for _, _, c, _, t in outbox(shard)
    ]
    assert sent == [("dec2", "2026-12-02"), ("dec3", "2026-12-03")]


def test_odd_input_is_refused_or_ignored_not_raised() -> None:
    p = program("p", {"m": MAIL}, [{"on": "go"}, {"date": "birthday"}], timezone="contact")
    shard, _ = shard_with(p)
    shard.upsert_contact("folder", {"email": "a@x.org", "timezone": "Europe"})
    shard.upsert_contact("millis", {"email": "b@x.org", "birthday": 1_700_000_000_000})
    shard.upsert_contact("edge", {"email": "c@x.org", "birthday": "0001-01-01"})
    shard.ingest([{"contact": "folder", "event": "go", "messageId": ["not", "text"]}])
    shard.ingest([{"contact": "folder", "event": "go"}])
    assert shard.stats.events["refused:bad_message_id"] == 1
    assert [c for _, _, c, _, _ in outbox(shard)] == ["folder"]


def test_resume_does_not_take_the_entry_event_for_the_reaction() -> None:
    p = program("second", {
        "w": {"type": "wait_for", "event": "order.placed", "timeout": "30d", "then": "loyal",
              "on_timeout": "nudge"},
        "loyal": MAIL, "nudge": MAIL,
    }, [{"on": "order.placed"}])  # fmt: skip
    shard, clock = shard_with(p)
    shard.upsert_contact("c1", {"email": "c@x.org"})
    shard.ingest([{"contact": "c1", "event": "order.placed", "timestamp": START}])
    clock.set(START + 3600)
    shard.tick()
    shard.pause("second")
    shard.resume("second")
    clock.set(START + 40 * DAY)
    shard.tick()
    assert [n for *_, n, _ in outbox(shard)] == ["nudge"]


def test_cron_ticks_once_on_the_fall_back_day() -> None:
    p = program(
        "daily",
        {"m": MAIL},
        [{"segment": {"field": "email", "exists": True}, "schedule": "30 1 * * *"}],
        timezone="America/New_York",
        reentry="always",
    )
    before = 1793404800.0  # 2026-10-31T00:00:00Z; New York falls back on 1 November
    shard, clock = shard_with(start=before)
    shard.upsert_contact("c1", {"email": "c@x.org"})
    shard.deploy(compiled(p, shard.catalog), activate=True)
    clock.set(before + 3 * DAY)
    shard.tick()
    times = [local(t, zone("America/New_York")).strftime("%m-%d %H:%M") for *_, t in outbox(shard)]
    assert times == ["10-31 01:30", "11-01 01:30", "11-02 01:30"]


def test_a_deleted_contact_is_not_brought_back_by_the_api() -> None:
    shard, _ = shard_with(program("p", {"m": MAIL}, [{"api": True}]))
    shard.upsert_contact("c1", {"email": "c@x.org"})
    shard.delete_contact("c1")
    assert shard.enroll("c1", "p") is False
    assert shard.contacts.slot("c1") is None and outbox(shard) == []


def test_internal_events_of_an_activation_are_processed_at_once() -> None:
    a = program("a", {"u": {"type": "update", "ops": [{"add_to_group": "vip"}]}},
                [{"segment": {"field": "email", "exists": True}, "schedule": "once"}])  # fmt: skip
    b = program("b", {"m": MAIL}, [{"group": "vip"}])
    shard, _ = shard_with(b)
    shard.upsert_contact("c1", {"email": "c@x.org"})
    shard.deploy(compiled(a, shard.catalog), activate=True)
    assert [(p, n) for p, n in ((e.program, e.node) for e in shard.outbox.entries)] == [("b", "m")]


def test_suppression_flags_read_text_as_imports_write_it() -> None:
    shard, _ = shard_with(program("p", {"m": MAIL}))
    shard.upsert_contact("no", {"email": "a@x.org", "do_not_mail": "false", "unsubscribed": "no"})
    shard.upsert_contact("yes", {"email": "b@x.org", "do_not_mail": "TRUE"})
    shard.ingest([{"contact": "no", "event": "go"}, {"contact": "yes", "event": "go"}])
    assert [c for _, _, c, _, _ in outbox(shard)] == ["no"]


def test_outbox_keys_differ_between_partitions() -> None:
    keys = []
    for partition in (0, 1):
        shard, _ = shard_with(program("p", {"m": MAIL}))
        shard.partition = partition
        shard.upsert_contact("c1", {"email": "a@x.org"})
        shard.ingest([{"contact": "c1", "event": "go"}])
        keys += [key for key, *_ in outbox(shard)]
    assert len(set(keys)) == 2


def test_goto_counts_follow_their_node_into_a_new_version() -> None:
    nodes = {"m": {**MAIL, "next": "w"}, "w": {"type": "delay", "for": "1d", "next": "loop"},
             "loop": {"type": "goto", "target": "m", "max_loops": 3}}  # fmt: skip
    v1 = program("p", nodes)
    v2 = program("p", {  # check takes the index loop had
        "m": nodes["m"], "w": {**nodes["w"], "next": "check"},
        "check": {"type": "goto", "target": "loop", "max_loops": 1}, "loop": nodes["loop"],
    })  # fmt: skip
    shard, clock = shard_with(v1)
    shard.upsert_contact("c1", {"email": "a@x.org"})
    shard.ingest([{"contact": "c1", "event": "go"}])
    clock.set(START + 1.5 * DAY)
    shard.tick()
    shard.deploy(compiled(v2, shard.catalog))
    clock.set(START + 10 * DAY)
    shard.tick()
    # v1 looped once; v2's check lets one more pass through to loop, whose count (1 of 3) moved
    # with it: emails at day 0, 1 and 2, then check's single pass is used up
    assert [round((t - START) / DAY) for *_, t in outbox(shard)] == [0, 1, 2]
