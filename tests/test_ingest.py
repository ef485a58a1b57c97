"""Ingest: events checked, each partition's share one stream entry, refusals named by
position, repeats of a messageId kept out."""

from __future__ import annotations

from engine_support import START

from parcours.actors.ingest import ingest
from parcours.core.batch import EventBatch
from parcours.core.store import Store, partition_of


def test_each_partition_gets_its_share_as_one_entry(store: Store) -> None:
    raws = [{"contact": f"c{n}", "event": "page.viewed", "messageId": f"m{n}"} for n in range(40)]
    done = ingest(store, 4, [*raws, {"event": "no contact"}, raws[0]], START)
    assert (done.appended, done.repeated) == (40, 1)
    assert [(position, r.reason) for position, r in done.refusals] == [(40, "no_contact")]
    assert done.refused == {"no_contact": 1}
    for partition in range(4):
        entries = store.read(partition, None, 1000)
        assert len(entries) == 1
        contacts = EventBatch.unpack(entries[0][1]).contacts
        assert contacts and all(partition_of(c, 4) == partition for c in contacts)
    assert ingest(store, 4, raws, START).repeated == 40  # sent again: kept out


def test_a_call_keeps_out_only_the_repeats_and_refuses_unstorable_events_where_they_stand(
    store: Store,
) -> None:
    first = [{"contact": f"c{n}", "event": "page.viewed", "messageId": f"m{n}"} for n in range(8)]
    ingest(store, 4, first, START)
    fresh = [{"contact": f"c{n}", "event": "page.viewed", "messageId": f"n{n}"} for n in range(8)]
    unstorable = {"contact": "c3", "event": "page.viewed", "properties": {"big": 2**70}}
    mixed = [*fresh[:4], *first[2:6], unstorable, *fresh[4:]]
    done = ingest(store, 4, mixed, START)
    assert (done.appended, done.repeated) == (8, 4)
    assert [(position, r.reason) for position, r in done.refusals] == [(8, "bad_properties")]
    taken = [
        message_id
        for partition in range(4)
        for _, packed in store.read(partition, None, 1000)
        for message_id in EventBatch.unpack(packed).message_ids
    ]
    assert sorted(taken) == sorted([f"m{n}" for n in range(8)] + [f"n{n}" for n in range(8)])
