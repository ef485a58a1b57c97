"""Owner epochs: a partition's new owner claims it before it loads, and from then on the commits
of an earlier owner are refused whole. The case they guard against: an actor that Ray replaced
while the old process still runs (a network partition on a cluster) must not commit beside its
replacement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EXAMPLES
from durable_support import Harness, append_raw
from engine_support import START, compiled
from test_stores import message

from parcours.actors.ingest import ingest
from parcours.actors.partitions import PartitionWorker, ServiceConfig
from parcours.actors.placement import Assignments
from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import pack
from parcours.core.registries.redis import RedisRegistry
from parcours.core.store import Commit, StaleOwner, Store, StoreError
from parcours.core.stores.embedded import EmbeddedValkey
from parcours.core.stores.redis import RedisStore
from parcours.ops import workload
from parcours.ops.deploy import deploy_paths
from parcours.rules.registry import CompiledVersions

HELLO = {
    "program": "hello", "name": "H", "category": "t", "entry": [{"on": "signed_up"}],
    "nodes": {"hello": {"type": "email", "template": "t"}},
}  # fmt: skip


def test_a_commit_under_an_earlier_claim_is_refused_and_writes_nothing(store: Store) -> None:
    first = store.claim(0)
    kept = {"ann": pack(["ann", 0])}
    store.commit(0, Commit(b"first", None, dict(kept), [message("ann", "email")], owner=first))
    second = store.claim(0)
    assert second > first and store.claim(1) == 1  # each partition has its own epochs
    late = Commit(b"late", None, {"bob": pack(["bob", 1]), "ann": None},
                  [message("bob", "sms")], suppress=["ann"], owner=first)  # fmt: skip
    with pytest.raises(StaleOwner, match=f"partition 0 was claimed .*epoch {second}.* {first}"):
        store.commit(0, late)
    loaded = store.load(0)
    assert (loaded.shard, loaded.contacts, loaded.suppressed) == (b"first", [kept["ann"]], set())
    assert store.outbox(0) == [message("ann", "email")]
    store.commit(0, Commit(b"second", None, {"bob": pack(["bob", 1])}, owner=second))
    assert store.load(0).shard == b"second"


def test_a_partition_taken_over_stops_and_its_successor_sends_each_message_once(
    store: Store,
) -> None:
    catalog, clock = Catalog(), VirtualClock(START)
    program = compiled(HELLO, catalog)
    harness = Harness(store, catalog, [program], clock)
    old = harness.partition()
    old.deploy(program, activate=True)
    for n in range(5):
        old.upsert_contact(f"c{n}", {"email": f"c{n}@x.org"})
    append_raw(store, 0, [{"contact": f"c{n}", "event": "signed_up"} for n in range(5)])
    successor = harness.partition()  # the old one still runs, unaware
    with pytest.raises(StaleOwner):
        old.step()
    with pytest.raises(StoreError, match="stopped after a failed commit"):
        old.step()  # and it refuses all work from then on
    assert store.outbox(0) == [] and store.load(0).cursor is None
    assert successor.drain() == 5
    assert sorted(entry.contact for entry in store.outbox(0)) == [f"c{n}" for n in range(5)]


@pytest.fixture
def config(tmp_path: Path) -> Iterator[ServiceConfig]:
    """An embedded Valkey with the examples deployed, and every partition given to ``w``."""
    server = EmbeddedValkey(tmp_path / "valkey")
    client = server.start()
    deployed = deploy_paths(RedisRegistry(client, clock=VirtualClock(START)), [EXAMPLES])
    Assignments(client).set("w", list(range(4)))
    yield ServiceConfig(f"unix://{server.socket}", str(tmp_path), 4, timezone=deployed.timezone)
    client.close()
    server.stop()


def test_a_replaced_worker_that_still_runs_commits_nothing(config: ServiceConfig) -> None:
    """Two workers of one name, as when Ray restarts an actor whose process did not die: the
    replacement owns the partitions, the old one's step is refused before it writes."""
    old = PartitionWorker(config, "w", CompiledVersions)
    old.import_contacts({}, START, old.registry.last_seq())
    replacement = PartitionWorker(config, "w", CompiledVersions)
    store = RedisStore(old.store.client)
    events = workload.stream(200, 500, START, 3600)
    ingest(store, 4, events, START)
    cursors = [store.load(number).cursor for number in range(4)]
    with pytest.raises(StaleOwner):
        old.step(START + 3600, old.registry.last_seq())
    assert [store.load(number).cursor for number in range(4)] == cursors
    assert replacement.step(START + 3600, replacement.registry.last_seq()).events == len(events)
    keys = [entry.key for number in range(4) for entry in store.outbox(number)]
    assert keys and len(keys) == len(set(keys))
