"""Senders over the memory store and a real Valkey: each message written once to its channel's
file, whatever crashes; delivery results fed back as events; retries with backoff."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from engine_support import START

from parcours.actors import senders
from parcours.actors.senders import JsonLinesSink, Sender, SendError
from parcours.core.batch import EventBatch
from parcours.core.outbox import OutboxEntry
from parcours.core.store import Commit, Store, StoreError


def fill_outbox(store: Store, partition: int, count: int, channel: str = "email") -> list[str]:
    """Commit ``count`` messages of ``channel`` to the partition's outbox; return their keys."""
    entries = [
        OutboxEntry(f"{partition}:{n}-welcome-1", channel, f"c{n}", "welcome", "hello", START, "t")
        for n in range(count)
    ]
    store.commit(partition, Commit(b"shard", None, {}, entries))
    return [entry.key for entry in entries]


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_message_is_written_once_and_leaves_the_outbox(store: Store, tmp_path: Path) -> None:
    keys = fill_outbox(store, 0, 7) + fill_outbox(store, 3, 4)
    fill_outbox(store, 3, 2, channel="sms")
    sink = JsonLinesSink(tmp_path / "email.jsonl")
    sender = Sender(store, "email", sink, now=lambda: START + 60)
    assert sender.drain([0, 3]) == 11
    written = lines(sink.path)
    assert sorted(line["key"] for line in written) == sorted(keys)
    assert written[0] == {
        "key": "0:0-welcome-1", "channel": "email", "contact": "c0", "program": "welcome",
        "message": "hello", "template": "t", "time": START, "sent_at": START + 60, "options": {},
    }  # fmt: skip
    assert store.outbox(0) == [] and [e.channel for e in store.outbox(3)] == ["sms", "sms"]
    assert store.waiting([0, 3], "email") == [0, 0] and store.waiting([3], "sms") == [2]
    assert sender.drain([0, 3]) == 0  # nothing left


def test_delivery_results_come_back_as_events_once(store: Store, tmp_path: Path) -> None:
    fill_outbox(store, 0, 3)
    Sender(store, "email", JsonLinesSink(tmp_path / "e.jsonl"), now=lambda: START).drain([0])
    [(_, packed)] = store.read(0, None, 100)
    events = EventBatch.unpack(packed).events()
    assert [(e.contact, e.name, dict(e.properties)) for e in events] == [
        (f"c{n}", "email.sent", {"program": "welcome", "message": "hello"}) for n in range(3)
    ]
    assert [e.message_id for e in events] == [f"sent:0:{n}-welcome-1" for n in range(3)]
    assert store.append(0, EventBatch.of(events)) == 0  # a replayed result is kept out


class CrashingAck:
    """A store whose acknowledgements fail the first ``times`` times: the sender crashed
    after writing, before acknowledging."""

    def __init__(self, store: Store, times: int) -> None:
        self.store, self.times = store, times

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def acknowledge_outbox(self, partition: int, channel: str, through: str) -> None:
        if self.times:
            self.times -= 1
            raise StoreError("the sender died before its acknowledgement")
        self.store.acknowledge_outbox(partition, channel, through)


def test_a_sender_that_died_before_acknowledging_sends_nothing_twice(
    store: Store, tmp_path: Path
) -> None:
    keys = fill_outbox(store, 1, 5)
    path = tmp_path / "email.jsonl"
    with pytest.raises(StoreError):
        Sender(CrashingAck(store, 1), "email", JsonLinesSink(path)).drain([1])  # type: ignore[arg-type]
    assert len(lines(path)) == 5 and len(store.outbox(1)) == 5  # written, not acknowledged
    keys += fill_outbox(store, 1, 8)[5:]  # more arrive meanwhile
    restarted = Sender(store, "email", JsonLinesSink(path))
    assert restarted.drain([1]) == 3
    assert Counter(line["key"] for line in lines(path)) == Counter(keys)
    assert store.outbox(1) == []
    assert store.sink_floor("email") == path.stat().st_size  # a restart reads from here
    assert Sender(store, "email", JsonLinesSink(path)).drain([1]) == 0


class FailingOnce:
    """A store one of whose calls (``name``) fails once: the sender died, or the server
    refused, at that point."""

    def __init__(self, store: Store, name: str) -> None:
        self.store, self.name, self.failed = store, name, False

    def __getattr__(self, name: str) -> Any:
        call = getattr(self.store, name)
        if name != self.name or self.failed:
            return call

        def fail(*args: Any) -> None:
            self.failed = True
            raise StoreError(f"{name} failed")

        return fail


