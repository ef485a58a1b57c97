"""How contacts enter programs: triggers, group joins, segments (once and on a schedule),
dates, the API; with the entry filter, re-entry rules and one live enrollment per program."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import mass, steps
from .bytecode import NONE
from .evaluator import evaluate
from .events import Event
from .lifecycle import Status
from .program import Entry, EntryKind, EventRoute, Reentry
from .schedule import cron_next, date_entry_time, zone
from .values import Moment
from .view import ContactView, explain

if TYPE_CHECKING:
    from .lifecycle import ProgramState
    from .shard import Shard


def on_event(
    shard: Shard, state: ProgramState, route: EventRoute, contact: int, event: Event
) -> None:
    """An event routed to an active program: exit, goal, a waiting node, then its entries."""
    if not state.live_at(shard.now):
        return
    props = event.properties
    if route.goal:  # before exit_on: the event that makes a contact leave may be its goal
        steps.check_goal(shard, state, contact, props)
    live = shard.enrollments.of(contact, state.index)
    if live is not None and route.exit_on and steps.check_exit(shard, state, live, props):
        live = None
    if live is not None and shard.enrollments.node[live] in route.waiting:
        steps.event_arrived(shard, state, live, props)
    for index in route.entries:
        entry = state.compiled.entries[index]
        if _matches(shard, state, entry, contact, props):
            try_enroll(shard, state, contact, f"entry {index}: {event.name}", props)
            return


def _matches(
    shard: Shard, state: ProgramState, entry: Entry, contact: int, props: Mapping[str, Any]
) -> bool:
    if entry.kind is EntryKind.GROUP:
        return props.get("group") == shard.catalog.groups.name(entry.group)
    moment = Moment(shard.now, tz=steps.timezone_of(shard, state, contact))
    return evaluate(state.decoded, entry.where, ContactView(shard, contact, moment, props))


def enroll_by_api(shard: Shard, contact: int, state: ProgramState) -> bool:
    """Enroll through ``{api: true}`` (the API, a start_program node)."""
    if not any(entry.kind is EntryKind.API for entry in state.compiled.entries):
        _refuse(shard, state, contact, "no api entry")
        return False
    return try_enroll(shard, state, contact, "api")


def try_enroll(
    shard: Shard,
    state: ProgramState,
    contact: int,
    reason: str,
    props: Mapping[str, Any] | None = None,
) -> bool:
    """Enroll ``contact`` at the program's start if every rule allows; return whether it did."""
    refusal = _refusal(shard, state, contact, props)
    if refusal:
        _refuse(shard, state, contact, refusal)
        return False
    slot = shard.enrollments.open(contact, state.index, state.compiled.start, shard.now)
    shard.stats.enrolled[state.id] += 1
    shard.record(contact, state.id, "entered", None, reason)
    shard.enrollments.visits[slot] = 0
    steps.enter(shard, state, slot, state.compiled.start)
    steps.run(shard, state, slot)
    return True


def _refusal(
    shard: Shard, state: ProgramState, contact: int, props: Mapping[str, Any] | None
) -> str:
    """Why the contact may not enter now ('' when it may)."""
    if not state.live_at(shard.now):
        return "program not active"
    if shard.enrollments.of(contact, state.index) is not None:
        return "already enrolled"
    settings = state.compiled.settings
    last = shard.enrollments.past.get(contact, state.index)
    if last is not None:
        if settings.reentry is Reentry.NEVER:
            return "reentry never"
        if (
            settings.reentry is Reentry.AFTER
            and shard.now < last.exited_at + settings.reentry_after
        ):
            return "reentry too soon"
    program_filter = state.compiled.filter
    if program_filter != NONE:
        moment = Moment(shard.now, tz=steps.timezone_of(shard, state, contact))
        seen = ContactView(shard, contact, moment, props)
        if not evaluate(state.decoded, program_filter, seen):
            why = (
                explain(state.decoded, program_filter, seen, shard.catalog)
                if shard.trace.enabled
                else ""
            )
            return f"filter ({why})" if why else "filter"
    return ""


def _refuse(shard: Shard, state: ProgramState, contact: int, reason: str) -> None:
    shard.stats.refused[(state.id, reason.split(" (")[0])] += 1
    shard.record(contact, state.id, "refused", None, reason)


# -- activation and the agenda -------------------------------------------------------------


def schedule_activation(shard: Shard, state: ProgramState) -> None:
    """On activation: start now or at active_from; stop at active_until."""
    settings = state.compiled.settings
    if settings.active_until != NONE:
        shard.agenda.schedule(("end", state.index), float(settings.active_until))
    if settings.active_from != NONE and shard.now < settings.active_from:
        shard.agenda.schedule(("start", state.index), float(settings.active_from))
    else:
        start_entries(shard, state)


