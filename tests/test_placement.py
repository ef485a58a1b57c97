"""Partitions over actors: every partition has one owner, owners are balanced, and a change of
N moves only the partitions whose owner changes."""

from __future__ import annotations

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from parcours.actors.placement import Assignments, ServiceError, assign, fix_partitions, moves

SIZES = st.integers(1, 64).flatmap(lambda p: st.tuples(st.just(p), st.integers(1, p)))


@given(SIZES)
def test_every_partition_has_one_owner_and_owners_are_balanced(size: tuple[int, int]) -> None:
    partitions, actors = size
    layout = assign(partitions, actors)
    owned = sorted(p for mine in layout for p in mine)
    assert owned == list(range(partitions)) and len(layout) == actors
    assert max(map(len, layout)) - min(map(len, layout)) <= 1


@given(SIZES, st.integers(1, 64))
def test_moves_name_exactly_the_partitions_whose_owner_changes(
    size: tuple[int, int], later: int
) -> None:
    partitions, actors = size
    later = min(later, partitions)
    old, new = assign(partitions, actors), assign(partitions, later)
    owner_before = {p: a for a, mine in enumerate(old) for p in mine}
    owner_after = {p: a for a, mine in enumerate(new) for p in mine}
    assert moves(old, new) == {
        p: (owner_before[p], owner_after[p])
        for p in range(partitions)
        if owner_before[p] != owner_after[p]
    }
    assert set(moves([], new)) == set(range(partitions))  # the first layout moves everything


@pytest.mark.parametrize("actors", [0, 9])
def test_an_impossible_layout_is_refused(actors: int) -> None:
    with pytest.raises(ValueError, match=f"{actors} actors cannot share 8 partitions"):
        assign(8, actors)


def test_the_assignment_is_kept_in_the_server(valkey: redis.Redis) -> None:
    valkey.flushall()
    kept = Assignments(valkey)
    kept.set("parcours-partitions-1", [5, 1, 3])
    assert Assignments(valkey).of("parcours-partitions-1") == [1, 3, 5]
    assert kept.of("parcours-partitions-7") == []


def test_the_number_of_partitions_is_fixed_for_a_store_s_life(valkey: redis.Redis) -> None:
    valkey.flushall()
    fix_partitions(valkey, "pc", 8)
    fix_partitions(valkey, "pc", 8)  # the same again is fine
    with pytest.raises(ServiceError, match="this store holds 8 partitions; it cannot run with 16"):
        fix_partitions(valkey, "pc", 16)
