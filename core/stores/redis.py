"""The store in Redis (or Valkey): the system of record. Key layout: docs/storage.md.

Every key of a partition carries the hash tag ``{N}``, so one Redis or a Redis Cluster hold the
same layout and a commit (one MULTI/EXEC) never spans two cluster slots.
"""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

import msgpack
import redis

from ..batch import EventBatch
from ..outbox import OutboxEntry
from ..store import (
    BUCKETS,
    DEDUP_SECONDS,
    Commit,
    Loaded,
    StoreError,
    bucket_of,
    first_of_each_message,
)

#: the oldest server that has what the layout uses (XTRIM MINID, SET NX EX, streams)
MINIMUM_VERSION = (6, 2)
#: input entries read per round trip
READ_ENTRIES = 8

#: Add a packed batch to the input stream, unless one of its messageIds was seen. KEYS[1] the
#: stream, KEYS[2..] the batch's messageId keys; ARGV[1] their lifetime, ARGV[2] the batch,
#: ARGV[3] its count of events. Returns the positions in KEYS of the ids already seen, and
#: writes nothing then (the caller drops their events and tries again); otherwise an empty
#: list, the ids remembered and the batch one stream entry.
APPEND = """
local seen = {}
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then seen[#seen + 1] = i end
end
if #seen > 0 then return seen end
for i = 2, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', ARGV[1]) end
redis.call('XADD', KEYS[1], '*', 'n', ARGV[3], 'e', ARGV[2])
return seen
"""


