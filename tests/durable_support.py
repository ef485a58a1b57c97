"""Helpers for durable-state tests: a partition over a store that can be "crashed" and rebuilt."""

from __future__ import annotations

from collections import Counter
from typing import Any

from engine_support import START

from parcours.core.batch import parse_batch
from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import Partition
from parcours.core.program import CompiledProgram
from parcours.core.shard import Shard
from parcours.core.store import Store


def append_raw(store: Store, partition: int, raws: list[dict[str, Any]]) -> int:
    """Append Segment-style events (each must parse) to a partition's input stream."""
    batch, refused = parse_batch(raws, START)
    assert not refused, refused
    return store.append(partition, batch)


class Harness:
    """Builds partitions of one workspace over one store, as a restarted process would."""

    def __init__(
        self, store: Store, catalog: Catalog, programs: list[CompiledProgram], clock: VirtualClock
    ) -> None:
        self.store, self.catalog, self.clock = store, catalog, clock
        self.versions = {(p.id, p.version): p for p in programs}

    def new_shard(self, partition: int) -> Shard:
        return Shard(self.catalog, self.clock, partition=partition)

    def partition(self, number: int = 0) -> Partition:
        return Partition(self.store, number, self.new_shard, lambda i, v: self.versions[(i, v)])


def messages(entries: Any) -> Counter[tuple[Any, ...]]:
    """Outbox entries without their keys (an enrollment's ident depends on row reuse)."""
    return Counter((e.channel, e.contact, e.program, e.node, e.time, e.template) for e in entries)


def standing(shard: Shard) -> Counter[tuple[str, str, str]]:
    """(contact, program, node) of every live enrollment."""
    enrollments = shard.enrollments
    found: Counter[tuple[str, str, str]] = Counter()
    for slot in enrollments.live.slots():
        state = shard.programs[enrollments.program(slot)]
        contact = shard.contacts.ids[enrollments.contact(slot)]
        found[(str(contact), state.id, state.compiled.nodes[enrollments.node[slot]].id)] += 1
    return found
