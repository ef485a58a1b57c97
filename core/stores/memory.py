"""A store in memory, with the Redis store's semantics (tests, simulations, one-off runs)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from ..batch import EventBatch
from ..clock import Clock, SystemClock
from ..outbox import OutboxEntry
from ..store import (
    DEDUP_SECONDS,
    Commit,
    Loaded,
    StaleOwner,
    StoreError,
    first_of_each_message,
    stale_owner,
)


class _Partition:
    def __init__(self) -> None:
        self.stream: list[tuple[int, int, bytes]] = []  #: (entry, events, packed batch)
        self.next_entry = 1
        self.shard: bytes | None = None
        self.cursor: str | None = None
        self.contacts: dict[str, bytes] = {}
        self.rows: dict[int, bytearray] = {}
        self.outbox: list[OutboxEntry] = []
        self.suppressed: set[str] = set()
        self.seen: dict[str, float] = {}  #: messageId -> when it stops keeping copies out
        self.owner = 0  #: the owner epoch of the last claim


class MemoryStore:
    """Every partition in dicts. ``refuse_writes`` makes commits fail, as a full Redis does."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.partitions: dict[int, _Partition] = {}
        self.refuse_writes = False
        self.sink_floors: dict[str, int] = {}

    def _of(self, partition: int) -> _Partition:
        found = self.partitions.get(partition)
        if found is None:
            found = self.partitions[partition] = _Partition()
        return found

    def append_all(self, batches: Mapping[int, EventBatch]) -> dict[int, int]:
        return {partition: self.append(partition, batch) for partition, batch in batches.items()}

    def append(self, partition: int, batch: EventBatch) -> int:
        part, now = self._of(partition), self.clock.now()
        batch = first_of_each_message(batch)
        fresh = [
            index
            for index, message_id in enumerate(batch.message_ids)
            if message_id is None or part.seen.get(message_id, 0.0) <= now
        ]
        if len(fresh) < len(batch):
            batch = batch.select(fresh)
        for message_id in batch.message_ids:
            if message_id is not None:
                part.seen[message_id] = now + DEDUP_SECONDS
        if len(batch):
            part.stream.append((part.next_entry, len(batch), batch.pack()))
            part.next_entry += 1
        return len(batch)

    def read(self, partition: int, after: str | None, count: int) -> list[tuple[str, bytes]]:
        floor = 0 if after is None else int(after)
        taken: list[tuple[str, bytes]] = []
        total = 0
        for entry, events, packed in self._of(partition).stream:
            if entry > floor and total < count:
                taken.append((str(entry), packed))
                total += events
        return taken

    def load(self, partition: int) -> Loaded:
        part = self._of(partition)
        rows = {chunk: bytes(data) for chunk, data in part.rows.items()}
        contacts = list(part.contacts.values())
        return Loaded(part.shard, part.cursor, contacts, set(part.suppressed), rows)

    def claim(self, partition: int) -> int:
        part = self._of(partition)
        part.owner += 1
        return part.owner

    def commit(self, partition: int, commit: Commit) -> None:
        if self.refuse_writes:
            raise StoreError("the store refuses writes (out of memory)")
        part = self._of(partition)
        if commit.owner != part.owner:
            raise StaleOwner(stale_owner(partition, part.owner, commit.owner))
        part.shard = commit.shard
        for contact, record in commit.contacts.items():
            if record is None:
                part.contacts.pop(contact, None)
            else:
                part.contacts[contact] = record
        for chunk in commit.new_chunks:
            part.rows.setdefault(chunk, bytearray(commit.chunk_size))
        for chunk, runs in commit.rows.items():
            for offset, data in runs:
                part.rows[chunk][offset : offset + len(data)] = data
        part.suppressed.update(commit.suppress)
        part.suppressed.difference_update(commit.lift)
        erased = set(commit.suppress)
        part.outbox = [e for e in [*part.outbox, *commit.outbox] if e.contact not in erased]
        if commit.cursor is not None:
            part.cursor = commit.cursor
            acknowledged = int(commit.cursor)
            part.stream = [entry for entry in part.stream if entry[0] > acknowledged]

    def outbox(self, partition: int) -> list[OutboxEntry]:
        return list(self._of(partition).outbox)

    def waiting(self, partitions: Sequence[int], channel: str | None = None) -> list[int]:
        if channel is None:
            return [len(self._of(partition).stream) for partition in partitions]
        outboxes = (self._of(partition).outbox for partition in partitions)
        return [sum(entry.channel == channel for entry in outbox) for outbox in outboxes]

    def read_outbox(
        self, partition: int, channel: str, count: int
    ) -> list[tuple[str, OutboxEntry]]:
        # an entry's id is its rank among the channel's messages: acknowledgements take the
        # oldest first, and one sender takes a channel, so ranks name the same messages
        mine = (e for e in self._of(partition).outbox if e.channel == channel)
        return [(str(rank), entry) for rank, entry in enumerate(itertools.islice(mine, count))]

    def acknowledge_outbox(self, partition: int, channel: str, through: str) -> None:
        if self.refuse_writes:
            raise StoreError("the store refuses writes (out of memory)")
        part, left = self._of(partition), int(through) + 1
        kept = []
        for entry in part.outbox:
            if entry.channel == channel and left:
                left -= 1
            else:
                kept.append(entry)
        part.outbox = kept

    def sink_floor(self, channel: str) -> int:
        return self.sink_floors.get(channel, 0)

    def set_sink_floor(self, channel: str, offset: int) -> None:
        self.sink_floors[channel] = offset
