"""The standard event names of the spec, and the check of an event name."""

from __future__ import annotations

import re

from .checker import Checker
from .errors import Path, suggestion

#: standard events; any name outside their namespaces is a custom event (a Segment ``track``)
STANDARD_EVENTS = frozenset(
    {
        "contact.created",
        "contact.updated",
        "contact.merged",
        "contact.deleted",
        "group.joined",
        "group.left",
        "form.submitted",
        "email.sent",
        "email.delivered",
        "email.opened",
        "email.clicked",
        "email.bounced",
        "email.unsubscribed",
        "email.complained",
        "sms.sent",
        "sms.delivered",
        "sms.clicked",
        "sms.failed",
        "page.viewed",
        "link.clicked",
        "score.changed",
        "chat.started",
        "chat.message",
        "alert.sent",
    }
)
#: namespaces reserved for standard events: a name in one of them must be standard
RESERVED_NAMESPACES = frozenset(name.split(".")[0] for name in STANDARD_EVENTS)
_EVENT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$")


def check_event(checker: Checker, value: object, path: Path) -> str | None:
    """A standard event name, or a custom one outside the standard namespaces."""
    name = checker.string(value, path, "an event name")
    if name is None:
        return None
    if not _EVENT_NAME.match(name):
        checker.error(path, f"'{name}' is not an event name: use letters, digits, '.', '_', '-'")
        return None
    namespace = name.split(".")[0]
    if namespace in RESERVED_NAMESPACES and name not in STANDARD_EVENTS:
        hint = suggestion(name, STANDARD_EVENTS)
        checker.error(path, f"unknown standard event '{name}'{hint}")
        return None
    return name
