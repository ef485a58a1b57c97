"""Changes a program makes to a contact (``update`` nodes), and frequency caps across programs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .contacts import Flag
from .program import Node, UpdateKind, UpdateNode

if TYPE_CHECKING:
    from .lifecycle import ProgramState
    from .shard import Shard

#: the list field that ``tag`` and ``untag`` change
TAGS_FIELD = "tags"


def apply(shard: Shard, state: ProgramState, slot: int, node: Node) -> None:
    """Apply an update node's operations, then let the engine react to what changed."""
    assert isinstance(node, UpdateNode)
    contact = shard.enrollments.contact(slot)
    contact_id = shard.contacts.ids[contact] or "?"
    changed: list[str] = []
    for op in node.ops:
        if op.kind is UpdateKind.DELETE_CONTACT:
            shard.record(contact, state.id, "deleted", node.id)
            shard.delete_contact(contact_id)
            return
        if op.kind is UpdateKind.DO_NOT_MAIL:
            shard.contacts.set_flag(contact, Flag.DO_NOT_MAIL, True)
            changed.append("do_not_mail")
        elif op.kind in _GROUP_OPS:
            _GROUP_OPS[op.kind](shard, contact, contact_id, op.target)
        else:
            name = _set_field(shard, contact, op.kind, op.target, op.value)
            if name not in changed:
                changed.append(name)
    shard.record(contact, state.id, "updated", node.id, ", ".join(changed))
    if changed:
        from .entering import contact_changed

        shard.raise_event(contact_id, "contact.updated", {"changed": changed})
        contact_changed(shard, contact, changed)


def _set_field(shard: Shard, contact: int, kind: UpdateKind, target: int, value: Any) -> str:
    if kind in (UpdateKind.TAG, UpdateKind.UNTAG):
        target = shard.catalog.fields.intern(TAGS_FIELD)
    current = shard.contacts.fields[contact].get(target)
    if kind is UpdateKind.SET:
        new = value
    elif kind is UpdateKind.INCREMENT:
        base = current if isinstance(current, (int, float)) and not isinstance(current, bool) else 0
        new = base + value
    elif kind is UpdateKind.UNTAG:
        new = [v for v in _as_list(current) if v != value]
    else:  # APPEND, TAG: add the value once
        values = _as_list(current)
        new = values if value in values else [*values, value]
    shard.contacts.set_value(contact, target, new)
    return shard.catalog.fields.name(target)


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list) else [value]


def _join(shard: Shard, contact: int, contact_id: str, group: int) -> None:
    if shard.contacts.join(contact, group):
        shard.raise_event(contact_id, "group.joined", {"group": shard.catalog.groups.name(group)})


def _leave_group(shard: Shard, contact: int, contact_id: str, group: int) -> None:
    if shard.contacts.leave(contact, group):
        shard.raise_event(contact_id, "group.left", {"group": shard.catalog.groups.name(group)})


def _move(shard: Shard, contact: int, contact_id: str, group: int) -> None:
    """Join ``group`` and leave every other."""
    for other in sorted(shard.contacts.groups[contact] - {group}):
        _leave_group(shard, contact, contact_id, other)
    _join(shard, contact, contact_id, group)


_GROUP_OPS = {
    UpdateKind.ADD_TO_GROUP: _join,
    UpdateKind.MOVE_TO_GROUP: _move,
    UpdateKind.REMOVE_FROM_GROUP: _leave_group,
}


def cap_release(shard: Shard, contact: int, channel: str) -> float | None:
    """None if one more message of ``channel`` fits every cap now; else when it will."""
    if channel not in shard.cap_window:
        return None
    sent = shard.sends.get((contact, channel))
    if not sent:
        return None
    release = None
    for cap in shard.caps:
        if cap.channel != channel:
            continue
        recent = [t for t in sent if t > shard.now - cap.per]
        if len(recent) >= cap.max:
            frees = recent[-cap.max] + cap.per
            release = frees if release is None else max(release, frees)
    return release


def count_send(shard: Shard, contact: int, channel: str) -> None:
    """Remember a send for the caps of its channel (only as far back as the longest cap)."""
    longest = shard.cap_window.get(channel)
    if longest is None:
        return
    sent = shard.sends.setdefault((contact, channel), [])
    sent.append(shard.now)
    shard.touched.add(contact)  # sends are in the contact's record
    while sent and sent[0] <= shard.now - longest:
        sent.pop(0)
