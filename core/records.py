"""A contact's durable record: everything one shard knows of one contact, in one value.

The store keeps a record per contact (msgpack, in bucketed hashes); a shard is rebuilt from its
partition's records and its own record (:mod:`snapshot`). A record is a list, positions fixed,
trailing empty positions dropped (most contacts have no history or sends):

====  ==========  ==================================================================
 pos  name        what
====  ==========  ==================================================================
  0   id          the contact id
  1   profile     fields by name, ``groups`` (names), the flags that are set
  2   history     ``[event, [[time, program, message, props], ...]]`` by names, oldest first
  3   statuses    ``[message, status]`` of each message sent
  4   live        live enrollments: ``[program, slot, generation, node, wait, converted,
                  visits, entered_at, node_after, due, loops]``
  5   past        ended enrollments: ``[program, entered_at, exited_at, converted]``
  6   sends       ``[channel, [times]]`` for frequency caps
  7   dates       ``[program, entry, due]``: the contact's next date entries
====  ==========  ==================================================================

Names, not catalog ids, wherever the catalog grows at run time or differs between processes
(fields, groups, events, props, messages): a partition can move to another process. Programs are
their index in the shard (deployment order, kept in the shard's own record), nodes their index
in the program's version; an enrollment keeps its slot, so its ident and outbox keys survive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .bytecode import NONE, Status
from .contacts import FLAG_FIELDS, GROUPS_FIELD
from .enrollments import Row, Wait
from .program import EntryKind

if TYPE_CHECKING:
    from .shard import Shard

Record = list[Any]


class RecordError(ValueError):
    """A stored record the shard cannot take back (says which contact and what is wrong)."""


def contact_record(shard: Shard, slot: int) -> Record:
    """The record of the contact in ``slot``."""
    contact = shard.contacts.ids[slot]
    assert contact is not None, "a deleted contact has no record"
    record: Record = [
        contact,
        _profile(shard, slot),
        _history(shard, slot),
        [[shard.catalog.messages.name(m), s] for m, s in shard.history.statuses_of(slot)],
        _live(shard, slot),
        _past(shard, slot),
        _sends(shard, slot),
        _dates(shard, slot),
    ]
    while len(record) > 2 and not record[-1]:
        record.pop()
    return record


def restore_contact(shard: Shard, record: Record) -> None:
    """Put a contact back from its record (no event fires, no entry runs)."""
    try:
        contact = record[0]
        slot, created = shard.contacts.ensure(contact)
        if not created:
            raise RecordError(f"contact {contact!r} has two records")
        parts = [*record, *([[]] * (8 - len(record)))]
        shard.contacts.update(slot, parts[1])
        _restore_history(shard, slot, parts[2], parts[3])
        _restore_live(shard, slot, parts[4])
        for program, entered, exited, converted in parts[5]:
            shard.enrollments.past.set(slot, program, entered, exited, bool(converted))
        for channel, times in parts[6]:
            shard.sends[(slot, channel)] = list(times)
        for program, entry, due in parts[7]:
            shard.agenda.schedule(("date", program, entry, slot), due)
    except (TypeError, ValueError, IndexError, KeyError) as error:
        who = record[0] if isinstance(record, list) and record else record
        raise RecordError(f"the stored record of contact {who!r} is malformed: {error}") from error


def _profile(shard: Shard, slot: int) -> dict[str, Any]:
    profile = shard.contacts.snapshot(slot)
    for name in FLAG_FIELDS:
        if not profile[name]:
            del profile[name]
    if not profile[GROUPS_FIELD]:
        del profile[GROUPS_FIELD]
    return profile


def _history(shard: Shard, slot: int) -> list[Any]:
    catalog = shard.catalog
    kept = []
    for event, rows in shard.history.kept(slot):
        kept.append(
            [
                catalog.events.name(event),
                [
                    [
                        row.time,
                        None if row.program == NONE else catalog.programs.name(row.program),
                        None if row.message == NONE else catalog.messages.name(row.message),
                        {catalog.props.name(p): v for p, v in row.props.items()} or None,
                    ]
                    for row in rows
                ],
            ]
        )
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


def _live(shard: Shard, slot: int) -> list[Any]:
    enrollments = shard.enrollments
    rows = []
    for program in range(len(shard.programs)):
        live = enrollments.of(slot, program)
        if live is None:
            continue
        row = enrollments.row(live)
        due = shard.timers.due(live) if row.wait in (Wait.TIMER, Wait.EVENT) else None
        rows.append([program, live, *row[:-1], due, [list(pair) for pair in row.loops]])
    return rows


def _restore_live(shard: Shard, slot: int, rows: list[Any]) -> None:
    for program, live, *columns, due, loops in rows:
        if not 0 <= program < len(shard.programs):
            raise RecordError(f"an enrollment names program #{program}, which is not deployed")
        row = Row._make([*columns, [(node, taken) for node, taken in loops]])
        if not 0 <= row.node < len(shard.programs[program].compiled.nodes):
            raise RecordError(f"an enrollment stands on node #{row.node}, which does not exist")
        shard.enrollments.restore(live, slot, program, row)
        if due is not None:
            shard.timers.schedule_one(live, int(due))


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
    dates = []
    for state in shard.programs:
        for entry in state.compiled.entries:
            if entry.kind is EntryKind.DATE:
                due = shard.agenda.due(("date", state.index, entry.index, slot))
                if due is not None:
                    dates.append([state.index, entry.index, due])
    return dates
