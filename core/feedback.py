"""What standard events do to a contact before any program sees them: group membership,
message statuses (delivery results and reactions fed back by senders), suppression."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .bytecode import NONE, Status
from .catalog import message_key
from .contacts import Flag
from .events import Event

if TYPE_CHECKING:
    from .shard import Shard

#: message event -> the status it reports
STATUS_OF = {
    "email.sent": Status.SENT,
    "email.delivered": Status.DELIVERED,
    "email.opened": Status.OPENED,
    "email.clicked": Status.CLICKED,
    "email.bounced": Status.BOUNCED,
    "email.unsubscribed": Status.UNSUBSCRIBED,
    "email.complained": Status.UNSUBSCRIBED,
    "sms.sent": Status.SENT,
    "sms.delivered": Status.DELIVERED,
    "sms.clicked": Status.CLICKED,
    "sms.failed": Status.ERROR,
    "alert.sent": Status.SENT,
}
GROUP_EVENTS = frozenset({"group.joined", "group.left"})
#: message event -> the suppression it sets on the contact
FLAG_OF = {
    "email.unsubscribed": Flag.UNSUBSCRIBED,
    "email.complained": Flag.UNSUBSCRIBED,
    "email.bounced": Flag.BOUNCED,
}


def apply_feedback(shard: Shard, slot: int, event: Event) -> tuple[int, int]:
    """Apply the event's effects on the contact; return the catalog ids of the program and
    message it is about (NONE when it names none)."""
    name = event.name
    if name not in STATUS_OF and name not in GROUP_EVENTS:
        return NONE, NONE
    props = event.properties
    if name in GROUP_EVENTS:
        _membership(shard, slot, props.get("group"), joined=name == "group.joined")
        return NONE, NONE
    program_name, message_name = props.get("program"), props.get("message")
    program = shard.catalog.programs.get(program_name) if isinstance(program_name, str) else None
    message = None
    if isinstance(program_name, str) and isinstance(message_name, str):
        message = shard.catalog.messages.get(message_key(program_name, message_name))
    message = NONE if message is None else message
    if name in STATUS_OF:
        shard.history.raise_status(slot, message, STATUS_OF[name])
    flag = FLAG_OF.get(name)
    if flag is not None and not (flag is Flag.BOUNCED and props.get("type") == "soft"):
        shard.contacts.set_flag(slot, flag, True)
    return (NONE if program is None else program), message


def _membership(shard: Shard, slot: int, group: object, joined: bool) -> None:
    if not isinstance(group, str) or not group:
        return
    ident = shard.catalog.groups.intern(group)
    if joined:
        shard.contacts.join(slot, ident)
    else:
        shard.contacts.leave(slot, ident)
