"""Contacts in bulk: an import ends as upserts would, skips privacy deletions, and commits."""

from __future__ import annotations

from typing import Any

from durable_support import Harness
from engine_support import START, compiled, shard_with
from hypothesis import given, settings
from hypothesis import strategies as st

from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.imports import import_contacts, nobody_listens
from parcours.core.records import contact_record
from parcours.core.shard import Shard
from parcours.core.store import Store

PROFILES = st.lists(
    st.tuples(
        st.sampled_from([f"c{i}" for i in range(8)]),
        st.fixed_dictionaries(
            {},
            optional={
                "city": st.sampled_from(["Paris", "Lyon"]),
                "score": st.integers(0, 9),
                "groups": st.lists(st.sampled_from(["vip", "news", "b2b"]), max_size=2),
                "do_not_mail": st.booleans(),
                "birthday": st.just("1990-05-01"),
            },
        ),
    ),
    max_size=20,
)
BIRTHDAYS = {
    "program": "bday", "name": "B", "category": "t", "entry": [{"date": "birthday"}],
    "nodes": {"m": {"type": "email", "template": "t"}},
}  # fmt: skip
VIP = {
    "program": "vip", "name": "V", "category": "t", "entry": [{"group": "vip"}],
    "nodes": {"m": {"type": "email", "template": "t"}},
}  # fmt: skip


def records(shard: Shard) -> list[Any]:
    return [contact_record(shard, s) for s in shard.contacts.live_slots()]


@settings(max_examples=80, deadline=None)
@given(PROFILES, st.sampled_from([(), (BIRTHDAYS,), (VIP,)]))
def test_an_import_ends_as_upserts_do(
    rows: list[tuple[str, dict[str, Any]]], programs: tuple[dict[str, Any], ...]
) -> None:
    imported, _ = shard_with(*programs)
    upserted, _ = shard_with(*programs)
    done = import_contacts(imported, rows)
    for contact, fields in rows:
        upserted.upsert_contact(contact, fields)
    assert records(imported) == records(upserted)
    assert imported.outbox.entries == upserted.outbox.entries  # type: ignore[attr-defined]
    assert imported.agenda.handles() == upserted.agenda.handles()
    assert done.created + done.updated == len(rows)
    assert nobody_listens(imported) == (programs == ())


def test_an_import_leaves_out_ids_deleted_for_privacy() -> None:
    shard = Shard(Catalog(), VirtualClock(START))
    shard.upsert_contact("gone", {"city": "Paris"})
    shard.delete_contact("gone")
    done = import_contacts(shard, [("gone", {"city": "Lyon"}), ("new", {"city": "Nice"})])
    assert done.suppressed == ["gone"] and done.created == 1
    assert shard.contacts.slot("gone") is None and "gone" in shard.deleted


def test_a_partition_commits_an_import_by_chunks(store: Store) -> None:
    catalog, clock = Catalog(), VirtualClock(START)
    program = compiled(VIP, catalog)
    harness = Harness(store, catalog, [program], clock)
    part = harness.partition()
    rows = [(f"c{i}", {"groups": ["news"], "score": i, "email": "a@b.org"}) for i in range(25)]
    done = part.import_contacts(iter(rows), chunk=10)
    assert (done.created, done.updated) == (25, 0)
    part.deploy(program, activate=True)  # a group entry listens from now on
    vip = {"groups": ["vip"], "email": "a@b.org"}
    later = part.import_contacts([("c3", vip), ("c30", vip)])
    assert (later.created, later.updated) == (0, 2)
    rebuilt = harness.partition()
    assert sorted(c for c in rebuilt.shard.contacts.ids if c) == sorted(
        [f"c{i}" for i in range(25)] + ["c30"]
    )
    assert rebuilt.shard.contacts.field(rebuilt.shard.contacts.slot("c7") or 0, "score") == 7
    assert sorted(e.contact for e in store.outbox(0)) == ["c3", "c30"]
