"""One partition's shard kept in a store: read a batch, run it, commit it, all or nothing.

The shard decides; this loop makes its decisions durable. Each :meth:`Partition.step` reads the
input entries after the partition's cursor, ingests them, fires what is due up to the clock, and
commits in one atomic write the records of the contacts the batch changed, the shard's record,
the messages it decided and the new cursor. Program and contact operations commit the same way.
A process that dies between two commits restarts from the last one and reads the same entries
again: the result is the same, and no message is committed twice.

After a failed commit the shard in memory is ahead of the store, so the partition refuses all
work (:class:`~store.StoreError`) until it is rebuilt from the store.

A partition claims an owner epoch before it loads (:meth:`~store.Store.claim`) and commits
under it: once another process has claimed the partition, this one's commits are refused
whole (:class:`~store.StaleOwner`), so two processes never both write one partition.
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import msgpack

from .batch import EventBatch
from .imports import Imported, import_contacts
from .outbox import ListOutbox
from .program import CompiledProgram
from .records import contact_record
from .registry import Operation
from .rows import CHUNK, ROW, dirty_runs
from .shard import Shard
from .snapshot import Programs, restore, shard_record
from .store import Commit, Store, StoreError

LOG = logging.getLogger(__name__)
#: at most this many events per step (one read, one commit). A step takes what is waiting, so
#: this bounds only the steps of a backlog; there, larger steps commit less often and rewrite a
#: contact's record once for all its events of the step. `bench/service.py` run six times,
#: alternating: sustained 251k-260k events/s with 40,000, 214k-239k with 10,000 (RESULTS)
BATCH = 40_000
#: contacts per commit of an import
IMPORT_CHUNK = 50_000


def pack(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


class Held(NamedTuple):
    """A partition's figures (:meth:`Partition.figures`)."""

    messages: int  #: messages its programs put in the outbox since it started
    timers: int  #: enrollment timers pending
    enrollments: int  #: live enrollments


