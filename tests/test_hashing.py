"""The contact hash: the compiled BLAKE2b and its pure twin (hashlib) agree on any id, and the
partitions and buckets it gives are spread evenly."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parcours.core import hashing
from parcours.core._hashing import contact_hash as compiled_hash
from parcours.core._hashing import partition_shares as compiled_shares
from parcours.core.events import Event
from parcours.core.store import bucket_of, partition_of

#: ids from empty to several 128-byte blocks, ASCII and not (UTF-8 of 1 to 4 bytes a character)
IDS = st.one_of(
    st.text(max_size=300),
    st.text(alphabet="0123456789abcdef-", min_size=120, max_size=400),
    st.from_regex(r"c[0-9]{1,12}", fullmatch=True),
)


@settings(max_examples=500, deadline=None)
@given(IDS)
def test_the_compiled_hash_is_the_pure_twins(contact: str) -> None:
    assert compiled_hash(contact) == hashing.contact_hash(contact)


@settings(max_examples=200, deadline=None)
@given(st.lists(IDS, max_size=60), st.integers(1, 300))
def test_rows_are_shared_out_by_partition_as_partition_of_places_them(
    contacts: list[str], partitions: int
) -> None:
    rows = [(contact, "event", float(index)) for index, contact in enumerate(contacts)]
    shares = compiled_shares(rows, partitions)
    assert shares == hashing.partition_shares(rows, partitions)
    expected: dict[int, list[int]] = {}
    for index, contact in enumerate(contacts):
        expected.setdefault(partition_of(contact, partitions), []).append(index)
    assert shares == expected and list(shares) == list(expected)  # partitions in first-seen order


def test_events_are_rows_and_bad_rows_are_refused_alike() -> None:
    events = [Event(f"c{n}", "x", float(n)) for n in range(50)]
    shares = compiled_shares(events, 7)
    assert shares == hashing.partition_shares(events, 7) and sum(map(len, shares.values())) == 50
    for rows, partitions, error in [
        ([("c1",)], 0, ValueError),
        ([("c1",)], -3, ValueError),
        ([()], 4, IndexError),
        ([(7, "x")], 4, TypeError),
    ]:
        for shares_of in (compiled_shares, hashing.partition_shares):
            with pytest.raises(error):
                shares_of(rows, partitions)


def test_ids_at_the_edges_of_a_block_hash_as_hashlib_does() -> None:
    for size in (0, 1, 127, 128, 129, 255, 256, 257):
        contact = "x" * size
        assert compiled_hash(contact) == hashing.contact_hash(contact), size


def test_a_known_id_keeps_its_place() -> None:
    # stores keep contacts where this hash put them: the value must never change
    assert hashing.contact_hash("c0000001") == compiled_hash("c0000001") == 11362964115513723193


def test_partitions_and_buckets_are_spread_evenly() -> None:
    contacts = [f"c{i:07d}" for i in range(64_000)]
    partitions = Counter(partition_of(c, 16) for c in contacts)
    buckets = Counter(bucket_of(c, 16) for c in contacts if partition_of(c, 16) == 0)
    # 4,000 a partition and 250 a bucket on average: five standard deviations either side
    assert len(partitions) == 16 and all(3_680 < n < 4_320 for n in partitions.values())
    assert len(buckets) == 16 and all(170 < n < 330 for n in buckets.values())
