"""Contacts in bulk: an import of many contacts (a CSV, a CRM sync) at once.

An import is an upsert of each contact, with one difference: an id deleted for privacy stays
deleted (an import is how a deleted address comes back by accident; an explicit upsert is how
it comes back on purpose). When nothing would react to a new contact (no program listens to
``contact.created``, ``contact.updated`` or ``group.joined``, or reads them back, and no
started program has a date entry to schedule), a new contact is only written: no internal
event, no entry check. That is what lets a partition take millions of contacts in seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .lifecycle import Status
from .program import EntryKind

if TYPE_CHECKING:
    from .shard import Shard

#: the internal events an upsert raises
UPSERT_EVENTS = ("contact.created", "contact.updated", "group.joined")


@dataclass
class Imported:
    """What an import did."""

    created: int = 0
    updated: int = 0  #: existing contacts, upserted
    suppressed: list[str] = field(default_factory=list)  #: ids deleted for privacy, left out


def import_contacts(shard: Shard, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> Imported:
    """Create or update each (contact id, fields) of ``rows``; see the module's docstring."""
    done = Imported()
    quiet = nobody_listens(shard)
    contacts = shard.contacts
    for contact, fields in rows:
        if contact in shard.deleted:
            done.suppressed.append(contact)
        elif quiet and contact not in contacts.slot_of:
            slot, _ = contacts.ensure(contact)
            contacts.update(slot, fields)
            shard.touched.add(slot)
            done.created += 1
        else:
            shard.upsert_contact(contact, fields)
            done.updated += 1
    return done


def nobody_listens(shard: Shard) -> bool:
    """Whether a new contact would set nothing in motion (see the module's docstring)."""
    ids = shard.catalog.events.index
    for name in UPSERT_EVENTS:
        event = ids.get(name)
        if event is not None and shard.listens(event):
            return False
    return not any(
        state.started and state.status is not Status.STOPPED and entry.kind is EntryKind.DATE
        for state in shard.programs
        for entry in state.compiled.entries
    )
