"""Events in columns: the shape a batch has from the input stream to the router.

A real stream is mostly events that concern no program. The router (``_router.pyx``) lets those
pass reading only typed columns (times, name codes) and the contact id, so nothing is built per
event until one needs the engine's full path: :meth:`EventBatch.event` makes its
:class:`~events.Event` then. The same columns are what the input stream stores (:meth:`pack`):
reading an entry back is one msgpack call and two buffer copies, not a parse per event.

Names are kept once per batch (``names``) and each event points at its name by a code, so the
router looks a name up once per batch rather than once per event.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgpack

from .events import Event, EventRow, Refused, is_mapping, read_event

#: the columns of a packed batch, in order (the layout of an input stream entry)
COLUMNS = ("contacts", "names", "codes", "times", "properties", "message_ids")


class EventBatch:
    """Events as parallel columns, in the order they arrived.

    Parameters:
        contacts: each event's contact id.
        names: the distinct event names of the batch.
        codes: each event's name, as its index in ``names`` (``array('i')``).
        times: each event's time in epoch seconds (``array('d')``).
        properties: each event's properties.
        message_ids: each event's ``messageId``, or None.
    """

    __slots__ = ("_packed", "codes", "contacts", "message_ids", "names", "properties", "times")

    def __init__(
        self,
        contacts: list[str],
        names: list[str],
        codes: array[int],
        times: array[float],
        properties: list[Mapping[str, Any]],
        message_ids: list[str | None],
    ) -> None:
        self.contacts, self.names, self.codes, self.times = contacts, names, codes, times
        self.properties, self.message_ids = properties, message_ids
        self._packed: bytes | None = None  # see pack: a batch does not change once built

    @classmethod
    def of(cls, events: Iterable[Event]) -> EventBatch:
        """The columns of events already checked (:class:`~events.Event` objects, which are
        rows of their fields)."""
        return cls.of_rows(list(events))

    @classmethod
    def of_rows(cls, rows: Sequence[EventRow]) -> EventBatch:
        """The columns of checked events given as rows of their fields (the columns come from
        one transposition, names get codes in the order they first appear)."""
        if not rows:
            return cls([], [], array("i"), array("d"), [], [])
        contacts, names, times, properties, message_ids = map(list, zip(*rows, strict=True))
        code_of: dict[str, int] = {}
        codes = array("i", [code_of.setdefault(name, len(code_of)) for name in names])
        return cls(contacts, list(code_of), codes, array("d", times), properties, message_ids)

    def __len__(self) -> int:
        return len(self.contacts)

    def event(self, index: int) -> Event:
        """The event at ``index``, for the engine's full path."""
        return Event(
            self.contacts[index],
            self.names[self.codes[index]],
            self.times[index],
            self.properties[index],
            self.message_ids[index],
        )

    def events(self) -> list[Event]:
        return [self.event(index) for index in range(len(self))]

    def select(self, indexes: Sequence[int]) -> EventBatch:
        """The events at ``indexes``, in that order (names keep their codes)."""
        return EventBatch(
            [self.contacts[i] for i in indexes],
            list(self.names),
            array("i", [self.codes[i] for i in indexes]),
            array("d", [self.times[i] for i in indexes]),
            [self.properties[i] for i in indexes],
            [self.message_ids[i] for i in indexes],
        )

    def pack(self) -> bytes:
        """The batch as one msgpack value (an input stream entry), packed once: ingest checks
        that a batch packs before the store writes those bytes.

        Raises:
            ValueError: an event's properties cannot be stored (an integer beyond 64 bits,
                an object msgpack cannot write); the message names the event.
        """
        if self._packed is not None:
            return self._packed
        columns = [
            self.contacts,
            self.names,
            self.codes.tobytes(),
            self.times.tobytes(),
            [p if type(p) is dict else dict(p) for p in self.properties],  # msgpack: dicts
            self.message_ids,
        ]
        try:
            packed: bytes = msgpack.packb(columns, use_bin_type=True)
        except (OverflowError, TypeError, ValueError) as error:
            raise ValueError(self._unstorable()) from error
        self._packed = packed
        return packed

    def packs(self) -> bool:
        """Whether the input stream can store the batch (see :meth:`pack`)."""
        try:
            self.pack()
        except ValueError:
            return False
        return True

    def _unstorable(self) -> str:
        for index, properties in enumerate(self.properties):
            try:
                msgpack.packb(dict(properties), use_bin_type=True)
            except (OverflowError, TypeError, ValueError) as error:
                event = f"{self.contacts[index]!r} {self.names[self.codes[index]]!r}"
                return f"event {index} ({event}): its properties cannot be stored: {error}"
        return "the batch cannot be stored: a contact id, name or messageId is not text"

    @classmethod
    def unpack(cls, data: bytes) -> EventBatch:
        """The batch :meth:`pack` wrote.

        Raises:
            ValueError: the bytes are not a packed batch (what is wrong is named).
        """
        try:
            columns = msgpack.unpackb(data, raw=False, strict_map_key=False)
        except (ValueError, msgpack.UnpackException) as error:
            raise ValueError(f"an input entry is not msgpack: {error}") from error
        if not isinstance(columns, list) or len(columns) != len(COLUMNS):
            raise ValueError(f"an input entry is not a batch of the {len(COLUMNS)} columns")
        contacts, names, codes, times, properties, message_ids = columns
        batch = cls(contacts, names, array("i"), array("d"), properties, message_ids)
        try:
            batch.codes.frombytes(codes)
            batch.times.frombytes(times)
        except (TypeError, ValueError) as error:
            raise ValueError(f"an input entry's codes or times are not arrays: {error}") from error
        lengths = {len(column) for column in (contacts, batch.codes, batch.times, properties)}
        if len(lengths | {len(message_ids)}) != 1:
            raise ValueError("an input entry's columns have different lengths")
        if len(batch.codes) and not 0 <= min(batch.codes) <= max(batch.codes) < len(names):
            raise ValueError("an input entry names an event code it does not define")
        return batch


