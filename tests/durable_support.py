"""Helpers for durable-state tests: a partition over a store that can be "crashed" and rebuilt."""

from __future__ import annotations

from collections import Counter
from typing import Any

from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import Partition
from parcours.core.events import Event
from parcours.core.program import CompiledProgram
from parcours.core.shard import Shard
from parcours.core.store import Store


def as_raw(event: Event) -> dict[str, Any]:
    """An event as it enters the input stream (Segment-style)."""
    raw: dict[str, Any] = {
        "contact": event.contact,
        "event": event.name,
        "timestamp": event.time,
        "properties": dict(event.properties),
    }
    if event.message_id is not None:
        raw["messageId"] = event.message_id
    return raw


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
