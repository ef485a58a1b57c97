"""A shard's own durable record (programs, agenda, counters) and the rebuilding of a shard from
it and its contacts' records (:mod:`records`).

The shard record is small: it holds no contact. It is written with every commit, beside the
records of the contacts the batch changed, so the two never disagree.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from typing import Any

from .conditions import fields_read
from .hotpath import TimerWheel
from .lifecycle import ProgramState, Status
from .program import CompiledProgram
from .records import Record, RecordError, restore_contact
from .rows import restore_rows
from .shard import Shard
from .trace import Stats

#: the layout of the records this code writes; a store written with another is refused
LAYOUT = 2
#: (program id, version) -> that version compiled in the shard's catalog
Programs = Callable[[str, str], CompiledProgram]


def shard_record(shard: Shard) -> dict[str, Any]:
    """What the shard knows beyond its contacts."""
    return {
        "layout": LAYOUT,
        "now": shard.now,
        "top": shard.enrollments.top,
        "programs": [_program(state) for state in shard.programs],
        "agenda": [
            [list(key), shard.agenda.due(key)]
            for key in shard.agenda.handles()
            if key[0] != "date"  # a contact's dates are in its record
        ],
        "stats": _stats(shard.stats),
    }


def restore(
    shard: Shard,
    record: dict[str, Any],
    contacts: Iterable[Record],
    programs: Programs,
    rows: Mapping[int, bytes],
) -> None:
    """Rebuild a new, empty shard from its record, its contacts' records and its enrollment
    rows (chunk -> bytes, :mod:`rows`).

    Raises:
        RecordError: a record that does not fit (another layout, a program version the
            caller cannot give, a malformed contact record or enrollment row).
    """
    if shard.programs or len(shard.contacts):
        raise RecordError("a shard is restored only when new")
    if record.get("layout") != LAYOUT:
        raise RecordError(
            f"partition {shard.partition} was stored with record layout "
            f"{record.get('layout', 1)}; this parcours reads layout {LAYOUT}"
        )
    shard.now = float(record["now"])
    shard.timers = TimerWheel(math.floor(shard.now))
    for index, saved in enumerate(record["programs"]):
        _restore_program(shard, index, saved, programs)
    shard.reroute()
    for key, due in record["agenda"]:
        shard.agenda.schedule(tuple(key), due)
    for contact in contacts:
        restore_contact(shard, contact)
    try:
        restore_rows(shard, rows)
    except (ValueError, KeyError) as error:
        raise RecordError(f"partition {shard.partition}'s enrollment rows: {error}") from error
    shard.enrollments.settle(int(record["top"]))
    _restore_stats(shard.stats, record["stats"])
    shard.touched.clear()
    shard.enrollments.committed()
    shard.erased.clear()
    shard.lifted.clear()


def _program(state: ProgramState) -> list[Any]:
    return [
        state.id,
        state.compiled.version,
        state.status.value,
        state.started,
        state.paused_at,
        list(state.entered),
        [list(parked) for parked in state.parked],
        list(state.versions),
    ]


def _restore_program(shard: Shard, index: int, saved: list[Any], programs: Programs) -> None:
    program_id, version, status, started, paused_at, entered, parked, versions = saved
    try:
        compiled = programs(program_id, version)
    except KeyError as missing:
        raise RecordError(
            f"partition {shard.partition} runs version {version!r} of program {program_id!r}, "
            f"which the workspace does not have"
        ) from missing
    if len(entered) != len(compiled.nodes):
        raise RecordError(f"program {program_id!r} {version!r} has not the stored node count")
    state = ProgramState(index, compiled, Status(status), started=started, paused_at=paused_at)
    state.entered = list(entered)
    state.parked = [(slot, ident, fell_due) for slot, ident, fell_due in parked]
    state.versions = list(versions)
    shard.contacts.watch(fields_read(compiled.bytecode))
    shard.programs.append(state)
    shard.by_id[program_id] = state


def _stats(stats: Stats) -> dict[str, Any]:
    saved: dict[str, Any] = {}
    for field in fields(stats):
        value = getattr(stats, field.name)
        if isinstance(value, Counter):
            saved[field.name] = [[*_key(k), n] for k, n in value.items()]
        else:
            saved[field.name] = value
    return saved


def _key(key: str | tuple[str, ...]) -> tuple[str, ...]:
    return key if isinstance(key, tuple) else (key,)


def _restore_stats(stats: Stats, saved: dict[str, Any]) -> None:
    for field in fields(stats):
        value = saved.get(field.name)
        if value is None:
            continue
        if isinstance(getattr(stats, field.name), Counter):
            counter: Counter[Any] = getattr(stats, field.name)
            for *key, count in value:
                counter[key[0] if len(key) == 1 else tuple(key)] = count
        else:
            setattr(stats, field.name, value)
