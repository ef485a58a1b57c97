"""Which actor owns which partitions.

Contacts hash to one of P partitions (:func:`parcours.core.store.partition_of`, P fixed for a
store's life); partitions spread over N actors. Changing N moves whole partitions, so no
contact is rehashed. The assignment is kept in the store's server, so an actor that Ray
restarts reads which partitions are its own.
"""

from __future__ import annotations

import msgpack
import redis


class ServiceError(RuntimeError):
    """The service cannot start on this store as asked."""


def fix_partitions(client: redis.Redis, prefix: str, partitions: int) -> None:
    """P is fixed for a store's life (contacts hash to partitions): the first service records
    it, a later one with another P is refused before it reads anything.

    Raises:
        ServiceError: the store was made with another P.
    """
    key = f"{prefix}:meta"
    client.hsetnx(key, "partitions", partitions)
    stored = int(client.hget(key, "partitions") or 0)
    if stored != partitions:
        raise ServiceError(
            f"this store holds {stored} partitions; it cannot run with {partitions} "
            f"(the number of partitions is fixed for a store's life)"
        )


def assign(partitions: int, actors: int) -> list[list[int]]:
    """Partitions ``0 .. partitions - 1`` dealt to ``actors`` actors, as evenly as can be
    (actor ``i`` takes every partition ``p`` with ``p % actors == i``).

    Raises:
        ValueError: no actor, or more actors than partitions.
    """
    if not 1 <= actors <= partitions:
        raise ValueError(f"{actors} actors cannot share {partitions} partitions (1 to P)")
    return [list(range(first, partitions, actors)) for first in range(actors)]


def moves(old: list[list[int]], new: list[list[int]]) -> dict[int, tuple[int | None, int]]:
    """partition -> (actor that gives it up or None, actor that takes it), for the partitions
    whose owner changes between the two assignments."""
    before = {p: actor for actor, owned in enumerate(old) for p in owned}
    return {
        p: (before.get(p), actor)
        for actor, owned in enumerate(new)
        for p in owned
        if before.get(p) != actor
    }


class Assignments:
    """The assignment in the server: one hash, actor name -> its partitions.

    Parameters:
        client: the store's server.
        prefix: the store's key prefix.
    """

    def __init__(self, client: redis.Redis, prefix: str = "pc") -> None:
        self.client = client
        self.key = f"{prefix}:actors"

    def of(self, actor: str) -> list[int]:
        """The partitions of ``actor`` (none if it has none)."""
        data = self.client.hget(self.key, actor)
        return [] if data is None else list(msgpack.unpackb(data))

    def set(self, actor: str, partitions: list[int]) -> None:
        self.client.hset(self.key, actor, msgpack.packb(sorted(partitions)))
