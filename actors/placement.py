"""Which actor owns which partitions.

Contacts hash to one of P partitions (:func:`parcours.core.store.partition_of`, P fixed for a
store's life); partitions spread over N actors. Changing N moves whole partitions, so no
contact is rehashed. The assignment is kept in the store's server, so an actor that Ray
restarts reads which partitions are its own.
"""

from __future__ import annotations

import os
import socket
import uuid

import msgpack
import redis


class ServiceError(RuntimeError):
    """The service cannot start on this store as asked."""


def fix_partitions(client: redis.Redis, prefix: str, partitions: int) -> None:
    """P is fixed for a store's life (contacts hash to partitions): the first service records
    it, a later one with another P is refused before it reads anything.

    Raises:
        ServiceError: the store was made with another P, or P is below 1.
    """
    if partitions < 1:
        raise ServiceError(f"a store needs 1 partition or more, not {partitions}")
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
        ServiceError: no actor, or more actors than partitions.
    """
    if not 1 <= actors <= partitions:
        raise ServiceError(f"{actors} actors cannot share {partitions} partitions (1 to P)")
    return [list(range(first, partitions, actors)) for first in range(actors)]


def kept(old: list[list[int]], new: list[list[int]]) -> list[list[int]]:
    """What each actor keeps while partitions change owner: what it owns in both layouts.

    A change of N goes old -> kept -> new, each actor's step taken whole before the next
    begins: the first only gives partitions up, the second only takes them, so no partition
    ever has two owners (an actor restarted in between reads the step it is at).
    """
    actors = max(len(old), len(new))
    return [sorted(set(_at(old, i)) & set(_at(new, i))) for i in range(actors)]


def _at(layout: list[list[int]], actor: int) -> list[int]:
    return layout[actor] if actor < len(layout) else []


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


#: Renew the lease if this service still holds it. KEYS[1] the lease; ARGV[1] the token,
#: ARGV[2] its lifetime in ms. Returns 1, or 0 when another service holds it (or nobody).
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
#: Give the lease back if this service holds it (KEYS[1], ARGV[1] as RENEW's).
GIVE_BACK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    """One service per store: two would both own every partition and do everything twice.
    A service takes the lease when it starts, renews it every round, and gives it back when it
    stops; one that died loses it after ``seconds``.

    Parameters:
        client: the store's server.
        prefix: the store's key prefix.
        seconds: how long the lease lasts without a renewal.
    """

    def __init__(self, client: redis.Redis, prefix: str = "pc", seconds: float = 30.0) -> None:
        self.client, self.key = client, f"{prefix}:service"
        self.milliseconds = int(seconds * 1000)
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._renew = client.register_script(RENEW)
        self._give_back = client.register_script(GIVE_BACK)

    def take(self) -> None:
        """Raises:
        ServiceError: another service holds the store (its token and how long it has left).
        """
        if not self.client.set(self.key, self.token, nx=True, px=self.milliseconds):
            found = self.client.get(self.key)
            holder = found.decode() if isinstance(found, bytes) else found
            left = max(0, int(self.client.pttl(self.key))) / 1000
            raise ServiceError(
                f"another parcours service runs on this store ({holder}); stop it, or wait "
                f"{left:.0f} s if it died"
            )

    def renew(self) -> None:
        """Raises:
        ServiceError: the lease was lost (the service stalled longer than the lease lasts
            and another one took the store): this one must stop.
        """
        if not self._renew(keys=[self.key], args=[self.token, self.milliseconds]):
            raise ServiceError("this service lost the store's lease to another service; stop")

    def give_back(self) -> None:
        self._give_back(keys=[self.key], args=[self.token])
