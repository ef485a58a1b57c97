"""The engine as a Ray service (real local Ray, real Valkey): N partition actors give what the
in-process engine gives (messages, timings, final state), through a change of N and an actor
killed mid-step; sender actors write each message once, one of them killed mid-run.

Kept few and small: Ray starts once for the module, on 2 CPUs."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray
import redis
from conftest import EXAMPLES
from durable_support import standing

from parcours.actors.partitions import ServiceConfig
from parcours.actors.service import Service, start_ray
from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import Partition
from parcours.core.imports import import_contacts
from parcours.core.outbox import ListOutbox, OutboxEntry
from parcours.core.registries.redis import RedisRegistry
from parcours.core.shard import Shard
from parcours.core.stores.embedded import EmbeddedValkey
from parcours.core.stores.redis import RedisStore
from parcours.ops import workload
from parcours.ops.deploy import deploy_paths
from parcours.rules import compile_workspace
from parcours.rules.project import load_valid_project
from parcours.rules.registry import CompiledVersions

START = 1_798_963_200.0  # Monday 2027-01-04T08:00:00Z
HOUR = 3600
HOURS = 72
CONTACTS = 150
PARTITIONS = 8


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    start_ray(2)
    yield
    ray.shutdown()


@pytest.fixture
def config(tmp_path: Path) -> Iterator[ServiceConfig]:
    """A fresh embedded Valkey, the examples deployed in its registry, and the config that
    points actors at it."""
    server = EmbeddedValkey(tmp_path / "valkey")
    client = server.start()
    registry = RedisRegistry(client, clock=VirtualClock(START))
    deployed = deploy_paths(registry, [EXAMPLES])
    url = f"unix://{server.socket}"
    yield ServiceConfig(url, str(tmp_path), PARTITIONS, timezone=deployed.timezone,
                        caps=deployed.caps)  # fmt: skip
    client.close()
    server.stop()


def events() -> list[Any]:
    """Three days of the shop's stream from the workload's contacts."""
    return workload.stream(CONTACTS, 1500, START, HOURS * HOUR)


def hour_of(event: Any) -> int:
    return int((event.time - START) // HOUR)


def message(entry: OutboxEntry) -> tuple[Any, ...]:
    """A message without its key (the key names the partition)."""
    return (entry.channel, entry.contact, entry.program, entry.node, entry.time, entry.template)


def in_process() -> tuple[Counter[tuple[Any, ...]], Counter[Any], Counter[Any]]:
    """Messages, node counts and live enrollments of the in-process engine, hour by hour."""
    project = load_valid_project([EXAMPLES])
    workspace = project.workspace_of(project.programs[0])
    compiled = compile_workspace(project.programs, workspace=workspace)
    clock, outbox = VirtualClock(START), ListOutbox()
    shard = Shard(compiled.catalog, clock, outbox, caps=compiled.caps, timezone=compiled.timezone)
    for program in compiled.programs.values():  # the registry has them before any contact
        shard.deploy(program, activate=True)
    import_contacts(shard, workload.contacts(CONTACTS))
    stream = events()
    for hour in range(HOURS + 1):
        clock.set(START + (hour + 1) * HOUR)
        shard.ingest([event for event in stream if hour_of(event) == hour])
        shard.tick()
    return Counter(map(message, outbox.entries)), shard.node_counts(), standing(shard)


def stored_state(config: ServiceConfig) -> tuple[Counter[tuple[Any, ...]], Counter[Any]]:
    """Messages left in the outboxes and live enrollments, read back from the store."""
    store = RedisStore(redis.Redis.from_url(config.redis_url))
    versions = CompiledVersions(RedisRegistry(store.client), Catalog(), config.timezone)
    messages: Counter[tuple[Any, ...]] = Counter()
    enrollments: Counter[Any] = Counter()
    clock = VirtualClock(START)
    for number in range(PARTITIONS):
        messages.update(map(message, store.outbox(number)))
        part = Partition(store, number, lambda n: Shard(versions.catalog, clock, partition=n),
                         versions.digest)  # fmt: skip
        enrollments.update(standing(part.shard))
    return messages, enrollments


def drive(service: Service, on_hour: Any = None) -> int:
    """Contacts, then the stream hour by hour, each hour one step at its end; return the
    events the partitions took."""
    service.import_contacts(workload.contacts(CONTACTS), START)
    stream, taken = events(), 0
    for hour in range(HOURS + 1):
        service.ingest([event for event in stream if hour_of(event) == hour], START)
        if on_hour is not None:
            on_hour(hour)
        taken += service.step(START + (hour + 1) * HOUR).events
    return taken


@pytest.mark.parametrize("actors", [1, 4])
def test_n_actors_give_what_the_in_process_engine_gives(
    local_ray: None, config: ServiceConfig, actors: int
) -> None:
    """With 4 actors, N changes to 2 halfway and an actor is killed in the middle of a step."""
    service = Service(config, actors, CompiledVersions, channels=())

    def disturb(hour: int) -> None:
        if actors == 4 and hour == HOURS // 2:
            service.scale(2)
        if actors == 4 and hour == HOURS // 2 + 5:
            victim = service.workers[1]
            pid = ray.get(victim.pid.remote())
            pending = victim.step.remote(START + (hour + 0.5) * HOUR)
            os.kill(pid, signal.SIGKILL)
            ray.get(pending)  # Ray restarts the actor and runs the step again
            assert ray.get(victim.pid.remote()) != pid

    taken = drive(service, disturb)
    # a killed step's figures are lost with it (its commits are not): count without a kill
    assert service.waiting() == 0 and (actors == 4 or taken == len(events()))
    counts = service.counts()
    service.stop()
    messages, counted, live = in_process()
    assert sum(messages.values()) > 100 and len(counted) > 15  # the workload does something
    stored, enrolled = stored_state(config)
    assert stored - messages == Counter() and messages - stored == Counter()
    assert enrolled == live
    assert counts == counted


def test_sender_actors_write_each_message_once(
    local_ray: None, config: ServiceConfig, tmp_path: Path
) -> None:
    """A sender actor killed mid-run: its messages are all written, none twice, and the
    delivery results reach the engine as events."""
    service = Service(config, 2, CompiledVersions)

    def kill_sender(hour: int) -> None:
        if hour == 30:
            os.kill(ray.get(service.senders[0].pid.remote()), signal.SIGKILL)  # email

    taken = drive(service, kill_sender)
    taken += service.step(START + (HOURS + 2) * HOUR).events  # the last results come back
    figures = service.figures()
    service.stop()
    written = [json.loads(line) for path in (tmp_path / "outbox").glob("*.jsonl")
               for line in path.read_text().splitlines()]  # fmt: skip
    keys = Counter(line["key"] for line in written)
    assert keys and max(keys.values()) == 1
    committed, _ = stored_state(config)
    assert not committed  # every message left the outboxes
    assert {line["channel"] for line in written} >= {"email", "sms"}
    assert taken == len(events()) + len(written)  # each result came back once, as an event
    assert figures.partitions == PARTITIONS and service.waiting() == 0
