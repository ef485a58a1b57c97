"""Incoming events: their shape, and the check that refuses malformed ones with a reason.

An event names a contact (created on first sight, as Segment does), an event name, a time and
properties. The engine refuses, and counts by reason, what it cannot use; it never raises on
bad input.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, TypeGuard

from .values import parse_iso

#: how far ahead of the engine's clock an event may be stamped (clients' clocks drift)
FUTURE_TOLERANCE = 3600.0
#: events older than this, relative to the engine's clock, update history but trigger nothing
LATE_LIMIT = 7 * 86400.0
#: a Segment ``identify`` call in the stream: its properties are the contact's fields, upserted
#: in the stream's order; programs see what it changes (contact.created, contact.updated,
#: group.joined), never the call itself
IDENTIFY = "contact.identified"


#: the properties of an event that has none (read-only: every such event shares it)
NO_PROPERTIES: Mapping[str, Any] = MappingProxyType({})


class Event(NamedTuple):
    """An event as the engine takes it: immutable, and a tuple of its fields, which is the row
    a batch takes into its columns (a named tuple is built in 0.24 µs, a frozen dataclass in
    0.6 µs, and the engine builds one per event of its full path)."""

    contact: str
    name: str
    time: float
    properties: Mapping[str, Any] = NO_PROPERTIES
    message_id: str | None = None  #: the sender's id, for deduplication


class Refused(Exception):
    """An event or request the engine will not use; ``reason`` is a short counter name."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


#: an event's fields in :class:`Event`'s order (what a batch takes into its columns)
EventRow = tuple[str, str, float, Mapping[str, Any], str | None]


def read_event(raw: Mapping[str, Any], now: float) -> EventRow:
    """The fields of an :class:`Event` from a Segment-style mapping (no object is built: a
    batch takes them into its columns).

    Accepts ``contact`` (or ``userId``), ``event`` (or ``name``), ``timestamp`` (ISO 8601 or epoch
    seconds; absent means now), ``properties`` and ``messageId``; or, with ``type: identify``,
    ``traits`` instead of a name and properties (an :data:`IDENTIFY` event).

    Raises:
        Refused: no contact id, no event name, a time that cannot be read, properties that are
            not a mapping.
    """
    contact = raw.get("contact", raw.get("userId"))
    if not isinstance(contact, str) or not contact.strip():
        raise Refused("no_contact", "the event names no contact (contact or userId)")
    if raw.get("type") == "identify":
        name, properties = IDENTIFY, raw.get("traits") or {}
        if not is_mapping(properties):
            raise Refused("bad_traits", "the identify call's traits are not a mapping")
    else:
        name, properties = raw.get("event", raw.get("name")), raw.get("properties") or {}
        if not isinstance(name, str) or not name.strip():
            raise Refused("no_name", "the event has no name (event)")
        if name == IDENTIFY:  # only an identify call upserts a contact
            raise Refused("reserved_name", f"'{IDENTIFY}' is what an identify call becomes")
        if not is_mapping(properties):
            raise Refused("bad_properties", "the event's properties are not a mapping")
    message_id = raw.get("messageId")
    if message_id is not None and not isinstance(message_id, str):
        raise Refused("bad_message_id", "the event's messageId is not text")
    return contact, name, _time(raw.get("timestamp"), now), properties, message_id


def is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    """``isinstance(value, Mapping)``, a dict first: the ABC's check is a Python call, made
    twice per event that enters."""
    return type(value) is dict or isinstance(value, Mapping)


def _time(value: object, now: float) -> float:
    if value is None:
        return now
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    moment = parse_iso(value) if isinstance(value, str) else None
    if moment is None:
        raise Refused("bad_timestamp", f"the event's timestamp {value!r} is not a time")
    return moment
