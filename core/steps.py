"""What each node does to an enrollment, and how an enrollment moves, waits and leaves."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from . import updates
from .bytecode import NONE, Status
from .contacts import Flag
from .enrollments import Wait
from .evaluator import evaluate
from .outbox import OutboxEntry
from .program import (
    ConditionNode,
    DelayNode,
    GotoNode,
    MessageNode,
    Node,
    NodeKind,
    ProgramNode,
    SplitNode,
    SwitchNode,
    WaitForNode,
)
from .schedule import after_delay, next_time_of_day, window_opening, zone
from .values import Moment, as_epoch
from .view import ContactView, explain

if TYPE_CHECKING:
    from .lifecycle import ProgramState
    from .shard import Shard

#: what a node's execution returns besides a node index: the enrollment waits, or has left
WAIT = -2
LEFT = -3
#: steps one enrollment may take without waiting (validation forbids unpaced loops; a guard)
MAX_STEPS = 10_000
CHANNELS = {
    NodeKind.EMAIL: "email",
    NodeKind.SMS: "sms",
    NodeKind.WEBHOOK: "webhook",
    NodeKind.ALERT: "alert",
}
#: the contact field that holds the address of each channel that has one
ADDRESS_FIELD = {NodeKind.EMAIL: "email", NodeKind.SMS: "phone"}
BASIS = 10_000
#: how long after an enrollment ends its goal still counts as its conversion
ATTRIBUTION = 30 * 86400


def timezone_of(shard: Shard, state: ProgramState, contact: int) -> ZoneInfo:
    """The program's time zone, or the contact's own where the program says ``contact``."""
    name = state.compiled.settings.timezone
    if name == "contact":
        value = shard.contacts.field(contact, "timezone")
        return zone(value if isinstance(value, str) else None)
    return zone(name)


def view(
    shard: Shard, state: ProgramState, slot: int, props: Mapping[str, Any] | None = None
) -> ContactView:
    """The enrollment's contact as its program's conditions see it."""
    contact = shard.enrollments.contact[slot]
    moment = Moment(shard.now, tz=timezone_of(shard, state, contact))
    return ContactView(shard, contact, moment, props, shard.enrollments.entered_at[slot])


def enter(shard: Shard, state: ProgramState, slot: int, node: int) -> None:
    """Move the enrollment onto ``node``."""
    enrollments = shard.enrollments
    enrollments.node[slot] = node
    enrollments.visits[slot] += 1
    enrollments.node_at[slot] = shard.now
    enrollments.wait[slot] = Wait.NOTHING
    state.entered[node] += 1
    if shard.trace.enabled:
        shard.record(enrollments.contact[slot], state.id, "node", state.compiled.nodes[node].id)


def run(shard: Shard, state: ProgramState, slot: int) -> None:
    """Execute from the enrollment's current node until it waits or leaves."""
    for _ in range(MAX_STEPS):
        node = state.compiled.nodes[shard.enrollments.node[slot]]
        target = EXECUTE[node.kind](shard, state, slot, node)
        if target in (WAIT, LEFT):
            return
        if target == NONE:
            leave(shard, state, slot, "completed")
            return
        enter(shard, state, slot, target)
    leave(shard, state, slot, f"took {MAX_STEPS} steps without waiting")


def leave(shard: Shard, state: ProgramState, slot: int, reason: str) -> None:
    """End a live enrollment."""
    node = shard.enrollments.node[slot]
    node_id = state.compiled.nodes[node].id if node != NONE else None
    shard.record(shard.enrollments.contact[slot], state.id, "exited", node_id, reason)
    shard.stats.exited[(state.id, reason)] += 1
    shard.timers.cancel(slot)
    shard.enrollments.close(slot, shard.now)


def wait(shard: Shard, slot: int, due: float, kind: Wait) -> int:
    shard.enrollments.wait[slot] = kind
    shard.enrollments.due[slot] = due
    shard.timers.schedule(slot, due)
    return WAIT


def on_timer(shard: Shard, state: ProgramState, slot: int) -> None:
    """A delay ended, a wait_for timed out, or a deferred message may now go."""
    if check_exit(shard, state, slot):
        return
    node = state.compiled.nodes[shard.enrollments.node[slot]]
    if isinstance(node, DelayNode):
        _move(shard, state, slot, node.next)
    elif isinstance(node, WaitForNode):
        shard.record(shard.enrollments.contact[slot], state.id, "timeout", node.id)
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
    shard.record(shard.enrollments.contact[slot], state.id, "reacted", node.id)
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
    contact = shard.enrollments.contact[slot]
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
    key = (contact, state.index)
    enrollments = shard.enrollments
    if goal == NONE or key in enrollments.converted or key not in enrollments.last_entry:
        return
    if key not in enrollments.live and shard.now > enrollments.last_exit[key] + ATTRIBUTION:
        return
    moment = Moment(shard.now, tz=timezone_of(shard, state, contact))
    seen = ContactView(shard, contact, moment, props, enrollments.last_entry[key])
    if evaluate(state.decoded, goal, seen):
        enrollments.converted.add(key)
        shard.stats.conversions[state.id] += 1
        shard.record(contact, state.id, "goal")


