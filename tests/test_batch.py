"""Events in columns: packing round trips, malformed entries named, messageIds kept once."""

from __future__ import annotations

import logging

import msgpack
import pytest
from durable_support import Harness, append_raw
from engine_support import START
from hypothesis import given
from hypothesis import strategies as st

from parcours.core.batch import EventBatch, parse_batch
from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.events import Event
from parcours.core.store import Store

TEXT = st.text(min_size=1, max_size=8)
INTEGERS = st.integers(-(2**63), 2**63 - 1)
PROPERTIES = st.dictionaries(TEXT, st.none() | INTEGERS | TEXT | st.lists(TEXT), max_size=3)
EVENTS = st.lists(
    st.builds(
        Event,
        TEXT,
        st.sampled_from(["page.viewed", "cart.updated", "é.vénement"]),
        st.floats(0, 4e9),
        PROPERTIES,
        st.none() | TEXT,
    ),
    max_size=40,
)


@given(EVENTS)
def test_a_batch_packs_and_unpacks_to_the_same_events(events: list[Event]) -> None:
    batch = EventBatch.of(events)
    assert len(batch) == len(events)
    assert EventBatch.unpack(batch.pack()).events() == events
    assert len(batch.names) == len({e.name for e in events})


@given(EVENTS, st.data())
def test_select_keeps_the_chosen_events_in_order(events: list[Event], data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.integers(0, max(len(events) - 1, 0)), unique=True).map(sorted))
    chosen = [i for i in chosen if i < len(events)]
    assert EventBatch.of(events).select(chosen).events() == [events[i] for i in chosen]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\xc1", "not msgpack"),
        (msgpack.packb({"contacts": []}), "not a batch of the 6 columns"),
        (msgpack.packb([["a"], ["x"], b"\x00", b"", [{}], [None]]), "not arrays"),
        (msgpack.packb([["a", "b"], ["x"], b"", b"", [], []]), "different lengths"),
        (
            msgpack.packb([["a"], ["x"], (5).to_bytes(4, "little"), bytes(8), [{}], [None]]),
            "does not define",
        ),
    ],
)
def test_a_malformed_entry_says_what_is_wrong(data: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        EventBatch.unpack(data)


def test_properties_that_cannot_be_stored_are_named() -> None:
    batch = EventBatch.of([Event("a", "x", START), Event("b", "y", START, {"n": 2**70})])
    with pytest.raises(ValueError, match=r"event 1 \('b' 'y'\): its properties cannot be stored"):
        batch.pack()


def test_parse_batch_keeps_what_parses_and_names_the_rest() -> None:
    batch, refused = parse_batch(
        [
            {"contact": "a", "event": "x", "timestamp": START + 1},
            {"event": "x"},
            "not an event",
            {"userId": "b", "name": "y", "messageId": "m"},  # no timestamp: now
        ],
        START,
    )
    assert [(e.contact, e.name, e.time, e.message_id) for e in batch.events()] == [
        ("a", "x", START + 1, None),
        ("b", "y", START, "m"),
    ]
    assert [(position, r.reason) for position, r in refused] == [
        (1, "no_contact"),
        (2, "not_an_object"),
    ]


def test_parse_batch_refuses_only_the_events_the_stream_cannot_store() -> None:
    raws = [
        {"contact": "a", "event": "x", "properties": {"n": 2**64}},
        {"event": "x"},
        {"contact": "b", "event": "y", "properties": {"n": 2**63 - 1, "when": object()}},
        {"contact": "c", "event": "z", "properties": {"n": -(2**63)}},
    ]
    batch, refused = parse_batch(raws, START)
    assert [(e.contact, e.properties) for e in batch.events()] == [("c", {"n": -(2**63)})]
    assert [(position, r.reason) for position, r in refused] == [
        (0, "bad_properties"),
        (1, "no_contact"),
        (2, "bad_properties"),
    ]
    assert "cannot be stored" in str(refused[0][1])
    assert EventBatch.unpack(batch.pack()).events() == batch.events()


def test_a_message_id_is_kept_once_in_a_batch_and_across_batches(store: Store) -> None:
    first = {"contact": "a", "event": "x", "messageId": "m1"}
    assert (
        append_raw(store, 0, [first, {**first, "event": "again"}, {"contact": "a", "event": "y"}])
        == 2
    )
    mixed = [{"contact": "b", "event": "x", "messageId": "m2"}, first]
    assert append_raw(store, 0, mixed) == 1  # m1 was seen: only m2's event enters
    assert append_raw(store, 0, [first]) == 0
    entries = [EventBatch.unpack(packed) for _, packed in store.read(0, None, 100)]
    assert [[(e.contact, e.name) for e in b.events()] for b in entries] == [
        [("a", "x"), ("a", "y")],
        [("b", "x")],
    ]


def test_a_partition_skips_an_entry_that_is_not_a_batch(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    harness = Harness(store, Catalog(), [], VirtualClock(START))
    part = harness.partition()
    append_raw(store, 0, [{"contact": "a", "event": "x", "timestamp": START}])
    if hasattr(store, "client"):
        store.client.xadd(store.key(0, "in"), {"n": 1, "e": b"garbage"})
    else:
        stream = store.partitions[0]  # type: ignore[attr-defined]
        stream.stream.append((stream.next_entry, 1, b"garbage"))
        stream.next_entry += 1
    append_raw(store, 0, [{"contact": "b", "event": "x", "timestamp": START}])
    with caplog.at_level(logging.ERROR):
        assert part.drain() == 2
    assert part.shard.stats.events["refused:malformed_entry"] == 1
    assert "skips input entry" in caplog.text
    assert sorted(c for c in part.shard.contacts.ids if c) == ["a", "b"]