class Partition:
    """A shard and the store that keeps it.

    Parameters:
        store: where the partition lives.
        partition: its number (the shard's too).
        new_shard: builds an empty shard (catalog, clock, caps, time zone) for this partition.
        programs: (program id, version) -> compiled program, to rebuild the deployed ones.
    """

    #: what a registry operation other than ``deploy`` calls on the shard
    MOVES = ("activate", "pause", "resume", "stop")

    def __init__(
        self,
        store: Store,
        partition: int,
        new_shard: Callable[[int], Shard],
        programs: Programs,
    ) -> None:
        self.store = store
        self.partition = partition
        self.shard = new_shard(partition)
        self.shard.outbox = self._outbox = ListOutbox()
        self.failure: StoreError | None = None
        #: this partition's owner epoch: claimed before loading, so that what it loads holds
        #: every commit of an earlier owner, and no earlier owner commits after (StaleOwner)
        self.owner = store.claim(partition)
        loaded = store.load(partition)
        self.cursor = loaded.cursor
        self.shard.deleted.update(loaded.suppressed)
        self._chunks = len(loaded.rows)  #: chunks of enrollment rows the store has
        #: seq of the last registry operation applied (:meth:`follow`), kept in the shard record
        self.applied = 0
        #: the last step took a full batch: more input may wait (see :meth:`step`)
        self.backlogged = False
        #: nothing was ever committed: the shard has no time of its own yet (:meth:`advance`)
        self.fresh = loaded.shard is None
        if loaded.shard is not None:
            saved = unpack(loaded.shard)
            contacts = (unpack(record) for record in loaded.contacts)
            restore(self.shard, saved, contacts, programs, loaded.rows)
            self.applied = int(saved.get("applied", 0))

    # -- the loop ---------------------------------------------------------------------------

    def step(self, count: int = BATCH, until: float | None = None) -> int:
        """Take the next batch of input, fire what is due up to ``until`` (the clock's now by
        default), and commit; return the number of events taken."""
        self._check()
        entries = self.store.read(self.partition, self.cursor, count)
        taken = 0
        for entry, packed in entries:
            batch = self._batch(entry, packed)
            self.shard.ingest(batch)
            taken += len(batch)
        # a full batch may leave events waiting: timers due after the last one taken wait
        # for them (the next step), or they would fire ahead of events that came first
        self.backlogged = taken >= count
        if not self.backlogged:
            self.shard.run_until(self.shard.clock.now() if until is None else until)
        self.commit(entries[-1][0] if entries else None)
        return taken

    def falls_due(self, until: float) -> bool:
        """Whether a timer or an agenda item falls due by ``until``."""
        due = self.shard.next_moment()
        return due is not None and due <= until

    def advance(self, until: float) -> None:
        """Move the shard's time on when nothing waits and nothing falls due by ``until`` (no
        commit: nothing changed; its record keeps the older time until the next commit)."""
        self.shard.run_until(until)

    def _batch(self, entry: str, packed: bytes) -> EventBatch:
        """The entry's events; an entry that is not a batch (written by something else than
        parcours) is skipped, counted as ``refused:malformed_entry`` and logged by its id."""
        try:
            return EventBatch.unpack(packed)
        except ValueError as error:
            self.shard.stats.events["refused:malformed_entry"] += 1
            LOG.error("partition %d skips input entry %s: %s", self.partition, entry, error)
            return EventBatch.of(())

    def drain(self, until: float | None = None) -> int:
        """Step until the input stream is empty; return the events taken."""
        total = 0
        while True:
            before = self.cursor
            total += self.step(until=until)
            if self.cursor == before:
                return total

    def figures(self) -> Held:
        """What the partition holds and has decided to send, for a service's status."""
        shard = self.shard
        messages = sum(shard.stats.sent.values())
        return Held(messages, len(shard.timers), len(shard.enrollments))

    # -- operations -------------------------------------------------------------------------

    def deploy(self, program: CompiledProgram, activate: bool = False) -> None:
        self._operation(lambda: self.shard.deploy(program, activate))

    def activate(self, program_id: str) -> None:
        self._operation(lambda: self.shard.activate(program_id))

    def pause(self, program_id: str) -> None:
        self._operation(lambda: self.shard.pause(program_id))

    def resume(self, program_id: str) -> None:
        self._operation(lambda: self.shard.resume(program_id))

    def stop(self, program_id: str) -> None:
        self._operation(lambda: self.shard.stop(program_id))

    def follow(
        self,
        operations: Iterable[Operation],
        version_of: Callable[[str, int], CompiledProgram],
    ) -> int:
        """Apply the registry's operations (:mod:`registry`) this partition has not applied yet,
        in order, each committed with its seq: after a restart none is applied twice and none
        is skipped, so every partition runs the same versions in the same statuses. They apply
        where the shard stands (its time is not moved on: input waiting before them is taken
        after, at its own times).

        Parameters:
            operations: the log from any point at or before the first one not applied yet.
            version_of: (program id, version number) -> that version compiled.

        Returns:
            How many operations were applied.

        Raises:
            ValueError: an operation's seq leaves a gap after the last one applied (the log
                was read from too far on); nothing after the gap is applied.
        """
        done = 0
        for operation in operations:
            if operation.seq <= self.applied:
                continue
            if operation.seq != self.applied + 1:
                raise ValueError(
                    f"partition {self.partition} applied operation {self.applied}, "
                    f"then was given {operation.seq}: the log has a gap"
                )
            self._operation(functools.partial(self._apply, operation, version_of))
            done += 1
        return done

    def _apply(
        self, operation: Operation, version_of: Callable[[str, int], CompiledProgram]
    ) -> None:
        if operation.name == "deploy":
            self.shard.deploy(version_of(operation.program, operation.version))
        elif operation.name in self.MOVES:
            getattr(self.shard, operation.name)(operation.program)
        else:
            raise ValueError(f"operation {operation.seq} is '{operation.name}', not one we know")
        self.applied = operation.seq

    def upsert_contact(self, contact: str, fields: Mapping[str, Any]) -> None:
        self._operation(lambda: self.shard.upsert_contact(contact, fields))

    def import_contacts(
        self, rows: Iterable[tuple[str, Mapping[str, Any]]], chunk: int = IMPORT_CHUNK
    ) -> Imported:
        """Create or update many contacts (:mod:`imports`), committing every ``chunk``."""
        self._check()
        done = Imported()
        rows = iter(rows)
        while part := list(itertools.islice(rows, chunk)):
            found = import_contacts(self.shard, part)
            self.commit(None)
            done.created += found.created
            done.updated += found.updated
            done.suppressed += found.suppressed
        return done

    def delete_contact(self, contact: str) -> None:
        """Privacy deletion: every record of the contact goes, its messages leave the outbox,
        and its id is suppressed so that a later event does not bring it back."""
        self._operation(lambda: self.shard.delete_contact(contact))

    def enroll(self, contact: str, program_id: str) -> bool:
        result: list[bool] = []
        self._operation(lambda: result.append(self.shard.enroll(contact, program_id)))
        return result[0]

    def _operation(self, run: Callable[[], object]) -> None:
        self._check()
        run()
        self.commit(None)

    # -- commit -----------------------------------------------------------------------------

    def commit(self, cursor: str | None) -> None:
        """Write what changed since the last commit (see the module's docstring)."""
        shard = self.shard
        ids = shard.contacts.ids
        contacts: dict[str, bytes | None] = {}
        for slot in shard.touched:
            contact = ids[slot]
            if contact is not None:
                contacts[contact] = pack(contact_record(shard, slot))
        for contact in shard.erased:
            contacts[contact] = None
        record = shard_record(shard)
        record["applied"] = self.applied
        outbox = list(self._outbox.entries)
        batch = Commit(
            pack(record), cursor, contacts, outbox, sorted(shard.erased), sorted(shard.lifted)
        )
        batch.rows = dirty_runs(shard)
        chunks = -(-len(shard.enrollments.node) // CHUNK)
        batch.new_chunks, batch.chunk_size = list(range(self._chunks, chunks)), CHUNK * ROW
        batch.owner = self.owner
        try:
            self.store.commit(self.partition, batch)
        except StoreError as error:
            self.failure = error
            raise
        if cursor is not None:
            self.cursor = cursor
        self._chunks = max(self._chunks, chunks)
        shard.enrollments.committed()
        shard.touched.clear()
        shard.erased.clear()
        shard.lifted.clear()
        self._outbox.entries.clear()
        self.fresh = False

    def _check(self) -> None:
        if self.failure is not None:
            raise StoreError(
                f"partition {self.partition} stopped after a failed commit ({self.failure}); "
                "restart it to rebuild from the store"
            )
