"""The store in Redis (or Valkey): the system of record. Key layout: docs/storage.md.

Every key of a partition carries the hash tag ``{N}``, so one Redis or a Redis Cluster hold the
same layout and a commit (one Lua script) never spans two cluster slots.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
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
    StaleOwner,
    StoreError,
    bucket_of,
    first_of_each_message,
    stale_owner,
)

#: the oldest server that has what the layout uses (XTRIM MINID, SET EX, streams, and the
#: ``#!lua`` header of :data:`COMMIT`)
MINIMUM_VERSION = (7, 0)
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


#: Write a commit, if its owner epoch is still the partition's (see ``Store.claim``): one script
#: (nothing else runs in between), refused as a whole when stale, and under the shebang refused as a
#: whole when the server is out of memory. KEYS: the owner epoch, the shard record, the cursor, the
#: input stream, the suppressed set, then the keys of the groups in this order: buckets to write,
#: buckets to delete from, outbox streams, chunks of enrollment rows, outbox streams to delete
#: erased messages from (every key declared, all of one partition's hash tag). ARGV: the epoch, the
#: shard record, the cursor ('' for none), the input's new first id, a chunk's size, and in one
#: msgpack value (packed once in C rather than argument by argument) [the groups' counts by kind,
#: each group's values, ids to suppress, ids to lift]. A bucket's values are contact and record
#: pairs or contact ids, an outbox's contact and message pairs, a chunk's whether it is new then
#: offset and bytes pairs, an erased stream's entry ids. Values go to one command in runs of
#: ``RUN``, under Lua's limit on what ``unpack`` may return.
COMMIT = """#!lua
local RUN = 200
local owner = redis.call('GET', KEYS[1]) or '0'
if owner ~= ARGV[1] then
  return redis.error_reply('STALE_OWNER ' .. owner)
