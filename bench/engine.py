"""Engine throughput in pure Python on the welcome example (issue 3's floor).

Contacts submit the newsletter form, receive the welcome email, open it or not, browse pages;
two days later the condition sends the coupon by email or SMS. Every event goes through the
shard state machine in-process: contact lookup, routing, trigger match, transitions, timers.

    python bench/engine.py [--contacts N] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from pathlib import Path

from parcours.core import hotpath
from parcours.core.clock import VirtualClock
from parcours.core.events import Event
from parcours.core.outbox import ListOutbox
from parcours.core.shard import Shard
from parcours.rules import compile_workspace, load_project

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
START = 1796112000.0  # 2026-12-01T08:00:00Z
#: issue 3: at least 100,000 events per second per core, pure Python, welcome example
TARGET = 100_000
#: events per ingest call
BATCH = 1000


def workload(contacts: int, seed: int = 7) -> list[Event]:
    """Per contact: a form submission, delivery, often an open, a few page views."""
    rng = random.Random(seed)
    events = []
    for i in range(contacts):
        contact = f"c{i}"
        at = START + rng.randrange(86400)
        events.append(Event(contact, "form.submitted", at, {"form": "newsletter"}))
        about = {"program": "welcome-coupon", "message": "welcome"}
        events.append(Event(contact, "email.delivered", at + 60, about))
        if rng.random() < 0.4:
            events.append(Event(contact, "email.opened", at + rng.randrange(3600, 86400), about))
        for _ in range(3):
            path = rng.choice(["/", "/blog", "/pricing", "/docs"])
            events.append(Event(contact, "page.viewed", at + rng.randrange(172800), {"path": path}))
    events.sort(key=lambda e: e.time)
    return events


def run(contacts: int) -> dict[str, float]:
    project = load_project([EXAMPLES / "welcome-coupon.yaml"])
    compiled = compile_workspace(project.programs)
    events = workload(contacts)
    clock = VirtualClock(START)
    shard = Shard(compiled.catalog, clock, ListOutbox())
    shard.deploy(compiled.programs["welcome-coupon"], activate=True)
    for i in range(contacts):
        shard.upsert_contact(f"c{i}", {"email": f"c{i}@example.com", "phone": f"+336{i:08d}"})
    began = time.perf_counter()
    for first in range(0, len(events), BATCH):  # as a partition takes its stream: in batches
        batch = events[first : first + BATCH]
        clock.set(max(clock.now(), batch[-1].time))
        shard.ingest(batch)
    clock.set(START + 5 * 86400)
    shard.tick()
    seconds = time.perf_counter() - began
    sent = len(shard.outbox.entries)  # type: ignore[attr-defined]
    return {"events": len(events), "seconds": seconds, "rate": len(events) / seconds, "sent": sent}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    figures = run(args.contacts)
    if args.json:
        rate = round(figures["rate"])
        record = {
            "metric": "engine_events_per_second", "value": rate, "unit": "events/s",
            "target": TARGET, "pure": hotpath.PURE,
        }  # fmt: skip
        print(json.dumps(record))
        return
    verdict = "meets" if figures["rate"] >= TARGET else "BELOW"
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(
        f"welcome example, {args.contacts:,} contacts, {figures['events']:,.0f} events, "
        f"{figures['sent']:,.0f} messages, {figures['seconds']:.2f} s"
    )
    rate = figures["rate"]
    mode = "pure Python" if hotpath.PURE else "Python, compiled timer wheel"
    print(f"engine ({mode}): {rate:,.0f} events/s   target {TARGET:,} events/s: {verdict}")


if __name__ == "__main__":
    main()
