"""The engine as a service on Ray: partition actors, sender actors, and the loop that drives
them.

N partition actors share the store's P partitions (:mod:`placement`); one sender actor per
channel takes the outboxes. The service calls every actor at once with the time (one call per
actor and step, carrying whatever batches wait: never one call per event), then the senders.
Ray restarts an actor that dies (``max_restarts``) and retries the call it was running
(``max_task_retries``): the new process rebuilds its partitions from the store and reads the
same input again, so nothing is lost or done twice.

Ray's local instance starts on first use; ``RAY_ADDRESS`` names a cluster instead.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import ray

from parcours.core.events import Event
from parcours.core.registries.redis import RedisRegistry
from parcours.core.store import partition_of
from parcours.core.stores.embedded import connect
from parcours.core.stores.redis import RedisStore

from .ingest import Ingested, ingest
from .partitions import Compiler, Figures, PartitionWorker, ServiceConfig
from .placement import Assignments, Lease, assign, fix_partitions, kept
from .senders import SenderWorker

#: channels a sender actor takes by default
CHANNELS = ("email", "sms", "webhook", "alert")
#: restarted without limit; a call that a death interrupted runs again on the new process.
#: No CPU reserved: the actors of a 2-core machine must all be placed (they mostly wait).
supervised = ray.remote(max_restarts=-1, max_task_retries=-1, num_cpus=0)
PartitionActor = supervised(PartitionWorker)
SenderActor = supervised(SenderWorker)


def start_ray(num_cpus: int | None = None, environ: Mapping[str, str] = os.environ) -> None:
    """Join the cluster ``RAY_ADDRESS`` (in ``environ``) names, or start a local Ray (once per
    process)."""
    if ray.is_initialized():
        return
    address = environ.get("RAY_ADDRESS") or None
    options: dict[str, Any] = {"include_dashboard": False, "logging_level": "WARNING"}
    if address is None:
        options["num_cpus"] = num_cpus or os.cpu_count()
    ray.init(address=address, **options)


def gather(calls: list[Any]) -> list[Any]:
    """The results of actor calls; an error an actor raised is raised here as itself (a
    StoreError, a SendError ...), not wrapped in Ray's report of it. Ray retries a call only
    when its actor died, not when it raised."""
    try:
        return list(ray.get(calls))
    except ray.exceptions.RayTaskError as error:
        if isinstance(error.cause, Exception):
            raise error.cause from None
        raise


class Service:
    """Partition and sender actors over one store.

    Parameters:
        config: where the state is, P, the workspace's time zone and caps.
        actors: N, the partition actors.
        compiler: builds compiled versions from the registry (``rules.registry``'s).
        channels: the channels that get a sender actor (none: messages wait in the outbox).
        name: the actors' names start with it (two services may share a Ray cluster).
    """

    def __init__(
        self,
        config: ServiceConfig,
        actors: int,
        compiler: Compiler,
        channels: Iterable[str] = CHANNELS,
        name: str = "parcours",
    ) -> None:
        self.config, self.compiler, self.name = config, compiler, name
        assign(config.partitions, actors)  # refused before anything starts
        client = connect(config.redis_url)
        fix_partitions(client, config.prefix, config.partitions)
        self.lease = Lease(client, config.prefix)
        self.lease.take()
        self.store = RedisStore(client, config.prefix)
        self.registry = RedisRegistry(client, config.prefix)
        self.assignments = Assignments(client, config.prefix)
        self.layout: list[list[int]] = []
        self.workers: list[Any] = []
        self.senders: list[Any] = [SenderActor.remote(config, channel) for channel in channels]
        self.scale(actors)

    # -- actors -----------------------------------------------------------------------------

    def scale(self, actors: int) -> None:
        """Spread the partitions over ``actors`` actors (see :func:`placement.kept`): each
        actor first gives up what moves (all its work is committed), then each takes what it
        gets, rebuilt from the store."""
        layout = assign(self.config.partitions, actors)
        for index in range(len(self.workers), actors):  # new actors start with nothing
            self.assignments.set(self._worker_name(index), [])
            name = self._worker_name(index)
            self.workers.append(PartitionActor.remote(self.config, name, self.compiler))
        for step in (kept(self.layout, layout), layout):
            owned = [step[i] if i < len(step) else [] for i in range(len(self.workers))]
            for index, partitions in enumerate(owned):
                self.assignments.set(self._worker_name(index), partitions)
            gather([w.own.remote(p) for w, p in zip(self.workers, owned, strict=True)])
        for worker in self.workers[actors:]:
            ray.kill(worker, no_restart=True)
        self.workers, self.layout = self.workers[:actors], layout

    def _worker_name(self, index: int) -> str:
        return f"{self.name}-partitions-{index}"

    def stop(self) -> None:
        """End every actor (their work is committed after each step) and give the store
        back."""
        for actor in [*self.workers, *self.senders]:
            ray.kill(actor, no_restart=True)
        self.workers, self.senders = [], []
        self.lease.give_back()

    # -- work -------------------------------------------------------------------------------

    def ingest(self, events: Iterable[Event | Mapping[str, Any]], now: float) -> Ingested:
        """Check events and append them to their partitions' streams (one entry each)."""
        return ingest(self.store, self.config.partitions, events, now)

    def import_contacts(self, rows: Iterable[tuple[str, dict[str, Any]]], now: float) -> int:
        """Create or update contacts through the actors that own them; return how many were
        created."""
        owner = {p: i for i, owned in enumerate(self.layout) for p in owned}
        shares: list[dict[int, list[tuple[str, dict[str, Any]]]]] = [{} for _ in self.workers]
        for contact, fields in rows:
            partition = partition_of(contact, self.config.partitions)
            shares[owner[partition]].setdefault(partition, []).append((contact, fields))
        upto = self.registry.last_seq()
        calls = [
            w.import_contacts.remote(s, now, upto)
            for w, s in zip(self.workers, shares, strict=True)
            if s
        ]
        return sum(gather(calls))

    def step(self, now: float) -> Figures:
        """One round: every partition actor takes its waiting input and fires what is due up
        to ``now``, then every sender sends what the outboxes hold."""
        self.lease.renew()
        total = Figures()
        upto = self.registry.last_seq()  # one reading a round: the same operations for all
        for figures in gather([worker.step.remote(now, upto) for worker in self.workers]):
            total.add(figures)
        total.sent = sum(gather([sender.drain.remote(now) for sender in self.senders]))
        return total

    def run_for(self, seconds: float) -> Figures:
        """A live slice on the wall clock: every partition actor steps on its own for
        ``seconds`` (each applies new registry operations at its next step), then every
        sender sends what the outboxes hold."""
        self.lease.renew()
        total = Figures()
        for figures in gather([worker.run_for.remote(seconds) for worker in self.workers]):
            total.add(figures)
        total.sent = sum(gather([sender.drain.remote(time.time()) for sender in self.senders]))
        return total

    def waiting(self) -> int:
        """Input entries no partition has taken yet."""
        return sum(self.store.waiting(range(self.config.partitions)))

    def counts(self) -> Counter[tuple[str, str]]:
        """(program, node) -> times entered, over every partition."""
        total: Counter[tuple[str, str]] = Counter()
        for counts in gather([worker.counts.remote() for worker in self.workers]):
            total.update(counts)
        return total

    def figures(self) -> Figures:
        total = Figures()
        for figures in gather([worker.figures.remote() for worker in self.workers]):
            total.add(figures)
        return total