end
local data = cmsgpack.unpack(ARGV[6])
local counts, values = data[1], data[2]
local function runs(verb, key, list)
  for j = 1, #list, RUN do
    redis.call(verb, key, unpack(list, j, math.min(j + RUN - 1, #list)))
  end
end
redis.call('SET', KEYS[2], ARGV[2])
local g = 5
for kind = 1, 5 do
  for _ = 1, counts[kind] do
    g = g + 1
    local key, mine = KEYS[g], values[g - 5]
    if kind == 1 then runs('HSET', key, mine)
    elseif kind == 2 then runs('HDEL', key, mine)
    elseif kind == 3 then
      for j = 1, #mine, 2 do redis.call('XADD', key, '*', 'c', mine[j], 'm', mine[j + 1]) end
    elseif kind == 4 then
      if mine[1] == 1 and redis.call('EXISTS', key) == 0 then  -- its zeros, made in place
        redis.call('SETRANGE', key, tonumber(ARGV[5]) - 1, '\\0')
      end
      for j = 2, #mine, 2 do redis.call('SETRANGE', key, mine[j], mine[j + 1]) end
    else runs('XDEL', key, mine) end
  end
end
if #data[3] > 0 then runs('SADD', KEYS[5], data[3]) end
if #data[4] > 0 then runs('SREM', KEYS[5], data[4]) end
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[3], ARGV[3])
  redis.call('XTRIM', KEYS[4], 'MINID', ARGV[4])
end
return 1
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
        self._commit = client.register_script(COMMIT)
        try:
            version = server_version(client)
        except redis.RedisError as error:
            raise StoreError(f"cannot reach the Redis server: {error}") from error
        if version < MINIMUM_VERSION:
            wanted = ".".join(map(str, MINIMUM_VERSION))
            raise StoreError(
                f"the Redis server is version {'.'.join(map(str, version))}; parcours needs "
                f"{wanted} or later (streams trimmed by id, scripts with a #!lua header)"
            )

    def key(self, partition: int, name: str) -> str:
        return f"{self.prefix}:{{{partition}}}:{name}"

    # -- input ------------------------------------------------------------------------------

    def append(self, partition: int, batch: EventBatch) -> int:
        return self.append_all({partition: batch})[partition]

    def append_all(self, batches: Mapping[int, EventBatch]) -> dict[int, int]:
        appended = dict.fromkeys(batches, 0)
        pending = {p: first_of_each_message(b) for p, b in batches.items() if len(b)}
        while pending:  # again without the events whose messageId was seen, if any
            pending = self._append_once(pending, appended)
        return appended

    def _append_once(
        self, batches: dict[int, EventBatch], appended: dict[int, int]
    ) -> dict[int, EventBatch]:
        """Try each batch in one round trip: count those appended in ``appended``; return the
        others without their events whose messageId the server has seen."""
        pipe = self.client.pipeline(transaction=False)
        for partition, batch in batches.items():
            keys = [self.key(partition, "in")]
            keys += [self.key(partition, f"id:{m}") for m in batch.message_ids if m is not None]
            # EVAL, not the script's EVALSHA: a pipeline would first ask whether it is loaded
            pipe.eval(APPEND, len(keys), *keys, DEDUP_SECONDS, batch.pack(), len(batch))
        again: dict[int, EventBatch] = {}
        replies = self._call(pipe.execute)
        for (partition, batch), seen in zip(batches.items(), replies, strict=True):
            if not seen:
                appended[partition] = len(batch)
                continue
            carrying = [i for i, m in enumerate(batch.message_ids) if m is not None]
            dropped = {carrying[int(position) - 2] for position in seen}  # KEYS[2]: the first
            rest = batch.select([i for i in range(len(batch)) if i not in dropped])
            if len(rest):
                again[partition] = rest
        return again

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

    def claim(self, partition: int) -> int:
        return int(self._call(partial(self.client.incr, self.key(partition, "owner"))))

    def commit(self, partition: int, commit: Commit) -> None:
        erased = self._outbox_of(partition, set(commit.suppress)) if commit.suppress else []
        grouped, groups = self._groups(partition, commit, erased)
        fixed = ("owner", "shard", "cursor", "in", "suppressed")
        keys = [*(self.key(partition, name) for name in fixed), *grouped]
        cursor = "" if commit.cursor is None else commit.cursor
        # raw strings, not msgpack's bin type: the script's cmsgpack reads only the former
        packed = msgpack.packb(groups, use_bin_type=False)
        args: list[bytes | str | int] = [commit.owner, commit.shard, cursor]
        args += [cursor and _after(cursor), commit.chunk_size, packed]

        def run() -> None:
            try:
                self._commit(keys=keys, args=args)
            except redis.ResponseError as error:
                if not str(error).startswith("STALE_OWNER"):
                    raise
                epoch = int(str(error).split()[1])
                raise StaleOwner(stale_owner(partition, epoch, commit.owner)) from error

        self._call(run)

    def _groups(
        self, partition: int, commit: Commit, erased: list[tuple[bytes, bytes]]
    ) -> tuple[list[str | bytes], list[Any]]:
        """The group keys of :data:`COMMIT` and its packed argument (the commit's records and
        messages, those of contacts deleted in the same commit left out)."""
        written: dict[str, list[bytes | str]] = defaultdict(list)
        removed: dict[str, list[bytes | str]] = defaultdict(list)
        for contact, record in commit.contacts.items():
            bucket = self.key(partition, f"c:{bucket_of(contact)}")
            if record is None:
                removed[bucket].append(contact)
            else:
                written[bucket] += (contact, record)
        sent: dict[str, list[bytes | str]] = defaultdict(list)
        suppressed = set(commit.suppress)
        for entry in commit.outbox:
            if entry.contact not in suppressed:
                message = _pack([*entry[:-1], dict(entry.options)])
                sent[self.key(partition, f"out:{entry.channel}")] += (entry.contact, message)
        chunks: dict[str, list[Any]] = {}
        for chunk in sorted({*commit.new_chunks, *commit.rows}):
            runs: list[int | bytes] = [int(chunk in commit.new_chunks)]
            for offset, data in commit.rows.get(chunk, ()):
                runs += (offset, data)
            chunks[self.key(partition, f"e:{chunk}")] = runs
        gone: dict[bytes, list[bytes]] = defaultdict(list)
        for stream, entry_id in erased:
            gone[stream].append(entry_id)
        kinds: list[dict[Any, list[Any]]] = [written, removed, sent, chunks, gone]
        keys = [key for kind in kinds for key in kind]
        values = [mine for kind in kinds for mine in kind.values()]
        counts = [len(kind) for kind in kinds]
        return keys, [counts, values, list(commit.suppress), list(commit.lift)]

    def outbox(self, partition: int) -> list[OutboxEntry]:
        found: list[tuple[tuple[int, int], OutboxEntry]] = []
        for stream in self._outbox_streams(partition):
            for entry_id, fields in self._call(partial(self.client.xrange, stream)):
                found.append((_order(entry_id), _outbox_entry(fields)))
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

    def waiting(self, partitions: Sequence[int], channel: str | None = None) -> list[int]:
        # commits and senders trim what they acknowledge: what is left is waiting
        stream = "in" if channel is None else f"out:{channel}"
        pipe = self.client.pipeline(transaction=False)
        for partition in partitions:
            pipe.xlen(self.key(partition, stream))
        return [int(length) for length in self._call(pipe.execute)]

    def read_outbox(
        self, partition: int, channel: str, count: int
    ) -> list[tuple[str, OutboxEntry]]:
        stream = self.key(partition, f"out:{channel}")
        entries = self._call(partial(self.client.xrange, stream, count=count))
        return [(entry_id.decode(), _outbox_entry(fields)) for entry_id, fields in entries]

    def acknowledge_outbox(self, partition: int, channel: str, through: str) -> None:
        stream = self.key(partition, f"out:{channel}")
        self._call(partial(self.client.xtrim, stream, minid=_after(through)))

    def sink_floor(self, channel: str) -> int:
        floor = self._call(partial(self.client.hget, f"{self.prefix}:sinks", channel))
        return 0 if floor is None else int(floor)

    def set_sink_floor(self, channel: str, offset: int) -> None:
        self._call(partial(self.client.hset, f"{self.prefix}:sinks", channel, offset))

    def _call(self, run: Any) -> Any:
        """``run()``, with what the server says as a :class:`StoreError`."""
        try:
            return run()
        except redis.RedisError as error:
            if "maxmemory" in str(error) or str(error).startswith("OOM"):
                raise StoreError(
                    "the Redis server is out of memory (maxmemory) and refuses writes: nothing "
                    "of this batch was written; raise maxmemory, then restart the engine"
                ) from error
            raise StoreError(f"the Redis server refused or failed: {error}") from error


def _outbox_entry(fields: dict[bytes, bytes]) -> OutboxEntry:
    *head, options = msgpack.unpackb(fields[b"m"], raw=False)
    return OutboxEntry._make([*head, options])


def _order(entry_id: bytes) -> tuple[int, int]:
    millis, sequence = entry_id.split(b"-")
    return int(millis), int(sequence)


def _after(entry_id: str) -> str:
    """The smallest stream id above ``entry_id`` (XTRIM MINID keeps ids at or above it)."""
    millis, sequence = entry_id.split("-")
    return f"{millis}-{int(sequence) + 1}"
