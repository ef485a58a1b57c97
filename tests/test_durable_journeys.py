"""Every journey test, then its end state through the store: committed, rebuilt in a new shard
from the store (memory and the embedded Valkey), and found the same, contact by contact."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from test_journeys import JOURNEYS

from parcours.core.durable import Partition
from parcours.core.records import contact_record
from parcours.core.shard import Shard
from parcours.core.snapshot import shard_record
from parcours.core.store import Store
from parcours.ops.journey import run_journey
from parcours.ops.journey_file import read_journey


def records(shard: Shard) -> dict[str, list[object]]:
    found = {}
    for slot in shard.contacts.live_slots():
        record = contact_record(shard, slot)
        found[record[0]] = record
    return found


@pytest.mark.parametrize("path", JOURNEYS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_journey_end_state_survives_the_store(path: Path, store: Store) -> None:
    result = run_journey(read_journey(path))
    live = result.shard
    assert result.passed
    versions = {(s.id, s.compiled.version): s.compiled for s in live.programs}

    def new_shard(number: int) -> Shard:
        return Shard(live.catalog, live.clock, caps=live.caps, timezone=live.timezone.key)

    Partition(store, 0, lambda n: live, lambda i, v: versions[(i, v)]).commit(None)
    rebuilt = Partition(store, 0, new_shard, lambda i, v: versions[(i, v)]).shard
    assert records(rebuilt) == records(live)
    expected, found = shard_record(live), shard_record(rebuilt)
    assert found == expected
    assert rebuilt.deleted == live.deleted
    assert len(rebuilt.timers) == len(live.timers)
