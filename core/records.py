"""A contact's durable record: everything one shard knows of one contact, in one value.

The store keeps a record per contact (msgpack, in bucketed hashes); a shard is rebuilt from its
partition's records, its enrollment rows (:mod:`rows`) and its own record (:mod:`snapshot`). A
record is a list, positions fixed, trailing empty positions dropped (most contacts have no
history or sends):

====  ==========  ==================================================================
 pos  name        what
====  ==========  ==================================================================
  0   id          the contact id
  1   slot        the contact's slot in the shard (enrollment rows name contacts by slot)
  2   profile     fields by name, ``groups`` (names), the flags that are set
  3   history     ``[event, [[time, program, message, props], ...]]`` by names, oldest first
  4   statuses    ``[message, status]`` of each message sent
  5   loops       ``[enrollment slot, [[goto node, jumps taken], ...]]`` of live enrollments
  6   past        ended enrollments: ``[program, entered_at, exited_at, converted]``
  7   sends       ``[channel, [times]]`` for frequency caps
  8   dates       ``[program, entry, due]``: the contact's next date entries
====  ==========  ==================================================================

Live enrollments are rows of their own (:mod:`rows`): a contact that enrolls, waits or moves
on changes its row, not its record.

Names, not catalog ids, wherever the catalog grows at run time or differs between processes
(fields, groups, events, props, messages): a partition can move to another process. Programs are
their index in the shard (deployment order, kept in the shard's own record), nodes their index
in the program's version; an enrollment keeps its slot, so its ident and outbox keys survive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .bytecode import NONE, Status
from .contacts import FLAG_FIELDS, GROUPS_FIELD
from .program import EntryKind

if TYPE_CHECKING:
    from .shard import Shard

Record = list[Any]
#: (field name, bit) of each contact flag, as plain ints for :func:`_profile`
_FLAG_BITS = [(name, int(flag)) for name, flag in FLAG_FIELDS.items()]


class RecordError(ValueError):
    """A stored record the shard cannot take back (says which contact and what is wrong)."""


def contact_record(shard: Shard, slot: int) -> Record:
    """The record of the contact in ``slot`` (made for every contact a commit touched: each
    part reads whole tables and slices rather than calling per value)."""
    contact = shard.contacts.ids[slot]
    assert contact is not None, "a deleted contact has no record"
    messages = shard.catalog.messages.names
    record: Record = [
        contact,
        slot,
        _profile(shard, slot),
        _history(shard, slot),
        [[messages[m], s] for m, s in shard.history.statuses_of(slot)],
        _loops(shard, slot),
        _past(shard, slot),
        _sends(shard, slot),
        _dates(shard, slot),
    ]
    while len(record) > 3 and not record[-1]:
        record.pop()
    return record


def restore_contact(shard: Shard, record: Record) -> None:
    """Put a contact back from its record (no event fires, no entry runs)."""
    try:
        contact, slot = record[0], record[1]
        if not isinstance(contact, str) or not isinstance(slot, int):
            raise TypeError("a record starts with the contact's id and slot")
        shard.contacts.ensure_at(contact, slot)
        parts = [*record, *([[]] * (9 - len(record)))]
        shard.contacts.update(slot, parts[2])
        _restore_history(shard, slot, parts[3], parts[4])
        for live, loops in parts[5]:
            shard.enrollments.loops[live] = {node: taken for node, taken in loops}
        for program, entered, exited, converted in parts[6]:
            shard.enrollments.past.set(slot, program, entered, exited, bool(converted))
        for channel, times in parts[7]:
            shard.sends[(slot, channel)] = list(times)
        for program, entry, due in parts[8]:
            shard.agenda.schedule(("date", program, entry, slot), due)
    except (TypeError, ValueError, IndexError, KeyError) as error:
        who = record[0] if isinstance(record, list) and record else record
        raise RecordError(f"the stored record of contact {who!r} is malformed: {error}") from error


def _profile(shard: Shard, slot: int) -> dict[str, Any]:
    """Fields by name, then the groups and the flags set, if any (plain ints: an IntFlag
    operation costs a Python call)."""
    contacts, catalog = shard.contacts, shard.catalog
    names = catalog.fields.names
    profile = {names[field]: value for field, value in contacts.fields[slot].items()}
    groups = contacts.groups[slot]
    if groups:
        group_names = catalog.groups.names
        profile[GROUPS_FIELD] = sorted([group_names[group] for group in groups])
    flags = contacts.flags[slot]
    if flags:
        for flag, bit in _FLAG_BITS:
            if flags & bit:
                profile[flag] = True
    return profile


def _history(shard: Shard, slot: int) -> list[Any]:
    catalog = shard.catalog
    events, programs = catalog.events.names, catalog.programs.names
    messages, props_names = catalog.messages.names, catalog.props.names
    kept = [
        [
            events[event],
            [
                [
                    time,
                    None if program == NONE else programs[program],
                    None if message == NONE else messages[message],
                    {props_names[p]: v for p, v in props.items()} or None,
                ]
                for time, program, message, props in zip(
                    times, program_ids, message_ids, kept_props, strict=True
                )
            ],
        ]
        for event, times, program_ids, message_ids, kept_props in shard.history.kept_columns(slot)
    ]
    return sorted(kept, key=lambda pair: pair[0])  # the same record whatever came first


def _restore_history(shard: Shard, slot: int, kept: list[Any], statuses: list[Any]) -> None:
    catalog, history = shard.catalog, shard.history
    for name, rows in kept:
        event = catalog.events.get(name)
        if event is None:
            continue  # no program deployed now reads it
        for time, program, message, props in rows:
            program_id = NONE if program is None else catalog.programs.get(program)
            message_id = NONE if message is None else catalog.messages.get(message)
            history.record(
                slot,
                event,
                time,
                NONE if program_id is None else program_id,
                NONE if message_id is None else message_id,
                props or {},
            )
    for message, status in statuses:
        message_id = catalog.messages.get(message)
        if message_id is not None and status != Status.NONE:
            history.raise_status(slot, message_id, Status(status))


def _loops(shard: Shard, slot: int) -> list[Any]:
    enrollments = shard.enrollments
    if not enrollments.loops:
        return []  # no live enrollment took a goto: no need to look up each program's
    found = []
    for program in range(len(shard.programs)):
        live = enrollments.of(slot, program)
        loops = enrollments.loops.get(live) if live is not None else None
        if loops:
            found.append([live, sorted([node, taken] for node, taken in loops.items())])
    return found


def _past(shard: Shard, slot: int) -> list[Any]:
    past = shard.enrollments.past
    rows = []
    for program in range(len(shard.programs)):
        ended = past.get(slot, program)
        if ended is not None:
            rows.append([program, ended.entered_at, ended.exited_at, int(ended.converted)])
    return rows


def _sends(shard: Shard, slot: int) -> list[Any]:
    return [
        [channel, list(shard.sends[(slot, channel)])]
        for channel in shard.cap_window
        if shard.sends.get((slot, channel))
    ]


def _dates(shard: Shard, slot: int) -> list[Any]:
    if not shard.agenda:
        return []  # nothing scheduled: no date entry to look up in each program
    dates = []
    for state in shard.programs:
        for entry in state.compiled.entries:
            if entry.kind is EntryKind.DATE:
                due = shard.agenda.due(("date", state.index, entry.index, slot))
                if due is not None:
                    dates.append([state.index, entry.index, due])
    return dates
