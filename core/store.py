"""Where a partition's state lives between batches: the store interface.

A store keeps, per partition: an input stream of events (deduplicated by ``messageId`` when they
enter), the shard's record, one record per contact, the outbox, and the contacts deleted for
privacy. A partition's engine (:mod:`durable`) reads a batch after its cursor, runs it, then
:meth:`Store.commit` writes in one atomic step the changed records, the messages the batch
decided and the new cursor, which acknowledges the batch: a crash before it loses nothing (the
batch is read again), a crash after it repeats nothing.

Two implementations: :class:`stores.memory.MemoryStore` (tests, simulations) and
:class:`stores.redis.RedisStore` (the system of record; key layout in docs/storage.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .batch import EventBatch
from .hotpath import contact_hash
from .outbox import OutboxEntry

#: partitions of the contacts (fixed: actors own partitions, so their number can change)
PARTITIONS = 256
#: hashes per partition that hold its contacts' records (Instagram's bucketed small hashes)
BUCKETS = 1024
#: how long a messageId keeps a second copy of its event out (a day, and an hour of drift)
DEDUP_SECONDS = 25 * 3600


class StoreError(RuntimeError):
    """The store refused or lost a write; the engine stops taking events until restarted."""


class StaleOwner(StoreError):
    """A commit made under an owner epoch that a later :meth:`Store.claim` replaced: another
    process owns the partition now, and this one must stop writing it (nothing was written)."""


def partition_of(contact: str, partitions: int = PARTITIONS) -> int:
    """The partition that owns ``contact``."""
    return contact_hash(contact) % partitions


def first_of_each_message(batch: EventBatch) -> EventBatch:
    """The batch without the repeats of a ``messageId`` it already holds."""
    seen: set[str] = set()
    keep: list[int] = []
    for index, message_id in enumerate(batch.message_ids):
        if message_id is None or message_id not in seen:
            keep.append(index)
            if message_id is not None:
                seen.add(message_id)
    return batch if len(keep) == len(batch) else batch.select(keep)


def bucket_of(contact: str, buckets: int = BUCKETS) -> int:
    """The hash, within its partition, that holds the contact's record (other bits than the
    partition's, so a partition's contacts spread over all its buckets)."""
    return (contact_hash(contact) >> 32) % buckets


@dataclass
class Commit:
    """What one batch changed, written all together or not at all."""

    shard: bytes  #: the shard's record, packed
    cursor: str | None = None  #: the last input entry the batch took (None: no input)
    contacts: dict[str, bytes | None] = field(default_factory=dict)  #: None: deleted
    outbox: list[OutboxEntry] = field(default_factory=list)
    #: ids deleted for privacy: their messages leave the outbox, their ids stay suppressed
    suppress: list[str] = field(default_factory=list)
    lift: list[str] = field(default_factory=list)  #: suppressed ids an upsert brought back
    #: enrollment rows: chunk -> (byte offset, bytes) runs to write in place (:mod:`rows`)
    rows: dict[int, list[tuple[int, bytes]]] = field(default_factory=dict)
    #: chunks of rows the store does not have yet: each starts as ``chunk_size`` zero bytes
    new_chunks: list[int] = field(default_factory=list)
    chunk_size: int = 0
    #: the owner epoch the batch was run under (:meth:`Store.claim`; 0: never claimed)
    owner: int = 0


@dataclass
class Loaded:
    """A partition as the store has it."""

    shard: bytes | None  #: None: the partition never committed
    cursor: str | None
    contacts: list[bytes]
    suppressed: set[str]
    rows: dict[int, bytes] = field(default_factory=dict)  #: chunk -> its enrollment rows


class Store(Protocol):
    def append(self, partition: int, batch: EventBatch) -> int:
        """Add events to the partition's input stream as one entry; return how many were new
        (a ``messageId`` seen in the last :data:`DEDUP_SECONDS`, or earlier in the batch,
        keeps its event out)."""

    def append_all(self, batches: Mapping[int, EventBatch]) -> dict[int, int]:
        """:meth:`append` for several partitions at once (one round trip): partition -> how
        many of its events were new. Not atomic: a failure may leave some appended."""

    def read(self, partition: int, after: str | None, count: int) -> list[tuple[str, bytes]]:
        """Input entries after the cursor ``after``: (entry id, the packed batch), oldest
        first, about ``count`` events in all."""

    def claim(self, partition: int) -> int:
        """Become the partition's owner: return a new owner epoch, above every earlier one.
        Commits made under an earlier epoch are refused from then on, so a process that lost
        the partition without knowing it (an actor Ray replaced while it still ran) cannot
        write beside its new owner, which claims before it loads."""

    def load(self, partition: int) -> Loaded: ...

    def commit(self, partition: int, commit: Commit) -> None:
        """Write a batch's changes atomically, if ``commit.owner`` is still the partition's
        owner epoch.

        Raises:
            StaleOwner: a later claim took the partition; nothing was written.
            StoreError: nothing was written.
        """

    def outbox(self, partition: int) -> list[OutboxEntry]:
        """The partition's committed messages not acknowledged by a sender, oldest first."""

    def waiting(self, partitions: Sequence[int], channel: str | None = None) -> list[int]:
        """How many input entries each partition has not acknowledged yet (an entry holds a
        batch of events), or with a ``channel`` how many of its messages no sender has, all
        read at once."""

    def read_outbox(
        self, partition: int, channel: str, count: int
    ) -> list[tuple[str, OutboxEntry]]:
        """The oldest ``count`` messages of the channel that no sender acknowledged, with
        their entry ids, oldest first."""

    def acknowledge_outbox(self, partition: int, channel: str, through: str) -> None:
        """The channel's messages up to entry ``through`` are sent: they leave the outbox.

        Raises:
            StoreError: nothing was written.
        """

    def sink_floor(self, channel: str) -> int:
        """Where the channel's sink stood when a sender last found every message it had
        written acknowledged (0 before that): a restarted sender reads what was written after
        it to know what not to send again."""

    def set_sink_floor(self, channel: str, offset: int) -> None: ...


def stale_owner(partition: int, owner: int, mine: int) -> str:
    """What :class:`StaleOwner` says."""
    return (
        f"partition {partition} was claimed by another owner (epoch {owner}; this commit was "
        f"made under {mine}): another process runs it now, so this one stops writing it; "
        "nothing of this batch was written"
    )
