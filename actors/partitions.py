"""A partition worker: the partitions one actor owns, each a durable shard.

The worker knows nothing of programs: it follows the registry's log, steps the partitions
that have input waiting or something falling due, and reports figures. Every state change is a
commit in the store (:class:`~parcours.core.durable.Partition`), so a worker that dies loses
nothing: Ray starts it again, it reads its partitions from the assignment and rebuilds them
from the store, and a step Ray retries reads the same input again.

The time comes from the caller (the service's clock): the same worker runs a live service on
the wall clock and a test on a virtual one.
"""

from __future__ import annotations

import gc
import os
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import BATCH, Partition
from parcours.core.program import FrequencyCap
from parcours.core.registries.redis import RedisRegistry
from parcours.core.registry import Registry, VersionSource
from parcours.core.shard import Shard
from parcours.core.stores.embedded import connect
from parcours.core.stores.redis import RedisStore

from .placement import Assignments

#: (registry, catalog, default time zone) -> the registry's versions compiled in that catalog
#: (``parcours.rules.registry.CompiledVersions``: the rules package compiles, not the actors)
Compiler = Callable[[Registry, Catalog, str], VersionSource]
#: seconds an idle live actor waits before its next step (a bound on the latency it adds)
IDLE = 0.002


@dataclass(frozen=True)
class ServiceConfig:
    """What every actor of a service needs to find its state (picklable: Ray sends it)."""

    redis_url: str  #: the store's server (``unix://`` for the embedded Valkey)
    data_folder: str  #: the senders' files
    partitions: int  #: P, fixed for the store's life
    prefix: str = "pc"
    timezone: str = "UTC"  #: the workspace's
    caps: tuple[FrequencyCap, ...] = ()  #: the workspace's frequency caps
    batch: int = BATCH  #: events a partition takes per step


@dataclass
class Figures:
    """What a step did and what the worker holds (summed over workers by the service)."""

    events: int = 0  #: events taken from the streams
    messages: int = 0  #: messages committed to the outboxes
    sent: int = 0  #: messages the senders wrote
    timers: int = 0  #: enrollment timers pending
    enrollments: int = 0  #: live enrollments
    partitions: int = 0  #: partitions owned

    def add(self, other: Figures) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class PartitionWorker:
    """The partitions the assignment gives ``name`` (see the module).

    Parameters:
        config: the service's.
        name: this worker's name in the assignment.
        compiler: builds the registry's compiled versions (see :data:`Compiler`).
    """

    def __init__(self, config: ServiceConfig, name: str, compiler: Compiler) -> None:
        self.config, self.name = config, name
        client = connect(config.redis_url)
        self.store = RedisStore(client, config.prefix)
        self.registry = RedisRegistry(client, config.prefix)
        self.clock = VirtualClock(0.0)  # set from the caller's time before any work
        self.versions = compiler(self.registry, Catalog(), config.timezone)
        self.parts: dict[int, Partition] = {}
        self.own(Assignments(client, config.prefix).of(name))

    def pid(self) -> int:
        """The worker's process (supervision tests kill it)."""
        return os.getpid()

    # -- ownership --------------------------------------------------------------------------

    def own(self, partitions: list[int]) -> None:
        """Own exactly these partitions: the others are given up (every step ends committed:
        nothing is pending), new ones rebuilt from the store as last committed."""
        given_up = set(self.parts) - set(partitions)
        if given_up:
            gc.unfreeze()  # what they hold must be collectable again (see below)
            for number in given_up:
                del self.parts[number]
            gc.collect()
        for number in partitions:
            if number not in self.parts:
                self.parts[number] = Partition(
                    self.store, number, self._new_shard, self.versions.digest
                )
        gc.freeze()  # what was loaded lives long: the collector need not walk it again

    def _new_shard(self, number: int) -> Shard:
        config = self.config
        return Shard(
            self.versions.catalog,
            self.clock,
            caps=config.caps,
            timezone=config.timezone,
            partition=number,
        )

    # -- work -------------------------------------------------------------------------------

    def step(self, now: float, upto: int) -> Figures:
        """Apply the registry's operations up to seq ``upto`` (the service reads it once a
        round, so every partition applies an operation in the same round, where the last round
        left it), then take each partition's waiting input (a batch) and fire what falls due up
        to ``now``; each partition commits."""
        self._at(now)
        messages_before = self._messages()
        self._follow(upto)
        numbers = sorted(self.parts)
        figures = Figures()
        for number, waiting in zip(numbers, self.store.waiting(numbers), strict=True):
            part = self.parts[number]
            if waiting or part.falls_due(now):
                figures.events += part.step(self.config.batch)
            else:
                part.advance(now)  # the next round's operations apply at this time
        figures.messages = self._messages() - messages_before
        return self._holding(figures)

    def run_for(self, seconds: float) -> Figures:
        """Step on the wall clock for ``seconds`` (a live service's slice, so that actors do
        not wait for each other at every step): each step reads the registry's last seq, and
        one that found nothing to do waits :data:`IDLE` before the next."""
        end = time.monotonic() + seconds
        total = Figures()
        while True:
            figures = self.step(time.time(), self.registry.last_seq())
            total.events += figures.events
            total.messages += figures.messages
            if time.monotonic() >= end:
                return self._holding(total)
            if not figures.events:
                time.sleep(IDLE)

    def import_contacts(
        self, rows: Mapping[int, list[tuple[str, dict[str, Any]]]], now: float, upto: int
    ) -> int:
        """Create or update contacts (partition -> its (contact id, fields) rows), committed
        by chunks, after the registry's operations up to seq ``upto``; return how many were
        created."""
        self._at(now)
        self._follow(upto)
        parts = self.parts
        created = sum(
            parts[number].import_contacts(share).created for number, share in rows.items()
        )
        gc.freeze()  # contacts live long (see :meth:`own`)
        return created

    def figures(self) -> Figures:
        return self._holding(Figures())

    def counts(self) -> Counter[tuple[str, str]]:
        """(program, node) -> times entered, over the worker's partitions."""
        total: Counter[tuple[str, str]] = Counter()
        for part in self.parts.values():
            total.update(part.shard.node_counts())
        return total

    def _at(self, now: float) -> None:
        self.clock.set(max(self.clock.now(), now))
        for part in self.parts.values():
            if part.fresh:  # a partition with no past starts at the service's time
                part.advance(self.clock.now())

    def _follow(self, upto: int) -> None:
        applied = min((p.applied for p in self.parts.values()), default=upto)
        if applied >= upto:
            return
        operations = self.registry.operations(applied, limit=upto - applied)
        for part in self.parts.values():
            part.follow(operations, self.versions.number)

    def _messages(self) -> int:
        return sum(part.figures().messages for part in self.parts.values())

    def _holding(self, figures: Figures) -> Figures:
        for part in self.parts.values():
            held = part.figures()
            figures.timers += held.timers
            figures.enrollments += held.enrollments
        figures.partitions = len(self.parts)
        return figures
