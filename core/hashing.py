"""Where a contact lives: a stable 64-bit hash of its id, and events grouped by partition with it
(pure twin of ``_hashing.pyx``).

The hash is BLAKE2b with an 8-byte digest of the id's UTF-8 bytes, read little-endian: the
same in every process and release, since it places contacts in partitions and record buckets
that a store keeps for its life (:mod:`store`). The compiled twin computes the same hash
without building a hash object per id.
"""

from __future__ import annotations

import hashlib
from typing import Any


def contact_hash(contact: str) -> int:
    """A stable 64-bit hash of a contact id.

    Raises:
        TypeError: the id is not text.
    """
    if not isinstance(contact, str):
        raise TypeError(f"a contact id is text, not {type(contact).__name__}")
    return int.from_bytes(hashlib.blake2b(contact.encode(), digest_size=8).digest(), "little")


def partition_shares(rows: list[tuple[Any, ...]], partitions: int) -> dict[int, list[int]]:
    """Which rows go to which partition: partition -> the indexes of its rows, in order, for
    rows whose first item is a contact id.

    Raises:
        ValueError: fewer than 1 partition.
        TypeError: a row's first item is not text.
    """
    if partitions < 1:
        raise ValueError(f"rows cannot be shared out to {partitions} partitions (1 or more)")
    shares: dict[int, list[int]] = {}
    for index, row in enumerate(rows):
        shares.setdefault(contact_hash(row[0]) % partitions, []).append(index)
    return shares