def reschedule(shard: Shard, state: ProgramState) -> None:
    """Drop a program's agenda and build it again from its current version (after a deploy).

    Mass segments and existing group members are not enrolled again: they act once, when the
    program first goes live."""
    for key in shard.agenda.handles():
        if key[1] == state.index:
            shard.agenda.cancel(key)
            if key[0] == "date":
                shard.touched.add(key[3])  # the contact's record lists its dates
    if state.status not in (Status.ACTIVE, Status.PAUSED):
        return
    settings = state.compiled.settings
    if settings.active_until != NONE:
        shard.agenda.schedule(("end", state.index), float(settings.active_until))
    if not state.started:
        if settings.active_from != NONE and shard.now < settings.active_from:
            shard.agenda.schedule(("start", state.index), float(settings.active_from))
        return
    for entry in state.compiled.entries:
        if entry.kind is EntryKind.SEGMENT and entry.cron is not None:
            _next_tick(shard, state, entry)
        elif entry.kind is EntryKind.DATE:
            for contact in list(shard.contacts.live_slots()):
                schedule_date(shard, state, entry, contact)


def start_entries(shard: Shard, state: ProgramState) -> None:
    """The entries that act when a program goes live: mass segments, existing group members,
    the first cron tick, every contact's next date."""
    if state.started:
        return
    state.started = True
    for entry in state.compiled.entries:
        if entry.kind is EntryKind.SEGMENT and entry.cron is None:
            _enroll_segment(shard, state, entry, "segment once")
        elif entry.kind is EntryKind.SEGMENT and entry.cron is not None:
            _next_tick(shard, state, entry)
        elif entry.kind is EntryKind.GROUP and entry.include_existing:
            for contact in list(shard.contacts.live_slots()):
                if entry.group in shard.contacts.groups[contact]:
                    try_enroll(shard, state, contact, "existing group member")
        elif entry.kind is EntryKind.DATE:
            for contact in list(shard.contacts.live_slots()):
                schedule_date(shard, state, entry, contact)


def _enroll_segment(shard: Shard, state: ProgramState, entry: Entry, reason: str) -> None:
    members = mass.segment_members(shard, state, entry.segment)
    due = None if shard.trace.enabled else mass.shared_due(shard, state)
    if due is not None:
        mass.enroll_many(shard, state, members, due)
        return
    for contact in members.tolist():
        if shard.contacts.ids[contact] is not None:  # not deleted by an earlier enrollment
            try_enroll(shard, state, contact, reason)


def _next_tick(shard: Shard, state: ProgramState, entry: Entry) -> None:
    assert entry.cron is not None
    name = state.compiled.settings.timezone
    tz = zone(None if name == "contact" else name)  # one schedule for all: contacts' zones differ
    shard.agenda.schedule(("cron", state.index, entry.index), cron_next(entry.cron, shard.now, tz))


def schedule_date(
    shard: Shard, state: ProgramState, entry: Entry, contact: int, after: float | None = None
) -> None:
    """(Re)schedule a date entry for one contact from its date field, at or after ``after``."""
    key = ("date", state.index, entry.index, contact)
    shard.touched.add(contact)
    value = shard.contacts.fields[contact].get(entry.field)
    tz = steps.timezone_of(shard, state, contact)
    at = None if entry.at_seconds == NONE else entry.at_seconds
    start = shard.now if after is None else after
    moment = date_entry_time(value, entry.offset, at, entry.yearly, start, tz)
    if moment is None:
        shard.agenda.cancel(key)
    else:
        shard.agenda.schedule(key, moment)


def on_agenda(shard: Shard, key: tuple[Any, ...]) -> None:
    """A program-wide moment: activation, deactivation, a cron tick, a contact's date."""
    kind, index = key[0], key[1]
    state = shard.programs[index]
    if kind == "start":
        if state.status is Status.ACTIVE:
            start_entries(shard, state)
    elif kind == "end":
        if state.status in (Status.ACTIVE, Status.PAUSED):
            shard.stop(state.id)
    elif kind == "cron":
        entry = state.compiled.entries[key[2]]
        if state.live_at(shard.now):
            _enroll_segment(shard, state, entry, "segment schedule")
        if state.status in (Status.ACTIVE, Status.PAUSED):
            _next_tick(shard, state, entry)
    else:
        _date_due(shard, state, state.compiled.entries[key[2]], key[3])


def _date_due(shard: Shard, state: ProgramState, entry: Entry, contact: int) -> None:
    if shard.contacts.ids[contact] is None:
        return
    shard.touched.add(contact)  # the date left the agenda, and the contact's record lists it
    if state.status is Status.STOPPED:
        return
    if state.live_at(shard.now):
        try_enroll(shard, state, contact, f"date {shard.catalog.fields.name(entry.field)}")
    if entry.yearly:
        schedule_date(shard, state, entry, contact, after=shard.now + 1)  # next year's


def contact_changed(shard: Shard, contact: int, changed: list[str]) -> None:
    """Fields changed: move the contact's dates, and check exit conditions and goals."""
    if not changed:
        return
    names = set(changed)
    for state in shard.programs:
        if not state.started or state.status is Status.STOPPED:
            continue
        for entry in state.compiled.entries:
            if entry.kind is EntryKind.DATE and (
                shard.catalog.fields.name(entry.field) in names or "timezone" in names
            ):
                schedule_date(shard, state, entry, contact)
        if not state.live_at(shard.now):
            continue
        steps.check_goal(shard, state, contact)
        live = shard.enrollments.of(contact, state.index)
        if live is not None and not steps.check_exit(shard, state, live):
            steps.follow_date_change(shard, state, live, names)
