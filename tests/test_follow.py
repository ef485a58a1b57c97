"""Partitions follow the program registry's operations log: every partition applies the same
operations in the same order, a restart applies none twice and skips none, and a gap in what
it is given is refused."""

from __future__ import annotations

import json

import pytest
from durable_support import append_raw, messages
from engine_support import START

from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import Partition
from parcours.core.lifecycle import Status
from parcours.core.registry import Operation, Registry
from parcours.core.shard import Shard
from parcours.core.store import Store
from parcours.rules.registry import CompiledVersions

DAY = 86_400


def program_text(template: str) -> str:
    """A welcome program whose mail, two days after the form, uses ``template``."""
    return json.dumps(
        {
            "program": "welcome",
            "name": "Welcome",
            "category": "onboarding",
            "entry": [{"on": "form.submitted"}],
            "nodes": {
                "wait": {"type": "delay", "for": "2d", "next": "hello"},
                "hello": {"type": "email", "template": template},
            },
        }
    )


class Follower:
    """Partitions of one store that follow one registry, each rebuilt as a new process would:
    its own catalog and its own compiled versions."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self.store, self.registry, self.clock = store, registry, VirtualClock(START)
        self.versions: dict[int, CompiledVersions] = {}  #: id(partition) -> its versions

    def partition(self, number: int = 0) -> Partition:
        versions = CompiledVersions(self.registry, Catalog())
        part = Partition(
            self.store,
            number,
            lambda n: Shard(versions.catalog, self.clock, partition=n),
            versions.digest,
        )
        self.versions[id(part)] = versions
        return part

    def follow(self, part: Partition) -> int:
        versions = self.versions[id(part)].number
        return part.follow(self.registry.operations(part.applied), versions)


@pytest.fixture
def follower(store: Store, registry: Registry) -> Follower:
    """A follower of a registry where the welcome program is deployed and active."""
    registry.deploy("welcome", program_text("hello"), "welcome.json", activate=True)
    return Follower(store, registry)


def test_partitions_apply_the_log_in_order_and_run_the_same_versions(
    follower: Follower, registry: Registry
) -> None:
    parts = [follower.partition(n) for n in range(2)]
    assert [follower.follow(part) for part in parts] == [2, 2]
    for part in parts:
        state = part.shard.by_id["welcome"]
        assert (state.status, part.applied) == (Status.ACTIVE, 2)
    registry.deploy("welcome", program_text("hello_again"), "welcome.json")
    registry.pause("welcome")
    assert [follower.follow(part) for part in parts] == [2, 2]
    assert [follower.follow(part) for part in parts] == [0, 0]  # nothing new
    versions = {part.shard.by_id["welcome"].compiled.version for part in parts}
    latest = registry.versions("welcome")[-1]
    assert len(versions) == 1 and parts[0].applied == 4 and latest.number == 2
    assert all(part.shard.by_id["welcome"].status is Status.PAUSED for part in parts)


def test_a_restarted_partition_keeps_what_it_applied_and_its_enrollments(
    follower: Follower, store: Store, registry: Registry
) -> None:
    part = follower.partition()
    follower.follow(part)
    part.upsert_contact("c1", {"email": "c1@example.org"})
    append_raw(store, 0, [{"contact": "c1", "event": "form.submitted", "timestamp": START}])
    part.step()
    registry.deploy("welcome", program_text("hello_again"), "welcome.json")

    rebuilt = follower.partition()  # a new process: the version comes back by its digest
    assert rebuilt.applied == 2
    assert rebuilt.shard.by_id["welcome"].compiled.version == registry_digest(registry, 1)
    assert follower.follow(rebuilt) == 1  # only the new deploy
    follower.clock.set(START + 3 * DAY)
    rebuilt.step()
    sent = messages(store.outbox(0))
    assert [(m[1], m[5]) for m in sent] == [("c1", "hello_again")]
    again = follower.partition()
    assert (again.applied, follower.follow(again)) == (3, 0)


def registry_digest(registry: Registry, number: int) -> str:
    versions = CompiledVersions(registry, Catalog())
    return versions.number("welcome", number).version


def test_a_gap_in_the_log_is_refused_and_nothing_after_it_applies(
    follower: Follower, registry: Registry
) -> None:
    part = follower.partition()
    later = registry.operations(after=1)
    with pytest.raises(ValueError, match="applied operation 0, then was given 2"):
        part.follow(later, follower.versions[id(part)].number)
    assert part.applied == 0 and "welcome" not in part.shard.by_id


def test_an_operation_of_another_kind_is_named(store: Store, registry: Registry) -> None:
    part = Follower(store, registry).partition()
    strange = Operation(1, "welcome", 1, "archive", START)
    with pytest.raises(ValueError, match="operation 1 is 'archive'"):
        part.follow([strange], lambda program, version: pytest.fail("nothing to compile"))
    assert part.applied == 0


def test_a_shard_s_version_is_found_by_its_digest_without_compiling_the_others(
    registry: Registry,
) -> None:
    """A newer version that does not compile does not keep a partition from its own."""
    registry.deploy("welcome", program_text("hello"), "welcome.json")
    registry.deploy("welcome", "{not json", "welcome.json")
    digest = registry_digest(registry, 1)
    versions = CompiledVersions(registry, Catalog())
    assert versions.digest("welcome", digest).version == digest
    with pytest.raises(KeyError):
        versions.digest("welcome", "0" * 16)
