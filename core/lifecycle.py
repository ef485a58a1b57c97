"""Programs inside a shard: their life-cycle status and the deployment of new versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from zoneinfo import ZoneInfo

from .bytecode import NONE
from .evaluator import Decoded
from .program import CompiledProgram
from .schedule import zone


class Status(Enum):
    """draft -> active (now, or at active_from) <-> paused -> stopped."""

    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"


class LifecycleError(Exception):
    """A life-cycle change that the program's status does not allow."""


#: status -> the statuses it may move to
TRANSITIONS = {
    Status.DRAFT: {Status.ACTIVE, Status.STOPPED},
    Status.ACTIVE: {Status.PAUSED, Status.STOPPED},
    Status.PAUSED: {Status.ACTIVE, Status.STOPPED},
    Status.STOPPED: set(),
}


@dataclass
class ProgramState:
    """A deployed program: its compiled version, status, and enrollments parked by a pause."""

    index: int
    compiled: CompiledProgram
    status: Status = Status.DRAFT
    decoded: Decoded = field(init=False)
    id: str = field(init=False)
    zone: ZoneInfo | None = field(init=False)  #: None: each contact's own
    entered: list[int] = field(init=False)  #: enrollments that reached each node
    started: bool = False  #: its activation entries (mass segments, existing members) ran
    #: (slot, enrollment ident, when its step fell due)
    parked: list[tuple[int, int, float]] = field(default_factory=list)
    paused_at: float | None = None
    versions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.decoded = Decoded(self.compiled.bytecode)
        name = self.compiled.settings.timezone
        self.zone = None if name == "contact" else zone(name)
        self.id = self.compiled.id
        self.entered = [0] * len(self.compiled.nodes)
        self.versions.append(self.compiled.version)

    def live_at(self, now: float) -> bool:
        """Active, and inside its active_from / active_until window."""
        settings = self.compiled.settings
        if self.status is not Status.ACTIVE:
            return False
        if settings.active_from != NONE and now < settings.active_from:
            return False
        return settings.active_until == NONE or now < settings.active_until

    def move(self, status: Status) -> None:
        if status not in TRANSITIONS[self.status]:
            raise LifecycleError(
                f"program '{self.id}' is {self.status.value}: it cannot become {status.value}"
            )
        self.status = status


@dataclass(frozen=True)
class DeployReport:
    """What deploying a version does to the contacts of the one before it."""

    program: str
    version: str
    kept: int  #: enrollments on nodes that still exist
    removed: dict[str, int]  #: node id that no longer exists -> enrollments standing on it


def node_mapping(old: CompiledProgram, new: CompiledProgram) -> dict[int, int]:
    """Old node index -> new node index, for the node ids both versions have."""
    new_index = {node.id: node.index for node in new.nodes}
    return {node.index: new_index[node.id] for node in old.nodes if node.id in new_index}
