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
from durable_support import messages, standing

from parcours.actors.partitions import ServiceConfig
from parcours.actors.service import Service, start_ray
from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import Partition
from parcours.core.imports import import_contacts
from parcours.core.outbox import ListOutbox
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


#: hour -> life-cycle operations at its end (the in-process engine after that hour's tick;
#: the service records them before the next round)
OPERATIONS = {
    20: [("pause", "welcome-coupon")],
    30: [("resume", "welcome-coupon"), ("pause", "newsletter-welcome")],
    40: [("stop", "newsletter-welcome")],
}


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
        for operation, program in OPERATIONS.get(hour, []):
            getattr(shard, operation)(program)
    return messages(outbox.entries), shard.node_counts(), standing(shard)


def stored_state(config: ServiceConfig) -> tuple[Counter[tuple[Any, ...]], Counter[Any]]:
    """Messages left in the outboxes and live enrollments, read back from the store."""
    store = RedisStore(redis.Redis.from_url(config.redis_url))
    versions = CompiledVersions(RedisRegistry(store.client), Catalog(), config.timezone)
    left: Counter[tuple[Any, ...]] = Counter()
    enrollments: Counter[Any] = Counter()
    clock = VirtualClock(START)
    for number in range(PARTITIONS):
        left.update(messages(store.outbox(number)))
        part = Partition(store, number, lambda n: Shard(versions.catalog, clock, partition=n),
                         versions.digest)  # fmt: skip
        enrollments.update(standing(part.shard))
    return left, enrollments


def drive(service: Service, config: ServiceConfig, on_hour: Any = None) -> int:
    """Contacts, then the stream hour by hour, each hour one step at its end, with the
    :data:`OPERATIONS` recorded between rounds; return the events the partitions took."""
    registry = RedisRegistry(redis.Redis.from_url(config.redis_url))
    service.import_contacts(workload.contacts(CONTACTS), START)
    stream, taken = events(), 0
    for hour in range(HOURS + 1):
        service.ingest([event for event in stream if hour_of(event) == hour], START)
        for operation, program in OPERATIONS.get(hour - 1, []):
            getattr(registry, operation)(program)
        if on_hour is not None:
            on_hour(hour)
        taken += service.step(START + (hour + 1) * HOUR).events
    return taken


@pytest.mark.parametrize("actors", [1, 4])
def test_n_actors_give_what_the_in_process_engine_gives(
    local_ray: None, config: ServiceConfig, actors: int
) -> None:
    """Programs paused, resumed and stopped on the way; 1 actor becomes 3 halfway; 4 become
    2, and an actor is killed while its step is in flight."""
    service = Service(config, actors, CompiledVersions, channels=())

    def disturb(hour: int) -> None:
        if hour == HOURS // 2:
            service.scale(3 if actors == 1 else 2)
        if actors == 4 and hour == HOURS // 2 + 5:
            victim = service.workers[1]
            pid = ray.get(victim.pid.remote())
            pending = victim.step.remote(START + (hour + 0.5) * HOUR, service.registry.last_seq())
            os.kill(pid, signal.SIGKILL)
            ray.get(pending)  # Ray restarts the actor and runs the step again
            assert ray.get(victim.pid.remote()) != pid

    taken = drive(service, config, disturb)
    # a killed step's figures are lost with it (its commits are not): count without a kill
    assert service.waiting() == 0 and (actors == 4 or taken == len(events()))
    counts = service.counts()
    service.stop()
    expected, counted, live = in_process()
    assert sum(expected.values()) > 100 and len(counted) > 15  # the workload does something
    stored, enrolled = stored_state(config)
    assert stored - expected == Counter() and expected - stored == Counter()
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

    taken = drive(service, config, kill_sender)
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
