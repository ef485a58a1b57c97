"""The stores alike: what a commit writes, a partition's load and outbox give back."""

from __future__ import annotations

import itertools

from engine_support import START

from parcours.core.durable import pack
from parcours.core.outbox import OutboxEntry
from parcours.core.store import Commit, Store, bucket_of


def sharing_a_bucket(count: int) -> list[str]:
    """Contact ids whose records share one bucket: more than the Redis store writes to a
    bucket in one command (its script's ``RUN`` of 200 values), so the runs are crossed."""
    ids = (f"c{number}" for number in itertools.count())
    return list(itertools.islice((c for c in ids if bucket_of(c) == 7), count))


def message(contact: str, channel: str) -> OutboxEntry:
    return OutboxEntry(f"0:{contact}-{channel}", channel, contact, "p", "n", START, "t", {"a": 1})


def test_a_commit_writes_records_and_messages_and_deletes_records(store: Store) -> None:
    crowd, others = sharing_a_bucket(250), ["ann", "bob", "eve"]
    records = {contact: pack([contact, slot]) for slot, contact in enumerate(crowd + others)}
    sent = [message(c, channel) for c in ["ann", "bob", "eve"] for channel in ("email", "sms")]
    store.commit(0, Commit(b"first", None, dict(records), sent))
    assert sorted(store.load(0).contacts) == sorted(records.values())
    assert store.outbox(0) == sent
    gone: dict[str, bytes | None] = dict.fromkeys([*crowd[:220], "bob"])
    store.commit(0, Commit(b"second", None, {**gone, "ann": pack(["ann", 0, {"city": "Lyon"}])}))
    loaded = store.load(0)
    assert loaded.shard == b"second"
    kept = {records[c] for c in [*crowd[220:], "eve"]} | {pack(["ann", 0, {"city": "Lyon"}])}
    assert set(loaded.contacts) == kept and len(loaded.contacts) == len(kept)


def test_the_messages_of_a_contact_deleted_in_the_same_commit_are_left_out(store: Store) -> None:
    sent = [message("ann", "email"), message("bob", "email")]
    store.commit(0, Commit(b"", None, {"bob": None}, sent, suppress=["bob"]))
    assert store.outbox(0) == [sent[0]]
