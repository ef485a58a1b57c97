"""Type stub of the compiled contact hash and grouping by partition (the pure twin,
core/hashing.py, has the same interface)."""

from typing import Any

def contact_hash(contact: str) -> int: ...
def partition_shares(rows: list[tuple[Any, ...]], partitions: int) -> dict[int, list[int]]: ...
