"""Entry points and program settings."""

from __future__ import annotations

from typing import Any

from .checker import Checker
from .conditions import ConditionParser
from .durations import (
    check_timezone,
    parse_cron,
    parse_duration,
    parse_instant,
    parse_signed_duration,
    parse_time_of_day,
)
from .errors import Path, one_of
from .events import check_event
from .model import EntrySpec, SettingsSpec

#: the key that names each entry kind -> every key that entry takes
ENTRY_KEYS = {
    "on": ("on", "where"),
    "group": ("group", "include_existing"),
    "segment": ("segment", "schedule"),
    "date": ("date", "offset", "at", "repeat"),
    "api": ("api",),
}
SETTINGS_KEYS = (
    "reentry",
    "timezone",
    "send_window",
    "active_from",
    "active_until",
    "exit_on",
    "goal",
    "report_to",
    "priority",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def read_entries(checker: Checker, conditions: ConditionParser, value: object) -> list[EntrySpec]:
    path: Path = ("entry",)
    items = (
        [value]
        if isinstance(value, dict)
        else checker.sequence(value, path, "a list of entry points")
    )
    if items is not None and not items:
        checker.error(path, "a program needs at least one entry point")
    entries = []
    for i, item in enumerate(items or []):
        entry = _read_entry(
            checker, conditions, item, (*path, i) if isinstance(value, list) else path
        )
        if entry is not None:
            entries.append(entry)
    return entries


def _read_entry(
    checker: Checker, conditions: ConditionParser, item: object, path: Path
) -> EntrySpec | None:
    data = checker.mapping(item, path, "an entry point such as {on: form.submitted}")
    if data is None:
        return None
    kinds = [k for k in ENTRY_KEYS if k in data]
    if len(kinds) != 1:
        found = "none" if not kinds else ", ".join(kinds)
        checker.error(
            path, f"an entry point starts with one of {one_of(ENTRY_KEYS)}; found {found}"
        )
        return None
    kind = kinds[0]
    checker.keys(data, path, ENTRY_KEYS[kind], what=f"in a '{kind}' entry")
    return _ENTRY_READERS[kind](checker, conditions, data, path)


def _on(
    c: Checker, conditions: ConditionParser, data: dict[str, Any], path: Path
) -> EntrySpec | None:
    event = check_event(c, data["on"], (*path, "on"))
    where = (
        conditions.parse(data["where"], (*path, "where"), event_scope=True)
        if "where" in data
        else None
    )
    if event is None or ("where" in data and where is None):
        return None
    return EntrySpec("on", event=event, where=where)


def _group(
    c: Checker, conditions: ConditionParser, data: dict[str, Any], path: Path
) -> EntrySpec | None:
    group = c.string(data["group"], (*path, "group"), "a group name")
    existing = c.boolean(data.get("include_existing", False), (*path, "include_existing"))
    if group is None or existing is None:
        return None
    return EntrySpec("group", group=group, include_existing=existing)


def _segment(
    c: Checker, conditions: ConditionParser, data: dict[str, Any], path: Path
) -> EntrySpec | None:
    segment = conditions.parse(data["segment"], (*path, "segment"))
    if "schedule" not in data:
        c.error(
            path, "missing required key 'schedule' in a 'segment' entry: 'once' or a cron schedule"
        )
        return None
    schedule = data["schedule"]
    cron = None if schedule == "once" else c.parse(parse_cron, schedule, (*path, "schedule"))
    if segment is None or (schedule != "once" and cron is None):
        return None
    return EntrySpec("segment", segment=segment, cron=cron)


def _date(
    c: Checker, conditions: ConditionParser, data: dict[str, Any], path: Path
) -> EntrySpec | None:
    field = c.string(data["date"], (*path, "date"), "a date field name")
    offset = (
        c.parse(parse_signed_duration, data["offset"], (*path, "offset")) if "offset" in data else 0
    )
    at = c.parse(parse_time_of_day, data["at"], (*path, "at")) if "at" in data else None
    repeat = c.choice(data.get("repeat", "once"), (*path, "repeat"), ("yearly", "once"))
    if field is None or offset is None or repeat is None or ("at" in data and at is None):
        return None
    return EntrySpec("date", field=field, offset=offset, at=at, yearly=repeat == "yearly")


def _api(
    c: Checker, conditions: ConditionParser, data: dict[str, Any], path: Path
) -> EntrySpec | None:
    if data["api"] is not True:
        c.error((*path, "api"), "write {api: true} for an entry by the API or a start_program node")
        return None
    return EntrySpec("api")


_ENTRY_READERS = {"on": _on, "group": _group, "segment": _segment, "date": _date, "api": _api}


def read_settings(
    checker: Checker, conditions: ConditionParser, value: object, default_timezone: str
) -> SettingsSpec:
    path: Path = ("settings",)
    data = checker.mapping(value, path) if value is not None else {}
    if data is None:
        return SettingsSpec(timezone=default_timezone)
    checker.keys(data, path, SETTINGS_KEYS, what="in settings")
    reentry, after = _reentry(checker, data.get("reentry", "never"), (*path, "reentry"))
    timezone = default_timezone
    if "timezone" in data:
        timezone = (
            data["timezone"]
            if data["timezone"] == "contact"
            else (
                checker.parse(check_timezone, data["timezone"], (*path, "timezone"))
                or default_timezone
            )
        )
    active = [
        checker.parse(parse_instant, data[k], (*path, k)) if k in data else None
        for k in ("active_from", "active_until")
    ]
    if (
        None not in active
        and active[0] is not None
        and active[1] is not None
        and active[0] >= active[1]
    ):
        checker.error((*path, "active_until"), "active_until must come after active_from")
    report_to = (
        checker.strings(data["report_to"], (*path, "report_to"), "an email address")
        if "report_to" in data
        else []
    )
    priority = checker.integer(data.get("priority", 0), (*path, "priority"))
    return SettingsSpec(
        reentry=reentry,
        reentry_after=after,
        timezone=timezone,
        send_window=_send_window(checker, data["send_window"], (*path, "send_window"))
        if "send_window" in data
        else None,
        active_from=active[0],
        active_until=active[1],
        exit_on=conditions.parse(data["exit_on"], (*path, "exit_on"))
        if "exit_on" in data
        else None,
        goal=conditions.parse(data["goal"], (*path, "goal")) if "goal" in data else None,
        priority=priority or 0,
        report_to=tuple(report_to or ()),
    )


def _reentry(checker: Checker, value: object, path: Path) -> tuple[str, int]:
    if isinstance(value, dict):
        checker.keys(value, path, ("after",), ("after",), what="in reentry")
        after = (
            checker.parse(parse_duration, value["after"], (*path, "after"))
            if "after" in value
            else None
        )
        return "after", after or 0
    if value in ("never", "always"):
        return str(value), 0
    checker.error(path, f"expected 'never', 'always' or {{after: DURATION}}, found '{value}'")
    return "never", 0


def _send_window(checker: Checker, value: object, path: Path) -> tuple[int, int, int] | None:
    data = checker.mapping(
        value, path, 'a mapping such as {days: [mon, tue], hours: "09:00-18:00"}'
    )
    if data is None:
        return None
    checker.keys(data, path, ("days", "hours"), what="in send_window")
    days = 0b1111111
    if "days" in data:
        names = checker.strings(data["days"], (*path, "days"), "a weekday") or []
        chosen = [checker.choice(d, (*path, "days", i), WEEKDAYS) for i, d in enumerate(names)]
        days = sum(1 << WEEKDAYS.index(d) for d in set(chosen) if d is not None)
    start, end = 0, 86400
    if "hours" in data:
        hours = data["hours"]
        parts = hours.split("-") if isinstance(hours, str) else []
        times = (
            [checker.parse(parse_time_of_day, p.strip(), (*path, "hours")) for p in parts]
            if len(parts) == 2
            else None
        )
        if not times or None in times:
            if not times:
                checker.error(
                    (*path, "hours"), f"expected hours such as \"09:00-18:00\", found '{hours}'"
                )
            return None
        start, end = times[0] or 0, times[1] or 0
        if start >= end:
            checker.error(
                (*path, "hours"), 'the window must end after it starts (e.g. "09:00-18:00")'
            )
    return days, start, end
