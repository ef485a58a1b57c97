"""What the engine makes of random cases, as JSON: run in a process of its own by
test_compiled_engine.py, once on the compiled engine and once on its source.

Reads ``[[program, [[contact, name, time, properties], ...]], ...]`` on stdin; prints, for each
case, the outbox, the per-node counts, the event counters and every contact's durable record,
then where the shard module was loaded from.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from engine_support import outbox
from test_engine_properties import run

from parcours.core import shard as shard_module
from parcours.core.events import Event
from parcours.core.records import contact_record


def outcome(program: dict[str, Any], rows: list[list[Any]]) -> dict[str, Any]:
    shard = run(program, [Event(*row) for row in rows])
    ids = shard.contacts.ids
    return {
        "outbox": outbox(shard),
        "counts": sorted(shard.node_counts().items()),
        "events": sorted(shard.stats.events.items()),
        "records": [contact_record(shard, slot) for slot, c in enumerate(ids) if c is not None],
    }


if __name__ == "__main__":
    cases = json.load(sys.stdin)
    found = [outcome(program, rows) for program, rows in cases]
    print(json.dumps({"cases": found, "shard": shard_module.__file__}))