def resume(shard: Shard, state: ProgramState) -> None:
    """After a pause: run the parked steps, and let wait_for nodes see what happened meanwhile."""
    enrollments = shard.enrollments
    parked, state.parked = state.parked, []
    for slot in parked:
        if not enrollments.is_live(slot) or enrollments.wait[slot] != Wait.PARKED:
            continue
        if not _caught_up(shard, state, slot, enrollments.due[slot]):
            on_timer(shard, state, slot)
    for (_, program), slot in list(enrollments.live.items()):
        if program == state.index and enrollments.wait[slot] == Wait.EVENT:
            _caught_up(shard, state, slot, shard.now)


def _caught_up(shard: Shard, state: ProgramState, slot: int, until: float) -> bool:
    """A wait_for that the pause held: did the event it awaits come before ``until``?"""
    node = state.compiled.nodes[shard.enrollments.node[slot]]
    if not isinstance(node, WaitForNode):
        return False
    since = shard.enrollments.node_at[slot]
    names = shard.catalog.props
    contact = shard.enrollments.contact[slot]
    for past in shard.history.of(contact, node.event):
        if not since <= past.time <= until:
            continue
        if event_arrived(shard, state, slot, {names.name(k): v for k, v in past.props.items()}):
            return True
    return False


def _contact_id(shard: Shard, slot: int) -> str:
    return shard.contacts.ids[shard.enrollments.contact[slot]] or "?"


# -- node kinds ---------------------------------------------------------------------------


def _message(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, MessageNode)
    contact = shard.enrollments.contact[slot]
    contact_id = _contact_id(shard, slot)
    if node.kind in ADDRESS_FIELD:
        blocked = _unreachable(shard, contact, node)
        if blocked:
            shard.history.raise_status(
                contact, node.message, Status.BLOCKED if blocked != "no address" else Status.ERROR
            )
            shard.stats.suppressed[(state.id, node.id)] += 1
            shard.record(contact, state.id, "suppressed", node.id, blocked)
            return node.next
        window = state.compiled.settings.send_window
        if window is not None:
            tz = timezone_of(shard, state, contact)
            opening = window_opening(shard.now, window.days, window.start, window.end, tz)
            if opening > shard.now:
                shard.record(contact, state.id, "waiting", node.id, "for the send window")
                return wait(shard, slot, opening, Wait.TIMER)
    release = updates.cap_release(shard, contact, CHANNELS[node.kind])
    if release is not None:
        if node.skip_if_capped:
            shard.record(contact, state.id, "skipped", node.id, "frequency cap reached")
            return node.next
        shard.record(contact, state.id, "waiting", node.id, "for the frequency cap")
        return wait(shard, slot, release, Wait.TIMER)
    _emit(shard, state, slot, node, contact, contact_id)
    return node.next


def _unreachable(shard: Shard, contact: int, node: MessageNode) -> str:
    """Why an email or SMS cannot go to this contact ('' when it can)."""
    flags = shard.contacts.flags[contact]
    if flags:
        return ", ".join(str(f.name).lower() for f in Flag if flags & f)
    address = shard.contacts.field(contact, ADDRESS_FIELD[node.kind])
    return "" if isinstance(address, str) and address else "no address"


def _emit(
    shard: Shard, state: ProgramState, slot: int, node: MessageNode, contact: int, contact_id: str
) -> None:
    enrollments = shard.enrollments
    channel = CHANNELS[node.kind]
    key = f"{enrollments.ident[slot]}-{node.index}-{enrollments.visits[slot]}"
    template = shard.catalog.templates.name(node.template) if node.template != NONE else None
    shard.outbox.append(
        OutboxEntry(key, channel, contact_id, state.id, node.id, shard.now, template, node.options)
    )
    shard.history.restart(contact, node.message)
    updates.count_send(shard, contact, channel)
    shard.stats.sent[(state.id, channel)] += 1
    shard.record(contact, state.id, "sent", node.id, channel)


