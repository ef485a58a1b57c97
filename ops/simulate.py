"""``parcours simulate``: one program on generated contacts and events, with per-node counts."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from parcours.core.clock import VirtualClock
from parcours.core.events import Event
from parcours.core.outbox import ListOutbox
from parcours.core.program import MESSAGE_KINDS, CompiledProgram
from parcours.core.shard import Shard
from parcours.rules import compile_workspace
from parcours.rules.project import load_valid_project

#: a fixed Monday morning, so that the same seed gives the same run on any day
START = 1798963200.0  # 2027-01-04T08:00:00Z
CITIES = ["Paris", "Lyon", "Marseille", "Lille", "Nantes", "Bordeaux"]
ZONES = ["Europe/Paris", "Europe/London", "America/New_York", "Asia/Tokyo"]
#: chance per contact and day of each event the program listens to
DAILY_CHANCE = 0.08


def simulate(path: Path, contacts: int, days: int, seed: int) -> list[str]:
    """Run the program of ``path`` and return the report's lines."""
    project = load_valid_project([path])
    compiled = compile_workspace(
        project.programs, workspace=project.workspace_of(project.programs[0])
    )
    program = next(iter(compiled.programs.values()))
    rng = random.Random(seed)
    clock = VirtualClock(START)
    shard = Shard(
        compiled.catalog, clock, ListOutbox(), caps=compiled.caps, timezone=compiled.timezone
    )
    for i in range(contacts):
        shard.upsert_contact(f"c{i}", _contact(rng, program, compiled.catalog))
    shard.deploy(program, activate=True)
    began = time.perf_counter()
    events = sorted(_events(rng, program, compiled.catalog, contacts, days), key=lambda e: e.time)
    for event in events:
        clock.set(max(clock.now(), event.time))
        shard.ingest([event])
    clock.set(START + days * 86400)
    shard.tick()
    return _report(shard, program, contacts, days, len(events), time.perf_counter() - began)


def _contact(rng: random.Random, program: CompiledProgram, catalog: Any) -> dict[str, Any]:
    strings = list(program.bytecode.strings) or ["x"]
    fields: dict[str, Any] = {
        "email": f"user{rng.randrange(10**9)}@example.com",
        "phone": f"+3360{rng.randrange(10**7):07d}",
        "first_name": rng.choice(["Ana", "Louis", "Emma", "Noah", "Jade"]),
        "city": rng.choice(CITIES),
        "timezone": rng.choice(ZONES),
        "birthday": _birthday(rng),
        "groups": [g for g in catalog.groups if rng.random() < 0.5],
    }
    for name in catalog.fields:  # fields the program reads get plausible values
        if name not in fields:
            fields[name] = rng.choice([*strings, rng.randrange(0, 100), None])
    return fields


def _birthday(rng: random.Random) -> str:
    return f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"


def _events(
    rng: random.Random, program: CompiledProgram, catalog: Any, contacts: int, days: int
) -> Iterator[Event]:
    names = [catalog.events.name(e) for e in program.routes] + [
        catalog.events.name(int(e)) for e in program.bytecode.history.event
    ]
    names = sorted(set(names)) or ["page.viewed"]
    messages = [n.id for n in program.nodes if n.kind in MESSAGE_KINDS]
    strings = list(program.bytecode.strings)
    props = list(catalog.props)
    for day in range(days):
        for i in range(contacts):
            for name in names:
                if rng.random() < DAILY_CHANCE:
                    at = START + day * 86400 + rng.randrange(86400)
                    properties = {
                        p: rng.choice(strings) for p in props if strings and rng.random() < 0.7
                    }
                    if messages and name.split(".")[0] in ("email", "sms"):
                        properties |= {"program": program.id, "message": rng.choice(messages)}
                    yield Event(f"c{i}", name, at, properties)


def _report(
    shard: Shard, program: CompiledProgram, contacts: int, days: int, events: int, seconds: float
) -> list[str]:
    stats = shard.stats
    lines = [
        f"{program.id}: {contacts} contacts, {days} days, {events} events "
        f"({events / seconds if seconds else 0:,.0f} events/s on this machine)",
        f"enrolled {stats.enrolled[program.id]}, live at the end {len(shard.enrollments)}",
        "",
        f"{'node':<28} {'type':<14} {'entered':>8}",
    ]
    counts = shard.node_counts()
    for node in program.nodes:
        kind = node.kind.name.lower()
        lines.append(f"{node.id:<28} {kind:<14} {counts[(program.id, node.id)]:>8}")
    lines.append("")
    for (_, channel), count in sorted(stats.sent.items()):
        lines.append(f"sent {channel}: {count}")
    for (_, reason), count in sorted(stats.exited.items()):
        lines.append(f"exited ({reason}): {count}")
    for (_, reason), count in sorted(stats.refused.items()):
        lines.append(f"refused ({reason}): {count}")
    if stats.conversions[program.id]:
        lines.append(f"conversions (goal reached): {stats.conversions[program.id]}")
    return lines
