"""Parsers for the language's small values: durations, times of day, instants, cron, time zones.

Each parser returns the value in the compiled unit (seconds, epoch seconds) or raises
``ValueError`` with a sentence that can be shown to a marketer as it is.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import croniter

from .errors import suggestion

#: seconds in each duration unit
UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:[0-9]+[wdhms])+$")
_PART = re.compile(r"([0-9]+)([wdhms])")
_TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
DURATION_HELP = "a duration such as 30s, 5m, 2h, 3d, 4w or 1d12h"


def parse_duration(value: object) -> int:
    """``1d12h`` -> 129600. Units may appear in any order; each part is a whole number."""
    if not isinstance(value, str) or not _DURATION.match(value.strip()):
        raise ValueError(f"'{value}' is not {DURATION_HELP}")
    return sum(int(n) * UNITS[unit] for n, unit in _PART.findall(value))


def parse_signed_duration(value: object) -> int:
    """``-7d`` -> -604800; ``+1h`` and ``1h`` are positive."""
    if isinstance(value, str) and value[:1] in "+-" and value[1:]:
        sign = -1 if value[0] == "-" else 1
        return sign * parse_duration(value[1:])
    return parse_duration(value)


def parse_time_of_day(value: object) -> int:
    """``"09:00"`` -> 32400 seconds after midnight."""
    match = _TIME.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(
            f"'{value}' is not a time of day such as \"09:00\" (hours 00-23, minutes 00-59)"
        )
    return int(match.group(1)) * 3600 + int(match.group(2)) * 60


def parse_instant(value: object) -> int:
    """An ISO 8601 instant with an offset or ``Z`` -> epoch seconds."""
    text = value if isinstance(value, str) else ""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"'{value}' is not an instant: write ISO 8601 with an offset, "
            "such as 2026-12-01T08:00:00Z or 2026-12-01T09:00:00+01:00"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"'{value}' has no time zone: add Z or an offset such as +01:00")
    return int(moment.timestamp())


def parse_cron(value: object) -> str:
    """Check a 5-field cron expression and return it."""
    if not isinstance(value, str) or len(value.split()) != 5:
        raise ValueError(
            f"'{value}' is not a cron schedule: write 5 fields (minute hour day month weekday), "
            "such as \"0 9 * * mon\", or 'once'"
        )
    if not croniter.is_valid(value):
        raise ValueError(f"'{value}' is not a valid cron schedule: a field is out of range")
    return value


def check_timezone(value: object) -> str:
    """An IANA time zone name such as Europe/Paris."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"'{value}' is not a time zone: use an IANA name such as Europe/Paris")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        hint = suggestion(value, available_timezones())
        raise ValueError(f"unknown time zone '{value}'{hint}") from None
    return value
