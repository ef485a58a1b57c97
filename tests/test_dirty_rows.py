"""The rows a durable commit must write: exactly those changed since the last one, kept as a
byte per row (a shard that never commits does not grow a set of them)."""

from __future__ import annotations

import numpy as np

from parcours.core.enrollments import Enrollments

NOW = 1_796_112_000.0


def test_changed_rows_are_those_written_since_the_last_commit() -> None:
    enrollments = Enrollments()
    slots = [enrollments.open(contact, 0, 1, NOW) for contact in range(4)]
    assert enrollments.changed_rows().tolist() == slots
    enrollments.committed()
    assert enrollments.changed_rows().tolist() == []
    enrollments.close(slots[2], NOW + 1)
    enrollments.changed(slots[0])
    assert enrollments.changed_rows().tolist() == [slots[0], slots[2]]
    enrollments.committed()
    many = enrollments.open_many(np.array([10, 11, 12], dtype=np.int64), 1, 1, NOW + 2)
    assert enrollments.changed_rows().tolist() == sorted(many.tolist())  # a freed row reused
    assert slots[2] in many.tolist()


def test_a_shard_that_never_commits_keeps_a_byte_per_row() -> None:
    enrollments = Enrollments()
    for round_ in range(3):
        for contact in range(1000):
            slot = enrollments.open(contact, 0, 1, NOW + round_)
            enrollments.close(slot, NOW + round_)
    assert len(enrollments.dirty) == len(enrollments.node) <= 1000
