"""What each node type does to an enrollment when it reaches the node.

Each function returns the index of the next node, ``NONE`` when the path ends there, or
:data:`steps.WAIT` / :data:`steps.LEFT`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import steps, updates
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
from .schedule import after_delay, next_time_of_day, window_opening
from .values import as_epoch
from .view import explain

if TYPE_CHECKING:
    from .lifecycle import ProgramState
    from .shard import Shard

CHANNELS = {
    NodeKind.EMAIL: "email",
    NodeKind.SMS: "sms",
    NodeKind.WEBHOOK: "webhook",
    NodeKind.ALERT: "alert",
}
#: the contact field that holds the address of each channel that has one
ADDRESS_FIELD = {NodeKind.EMAIL: "email", NodeKind.SMS: "phone"}
#: splits place contacts in 0..BASIS-1
BASIS = 10_000


def _message(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, MessageNode)
    contact = shard.enrollments.contact(slot)
    who = steps.contact_id(shard, slot)
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
            tz = steps.timezone_of(shard, state, contact)
            opening = window_opening(shard.now, window.days, window.start, window.end, tz)
            if opening > shard.now:
                shard.record(contact, state.id, "waiting", node.id, "for the send window")
                return steps.wait(shard, slot, opening, Wait.TIMER)
    release = updates.cap_release(shard, contact, CHANNELS[node.kind])
    if release is not None:
        if node.skip_if_capped:
            shard.record(contact, state.id, "skipped", node.id, "frequency cap reached")
            return node.next
        shard.record(contact, state.id, "waiting", node.id, "for the frequency cap")
        return steps.wait(shard, slot, release, Wait.TIMER)
    _emit(shard, state, slot, node, contact, who)
    return node.next


def _unreachable(shard: Shard, contact: int, node: MessageNode) -> str:
    """Why an email or SMS cannot go to this contact ('' when it can)."""
    flags = shard.contacts.flags[contact]
    if flags:
        return ", ".join(str(f.name).lower() for f in Flag if flags & f)
    address = shard.contacts.field(contact, ADDRESS_FIELD[node.kind])
    return "" if isinstance(address, str) and address else "no address"


def _emit(
    shard: Shard, state: ProgramState, slot: int, node: MessageNode, contact: int, who: str
) -> None:
    enrollments = shard.enrollments
    channel = CHANNELS[node.kind]
    enrollment = f"{shard.partition}:{enrollments.ident(slot)}"  # unique across partitions
    key = f"{enrollment}-{node.index}-{enrollments.visits[slot]}"
    template = shard.catalog.templates.name(node.template) if node.template != NONE else None
    shard.outbox.append(
        OutboxEntry(key, channel, who, state.id, node.id, shard.now, template, node.options)
    )
    shard.history.restart(contact, node.message)
    updates.count_send(shard, contact, channel)
    shard.stats.sent[(state.id, channel)] += 1
    shard.record(contact, state.id, "sent", node.id, channel)


def _delay(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, DelayNode)
    contact = shard.enrollments.contact(slot)
    now = shard.now
    if node.until != NONE:
        due = float(node.until)
    elif node.until_field != NONE:
        moment = as_epoch(shard.contacts.value(contact, node.until_field))
        if moment is None:
            shard.record(
                shard.enrollments.contact(slot), state.id, "no date", node.id, "continues at once"
            )
            return node.next
        due = moment + node.offset
    else:
        tz = steps.timezone_of(shard, state, contact)
        due = after_delay(now, node.for_seconds, tz)
        if node.at_seconds != NONE:
            due = next_time_of_day(due, node.at_seconds, tz)
    if due <= now:
        return node.next
    return steps.wait(shard, slot, due, Wait.TIMER)


def _wait_for(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, WaitForNode)
    tz = steps.timezone_of(shard, state, shard.enrollments.contact(slot))
    return steps.wait(shard, slot, after_delay(shard.now, node.timeout, tz), Wait.EVENT)


def _condition(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, ConditionNode)
    seen = steps.view(shard, state, slot)
    answer = evaluate(state.decoded, node.test, seen)
    if shard.trace.enabled:
        why = explain(state.decoded, node.test, seen, shard.catalog)
        shard.record(
            shard.enrollments.contact(slot), state.id, "then" if answer else "else", node.id, why
        )
    return node.then if answer else node.otherwise


def _switch(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, SwitchNode)
    seen = steps.view(shard, state, slot)
    for number, (test, target) in enumerate(node.cases, 1):
        if evaluate(state.decoded, test, seen):
            shard.record(shard.enrollments.contact(slot), state.id, f"case {number}", node.id)
            return target
    shard.record(shard.enrollments.contact(slot), state.id, "default", node.id)
    return node.default


def _split(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, SplitNode)
    bucket = split_bucket(steps.contact_id(shard, slot), state.id, node.id)
    if bucket < node.holdout:
        shard.stats.control[(state.id, node.id)] += 1
        steps.leave(shard, state, slot, "holdout (control)")
        return steps.LEFT
    scaled = (bucket - node.holdout) * BASIS // (BASIS - node.holdout)
    branch = next(i for i, threshold in enumerate(node.thresholds) if scaled < threshold)
    shard.record(shard.enrollments.contact(slot), state.id, f"branch {branch + 1}", node.id)
    return node.targets[branch]


def split_bucket(contact: str, program: str, node: str) -> int:
    """A contact's place in ``0..9999`` for one split: the same every time (sticky), spread
    evenly, and independent between splits."""
    digest = hashlib.blake2b(f"{program}/{node}/{contact}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BASIS


def _update(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    updates.apply(shard, state, slot, node)
    return node.next  # run() sees if the update ended the enrollment (deleted, exit_on)


def _start_program(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, ProgramNode)
    from .entering import enroll_by_api

    target = shard.by_id.get(shard.catalog.programs.name(node.program))
    if target is None:
        shard.record(
            shard.enrollments.contact(slot),
            state.id,
            "not started",
            node.id,
            "program not deployed",
        )
    else:
        enroll_by_api(shard, shard.enrollments.contact(slot), target)
    return node.next


def _end_program(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, ProgramNode)
    if node.program == state.compiled.ident:
        steps.leave(shard, state, slot, "end_program")
        return steps.LEFT
    target = shard.by_id.get(shard.catalog.programs.name(node.program))
    other = shard.enrollments.of(shard.enrollments.contact(slot), target.index) if target else None
    if target is not None and other is not None:
        steps.leave(shard, target, other, f"ended by {state.id}.{node.id}")
    return node.next


def _goto(shard: Shard, state: ProgramState, slot: int, node: Node) -> int:
    assert isinstance(node, GotoNode)
    loops = shard.enrollments.loops.setdefault(slot, {})
    taken = loops.get(node.index, 0)
    if node.max_loops != NONE and taken >= node.max_loops:
        shard.record(shard.enrollments.contact(slot), state.id, "max_loops reached", node.id)
        return NONE
    loops[node.index] = taken + 1
    shard.touched.add(shard.enrollments.contact(slot))  # goto counts are in the contact's record
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
