"""The engine on a real-looking stream: every example program deployed, most events concern none.

The shop's stream of ops/workload.py (most events concern no program) from contacts that exist
beforehand. The time includes every transition and timer that fires (welcome delays, cart
reminders ...) while the stream covers two days.

The peer is durable_rules (a Rete engine in C with a Python API, from PyPI), given one rule per
entry trigger of the same programs, on the same events: it only matches, and keeps no
enrollment, timer or history.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from parcours.core.batch import EventBatch
from parcours.core.clock import VirtualClock
from parcours.core.events import Event
from parcours.core.outbox import ListOutbox
from parcours.core.program import CompiledProgram, EntryKind
from parcours.core.shard import Shard
from parcours.ops import workload
from parcours.rules import compile_workspace, load_project

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
START = 1_796_112_000.0


def stream(contacts: int, count: int, seed: int = 11) -> list[Event]:
    """The shop's stream over two days (ops/workload.py)."""
    return workload.stream(contacts, count, START, 2 * 86400, seed)


def engine_rate(contacts: int, events: list[Event]) -> tuple[float, int, int]:
    """(events/s, events the router let through, messages) for the stream on every example."""
    project = load_project([EXAMPLES])
    compiled = compile_workspace(project.programs)
    clock = VirtualClock(START)
    shard = Shard(compiled.catalog, clock, ListOutbox(), timezone="Europe/Paris")
    for i in range(contacts):  # known contacts, before the programs (no welcome for them)
        shard.upsert_contact(f"c{i}", {"email": f"c{i}@example.com", "phone": f"+336{i:08d}"})
    for program in triggered(compiled.programs.values()):
        shard.deploy(program, activate=True)
    accepted_before = shard.stats.events["accepted"]
    # in columns, as a partition reads them from its input stream (bench/durable.py times that)
    batches = [EventBatch.of(events[first : first + 1000]) for first in range(0, len(events), 1000)]
    began = time.perf_counter()
    for batch in batches:
        clock.set(batch.times[-1])
        shard.ingest(batch)
    seconds = time.perf_counter() - began
    taken = shard.stats.events["accepted"] + shard.stats.events["late"] - accepted_before
    assert taken == len(events), shard.stats.events
    return len(events) / seconds, shard.stats.passed, len(shard.outbox.entries)  # type: ignore[attr-defined]


def peer_rate(events: list[Event]) -> float | None:
    """durable_rules on the same events, one rule per entry trigger; None if not installed."""
    try:
        from durable.engine import MessageNotHandledException
        from durable.lang import m, post, ruleset, when_all
    except ImportError:
        return None
    project = load_project([EXAMPLES])
    compiled = compile_workspace(project.programs)
    names = compiled.catalog.events
    triggers = {
        names.name(entry.event)
        for program in triggered(compiled.programs.values())
        for entry in program.entries
        if entry.kind is EntryKind.EVENT
    }
    with ruleset("parcours_mix"):
        for number, name in enumerate(sorted(triggers)):
            when_all(m.event == name)(_action(f"trigger_{number}"))
    # durable_rules holds a bounded number of sessions (MemoryError past a few thousand) and
    # these rules match single events, so contacts share 1,000 sessions
    messages = [{"sid": hash(e.contact) % 1000, "event": e.name, **e.properties} for e in events]
    began = time.perf_counter()
    for message in messages:
        # durable_rules raises for an event no rule matches: most of them
        with contextlib.suppress(MessageNotHandledException):
            post("parcours_mix", message)
    return len(events) / (time.perf_counter() - began)


def triggered(programs: Iterable[CompiledProgram]) -> list[CompiledProgram]:
    """The programs that events drive: those with segment or date entries run on the clock
    over every contact at once, which the segment figure measures."""
    clocked = {EntryKind.SEGMENT, EntryKind.DATE}
    return [p for p in programs if not any(e.kind in clocked for e in p.entries)]


def _action(name: str) -> Any:
    """durable_rules names a rule after its function: each needs its own."""

    def matched(context: Any) -> None:
        del context

    matched.__name__ = name
    return matched


def noise(events: list[Event]) -> list[Event]:
    """The events of the stream that no program names (the router's own rate)."""
    return [e for e in events if e.name in workload.UNNAMED]


def figures(contacts: int, count: int) -> dict[str, float | None]:
    """Events/s of the whole stream and of its unnamed part, and the share the router took."""
    events = stream(contacts, count)
    rate, passed, _ = engine_rate(contacts, events)
    unnamed = noise(events)
    router_rate, _, _ = engine_rate(contacts, unnamed)
    return {"mix": rate, "passed_share": passed / len(events), "router": router_rate}


def pure_figures(contacts: int, count: int) -> dict[str, float | None]:
    """The same figures from the pure twins, in a process of their own (the hot path is chosen
    at import)."""
    command = [sys.executable, __file__, str(contacts), str(count)]
    environment = {**os.environ, "PARCOURS_PUREPYTHON": "1"}
    found = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    return dict(json.loads(found.stdout))


if __name__ == "__main__":  # the pure twins' run of pure_figures
    print(json.dumps(figures(int(sys.argv[1]), int(sys.argv[2]))))
