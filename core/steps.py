"""How an enrollment moves, waits and leaves; what each node does is in :mod:`nodes`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import nodes
from .bytecode import NONE
from .enrollments import Wait
from .evaluator import evaluate
from .program import (
    DelayNode,
    WaitForNode,
)
from .schedule import zone
from .values import Moment, as_epoch
from .view import ContactView

if TYPE_CHECKING:
    from .lifecycle import ProgramState
    from .shard import Shard

#: what a node's execution returns besides a node index: the enrollment waits, or has left
WAIT = -2
LEFT = -3
#: steps one enrollment may take without waiting (validation forbids unpaced loops; a guard)
MAX_STEPS = 10_000
#: how long after an enrollment ends its goal still counts as its conversion
ATTRIBUTION = 30 * 86400


def timezone_of(shard: Shard, state: ProgramState, contact: int) -> ZoneInfo:
    """The program's time zone, or the contact's own where the program says ``contact``."""
    if state.zone is not None:
        return state.zone
    value = shard.contacts.field(contact, "timezone")
    return zone(value if isinstance(value, str) else None)


def view(
    shard: Shard, state: ProgramState, slot: int, props: Mapping[str, Any] | None = None
) -> ContactView:
    """The enrollment's contact as its program's conditions see it."""
    contact = shard.enrollments.contact(slot)
    moment = Moment(shard.now, tz=timezone_of(shard, state, contact))
    return ContactView(shard, contact, moment, props, shard.enrollments.entered_at[slot])


def enter(shard: Shard, state: ProgramState, slot: int, node: int) -> None:
    """Move the enrollment onto ``node``."""
    enrollments = shard.enrollments
    enrollments.changed(slot)
    enrollments.node[slot] = node
    enrollments.visits[slot] += 1
    enrollments.reached(slot, shard.now)
    enrollments.wait[slot] = Wait.NOTHING
    state.entered[node] += 1
    if shard.trace.enabled:
        shard.record(enrollments.contact(slot), state.id, "node", state.compiled.nodes[node].id)


def run(shard: Shard, state: ProgramState, slot: int) -> None:
    """Execute from the enrollment's current node until it waits or leaves."""
    enrollments = shard.enrollments
    ident = enrollments.ident(slot)
    program_nodes, execute = state.compiled.nodes, nodes.EXECUTE
    for _ in range(MAX_STEPS):
        node = program_nodes[enrollments.node[slot]]
        target = execute[node.kind](shard, state, slot, node)
        if target in (WAIT, LEFT):
            return
        if enrollments.ident(slot) != ident or not enrollments.is_live(slot):
            return  # a nested step (start_program, an update's exit_on) ended this enrollment
        if target == NONE:
            leave(shard, state, slot, "completed")
            return
        enter(shard, state, slot, target)
    leave(shard, state, slot, f"took {MAX_STEPS} steps without waiting")


def leave(shard: Shard, state: ProgramState, slot: int, reason: str) -> None:
    """End a live enrollment."""
    node = shard.enrollments.node[slot]
    node_id = state.compiled.nodes[node].id if node != NONE else None
    shard.record(shard.enrollments.contact(slot), state.id, "exited", node_id, reason)
    shard.stats.exited[(state.id, reason)] += 1
    shard.timers.cancel(slot)
    shard.enrollments.close(slot, shard.now)


def wait(shard: Shard, slot: int, due: float, kind: Wait) -> int:
    shard.enrollments.changed(slot)
    shard.enrollments.wait[slot] = kind
    shard.timers.schedule_one(slot, math.ceil(due))
    return WAIT


def on_timer(shard: Shard, state: ProgramState, slot: int) -> None:
    """A delay ended, a wait_for timed out, or a deferred message may now go."""
    if check_exit(shard, state, slot):
        return
    node = state.compiled.nodes[shard.enrollments.node[slot]]
    if isinstance(node, DelayNode):
        _move(shard, state, slot, node.next)
    elif isinstance(node, WaitForNode):
        shard.record(shard.enrollments.contact(slot), state.id, "timeout", node.id)
        _move(shard, state, slot, node.on_timeout)
    else:
        run(shard, state, slot)


def _move(shard: Shard, state: ProgramState, slot: int, target: int) -> None:
    if target == NONE:
        leave(shard, state, slot, "completed")
    else:
        enter(shard, state, slot, target)
        run(shard, state, slot)