def parse_batch(
    raws: Iterable[Event | Mapping[str, Any]], now: float
) -> tuple[EventBatch, list[tuple[int, Refused]]]:
    """Check Segment-style events (see :func:`events.read_event`) into a batch, each event whose
    properties the input stream could not store refused too.

    Returns:
        The batch of the events that parse, and (position, refusal) for each that does not.
    """
    batch, positions, refused = read_batch(raws, now)
    return keep_storable(batch, positions, refused), refused


def read_batch(
    raws: Iterable[Event | Mapping[str, Any]], now: float
) -> tuple[EventBatch, list[int], list[tuple[int, Refused]]]:
    """Check Segment-style events into a batch, without asking whether the stream can store
    their properties (:func:`keep_storable` does, once the batch is cut into what it writes).

    Returns:
        The batch of the events that parse, each one's position among ``raws``, and
        (position, refusal) for each event that does not parse.
    """
    rows, positions, refused = read_rows(raws, now)
    return EventBatch.of_rows(rows), positions, refused


def read_rows(
    raws: Iterable[Event | Mapping[str, Any]], now: float
) -> tuple[list[EventRow], list[int], list[tuple[int, Refused]]]:
    """:func:`read_batch`'s rows, before they become columns (ingest cuts them by partition
    first, so that each partition's columns are built once)."""
    rows: list[EventRow] = []
    refused: list[tuple[int, Refused]] = []
    positions: list[int] = []
    for position, raw in enumerate(raws):
        try:
            rows.append(_read(raw, now))
            positions.append(position)
        except Refused as refusal:
            refused.append((position, refusal))
    return rows, positions, refused


def keep_storable(
    batch: EventBatch, positions: Sequence[int], refused: list[tuple[int, Refused]]
) -> EventBatch:
    """The batch without the events whose properties the input stream cannot store (an integer
    beyond 64 bits, an object msgpack cannot write); each of those is added to ``refused`` at its
    position (``positions``: each event's), so one bad event does not cost its batch. The usual
    case costs one packing, which the store's write then reuses."""
    if batch.packs():
        return batch
    kept = []
    for index, position in enumerate(positions):
        if _packs(dict(batch.properties[index])):
            kept.append(index)
        else:
            detail = "the event's properties cannot be stored (an integer beyond 64 bits, or a"
            refusal = Refused("bad_properties", f"{detail} value that is not JSON-like)")
            refused.append((position, refusal))
    refused.sort(key=lambda pair: pair[0])
    return batch.select(kept)


def _packs(value: object) -> bool:
    """Whether the input stream can store ``value`` (msgpack: integers of 64 bits at most,
    no objects of other types)."""
    try:
        msgpack.packb(value, use_bin_type=True)
    except (OverflowError, TypeError, ValueError):
        return False
    return True


def _read(raw: object, now: float) -> EventRow:
    if isinstance(raw, Event):
        return raw  # its fields in the row's order
    if not is_mapping(raw):
        raise Refused("not_an_object", f"an event must be a mapping, not {type(raw).__name__}")
    return read_event(raw, now)