def _pack(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def server_version(client: redis.Redis) -> tuple[int, ...]:
    info = client.info("server")
    text = str(info.get("valkey_version") or info.get("redis_version") or "0")
    return tuple(int(part) for part in text.split(".")[:2])


class RedisStore:
    """Partitions in a Redis or Valkey server (``client`` from redis-py, bytes replies)."""

    def __init__(self, client: redis.Redis, prefix: str = "pc") -> None:
        self.client = client
        self.prefix = prefix
        try:
            version = server_version(client)
        except redis.RedisError as error:
            raise StoreError(f"cannot reach the Redis server: {error}") from error
        if version < MINIMUM_VERSION:
            wanted = ".".join(map(str, MINIMUM_VERSION))
            raise StoreError(
                f"the Redis server is version {'.'.join(map(str, version))}; parcours needs "
                f"{wanted} or later (streams trimmed by id)"
            )
        self._append = client.register_script(APPEND)

    def key(self, partition: int, name: str) -> str:
        return f"{self.prefix}:{{{partition}}}:{name}"

    # -- input ------------------------------------------------------------------------------

    def append(self, partition: int, batch: EventBatch) -> int:
        batch = first_of_each_message(batch)
        while len(batch):
            carrying = [i for i, m in enumerate(batch.message_ids) if m is not None]
            keys = [self.key(partition, "in")]
            keys += [self.key(partition, f"id:{batch.message_ids[i]}") for i in carrying]
            args: list[bytes | int] = [DEDUP_SECONDS, batch.pack(), len(batch)]
            seen = self._call(lambda: self._append(keys=keys, args=args))  # noqa: B023
            if not seen:
                break
            repeated = {carrying[int(position) - 2] for position in seen}
            batch = batch.select([i for i in range(len(batch)) if i not in repeated])
        return len(batch)

    def read(self, partition: int, after: str | None, count: int) -> list[tuple[str, bytes]]:
        stream = self.key(partition, "in")
        start = "-" if after is None else f"({after}"
        taken: list[tuple[str, bytes]] = []
        total = 0
        while total < count:
            wanted = min(READ_ENTRIES, count - total)  # entries hold one event or thousands
            entries = self._call(partial(self.client.xrange, stream, start, "+", wanted))
            if not entries:
                break
            for entry, fields in entries:
                taken.append((entry.decode(), fields[b"e"]))
                total += int(fields[b"n"])
            start = f"({taken[-1][0]}"
        return taken

    # -- state ------------------------------------------------------------------------------

    def load(self, partition: int) -> Loaded:
        pipe = self.client.pipeline(transaction=False)
        pipe.get(self.key(partition, "shard"))
        pipe.get(self.key(partition, "cursor"))
        pipe.smembers(self.key(partition, "suppressed"))
        for bucket in range(BUCKETS):
            pipe.hvals(self.key(partition, f"c:{bucket}"))
        shard, cursor, suppressed, *buckets = self._call(pipe.execute)
        return Loaded(
            shard,
            None if cursor is None else cursor.decode(),
            [record for bucket in buckets for record in bucket],
            {contact.decode() for contact in suppressed},
            self._rows(partition),
        )

    def _rows(self, partition: int) -> dict[int, bytes]:
        """The partition's chunks of enrollment rows: numbered from 0, with no gap."""
        rows: dict[int, bytes] = {}
        while True:
            wanted = range(len(rows), len(rows) + READ_ENTRIES)
            pipe = self.client.pipeline(transaction=False)
            for chunk in wanted:
                pipe.get(self.key(partition, f"e:{chunk}"))
            for chunk, data in zip(wanted, self._call(pipe.execute), strict=True):
                if data is None:
                    return rows
                rows[chunk] = data

    def commit(self, partition: int, commit: Commit) -> None:
        erased = self._outbox_of(partition, set(commit.suppress)) if commit.suppress else []
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.key(partition, "shard"), commit.shard)
        written: dict[int, dict[str, bytes]] = defaultdict(dict)
        removed: dict[int, list[str]] = defaultdict(list)
        for contact, record in commit.contacts.items():
            if record is None:
                removed[bucket_of(contact)].append(contact)
            else:
                written[bucket_of(contact)][contact] = record
        for bucket, records in written.items():
            pipe.hset(self.key(partition, f"c:{bucket}"), mapping=records)  # type: ignore[arg-type]
        for bucket, contacts in removed.items():
            pipe.hdel(self.key(partition, f"c:{bucket}"), *contacts)
        for chunk in commit.new_chunks:
            pipe.set(self.key(partition, f"e:{chunk}"), bytes(commit.chunk_size), nx=True)
        for chunk, runs in commit.rows.items():
            for offset, data in runs:
                pipe.setrange(self.key(partition, f"e:{chunk}"), offset, data)
        for entry in commit.outbox:
            if entry.contact not in commit.suppress:
                fields = {"c": entry.contact, "m": _pack([*entry[:-1], dict(entry.options)])}
                pipe.xadd(self.key(partition, f"out:{entry.channel}"), fields)  # type: ignore[arg-type]
        for stream, entry_id in erased:
            pipe.xdel(stream, entry_id)
        if commit.suppress:
            pipe.sadd(self.key(partition, "suppressed"), *commit.suppress)
        if commit.lift:
            pipe.srem(self.key(partition, "suppressed"), *commit.lift)
        if commit.cursor is not None:
            pipe.set(self.key(partition, "cursor"), commit.cursor)
            pipe.xtrim(self.key(partition, "in"), minid=_after(commit.cursor))
        self._call(pipe.execute)

    def outbox(self, partition: int) -> list[OutboxEntry]:
        found: list[tuple[tuple[int, int], OutboxEntry]] = []
        for stream in self._outbox_streams(partition):
            for entry_id, fields in self._call(partial(self.client.xrange, stream)):
                *head, options = msgpack.unpackb(fields[b"m"], raw=False)
                found.append((_order(entry_id), OutboxEntry._make([*head, options])))
        return [entry for _, entry in sorted(found, key=lambda pair: pair[0])]

    def _outbox_streams(self, partition: int) -> list[bytes]:
        pattern = self.key(partition, "out:*")
        return sorted(self._call(lambda: list(self.client.scan_iter(match=pattern))))

    def _outbox_of(self, partition: int, contacts: set[str]) -> list[tuple[bytes, bytes]]:
        """(stream, entry id) of the outbox entries of ``contacts`` (privacy deletion)."""
        wanted = {contact.encode() for contact in contacts}
        found = []
        for stream in self._outbox_streams(partition):
            for entry_id, fields in self._call(partial(self.client.xrange, stream)):
                if fields[b"c"] in wanted:
                    found.append((stream, entry_id))
        return found

    def _call(self, run: Any) -> Any:
        try:
            return run()
        except redis.RedisError as error:
            if "maxmemory" in str(error) or str(error).startswith("OOM"):
                raise StoreError(
                    "the Redis server is out of memory (maxmemory) and refuses writes: nothing "
                    "of this batch was written; raise maxmemory, then restart the engine"
                ) from error
            raise StoreError(f"the Redis server refused or failed: {error}") from error


def _order(entry_id: bytes) -> tuple[int, int]:
    millis, sequence = entry_id.split(b"-")
    return int(millis), int(sequence)


def _after(entry_id: str) -> str:
    """The smallest stream id above ``entry_id`` (XTRIM MINID keeps ids at or above it)."""
    millis, sequence = entry_id.split("-")
    return f"{millis}-{int(sequence) + 1}"
