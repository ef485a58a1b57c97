"""Helpers for engine tests: programs from mappings, a shard with a virtual clock."""

from __future__ import annotations

from typing import Any

from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.outbox import ListOutbox
from parcours.core.program import CompiledProgram, FrequencyCap
from parcours.core.shard import Shard
from parcours.rules.compiler import compile_program
from parcours.rules.program import check_program
from parcours.rules.source import Document

#: 2026-12-01T08:00:00Z, a Tuesday
START = 1796112000.0
DAY = 86400.0


def compiled(data: dict[str, Any], catalog: Catalog) -> CompiledProgram:
    """Validate and compile a program written as a mapping; fail loudly if it is invalid."""
    check = check_program(Document(f"{data.get('program')}.yaml", data))
    assert check.program is not None, [str(p) for p in check.checker.problems]
    return compile_program(check.program, catalog)


def shard_with(
    *programs: dict[str, Any],
    caps: tuple[FrequencyCap, ...] = (),
    trace: bool = False,
    start: float = START,
) -> tuple[Shard, VirtualClock]:
    """A shard at ``start`` with ``programs`` deployed and active."""
    catalog = Catalog()
    clock = VirtualClock(start)
    shard = Shard(catalog, clock, ListOutbox(), caps=caps, trace=trace)
    for data in programs:
        shard.deploy(compiled(data, catalog), activate=True)
    return shard, clock


def outbox(shard: Shard) -> list[tuple[str, str, str, str, float]]:
    """The outbox as comparable tuples (key, channel, contact, node, time)."""
    entries = shard.outbox.entries  # type: ignore[attr-defined]
    return [(e.key, e.channel, e.contact, e.node, e.time) for e in entries]