def sent_events(store: Store, partition: int) -> Counter[str | None]:
    """messageIds of the results the partition's input stream holds."""
    found: Counter[str | None] = Counter()
    for _, packed in store.read(partition, None, 10**6):
        found.update(event.message_id for event in EventBatch.unpack(packed).events())
    return found


@pytest.mark.parametrize("failing", ["append", "acknowledge_outbox"])
def test_after_a_failure_between_write_and_acknowledgement_each_result_comes_back_once(
    store: Store, tmp_path: Path, failing: str
) -> None:
    """The same sender tries again, then a restarted one: each message written once, each
    result in the input stream once."""
    keys = fill_outbox(store, 2, 3)
    path = tmp_path / "email.jsonl"
    sender = Sender(FailingOnce(store, failing), "email", JsonLinesSink(path))  # type: ignore[arg-type]
    with pytest.raises(StoreError, match=f"{failing} failed"):
        sender.drain([2])
    assert sender.drain([2]) == 0  # written already: not again
    assert Sender(store, "email", JsonLinesSink(path)).drain([2]) == 0
    assert Counter(line["key"] for line in lines(path)) == Counter(keys)
    assert sent_events(store, 2) == Counter(f"sent:{key}" for key in keys)
    assert store.outbox(2) == []


def test_a_write_the_disk_refused_halfway_leaves_whole_lines(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bytes reached the file but the sync failed (a full disk): the sink cuts them off,
    so the retry does not write after half a message."""
    keys = fill_outbox(store, 0, 2)
    syncs, real_fsync = [OSError("No space left on device")], os.fsync

    def fsync(descriptor: int) -> None:
        if syncs:
            raise syncs.pop()
        real_fsync(descriptor)

    monkeypatch.setattr(senders.os, "fsync", fsync)
    sender = Sender(store, "email", JsonLinesSink(tmp_path / "e.jsonl"), sleep=lambda _: None)
    assert sender.drain([0]) == 2 and sender.retries == 1
    assert [line["key"] for line in lines(tmp_path / "e.jsonl")] == keys


def test_a_partial_last_line_is_cut_when_the_sink_opens(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text('{"key": "a"}\n{"key": "b", "cont')  # the process died mid-write
    sink = JsonLinesSink(path)
    assert path.read_text() == '{"key": "a"}\n' and sink.sent_since(0) == {"a"}
    JsonLinesSink(path)  # a whole file stays as it is
    assert path.read_text() == '{"key": "a"}\n'


class FlakySink(JsonLinesSink):
    """A file sink whose first ``failures`` writes fail, as a full disk or a lost mount."""

    def __init__(self, path: Path, failures: int) -> None:
        super().__init__(path)
        self.failures = failures

    def write(self, entries: Sequence[OutboxEntry], time: float) -> int:
        if self.failures:
            self.failures -= 1
            raise OSError("No space left on device")
        return super().write(entries, time)


def test_a_failing_sink_is_retried_with_backoff(store: Store, tmp_path: Path) -> None:
    fill_outbox(store, 0, 2)
    waits: list[float] = []
    sender = Sender(store, "email", FlakySink(tmp_path / "e.jsonl", 2), sleep=waits.append)
    assert sender.drain([0]) == 2
    assert waits == [0.05, 0.1] and sender.retries == 2
    assert len(lines(tmp_path / "e.jsonl")) == 2


def test_a_sink_that_keeps_failing_leaves_the_messages_in_the_outbox(
    store: Store, tmp_path: Path
) -> None:
    fill_outbox(store, 0, 2)
    sink = FlakySink(tmp_path / "e.jsonl", 10)
    waits: list[float] = []
    sender = Sender(store, "email", sink, attempts=3, sleep=waits.append)
    with pytest.raises(SendError, match=r"email: the sink failed 3 times .* 2 messages stay"):
        sender.drain([0])
    assert waits == [0.05, 0.1] and len(store.outbox(0)) == 2
    sink.failures = 0
    assert sender.drain([0]) == 2 and store.outbox(0) == []


def test_a_line_that_does_not_read_is_skipped_when_looking_for_keys(tmp_path: Path) -> None:
    sink = JsonLinesSink(tmp_path / "e.jsonl")
    sink.path.write_text('{"key": "a"}\n{"key": tru\n{"key": "b"}\n')
    assert sink.sent_since(0) == {"a", "b"}
    assert sink.sent_since(len('{"key": "a"}\n')) == {"b"}
