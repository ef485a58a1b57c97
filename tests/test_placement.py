"""Partitions over actors: every partition has one owner, owners are balanced, and a change of
N moves only the partitions whose owner changes."""

from __future__ import annotations

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from parcours.actors.placement import Assignments, ServiceError, assign, fix_partitions, kept

SIZES = st.integers(1, 64).flatmap(lambda p: st.tuples(st.just(p), st.integers(1, p)))


@given(SIZES)
def test_every_partition_has_one_owner_and_owners_are_balanced(size: tuple[int, int]) -> None:
    partitions, actors = size
    layout = assign(partitions, actors)
    owned = sorted(p for mine in layout for p in mine)
    assert owned == list(range(partitions)) and len(layout) == actors
    assert max(map(len, layout)) - min(map(len, layout)) <= 1


@given(SIZES, st.integers(1, 64))
def test_a_change_of_n_never_gives_a_partition_two_owners(
    size: tuple[int, int], later: int
) -> None:
    """old -> kept -> new, actor by actor: at any moment between two actors' steps each
    partition has one owner at most, and every partition has one at the end."""
    partitions, actors = size
    old, new = assign(partitions, actors), assign(partitions, min(later, partitions))
    during = kept(old, new)
    for before, after in ((old, during), (during, new)):
        width = max(len(before), len(after))
        for moved in range(width + 1):  # the first `moved` actors have taken their step
            now = [owned_by(after if i < moved else before, i) for i in range(width)]
            owned = [p for mine in now for p in mine]
            assert len(owned) == len(set(owned))
    assert sorted(p for mine in new for p in mine) == list(range(partitions))


def owned_by(layout: list[list[int]], actor: int) -> list[int]:
    return layout[actor] if actor < len(layout) else []


@pytest.mark.parametrize("actors", [0, 9])
def test_an_impossible_layout_is_refused(actors: int) -> None:
    with pytest.raises(ServiceError, match=f"{actors} actors cannot share 8 partitions"):
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
    with pytest.raises(ServiceError, match="needs 1 partition or more, not 0"):
        fix_partitions(valkey, "other", 0)
    assert valkey.exists("other:meta") == 0  # nothing recorded
