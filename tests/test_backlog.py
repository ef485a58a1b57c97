"""A partition whose input is longer than one batch takes it over several steps without
letting timers jump ahead of events that came first, and applies registry operations where
its input stands."""

from __future__ import annotations

from typing import Any

from durable_support import append_raw
from engine_support import DAY, START, compiled

from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import Partition
from parcours.core.shard import Shard
from parcours.core.store import Store

OPENED = {
    "program": "opened", "name": "Opened?", "category": "t",
    "entry": [{"on": "form.submitted"}],
    "nodes": {
        "hello": {"type": "email", "template": "hello", "next": "wait"},
        "wait": {"type": "delay", "for": "2d", "next": "check"},
        "check": {"type": "condition", "if": {"did": "email.opened", "message": "hello"},
                  "then": "yes", "else": "no"},
        "yes": {"type": "email", "template": "thanks"},
        "no": {"type": "email", "template": "reminder"},
    },
}  # fmt: skip


def event(name: str, at: float, **properties: Any) -> dict[str, Any]:
    return {"contact": "c1", "event": name, "timestamp": at, "properties": properties}


def test_a_backlog_taken_in_small_batches_keeps_timers_behind_its_events(store: Store) -> None:
    catalog, clock = Catalog(), VirtualClock(START)
    program = compiled(OPENED, catalog)
    part = Partition(store, 0, lambda n: Shard(catalog, clock), lambda i, v: program)
    part.deploy(program, activate=True)
    part.upsert_contact("c1", {"email": "c1@example.org"})
    append_raw(store, 0, [event("form.submitted", START)])
    for first in (1, 5, 9):  # entries of four events
        append_raw(
            store, 0, [event("page.viewed", START + h * 3600) for h in range(first, first + 4)]
        )
    append_raw(store, 0, [event("email.opened", START + DAY, program="opened", message="hello")])
    clock.set(START + 3 * DAY)  # the delay ended a day ago; the open came before it ended
    backlogged = 0
    while part.step(count=5):
        backlogged += part.backlogged
        assert part.shard.now <= START + DAY or not part.backlogged
    part.step(count=5)  # the stream is drained: time moves on to the clock
    templates = [entry.template for entry in store.outbox(0)]
    assert backlogged >= 1 and templates == ["hello", "thanks"]