def event_arrived(shard: Shard, state: ProgramState, slot: int, props: Mapping[str, Any]) -> bool:
    """An event a wait_for listens to: if it matches ``where``, take ``then`` (and say so)."""
    node = state.compiled.nodes[shard.enrollments.node[slot]]
    assert isinstance(node, WaitForNode)
    if not evaluate(state.decoded, node.where, view(shard, state, slot, props)):
        return False
    shard.timers.cancel(slot)
    shard.record(shard.enrollments.contact(slot), state.id, "reacted", node.id)
    _move(shard, state, slot, node.then)
    return True


def check_exit(
    shard: Shard, state: ProgramState, slot: int, props: Mapping[str, Any] | None = None
) -> bool:
    """Leave if the program's exit_on holds; return whether it did."""
    exit_on = state.compiled.settings.exit_on
    if exit_on == NONE or not evaluate(state.decoded, exit_on, view(shard, state, slot, props)):
        return False
    leave(shard, state, slot, "exit_on")
    return True


def follow_date_change(shard: Shard, state: ProgramState, slot: int, changed: set[str]) -> None:
    """A delay ``until_field`` waits for the field's current value: when the field changes
    (the webinar moved), the wait moves with it."""
    node = state.compiled.nodes[shard.enrollments.node[slot]]
    if not isinstance(node, DelayNode) or node.until_field == NONE:
        return
    if shard.enrollments.wait[slot] != Wait.TIMER:
        return
    if shard.catalog.fields.name(node.until_field) not in changed:
        return
    contact = shard.enrollments.contact(slot)
    moment = as_epoch(shard.contacts.value(contact, node.until_field))
    if moment is None or moment + node.offset <= shard.now:
        shard.timers.cancel(slot)
        _move(shard, state, slot, node.next)
    else:
        wait(shard, slot, moment + node.offset, Wait.TIMER)


def check_goal(
    shard: Shard, state: ProgramState, contact: int, props: Mapping[str, Any] | None = None
) -> None:
    """Count a conversion the first time the goal holds for the contact's last enrollment:
    while it lasts, or up to ``ATTRIBUTION`` after it ended (the purchase comes after the
    last email)."""
    goal = state.compiled.settings.goal
    if goal == NONE:
        return  # most programs: no need to look the contact's enrollment up
    last = shard.enrollments.last(contact, state.index)
    if last is None or last.converted:
        return
    if shard.now > last.exited_at + ATTRIBUTION:
        return
    moment = Moment(shard.now, tz=timezone_of(shard, state, contact))
    seen = ContactView(shard, contact, moment, props, last.entered_at)
    if evaluate(state.decoded, goal, seen):
        shard.enrollments.convert(contact, state.index)
        shard.stats.conversions[state.id] += 1
        shard.record(contact, state.id, "goal")


def resume(shard: Shard, state: ProgramState) -> None:
    """After a pause: run the parked steps, and let wait_for nodes see what happened meanwhile."""
    enrollments = shard.enrollments
    paused_at = state.paused_at if state.paused_at is not None else shard.now
    parked, state.parked = state.parked, []
    for slot, ident, fell_due in parked:
        if not enrollments.holds(slot, ident) or enrollments.wait[slot] != Wait.PARKED:
            continue  # it left during the pause, and its row may serve another enrollment
        shard.touched.add(enrollments.contact(slot))
        if not _caught_up(shard, state, slot, paused_at, fell_due):
            on_timer(shard, state, slot)
    for slot in enrollments.slots_of(state.index):
        shard.touched.add(enrollments.contact(slot))
        if enrollments.wait[slot] == Wait.EVENT:
            _caught_up(shard, state, slot, paused_at, shard.now)


def _caught_up(
    shard: Shard, state: ProgramState, slot: int, paused_at: float, until: float
) -> bool:
    """A wait_for that the pause held: did the event it awaits come during the pause, before
    ``until``? (Events before the pause were seen as they came.)"""
    node = state.compiled.nodes[shard.enrollments.node[slot]]
    if not isinstance(node, WaitForNode):
        return False
    reached = shard.enrollments.node_at(slot)
    names = shard.catalog.props
    contact = shard.enrollments.contact(slot)
    for past in shard.history.of(contact, node.event):
        if past.time <= reached or not paused_at <= past.time <= until:
            continue
        if event_arrived(shard, state, slot, {names.name(k): v for k, v in past.props.items()}):
            return True
    return False


def contact_id(shard: Shard, slot: int) -> str:
    return shard.contacts.ids[shard.enrollments.contact(slot)] or "?"


# -- node kinds ---------------------------------------------------------------------------
