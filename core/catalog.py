"""Dense integer ids for the names that programs share: fields, events, groups and the rest.

A workspace keeps one :class:`Catalog`; every program compiled in it uses the same ids, so the
engine can index contact columns, event routes and message statuses by integer. Tables only grow:
a new program version may add names, never renumber them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence


class Names:
    """An append-only two-way table between names and dense ids ``0..n-1``."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._names: list[str] = []

    def intern(self, name: str) -> int:
        """Return the id of ``name``, adding it if new."""
        found = self._ids.get(name)
        if found is not None:
            return found
        self._ids[name] = len(self._names)
        self._names.append(name)
        return len(self._names) - 1

    @property
    def index(self) -> Mapping[str, int]:
        """The name -> id table itself (read it, never write it)."""
        return self._ids

    @property
    def names(self) -> Sequence[str]:
        """The id -> name table itself (read it, never write it): what a loop over many ids
        indexes rather than calling :meth:`name` for each."""
        return self._names

    def get(self, name: str) -> int | None:
        """Return the id of ``name``, or None if it was never interned."""
        return self._ids.get(name)

    def name(self, ident: int) -> str:
        """Return the name behind ``ident``."""
        return self._names[ident]

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)


def message_key(program: str, node: str) -> str:
    """The catalog name of a message: the node that sends it, qualified by its program."""
    return f"{program}/{node}"


class Catalog:
    """The workspace's name tables.

    ``messages`` holds ``program/node`` keys (see :func:`message_key`) so that message events
    (``email.opened {program, message}``) and conditions on them meet on one id.
    """

    def __init__(self) -> None:
        self.fields = Names()
        self.events = Names()
        self.props = Names()
        self.groups = Names()
        self.templates = Names()
        self.programs = Names()
        self.messages = Names()
