"""What writing or erasing a contact does to a shard: the standard events its changes raise,
the entries that read its fields, and, for a privacy deletion, everything that held it.

The shard's public operations (``upsert_contact``, ``delete_contact``) and an ``identify`` call
in the stream come here; the shard then processes the events raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import entering, steps

if TYPE_CHECKING:
    from .shard import Shard


def upsert(shard: Shard, contact: str, fields: Mapping[str, Any]) -> None:
    """Create or update the contact; raise ``contact.created`` or ``contact.updated`` and a
    ``group.joined`` per new group (the caller drains them)."""
    slot, created = shard.contacts.ensure(contact)
    shard.touched.add(slot)
    changed, joined = shard.contacts.update(slot, fields)
    if created:
        shard.raise_event(contact, "contact.created", {})
    elif changed:
        shard.raise_event(contact, "contact.updated", {"changed": changed})
    for group in joined:
        shard.raise_event(contact, "group.joined", {"group": group})
    entering.contact_changed(shard, slot, changed if not created else list(fields))


def erase(shard: Shard, contact: str) -> None:
    """Forget a contact for privacy: its enrollments, timers, history and sends; its id stays
    in ``shard.deleted`` so that later events for it are refused."""
    slot = shard.contacts.slot(contact)
    shard.deleted.add(contact)
    shard.erased.add(contact)
    shard.lifted.discard(contact)
    if slot is None:
        return
    for state in shard.programs:
        live = shard.enrollments.of(slot, state.index)
        if live is not None:
            steps.leave(shard, state, live, "contact deleted")
    shard.history.forget(slot)
    shard.enrollments.forget(slot, len(shard.programs))
    for channel in {cap.channel for cap in shard.caps}:
        shard.sends.pop((slot, channel), None)
    shard.contacts.delete(slot)
    shard.touched.discard(slot)
