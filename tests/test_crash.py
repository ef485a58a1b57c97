"""Crash tests: real processes, a real Valkey. The engine process is killed with SIGKILL at
random points and restarted, the Valkey server too; at the end the outbox and every enrollment
are checked against a ledger (the same workload run once, in memory, without a crash)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from crash_workload import (
    END,
    LAST_EVENT,
    PARTITIONS,
    events,
    new_shard,
    partitions,
    profile,
    program,
)
from durable_support import standing
from engine_support import START

from parcours.core.batch import EventBatch
from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import Partition
from parcours.core.shard import Shard
from parcours.core.store import StoreError, partition_of
from parcours.core.stores.embedded import EmbeddedValkey, connect
from parcours.core.stores.redis import RedisStore

WORKER = Path(__file__).resolve().parent / "crash_workload.py"


def ledger() -> list[Shard]:
    """The workload's partitions, run in memory once, as the crashed runs must end."""
    catalog, clock = Catalog(), VirtualClock(START)
    onboarding = program(catalog)
    shards = [new_shard(catalog, clock, p) for p in range(PARTITIONS)]
    clock.set(LAST_EVENT)
    for shard in shards:
        shard.deploy(onboarding, activate=True)
    for contact in sorted({e.contact for e in events()}):
        shards[partition_of(contact, PARTITIONS)].upsert_contact(contact, profile(contact))
    for event in events():
        shards[partition_of(event.contact, PARTITIONS)].ingest([event])
    for shard in shards:
        shard.run_until(END)
    return shards


def fill(store: RedisStore) -> None:
    for part in range(PARTITIONS):
        mine = [e for e in events() if partition_of(e.contact, PARTITIONS) == part]
        for first in range(0, len(mine), 5):
            store.append(part, EventBatch.of(mine[first : first + 5]))


def start_worker(socket: Path) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [sys.executable, str(WORKER), str(socket)], stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"  # partitions rebuilt: kill from here
    return worker


def check_against_ledger(store: RedisStore) -> None:
    expected = ledger()
    catalog, clock = Catalog(), VirtualClock(START)
    onboarding = program(catalog)
    for number, shard in enumerate(expected):
        outbox = store.outbox(number)
        keys = Counter(entry.key for entry in outbox)
        assert max(keys.values()) == 1, "a message was committed twice"
        sent = Counter((e.channel, e.contact, e.node, e.time) for e in outbox)
        wanted = Counter((e.channel, e.contact, e.node, e.time) for e in shard.outbox.entries)  # type: ignore[attr-defined]
        assert sent == wanted
        rebuilt = Partition(
            store,
            number,
            lambda n: new_shard(catalog, clock, n),
            lambda i, v: onboarding,
        )
        assert standing(rebuilt.shard) == standing(shard)
        assert rebuilt.shard.node_counts() == shard.node_counts()


def filled_server(folder: Path) -> tuple[EmbeddedValkey, RedisStore]:
    """An embedded Valkey in ``folder`` whose input streams hold the whole workload."""
    server = EmbeddedValkey(folder)
    store = RedisStore(server.start())
    fill(store)
    return server, store


def run_to_the_end(server: EmbeddedValkey, store: RedisStore) -> None:
    """A last engine process, left to finish; then the store must match the ledger."""
    worker = start_worker(server.socket)
    assert worker.wait(timeout=240) == 0
    check_against_ledger(store)


def test_the_engine_killed_at_random_points_loses_and_repeats_nothing(tmp_path: Path) -> None:
    server, store = filled_server(tmp_path / "data")
    rng = random.Random(3)
    killed = 0
    try:
        for _ in range(5):
            worker = start_worker(server.socket)
            try:
                worker.wait(timeout=rng.uniform(0.02, 0.25))
            except subprocess.TimeoutExpired:
                worker.send_signal(signal.SIGKILL)
                killed += 1
            worker.wait()
        assert killed >= 3, "the workload ended before most kills: make it longer"
        run_to_the_end(server, store)
    finally:
        server.stop()


def test_the_server_killed_and_restarted_loses_nothing(tmp_path: Path) -> None:
    server, store = filled_server(tmp_path / "data")
    worker = start_worker(server.socket)
    try:
        worker.wait(timeout=0.2)
        pytest.fail("the workload ended before the server was killed: make it longer")
    except subprocess.TimeoutExpired:
        server.kill()  # the engine's next commit fails: it stops with an error
        assert worker.wait(timeout=60) != 0
    server = EmbeddedValkey(tmp_path / "data")  # the append-only file brings everything back
    store = RedisStore(server.start())
    try:
        run_to_the_end(server, store)
    finally:
        server.stop()


def test_a_full_server_stops_the_engine_with_a_clear_error(tmp_path: Path) -> None:
    server, store = filled_server(tmp_path / "data")
    client = store.client
    try:
        part = partitions(store)[0]  # claimed and loaded: the commit meets the full server
        before = store.load(0)
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory", used)  # full: every write is refused
        with pytest.raises(StoreError, match="out of memory"):
            part.step(count=5, until=part.shard.now)
        client.config_set("maxmemory", 0)
        assert store.load(0) == before  # the commit's script wrote nothing
        run_to_the_end(server, store)
    finally:
        server.stop()


def test_no_server_to_be_had_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"cannot reach REDIS_URL=redis://127\.0\.0\.1:1"):
        connect("redis://127.0.0.1:1")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the data folder"):
        EmbeddedValkey(blocker / "data").start()
    server = EmbeddedValkey(tmp_path / "data")
    server.start()
    try:
        with pytest.raises(StoreError, match="another server already runs"):
            EmbeddedValkey(tmp_path / "data").start()
    finally:
        server.stop()
