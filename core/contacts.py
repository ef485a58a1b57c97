"""Contacts: fields, groups and suppression flags, by dense slot.

Each contact has a slot (its row); fields are keyed by catalog field id. Deleting a contact frees
nothing by itself: its row is emptied and its id forgotten, so a later event creates it anew
unless the id is suppressed (privacy deletion).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping
from enum import IntFlag
from types import MappingProxyType
from typing import Any

from .catalog import Catalog
from .columns import ColumnStore
from .marks import NO_MARKS, Marks
from .symbols import Symbols


class Flag(IntFlag):
    """Why a contact gets no email or SMS (message nodes skip them and count them)."""

    DO_NOT_MAIL = 1
    UNSUBSCRIBED = 2
    BOUNCED = 4


#: contact fields that set a flag rather than a value
FLAG_FIELDS = {
    "do_not_mail": Flag.DO_NOT_MAIL,
    "unsubscribed": Flag.UNSUBSCRIBED,
    "bounced": Flag.BOUNCED,
}
#: fields read as lists of names (groups are kept apart; tags are a list field)
GROUPS_FIELD = "groups"


#: the fields of a contact that has none: one shared, read-only row (a dict is made on the
#: first write), so that millions of contacts imported with a group cost no dict each
NO_FIELDS: Mapping[int, Any] = MappingProxyType({})
NO_GROUPS: frozenset[int] = frozenset()

#: how imports and forms write yes and no
_YES = {"true", "yes", "y", "1", "on"}
_NO = {"false", "no", "n", "0", "off", ""}


def as_flag(value: object) -> bool | None:
    """``True``/``False``, 1/0, or text such as ``"false"`` or ``"yes"``; None if neither."""
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _YES | _NO:
        return value.strip().lower() in _YES
    return None


class Contacts:
    """The contact table of one shard.

    Each contact's fields are a row keyed by catalog field id; the fields that conditions read
    (``watch``) and the groups are mirrored in typed columns, which compiled conditions and
    segments read. Every write goes through the methods here, so the two never disagree.
    A contact's groups are a frozenset shared by every contact in the same groups.
    """

    def __init__(
        self, catalog: Catalog, symbols: Symbols | None = None, touched: Marks = NO_MARKS
    ) -> None:
        self.catalog = catalog
        #: slots whose fields, groups or flags changed (the shard's, since its last commit)
        self.touched = touched
        self.slot_of: dict[str, int] = {}
        self.ids: list[str | None] = []
        self.fields: list[Mapping[int, Any]] = []
        self.groups: list[frozenset[int]] = []
        self._combinations: dict[frozenset[int], frozenset[int]] = {NO_GROUPS: NO_GROUPS}
        self.flags = array("B")
        self.columns = ColumnStore(symbols or Symbols())
        self._paths: dict[int, tuple[int, tuple[str, ...]] | tuple[()]] = {}
        self._watched: set[int] = set()
        self._dotted: dict[int, list[int]] = {}  #: root field -> watched dotted fields under it

    def watch(self, fields: Iterable[int]) -> None:
        """Mirror these fields in columns from now on (filled from the rows at once)."""
        for field in set(fields) - self._watched:
            self._watched.add(field)
            path = self._path(field)
            if path:
                self._dotted.setdefault(path[0], []).append(field)
            for slot in self.live_slots():
                self.columns.set(slot, field, self.value(slot, field))

    def set_value(self, slot: int, field: int, value: Any) -> None:
        """Write one field (and its column, and the columns of dotted fields under it)."""
        row = self.fields[slot]
        if row is NO_FIELDS:
            row = self.fields[slot] = {}
        row[field] = value  # type: ignore[index]
        self.touched.add(slot)
        if field in self._watched:
            self.columns.set(slot, field, value)
        for dotted in self._dotted.get(field, ()):
            self.columns.set(slot, dotted, self.value(slot, dotted))

    def join(self, slot: int, group: int) -> bool:
        """Add the contact to a group; return whether it was not in it."""
        if group in self.groups[slot]:
            return False
        self.groups[slot] = self._shared(self.groups[slot] | {group})
        self.columns.join(slot, group)
        self.touched.add(slot)
        return True

    def leave(self, slot: int, group: int) -> bool:
        """Take the contact out of a group; return whether it was in it."""
        if group not in self.groups[slot]:
            return False
        self.groups[slot] = self._shared(self.groups[slot] - {group})
        self.columns.leave(slot, group)
        self.touched.add(slot)
        return True

    def _shared(self, groups: frozenset[int]) -> frozenset[int]:
        return self._combinations.setdefault(groups, groups)

    def __len__(self) -> int:
        return len(self.slot_of)

    def slot(self, contact: str) -> int | None:
        return self.slot_of.get(contact)

    def ensure(self, contact: str) -> tuple[int, bool]:
        """The slot of ``contact``, creating an empty contact on first sight; and whether new."""
        found = self.slot_of.get(contact)
        if found is not None:
            return found, False
        self.slot_of[contact] = len(self.ids)
        self.ids.append(contact)
        self.fields.append(NO_FIELDS)
        self.groups.append(NO_GROUPS)
        self.flags.append(0)
        self.columns.reserve(len(self.ids))
        self.touched.add(len(self.ids) - 1)
        return len(self.ids) - 1, True

    def ensure_at(self, contact: str, slot: int) -> None:
        """Put back a stored contact in the slot it had (enrollment rows name it by slot).

        Raises:
            ValueError: the id or the slot is taken.
        """
        if contact in self.slot_of or (slot < len(self.ids) and self.ids[slot] is not None):
            raise ValueError(f"contact {contact!r} (slot {slot}) has two records")
        if slot < 0:
            raise ValueError(f"contact {contact!r} has a negative slot")
        while len(self.ids) <= slot:
            self.ids.append(None)
            self.fields.append(NO_FIELDS)
            self.groups.append(NO_GROUPS)
            self.flags.append(0)
        self.columns.reserve(len(self.ids))
        self.slot_of[contact] = slot
        self.ids[slot] = contact

    def update(self, slot: int, values: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """Set fields from a name -> value mapping; return the names whose value changed and
        the groups joined (``groups: [...]`` adds to the contact's groups, as an import does)."""
        changed: list[str] = []
        joined: list[str] = []
        for name, value in values.items():
            if name in FLAG_FIELDS:
                flag = as_flag(value)
                before = self.flags[slot]
                if flag is not None:  # anything else is not a yes or a no: the flag stays
                    self.set_flag(slot, FLAG_FIELDS[name], flag)
                if self.flags[slot] != before:
                    changed.append(name)
            elif name == GROUPS_FIELD and isinstance(value, list):
                for group in map(str, value):
                    if self.join(slot, self.catalog.groups.intern(group)):
                        joined.append(group)
            else:
                field = self.catalog.fields.intern(name)
                if self.fields[slot].get(field) != value:
                    self.set_value(slot, field, value)
                    changed.append(name)
        return changed, joined

    def set_flag(self, slot: int, flag: Flag, on: bool) -> None:
        flags = (self.flags[slot] | flag) if on else (self.flags[slot] & ~flag)
        if flags != self.flags[slot]:
            self.flags[slot] = flags
            self.touched.add(slot)

    def field(self, slot: int, name: str) -> Any:
        field = self.catalog.fields.get(name)
        return None if field is None else self.value(slot, field)

    def value(self, slot: int, field: int) -> Any:
        """A field's value; a dotted name (``enrichment.score``) also reads into a nested
        object, as a webhook response saved with ``save_response_to`` is."""
        values = self.fields[slot]
        value = values.get(field)
        if value is not None:
            return value
        path = self._paths.get(field)
        if path is None:
            path = self._paths[field] = self._path(field)
        if not path:
            return None
        value = values.get(path[0])
        for key in path[1]:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def _path(self, field: int) -> tuple[int, tuple[str, ...]] | tuple[()]:
        root, *keys = self.catalog.fields.name(field).split(".")
        return (self.catalog.fields.intern(root), tuple(keys)) if keys else ()

    def delete(self, slot: int) -> None:
        contact = self.ids[slot]
        if contact is not None:
            del self.slot_of[contact]
        self.ids[slot] = None
        for field in list(self.fields[slot]):
            self.set_value(slot, field, None)
        for group in list(self.groups[slot]):
            self.leave(slot, group)
        self.fields[slot] = NO_FIELDS
        self.flags[slot] = 0

    def live_slots(self) -> Iterator[int]:
        """Slots of existing contacts, in creation order."""
        return (slot for slot, contact in enumerate(self.ids) if contact is not None)

    def snapshot(self, slot: int) -> dict[str, Any]:
        """The contact by names (reports, journey tests)."""
        values = {self.catalog.fields.name(f): v for f, v in self.fields[slot].items()}
        values[GROUPS_FIELD] = sorted(self.catalog.groups.name(g) for g in self.groups[slot])
        for name, flag in FLAG_FIELDS.items():
            values[name] = bool(self.flags[slot] & flag)
        return values