def _delay(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, DelayNode)
    contact = shard.enrollments.contact[slot]
    now = shard.now
    if node.until != NONE:
        due = float(node.until)
    elif node.until_field != NONE:
        moment = as_epoch(shard.contacts.value(contact, node.until_field))
        if moment is None:
            shard.record(
                shard.enrollments.contact[slot], state.id, "no date", node.id, "continues at once"
            )
            return node.next
        due = moment + node.offset
    else:
        tz = timezone_of(shard, state, contact)
        due = after_delay(now, node.for_seconds, tz)
        if node.at_seconds != NONE:
            due = next_time_of_day(due, node.at_seconds, tz)
    if due <= now:
        return node.next
    return wait(shard, slot, due, Wait.TIMER)


def _wait_for(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, WaitForNode)
    tz = timezone_of(shard, state, shard.enrollments.contact[slot])
    return wait(shard, slot, after_delay(shard.now, node.timeout, tz), Wait.EVENT)


def _condition(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, ConditionNode)
    seen = view(shard, state, slot)
    answer = evaluate(state.decoded, node.test, seen)
    if shard.trace.enabled:
        why = explain(state.decoded, node.test, seen, shard.catalog)
        shard.record(
            shard.enrollments.contact[slot], state.id, "then" if answer else "else", node.id, why
        )
    return node.then if answer else node.otherwise


def _switch(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, SwitchNode)
    seen = view(shard, state, slot)
    for number, (test, target) in enumerate(node.cases, 1):
        if evaluate(state.decoded, test, seen):
            shard.record(shard.enrollments.contact[slot], state.id, f"case {number}", node.id)
            return target
    shard.record(shard.enrollments.contact[slot], state.id, "default", node.id)
    return node.default


def _split(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, SplitNode)
    bucket = split_bucket(_contact_id(shard, slot), state.id, node.id)
    if bucket < node.holdout:
        shard.stats.control[(state.id, node.id)] += 1
        leave(shard, state, slot, "holdout (control)")
        return LEFT
    scaled = (bucket - node.holdout) * BASIS // (BASIS - node.holdout)
    branch = next(i for i, threshold in enumerate(node.thresholds) if scaled < threshold)
    shard.record(shard.enrollments.contact[slot], state.id, f"branch {branch + 1}", node.id)
    return node.targets[branch]


def split_bucket(contact: str, program: str, node: str) -> int:
    """A contact's place in ``0..9999`` for one split: the same every time (sticky), spread
    evenly, and independent between splits."""
    digest = hashlib.blake2b(f"{program}/{node}/{contact}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BASIS


def _update(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    ident = shard.enrollments.ident[slot]
    updates.apply(shard, state, slot, node)
    if not shard.enrollments.is_live(slot) or shard.enrollments.ident[slot] != ident:
        return LEFT  # deleted, or its exit condition now holds
    return node.next


def _start_program(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, ProgramNode)
    from .entering import enroll_by_api

    target = shard.by_id.get(shard.catalog.programs.name(node.program))
    if target is None:
        shard.record(
            shard.enrollments.contact[slot],
            state.id,
            "not started",
            node.id,
            "program not deployed",
        )
    else:
        enroll_by_api(shard, shard.enrollments.contact[slot], target)
    return node.next


def _end_program(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, ProgramNode)
    if node.program == state.compiled.ident:
        leave(shard, state, slot, "end_program")
        return LEFT
    target = shard.by_id.get(shard.catalog.programs.name(node.program))
    other = shard.enrollments.of(shard.enrollments.contact[slot], target.index) if target else None
    if target is not None and other is not None:
        leave(shard, target, other, f"ended by {state.id}.{node.id}")
    return node.next


def _goto(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, GotoNode)
    loops = shard.enrollments.loops.setdefault(slot, {})
    taken = loops.get(node.index, 0)
    if node.max_loops != NONE and taken >= node.max_loops:
        shard.record(shard.enrollments.contact[slot], state.id, "max_loops reached", node.id)
        return NONE
    loops[node.index] = taken + 1
    return node.target


def _exit(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    return NONE


EXECUTE: dict[NodeKind, Callable[[Shard, ProgramState, int, Node], int]] = {
    NodeKind.EMAIL: _message,
    NodeKind.SMS: _message,
    NodeKind.WEBHOOK: _message,
    NodeKind.ALERT: _message,
    NodeKind.UPDATE: _update,
    NodeKind.DELAY: _delay,
    NodeKind.WAIT_FOR: _wait_for,
    NodeKind.CONDITION: _condition,
    NodeKind.SWITCH: _switch,
    NodeKind.SPLIT: _split,
    NodeKind.START_PROGRAM: _start_program,
    NodeKind.END_PROGRAM: _end_program,
    NodeKind.GOTO: _goto,
    NodeKind.EXIT: _exit,
}
