"""The crash tests' workload: a program, contacts and events, and the process that runs them.

Run as a script (``python crash_workload.py SOCKET``) it is the engine process the crash tests
kill: it rebuilds its partitions from the embedded Valkey, prints ``ready``, then takes the
input stream in small batches and fires timers up to the end, committing after each step.
"""

from __future__ import annotations

import random
import sys
from typing import Any

import redis
from engine_support import DAY, START, compiled

from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import Partition
from parcours.core.events import Event
from parcours.core.program import CompiledProgram
from parcours.core.shard import Shard
from parcours.core.store import Store, partition_of
from parcours.core.stores.redis import RedisStore

PARTITIONS = 2
CONTACTS = [f"u{i}" for i in range(1000)]
LAST_EVENT = START + 2 * DAY
END = START + 6 * DAY
PROGRAM = {
    "program": "onboarding", "name": "Onboarding", "category": "test",
    "entry": [{"on": "signed_up"}],
    "nodes": {
        "hello": {"type": "email", "template": "hello", "next": "pause"},
        "pause": {"type": "delay", "for": "1d", "next": "bought"},
        "bought": {"type": "wait_for", "event": "order.completed", "timeout": "2d",
                   "then": "thanks", "on_timeout": "reminder"},
        "thanks": {"type": "email", "template": "thanks"},
        "reminder": {"type": "sms", "text": "still there?"},
    },
}  # fmt: skip


def program(catalog: Catalog) -> CompiledProgram:
    return compiled(PROGRAM, catalog)


def events() -> list[Event]:
    """Sign-ups over two days, orders from a third of the contacts, and noise, in time order."""
    rng = random.Random(5)
    found = []
    for contact in CONTACTS:
        signed = START + rng.random() * DAY
        found.append(Event(contact, "signed_up", signed))
        if rng.random() < 1 / 3:
            found.append(Event(contact, "order.completed", signed + rng.random() * DAY))
        found.append(Event(contact, "page.viewed", START + rng.random() * 2 * DAY, {"p": "/"}))
    return sorted(found, key=lambda e: (e.time, e.contact, e.name))


def profile(contact: str) -> dict[str, Any]:
    return {"email": f"{contact}@x.org", "phone": "+33600000000"}


def new_shard(catalog: Catalog, clock: VirtualClock, partition: int) -> Shard:
    return Shard(catalog, clock, partition=partition)


def partitions(store: Store) -> list[Partition]:
    catalog, clock = Catalog(), VirtualClock(START)
    onboarding = program(catalog)
    versions = {(onboarding.id, onboarding.version): onboarding}
    built = [
        Partition(store, p, lambda n: new_shard(catalog, clock, n), lambda i, v: versions[(i, v)])
        for p in range(PARTITIONS)
    ]
    clock.set(LAST_EVENT)  # a wall clock past every event (none is refused as future)
    for part in built:
        if not part.shard.programs:  # the first start: deploy, then add the contacts
            part.deploy(onboarding, activate=True)
    for contact in CONTACTS:
        part = built[partition_of(contact, PARTITIONS)]
        if part.shard.contacts.slot(contact) is None:
            part.upsert_contact(contact, profile(contact))
    return built


def run(store: Store) -> None:
    """Take the input in batches of 5, then fire timers ten minutes at a time up to the end."""
    built = partitions(store)
    print("ready", flush=True)
    for part in built:
        while part.step(count=5, until=part.shard.now):
            pass
        while part.shard.now < END:
            part.step(until=min(END, part.shard.now + 600))


if __name__ == "__main__":
    run(RedisStore(redis.Redis(unix_socket_path=sys.argv[1])))
