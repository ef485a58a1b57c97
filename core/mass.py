"""Mass entries in bulk: a segment's members enrolled as arrays, not one Python call each.

A mass program (a segment, once or on a schedule) may enroll millions of contacts at one
moment. When its first node is a delay that ends at the same instant for everyone (a fixed
``until``, or ``for``/``at`` in the program's own time zone), enrolling a member does the same
thing for every member: the entry rules, a row opened on the first node, a timer. Those run here
over arrays of contact slots, with exactly what :func:`entering.try_enroll` would do to each
one (the refusals counted by reason, in the same order of rules). Anything else (a first node
that sends, a delay on each contact's own clock, tracing) goes contact by contact.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .bytecode import NONE
from .conditions import link, supported
from .enrollments import Wait
from .evaluator import evaluate
from .hotpath import BoundCondition
from .program import DelayNode, Reentry
from .schedule import after_delay, local, next_time_of_day
from .steps import timezone_of
from .values import Moment
from .view import ContactView

if TYPE_CHECKING:
    from .lifecycle import ProgramState
    from .shard import Shard

Ints = npt.NDArray[np.int64]


def shared_due(shard: Shard, state: ProgramState) -> float | None:
    """When the program's first node, a delay, ends for a contact entering now, if that is the
    same for every contact and after now; None otherwise."""
    node = state.compiled.nodes[state.compiled.start]
    if not isinstance(node, DelayNode) or node.until_field != NONE:
        return None
    if node.until != NONE:
        due = float(node.until)
    elif state.zone is None:
        return None  # each contact's own time zone: dues differ
    else:
        due = after_delay(shard.now, node.for_seconds, state.zone)
        if node.at_seconds != NONE:
            due = next_time_of_day(due, node.at_seconds, state.zone)
    return due if due > shard.now else None


def enroll_many(shard: Shard, state: ProgramState, members: Ints, due: float) -> None:
    """Enroll the members (contact slots) the entry rules admit onto the first node, waiting
    until ``due`` (from :func:`shared_due`)."""
    admitted = admit(shard, state, members)
    start = state.compiled.start
    enrollments = shard.enrollments
    slots = enrollments.open_many(admitted, state.index, start, shard.now)
    np.frombuffer(enrollments.visits, dtype=np.int32)[slots] = 1  # entering the first node
    np.frombuffer(enrollments.wait, dtype=np.int8)[slots] = Wait.TIMER
    shard.timers.schedule(slots, np.full(len(slots), math.ceil(due), dtype=np.int64))
    shard.stats.enrolled[state.id] += len(slots)
    state.entered[start] += len(slots)


def admit(shard: Shard, state: ProgramState, members: Ints) -> Ints:
    """The members that may enter now; the others counted by the first rule that refuses them
    (as :func:`entering._refusal` orders them)."""
    if not state.live_at(shard.now):
        _refuse(shard, state, "program not active", len(members))
        return members[:0]
    index, program = shard.enrollments, state.index
    enrolled = index.live.get_many(members, program) >= 0
    _refuse(shard, state, "already enrolled", int(enrolled.sum()))
    members = members[~enrolled]
    settings = state.compiled.settings
    exited = index.past.exited_many(members, program)
    if settings.reentry is Reentry.NEVER:
        refused = ~np.isnan(exited)
        reason = "reentry never"
    else:
        refused = shard.now < exited + settings.reentry_after  # NaN compares false
        refused &= settings.reentry is Reentry.AFTER
        reason = "reentry too soon"
    _refuse(shard, state, reason, int(refused.sum()))
    members = members[~refused]
    if state.compiled.filter != NONE:
        passing = np.isin(members, segment_members(shard, state, state.compiled.filter))
        _refuse(shard, state, "filter", int((~passing).sum()))
        members = members[passing]
    return members


def segment_members(shard: Shard, state: ProgramState, pc: int) -> Ints:
    """The contacts a segment condition holds for. A condition on fields, groups, history and
    statuses runs over the columns and the history arena in one call; one with a ``did ...
    where``, or a program on its contacts' own time zones, one contact at a time."""
    bytecode = state.compiled.bytecode
    if state.zone is not None and supported(bytecode.code, pc, bytecode.history):
        columns = shard.contacts.columns
        kinds, values = link(bytecode, columns.symbols)
        bound = BoundCondition(
            bytecode.code, kinds, values, pc, columns, shard.history, bytecode.history
        )
        today = local(shard.now, state.zone).date()
        leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
        mask = bound.segment(len(shard.contacts.ids), shard.now, today.month, today.day, leap)
        members = np.flatnonzero(mask).astype(np.int64)
        ids = shard.contacts.ids
        return members[[ids[slot] is not None for slot in members.tolist()]]
    found = []
    for contact in shard.contacts.live_slots():
        moment = Moment(shard.now, tz=timezone_of(shard, state, contact))
        if evaluate(state.decoded, pc, ContactView(shard, contact, moment)):
            found.append(contact)
    return np.array(found, dtype=np.int64)


def _refuse(shard: Shard, state: ProgramState, reason: str, count: int) -> None:
    if count:
        shard.stats.refused[(state.id, reason)] += count
