"""The compiled program: what the engine executes.

Everything here is immutable and integer-addressed: nodes by index, names by catalog id,
durations in seconds, instants in epoch seconds, conditions as offsets (``pc``) into the
program's bytecode. ``NONE`` (-1) marks an absent reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from .bytecode import NONE


class NodeKind(IntEnum):
    """Node types, named as in the spec."""

    EMAIL = 0
    SMS = 1
    WEBHOOK = 2
    ALERT = 3
    UPDATE = 4
    DELAY = 5
    WAIT_FOR = 6
    CONDITION = 7
    SWITCH = 8
    SPLIT = 9
    START_PROGRAM = 10
    END_PROGRAM = 11
    GOTO = 12
    EXIT = 13


#: node kinds that send something (and may be named by ``message:`` in a condition)
MESSAGE_KINDS = frozenset({NodeKind.EMAIL, NodeKind.SMS, NodeKind.WEBHOOK, NodeKind.ALERT})


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """Fields every node has. ``next`` is the single successor, or NONE."""

    index: int
    id: str
    kind: NodeKind
    name: str | None = None
    next: int = NONE


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageNode(Node):
    """email, sms, webhook, alert; ``options`` keeps what only the sender reads (subject, url)."""

    message: int  #: catalog id of ``program/node``
    template: int = NONE
    skip_if_capped: bool = False
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class DelayNode(Node):
    """Wait ``for_seconds``, then to the next ``at_seconds`` of the local day; or ``until``."""

    for_seconds: int = 0
    at_seconds: int = NONE  #: seconds after local midnight
    until: int = NONE  #: epoch seconds
    until_field: int = NONE  #: catalog field id of a date field
    offset: int = 0  #: seconds added to ``until_field``


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitForNode(Node):
    event: int
    where: int = NONE
    timeout: int
    then: int = NONE
    on_timeout: int = NONE


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionNode(Node):
    test: int  #: pc of the condition
    then: int = NONE
    otherwise: int = NONE  #: the spec's ``else``


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchNode(Node):
    cases: tuple[tuple[int, int], ...]  #: (pc, next) in order; the first that holds wins
    default: int = NONE


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitNode(Node):
    """Weights are cumulative thresholds over ``0..total``; ``holdout`` is in basis points."""

    thresholds: tuple[int, ...]
    targets: tuple[int, ...]
    holdout: int = 0


class UpdateKind(IntEnum):
    ADD_TO_GROUP = 0
    MOVE_TO_GROUP = 1
    REMOVE_FROM_GROUP = 2
    SET = 3
    APPEND = 4
    INCREMENT = 5
    TAG = 6
    UNTAG = 7
    DO_NOT_MAIL = 8
    DELETE_CONTACT = 9


@dataclass(frozen=True, slots=True)
class UpdateOp:
    """One operation; ``target`` is a group or field id, NONE for contact-wide operations."""

    kind: UpdateKind
    target: int = NONE
    value: object = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateNode(Node):
    ops: tuple[UpdateOp, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgramNode(Node):
    """start_program and end_program: ``program`` is a catalog program id."""

    program: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GotoNode(Node):
    target: int
    max_loops: int = NONE


class EntryKind(IntEnum):
    EVENT = 0
    GROUP = 1
    SEGMENT = 2
    DATE = 3
    API = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One entry point. Which fields matter depends on ``kind``."""

    index: int
    kind: EntryKind
    event: int = NONE  #: EVENT: the event id (GROUP: ``group.joined``)
    where: int = NONE  #: EVENT: pc of the property condition
    group: int = NONE  #: GROUP
    include_existing: bool = False
    segment: int = NONE  #: SEGMENT: pc of the segment condition
    cron: str | None = None  #: SEGMENT: None for ``schedule: once``
    field: int = NONE  #: DATE: the date field
    offset: int = 0  #: DATE: seconds relative to the date
    at_seconds: int = NONE  #: DATE: local time of day
    yearly: bool = False  #: DATE: ``repeat: yearly``


class Reentry(IntEnum):
    NEVER = 0
    ALWAYS = 1
    AFTER = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class SendWindow:
    days: int  #: bit d set for weekday d (Monday is 0)
    start: int  #: seconds after local midnight
    end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    reentry: Reentry = Reentry.NEVER
    reentry_after: int = 0
    timezone: str = "UTC"  #: an IANA name, or ``contact``
    send_window: SendWindow | None = None
    active_from: int = NONE
    active_until: int = NONE
    exit_on: int = NONE  #: pc
    goal: int = NONE  #: pc
    priority: int = 0
    report_to: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryQueries:
    """The ``did`` clauses of a program, one row each, as parallel arrays (see ``Op.DID``)."""

    event: npt.NDArray[np.int32]
    program: npt.NDArray[np.int32]  #: catalog program id, or NONE for any
    message: npt.NDArray[np.int32]  #: catalog message id, or NONE for any
    window: npt.NDArray[np.int64]  #: seconds back from now, or NONE
    since_entry: npt.NDArray[np.bool_]
    at_least: npt.NDArray[np.int32]
    at_most: npt.NDArray[np.int32]  #: NONE for no bound
    where: npt.NDArray[np.int32]  #: pc of a property condition on each past event, or NONE
    sum_prop: npt.NDArray[np.int32]  #: NONE when there is no ``sum``
    sum_cmp: npt.NDArray[np.int32]
    sum_const: npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class Bytecode:
    """A program's conditions: instructions, constant pool and string table."""

    code: npt.NDArray[np.int32]  #: ``WORDS`` per instruction
    const_kind: npt.NDArray[np.int8]
    const_value: npt.NDArray[np.float64]
    strings: tuple[str, ...]
    history: HistoryQueries


@dataclass(frozen=True, slots=True)
class EventRoute:
    """What one event can affect in a program: entries, waiting nodes, exit and goal conditions."""

    entries: tuple[int, ...] = ()
    waiting: tuple[int, ...] = ()
    exit_on: bool = False
    goal: bool = False


@dataclass(frozen=True, slots=True)
class FrequencyCap:
    """At most ``max`` messages of ``channel`` to one contact in any ``per`` seconds."""

    channel: str
    max: int
    per: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledProgram:
    id: str
    ident: int  #: catalog program id
    version: str  #: digest of the program's source
    name: str
    category: str
    description: str | None
    entries: tuple[Entry, ...]
    filter: int  #: pc, or NONE
    settings: Settings
    nodes: tuple[Node, ...]
    start: int
    bytecode: Bytecode
    routes: Mapping[int, EventRoute]  #: catalog event id -> route

    def node(self, node_id: str) -> Node:
        """Return the node named ``node_id``."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)
