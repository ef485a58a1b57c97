"""Where a contact lives: a stable 64-bit hash of its id (pure twin of ``_hashing.pyx``).

The hash is BLAKE2b with an 8-byte digest of the id's UTF-8 bytes, read little-endian: the
same in every process and release, since it places contacts in partitions and record buckets
that a store keeps for its life (:mod:`store`). The compiled twin computes the same hash
without building a hash object per id.
"""

from __future__ import annotations

import hashlib
from typing import Any


def contact_hash(contact: str) -> int:
    """A stable 64-bit hash of a contact id."""
    return int.from_bytes(hashlib.blake2b(contact.encode(), digest_size=8).digest(), "little")


def partition_shares(rows: list[tuple[Any, ...]], partitions: int) -> dict[int, list[int]]:
    """Which rows go to which partition: partition -> the indexes of its rows, in order, for
    rows whose first item is a contact id."""
    shares: dict[int, list[int]] = {}
    for index, row in enumerate(rows):
        shares.setdefault(contact_hash(row[0]) % partitions, []).append(index)
    return shares
