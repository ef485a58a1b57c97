"""Events into the partitions' input streams: checked, grouped by partition, in batches.

A producer (the HTTP API, an ESP webhook, a bulk import) hands events here in thousands; each
partition's share becomes one stream entry (an :class:`~parcours.core.batch.EventBatch`),
never one write per event. Which partition a contact belongs to is
:func:`~parcours.core.store.partition_of` (:func:`~parcours.core.hotpath.partition_shares`
groups a call's events by it in one compiled pass); the actors read the streams.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from parcours.core.batch import EventBatch, keep_storable, read_rows
from parcours.core.events import Event, Refused
from parcours.core.hotpath import partition_shares
from parcours.core.store import Store


@dataclass
class Ingested:
    """What one call took in."""

    appended: int = 0  #: events written to the streams
    repeated: int = 0  #: events left out: their messageId was seen before
    #: (position in the call, why) of each event refused
    refusals: list[tuple[int, Refused]] = field(default_factory=list)

    @property
    def refused(self) -> Counter[str]:
        """reason -> how many events were refused for it"""
        return Counter(refusal.reason for _, refusal in self.refusals)


def ingest(
    store: Store, partitions: int, raws: Iterable[Event | Mapping[str, Any]], now: float
) -> Ingested:
    """Check Segment-style events (or :class:`Event`) and append them, one entry per partition.

    The entries are appended in one round trip, but not atomically: if the store fails part
    way (:class:`~parcours.core.store.StoreError`), some partitions may have their share and
    others not; sending the same events again with their ``messageId`` keeps out what went in.

    Parameters:
        store: the streams.
        partitions: P, the store's number of partitions.
        raws: the events, in the order they happened.
        now: the time of an event that gives none.
    """
    rows, positions, refused = read_rows(raws, now)
    batches = {
        partition: keep_storable(
            EventBatch.of_rows([rows[i] for i in indexes]), [positions[i] for i in indexes], refused
        )
        for partition, indexes in partition_shares(rows, partitions).items()
    }
    appended = store.append_all(batches)
    done = Ingested(refusals=refused)  # in position order (keep_storable sorts)
    done.appended = sum(appended.values())
    done.repeated = sum(len(batches[p]) - count for p, count in appended.items())
    return done
