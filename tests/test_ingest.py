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
