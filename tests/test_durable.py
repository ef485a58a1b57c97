"""Durable state: a partition rebuilt from its store at any point carries on as if nothing
happened (random programs and streams, and the examples' workspace)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from durable_support import Harness, append_raw, messages, standing
from engine_support import DAY, START, compiled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_properties import CONTACTS, programs, run, streams

from parcours.core.batch import EventBatch
from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import Partition, pack
from parcours.core.events import Event
from parcours.core.records import RecordError
from parcours.core.store import Commit, Store, StoreError
from parcours.core.stores.memory import MemoryStore

PROFILES = {
    contact: {
        "email": f"{contact}@x.org",
        "phone": "+3360000000",
        "city": "Paris" if index % 2 else "Lyon",
        "do_not_mail": index == 5,
    }
    for index, contact in enumerate(CONTACTS)
}


def durable_run(
    store: Store, program: dict[str, Any], events: list[Event], cuts: list[int], crashes: int
) -> Partition:
    """The workload of ``test_engine_properties.run`` through a partition that dies and is
    rebuilt: before some batches (after their commit) or in the middle of them (before)."""
    rng = random.Random(crashes)
    catalog, clock = Catalog(), VirtualClock(START)
    program_ = compiled(program, catalog)
    harness = Harness(store, catalog, [program_], clock)
    part = harness.partition()
    part.deploy(program_, activate=True)
    for contact in CONTACTS:
        part.upsert_contact(contact, PROFILES[contact])
    begin = 0
    for cut in [*sorted(set(cuts)), len(events)]:
        batch = events[begin:cut]
        begin = cut
        if not batch:
            continue
        clock.set(max(clock.now(), batch[-1].time))
        store.append(0, EventBatch.of(batch))
        died = rng.random() < 0.5
        if died:  # dies while running the batch: nothing of it was committed
            doomed = harness.partition()
            doomed.shard.ingest(EventBatch.unpack(doomed.store.read(0, doomed.cursor, 10**6)[0][1]))
        if died or rng.random() < 0.7:  # the partition that died claimed it last: rebuild
            part = harness.partition()
        part.drain()
    clock.set(START + 12 * DAY)
    part = harness.partition()
    part.step()
    return part


CASES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@CASES
@given(programs(), streams(), st.lists(st.integers(0, 40), max_size=6), st.integers(0, 99))
def test_a_rebuilt_partition_carries_on_as_if_nothing_happened(
    new_store: Callable[[], Store],
    program: dict[str, Any],
    events: list[Event],
    cuts: list[int],
    crashes: int,
) -> None:
    expected = run(program, events, cuts)
    store = new_store()
    part = durable_run(store, program, events, cuts, crashes)
    assert messages(store.outbox(0)) == messages(expected.outbox.entries)  # type: ignore[attr-defined]
    keys = [entry.key for entry in store.outbox(0)]
    assert len(keys) == len(set(keys)), "an outbox key was committed twice"
    assert standing(part.shard) == standing(expected)
    # ``passed`` counts which path (router or full) took an event, not what it did: a rebuilt
    # shard's router may take an event the first shard ran in full (see the session note)
    part.shard.stats.passed = expected.stats.passed
    assert part.shard.stats == expected.stats
    assert part.shard.node_counts() == expected.node_counts()


TWO_MAILS = {
    "program": "welcome", "name": "W", "category": "t", "entry": [{"on": "signed_up"}],
    "nodes": {"hello": {"type": "email", "template": "t", "next": "later"},
              "later": {"type": "delay", "for": "1d", "next": "bye"},
              "bye": {"type": "email", "template": "t2"}},
}  # fmt: skip


def two_mails(store: Store, *contacts: str) -> tuple[Harness, Partition, VirtualClock]:
    """A partition running TWO_MAILS (hello, a day, bye), with ``contacts`` added."""
    catalog, clock = Catalog(), VirtualClock(START)
    program = compiled(TWO_MAILS, catalog)
    harness = Harness(store, catalog, [program], clock)
    part = harness.partition()
    part.deploy(program, activate=True)
    for contact in contacts:
        part.upsert_contact(contact, {"email": f"{contact}@x.org"})
    return harness, part, clock


def test_a_failed_commit_stops_the_partition_and_loses_nothing() -> None:
    store = MemoryStore()
    harness, part, clock = two_mails(store, "ann", "bob")
    append_raw(store, 0, [{"contact": "ann", "event": "signed_up", "timestamp": START}])
    part.drain()
    append_raw(store, 0, [{"contact": "bob", "event": "signed_up", "timestamp": START + 60}])
    store.refuse_writes = True
    clock.set(START + 60)
    with pytest.raises(StoreError, match="refuses writes"):
        part.step()
    with pytest.raises(StoreError, match="partition 0 stopped after a failed commit"):
        part.step()
    store.refuse_writes = False
    clock.set(START + 2 * DAY)
    part = harness.partition()  # the restart reads bob's event again
    part.drain()
    sent = sorted((e.contact, e.node) for e in store.outbox(0))
    assert sent == [("ann", "bye"), ("ann", "hello"), ("bob", "bye"), ("bob", "hello")]


def test_deletion_removes_the_contact_everywhere_and_suppresses_it(store: Store) -> None:
    harness, part, clock = two_mails(store, "eve", "sam")
    append_raw(
        store, 0, [{"contact": c, "event": "signed_up", "timestamp": START} for c in ("eve", "sam")]
    )
    part.drain()
    part.delete_contact("eve")
    loaded = store.load(0)
    assert all(b"eve" not in record for record in loaded.contacts)
    assert [e.contact for e in store.outbox(0)] == ["sam"]
    assert loaded.suppressed == {"eve"}
    append_raw(store, 0, [{"contact": "eve", "event": "signed_up", "timestamp": START + 5}])
    clock.set(START + 2 * DAY)
    part = harness.partition()
    part.drain()
    assert part.shard.contacts.slot("eve") is None
    assert part.shard.stats.events["refused:deleted_contact"] == 1
    assert sorted(e.node for e in store.outbox(0)) == ["bye", "hello"]
    part.upsert_contact("eve", {"email": "eve@y.org"})  # an explicit upsert lifts it
    assert store.load(0).suppressed == set()
    append_raw(store, 0, [{"contact": "eve", "event": "signed_up", "timestamp": START + 2 * DAY}])
    harness.partition().drain()
    assert sorted(e.contact for e in store.outbox(0) if e.node == "hello") == ["eve", "sam"]


def test_a_message_id_enters_the_stream_once() -> None:
    store = MemoryStore(VirtualClock(START))
    event = {"contact": "ann", "event": "x", "messageId": "m-1"}
    assert append_raw(store, 3, [event, {"contact": "ann", "event": "y"}]) == 2
    assert append_raw(store, 3, [event]) == 0
    assert [len(EventBatch.unpack(packed)) for _, packed in store.read(3, None, 100)] == [2]


def test_a_malformed_record_is_named_and_the_store_is_untouched(store: Store) -> None:
    catalog, clock = Catalog(), VirtualClock(START)
    harness = Harness(store, catalog, [], clock)
    part = harness.partition()
    part.upsert_contact("ann", {"city": "Lyon"})
    malformed = {"bob": pack(["bob", {}, 7])}
    store.commit(0, Commit(store.load(0).shard or b"", None, malformed, owner=part.owner))
    with pytest.raises(RecordError, match="contact 'bob' is malformed"):
        harness.partition()
    assert len(store.load(0).contacts) == 2


def test_a_pause_survives_a_restart_after_a_parked_contact_was_deleted(store: Store) -> None:
    """A contact whose step fell due during a pause is deleted, the partition restarts, then
    the program resumes: the others' parked steps run; the deleted one's is dropped."""
    harness, part, clock = two_mails(store, "ann", "bob")
    signups = [{"contact": c, "event": "signed_up", "timestamp": START} for c in ("ann", "bob")]
    append_raw(store, 0, signups)
    part.drain()
    part.pause("welcome")
    clock.set(START + 2 * DAY)
    part.step()  # both steps fall due during the pause: parked
    part.delete_contact("bob")  # bob's enrollment had the last slot
    part = harness.partition()
    part.resume("welcome")
    assert sorted((e.contact, e.node) for e in store.outbox(0)) == [
        ("ann", "bye"), ("ann", "hello"),
    ]  # fmt: skip
