"""Senders: they take a channel's messages from the partitions' outboxes, hand them to a sink,
feed the results back as events, and acknowledge them.

Each message is sent once, whatever crashes: the sink honours the outbox's idempotency keys.
A sender writes a batch to its sink, then acknowledges it in the store; once a drain has
acknowledged everything it wrote, it records where the sink stands (the floor). After a crash
between a write and its acknowledgement, the messages come back from the outbox; a restarted
sender reads the keys its sink wrote after the floor and skips them. The feedback events
(``email.sent`` ...) carry the key as their ``messageId``, so the input stream keeps a second
copy out.

Until the channels issue brings SMTP and SMS providers, the sink is a JSON-lines file per
channel in the data folder (:class:`JsonLinesSink`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from parcours.core.batch import EventBatch
from parcours.core.events import Event
from parcours.core.outbox import OutboxEntry
from parcours.core.store import Store
from parcours.core.stores.embedded import connect
from parcours.core.stores.redis import RedisStore

LOG = logging.getLogger(__name__)
#: messages taken from one partition's outbox per read
READ = 5_000
#: how much of a sink's end is read for a partial last line (far longer than any message)
TAIL = 1 << 20


class SendError(RuntimeError):
    """The sink kept failing after every retry; the messages stay in the outbox."""


class Sink(Protocol):
    """Where a channel's messages go."""

    def sent_since(self, offset: int) -> set[str]:
        """The idempotency keys written after ``offset``."""

    def write(self, entries: Sequence[OutboxEntry], time: float) -> int:
        """Send the messages (all of them, or raise); return the sink's new offset."""


