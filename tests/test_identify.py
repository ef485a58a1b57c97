"""Segment ``identify`` calls in the stream: the contact is created or updated in the stream's
order, programs see what changed, a deleted contact is not brought back."""

from __future__ import annotations

from typing import Any

import pytest
from engine_support import START, outbox, shard_with

from parcours.core.batch import EventBatch, parse_batch
from parcours.core.events import IDENTIFY

WELCOME = {
    "program": "welcome", "name": "Welcome", "category": "t",
    "entry": [{"on": "contact.created"}],
    "filter": {"field": "email", "exists": True},
    "nodes": {"hello": {"type": "email", "template": "hello"}},
}  # fmt: skip
VIP = {
    "program": "vip", "name": "VIP", "category": "t",
    "entry": [{"on": "group.joined", "where": {"group": "vip"}}],
    "nodes": {"perks": {"type": "email", "template": "perks"}},
}  # fmt: skip
MOVED = {
    "program": "moved", "name": "Moved", "category": "t",
    "entry": [{"on": "contact.updated"}],
    "filter": {"field": "city", "eq": "Lyon"},
    "nodes": {"local": {"type": "email", "template": "lyon"}},
}  # fmt: skip


def identify(contact: str, traits: Any, at: float = START) -> dict[str, Any]:
    return {"type": "identify", "userId": contact, "traits": traits, "timestamp": at}


def test_an_identify_creates_then_updates_the_contact_and_programs_see_the_changes() -> None:
    shard, _ = shard_with(WELCOME, VIP, MOVED)
    shard.ingest([identify("c1", {"email": "a@b.org", "city": "Paris"})])
    assert [(channel, node) for _, channel, _, node, _ in outbox(shard)] == [("email", "hello")]
    shard.ingest([identify("c1", {"city": "Lyon", "groups": ["vip"]}, START + 60)])
    sent = [(node, at) for _, _, _, node, at in outbox(shard)]
    assert sent == [("hello", START), ("local", START + 60), ("perks", START + 60)]
    slot = shard.contacts.slot("c1")
    assert slot is not None
    profile = shard.contacts.snapshot(slot)
    assert (profile["email"], profile["city"], profile["groups"]) == ("a@b.org", "Lyon", ["vip"])


def test_an_identify_is_never_taken_as_an_event_that_concerns_no_program() -> None:
    shard, _ = shard_with(MOVED)
    shard.upsert_contact("c1", {"city": "Paris", "email": "a@b.org"})
    passed = shard.stats.passed
    shard.ingest(EventBatch.of(parse_batch([identify("c1", {"city": "Lyon"})], START)[0].events()))
    assert [node for *_, node, _ in outbox(shard)] == ["local"]
    assert shard.stats.passed == passed


def test_an_identify_of_a_deleted_contact_is_refused() -> None:
    shard, _ = shard_with(WELCOME)
    shard.upsert_contact("c1", {"email": "a@b.org"})
    shard.delete_contact("c1")
    shard.ingest([identify("c1", {"email": "a@b.org"})])
    assert shard.contacts.slot("c1") is None
    assert shard.stats.events["refused:deleted_contact"] == 1


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (identify("c1", ["not", "a", "mapping"]), "bad_traits"),
        ({"type": "identify", "traits": {"email": "a@b.org"}}, "no_contact"),
        ({"contact": "c1", "event": IDENTIFY, "properties": {"email": "x@y.org"}}, "reserved_name"),
    ],
)
def test_a_malformed_identify_is_refused_with_its_reason(raw: dict[str, Any], reason: str) -> None:
    batch, refused = parse_batch([raw], START)
    assert len(batch) == 0 and [r.reason for _, r in refused] == [reason]


def test_an_identify_travels_in_a_stored_batch() -> None:
    batch, _ = parse_batch([identify("c1", {"email": "a@b.org"})], START)
    [event] = EventBatch.unpack(batch.pack()).events()
    assert (event.contact, event.name, dict(event.properties)) == (
        "c1", IDENTIFY, {"email": "a@b.org"}
    )  # fmt: skip
