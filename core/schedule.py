"""Time in a place: wall-clock times, calendar days through DST, send windows, dates, cron.

Every function takes and returns epoch seconds; a time zone says how a wall clock reads them.
A wall-clock time that does not exist (the spring-forward gap) moves forward by the gap (02:30
becomes 03:30); one that exists twice (fall back) is its first occurrence.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from .values import parse_iso

DAY = 86400
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@lru_cache(maxsize=1024)
def zone(name: str | None) -> ZoneInfo:
    """The zone named ``name``; an unknown or empty name is UTC (the documented fallback)."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: 'Europe' is a folder
        return ZoneInfo("UTC")


def local(moment: float, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(moment, tz)


def wall_clock(day: date, seconds: int, tz: ZoneInfo) -> float:
    """The instant a wall clock in ``tz`` reads ``seconds`` after midnight on ``day``."""
    naive = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
    return naive.replace(tzinfo=tz).timestamp()


def after_delay(moment: float, seconds: int, tz: ZoneInfo) -> float:
    """``moment`` plus a delay: whole days are calendar days (the same wall-clock time, across
    DST), the rest is elapsed time."""
    days, rest = divmod(seconds, DAY)
    if days:
        reading = local(moment, tz).replace(tzinfo=None) + timedelta(days=days)
        moment = reading.replace(tzinfo=tz).timestamp()
    return moment + rest


def next_time_of_day(moment: float, seconds: int, tz: ZoneInfo) -> float:
    """The first instant at or after ``moment`` when the wall clock reads ``seconds``."""
    today = local(moment, tz).date()
    candidate = wall_clock(today, seconds, tz)
    if candidate >= moment:
        return candidate
    return wall_clock(today + timedelta(days=1), seconds, tz)


def window_opening(moment: float, days: int, start: int, end: int, tz: ZoneInfo) -> float:
    """``moment`` if it lies in the send window, else the instant the window next opens.

    ``days`` has bit d set for weekday d (Monday 0); ``start``/``end`` are seconds of the day.
    """
    today = local(moment, tz).date()
    for ahead in range(8):
        day = today + timedelta(days=ahead)
        if not days >> day.weekday() & 1:
            continue
        opens, closes = wall_clock(day, start, tz), wall_clock(day, end, tz)
        if moment < closes:
            return max(moment, opens)
    raise ValueError("a send window with no day never opens")


def anniversary(day: date, year: int) -> date:
    """``day`` in ``year``; 29 February falls on 28 February in other years."""
    if (day.month, day.day) == (2, 29) and not _leap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def date_reading(value: object, tz: ZoneInfo) -> tuple[date, int | None] | None:
    """A date field as (local date, local time of day or None for a bare date); None if the
    value is no date."""
    if isinstance(value, str) and _DATE_ONLY.match(value):
        try:
            return date.fromisoformat(value), None
        except ValueError:
            return None
    epoch = parse_iso(value) if isinstance(value, str) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        epoch = float(value)
    if epoch is None:
        return None
    try:
        reading = local(epoch, tz)
    except (ValueError, OverflowError, OSError):  # milliseconds for seconds, year 58886 ...
        return None
    return reading.date(), reading.hour * 3600 + reading.minute * 60 + reading.second


def date_entry_time(
    value: object, offset: int, at: int | None, yearly: bool, after: float, tz: ZoneInfo
) -> float | None:
    """When a date entry fires next, at or after ``after``: the date (its anniversary if
    ``yearly``) shifted by ``offset``, at ``at`` local time (else the field's own time of day,
    else midnight). None when it never will."""
    try:
        return _date_entry_time(value, offset, at, yearly, after, tz)
    except (ValueError, OverflowError):  # a date at the edge of the calendar: no entry
        return None


def _date_entry_time(
    value: object, offset: int, at: int | None, yearly: bool, after: float, tz: ZoneInfo
) -> float | None:
    reading = date_reading(value, tz)
    if reading is None:
        return None
    day, time_of_day = reading
    clock = at if at is not None else (time_of_day or 0)
    offset_days, offset_rest = divmod(offset, DAY)

    def fire(on: date) -> float:
        return wall_clock(on + timedelta(days=offset_days), clock, tz) + offset_rest

    if not yearly:
        moment = fire(day)
        return moment if moment >= after else None
    year = local(after, tz).year
    for candidate in range(year - 1, year + 3):
        moment = fire(anniversary(day, candidate))
        if moment >= after:
            return moment
    return None


def cron_next(expression: str, after: float, tz: ZoneInfo) -> float:
    """The first tick of a 5-field cron expression strictly after ``after``, on ``tz``'s clock."""
    ticks = croniter(expression, local(after, tz).replace(tzinfo=None))  # the wall clock's
    while True:
        reading: datetime = ticks.get_next(datetime)
        moment = reading.replace(tzinfo=tz).timestamp()  # fold 0: a repeated time's first
        if moment > after:
            return moment