class JsonLinesSink:
    """A channel's messages as JSON lines appended to a file, synced before they count.

    A write that fails is undone (the file cut back to where it stood), and a file that ends in
    the middle of a line (the process died while writing) loses that fragment when the sink
    opens: every line in the file is a whole message.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._cut_partial_line()

    def sent_since(self, offset: int) -> set[str]:
        if not self.path.exists():
            return set()
        keys = set()
        with self.path.open("rb") as file:
            file.seek(offset)
            for line in file:
                try:
                    keys.add(json.loads(line)["key"])
                except (ValueError, KeyError, TypeError):
                    LOG.warning("%s: a line after offset %d does not read", self.path, offset)
        return keys

    def write(self, entries: Sequence[OutboxEntry], time: float) -> int:
        lines = "".join(_line(entry, time) for entry in entries).encode()
        with self.path.open("ab") as file:
            before = file.tell()
            try:
                file.write(lines)
                file.flush()
                os.fsync(file.fileno())
            except OSError:
                file.truncate(before)  # no half message for a retry to write after
                raise
            return file.tell()

    def _cut_partial_line(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("r+b") as file:
            start = max(0, file.seek(0, os.SEEK_END) - TAIL)
            file.seek(start)
            tail = file.read()
            if not tail or tail.endswith(b"\n"):
                return
            whole = start + tail.rfind(b"\n") + 1  # no newline in the tail: it all goes
            LOG.warning(
                "%s: cut a partial last line (%d bytes)", self.path, start + len(tail) - whole
            )
            file.truncate(whole)


def _line(entry: OutboxEntry, sent_at: float) -> str:
    message = {
        "key": entry.key,
        "channel": entry.channel,
        "contact": entry.contact,
        "program": entry.program,
        "message": entry.node,
        "template": entry.template,
        "time": entry.time,
        "sent_at": sent_at,
        "options": dict(entry.options),
    }
    return json.dumps(message, separators=(",", ":"), default=str) + "\n"


class Sender:
    """One channel's sender over some partitions.

    Parameters:
        store: the partitions' store.
        channel: ``email``, ``sms``, ``webhook`` or ``alert``.
        sink: where the messages go.
        attempts: tries of one batch before :class:`SendError` (the batch stays in the outbox).
        backoff: seconds before the second try; each later wait doubles it.
        sleep: how to wait (tests pass one that records).
        now: the time written beside each message and its feedback event.
    """

    def __init__(
        self,
        store: Store,
        channel: str,
        sink: Sink,
        attempts: int = 5,
        backoff: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.channel, self.sink = store, channel, sink
        self.attempts, self.backoff, self.sleep, self.now = attempts, backoff, sleep, now
        self.retries = 0  #: tries that failed and were tried again, since the start
        self._written: set[str] | None = None  #: see :meth:`_already_written`
        self._offset, self._floor_moved = 0, False  #: the sink's offset after the last write

    def drain(self, partitions: Iterable[int]) -> int:
        """Send what waits in each partition's outbox; return how many messages were sent.

        Raises:
            SendError: the sink failed every try; what it had not taken stays in the outbox.
        """
        sent = sum(self._drain_one(partition) for partition in partitions)
        if self._floor_moved:  # every message written is acknowledged now
            self.store.set_sink_floor(self.channel, self._offset)
            self._floor_moved = False
        return sent

    def _drain_one(self, partition: int) -> int:
        sent = 0
        written = self._already_written()
        while batch := self.store.read_outbox(partition, self.channel, READ):
            entries = [entry for _, entry in batch]
            fresh = [entry for entry in entries if entry.key not in written]
            now = self.now()
            if fresh:
                self._offset = self._write(fresh, now)
                self._floor_moved = True
                written.update(entry.key for entry in fresh)  # until acknowledged
            # every message's result, the ones written before a crash too: the stream keeps
            # out a result it already has (its messageId is the message's key)
            self._feed_back(partition, entries, now)
            self.store.acknowledge_outbox(partition, self.channel, batch[-1][0])
            written.difference_update(entry.key for entry in entries)  # they cannot come back
            sent += len(fresh)
        return sent

    def _already_written(self) -> set[str]:
        """Keys the sink holds that may not be acknowledged: what it wrote after the floor
        (read once, when the sender starts)."""
        if self._written is None:
            self._written = self.sink.sent_since(self.store.sink_floor(self.channel))
        return self._written

    def _write(self, entries: list[OutboxEntry], now: float) -> int:
        wait, attempt = self.backoff, 1
        while True:
            try:
                return self.sink.write(entries, now)
            except OSError as error:
                if attempt == self.attempts:
                    raise SendError(
                        f"{self.channel}: the sink failed {attempt} times ({error}); "
                        f"{len(entries)} messages stay in the outbox"
                    ) from error
                LOG.warning("%s: the sink failed (%s); try %d in %.2f s",
                            self.channel, error, attempt + 1, wait)  # fmt: skip
                self.retries += 1
                self.sleep(wait)
                wait, attempt = wait * 2, attempt + 1

    def _feed_back(self, partition: int, entries: list[OutboxEntry], now: float) -> None:
        """``<channel>.sent`` per message, keyed by its idempotency key (sent once)."""
        if entries:
            events = [
                Event(e.contact, f"{self.channel}.sent", now,
                      {"program": e.program, "message": e.node}, f"sent:{e.key}")
                for e in entries
            ]  # fmt: skip
            self.store.append(partition, EventBatch.of(events))


class SenderWorker:
    """One channel's sender over every partition of a service (what a sender actor runs).

    Parameters:
        config: the service's (``parcours.actors.partitions.ServiceConfig``).
        channel: the channel it takes.
    """

    def __init__(self, config: Any, channel: str) -> None:
        self.partitions = range(config.partitions)
        self.store = RedisStore(connect(config.redis_url), config.prefix)
        sink = JsonLinesSink(Path(config.data_folder) / "outbox" / f"{channel}.jsonl")
        self.sender = Sender(self.store, channel, sink)

    def drain(self, now: float) -> int:
        """Send what waits on every partition, its time ``now``; return how many were sent."""
        self.sender.now = lambda: now
        waiting = self.store.waiting(self.partitions, self.sender.channel)
        busy = (p for p, count in zip(self.partitions, waiting, strict=True) if count)
        return self.sender.drain(busy)

    def pid(self) -> int:
        return os.getpid()
