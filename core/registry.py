"""The program registry: which programs exist, every version of their source, their status, and
the ordered log of the operations that changed them.

Partitions follow the log: each applies the operations after the last one it applied, in order,
so every partition deploys the same versions and moves through the same statuses. A registry
call writes its versions, the program's status and its operations all together or not at all,
so the log and the statuses never disagree.

The registry keeps a program's source as text; it does not read it (:mod:`parcours.rules`
validates and compiles it, see ``rules/registry.py``). Two implementations:
:class:`registries.memory.MemoryRegistry` and :class:`registries.redis.RedisRegistry` (key
layout in docs/storage.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol

from .catalog import Catalog
from .clock import Clock, SystemClock
from .lifecycle import TRANSITIONS, LifecycleError, Status
from .program import CompiledProgram

#: a file's ending -> the format its text is read in
FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
#: an operation that is not a deployment -> the status it gives, and the one it must start
#: from when the transitions alone allow more (activate and resume both lead to active)
MOVES: dict[str, tuple[Status, Status | None]] = {
    "activate": (Status.ACTIVE, Status.DRAFT),
    "pause": (Status.PAUSED, None),
    "resume": (Status.ACTIVE, Status.PAUSED),
    "stop": (Status.STOPPED, None),
}


class VersionSource(Protocol):
    """The registry's versions compiled in one catalog (``rules/registry.py`` builds it: core
    does not read program files), what a partition that follows the log needs."""

    catalog: Catalog

    def number(self, program_id: str, version: int) -> CompiledProgram:
        """Version ``version`` (1, 2, ...) of the program, compiled."""

    def digest(self, program_id: str, digest: str) -> CompiledProgram:
        """The version whose source has this digest (a shard record's version); KeyError
        when there is none."""


class RegistryError(Exception):
    """A version the registry does not have, or stored data that does not read."""


@dataclass(frozen=True)
class Version:
    """One recorded version of a program's source."""

    program: str
    number: int  #: 1, 2, ... in the order they were recorded
    text: str  #: the program file's text
    file: str  #: the file's name, as given when it was deployed
    format: str  #: ``yaml`` or ``json``
    recorded: float  #: epoch seconds


class Current(NamedTuple):
    """A program's status and the version it runs."""

    status: Status
    version: int


class Operation(NamedTuple):
    """One entry of the operations log."""

    seq: int  #: 1, 2, 3 ... over all programs, without gaps
    program: str
    version: int  #: the version deployed, or the one the program ran when it moved
    name: str  #: deploy, activate, pause, resume or stop
    time: float  #: epoch seconds


@dataclass(frozen=True)
class State:
    """What a registry call reads before deciding: the last seq, and the program as it is."""

    seq: int
    current: Current | None  #: None: never deployed
    latest: Version | None


@dataclass(frozen=True)
class Change:
    """What a registry call writes, all together; nothing at all when it has no operation."""

    program: str
    current: Current
    version: Version | None  #: a new version to record
    operations: tuple[Operation, ...]


def format_of(file_name: str) -> str:
    """``yaml`` or ``json``, from the file name's ending.

    Raises:
        ValueError: the name ends otherwise.
    """
    for ending, found in FORMATS.items():
        if file_name.lower().endswith(ending):
            return found
    raise ValueError(f"'{file_name}' is not a program file name (.yaml, .yml or .json)")


def moved(program_id: str, status: Status, operation: str) -> Status:
    """The status ``operation`` gives a program that is ``status`` (core/lifecycle.py's
    transitions).

    Raises:
        LifecycleError: the transition is not allowed.
    """
    target, start = MOVES[operation]
    if target not in TRANSITIONS[status] or (start is not None and status is not start):
        raise LifecycleError(f"cannot {operation} program '{program_id}': it is {status.value}")
    return target


class Registry(ABC):
    """Programs, their versions and status, and the log of operations (see the module).

    Parameters:
        clock: when versions and operations are recorded (the wall clock by default).
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()

    # -- reading ----------------------------------------------------------------------------

    @abstractmethod
    def programs(self) -> dict[str, Current]:
        """Every program ever deployed, in the order they were first deployed.

        Raises:
            RegistryError: a program's stored status does not read (the error names it).
        """

    @abstractmethod
    def versions(self, program_id: str) -> list[Version]:
        """The program's versions, oldest first (none for a program never deployed).

        Raises:
            RegistryError: a stored version does not read (the error names program and version).
        """

    @abstractmethod
    def source(self, program_id: str, version: int) -> Version:
        """One version of a program.

        Raises:
            RegistryError: the registry has no such version, or it does not read.
        """

    @abstractmethod
    def operations(self, after: int = 0, limit: int | None = None) -> list[Operation]:
        """The operations whose seq is above ``after``, oldest first, at most ``limit``.

        A follower passes the seq of the last operation it applied, and pages so.

        Raises:
            RegistryError: a stored operation does not read (the error names its seq).
        """

    @abstractmethod
    def last_seq(self) -> int:
        """The seq of the last operation logged (0 for none): a service reads it once a round
        so that every partition applies the same operations in the same round."""

    # -- changing ---------------------------------------------------------------------------

    def deploy(self, program_id: str, text: str, file_name: str, activate: bool = False) -> int:
        """Record a program's source, unless it is its latest version's, and make it current.

        A new version logs a ``deploy`` operation; with ``activate``, a draft also logs an
        ``activate`` (an active program stays so). The same text again writes nothing.

        Parameters:
            program_id: the program's id (its file's ``program:``; the text is not read here).
            text: the program file's text.
            file_name: its name; its ending gives the format (``.yaml``, ``.yml``, ``.json``).
            activate: make a draft active as well.

        Returns:
            The version number: new, or the latest's when the source is the same.

        Raises:
            ValueError: an empty program id, or a file name of another format.
            LifecycleError: the program is stopped, or ``activate`` on a paused program.
        """
        if not program_id:
            raise ValueError("a program id cannot be empty")
        offered = Version(program_id, 0, text, file_name, format_of(file_name), 0.0)

        def decide(state: State) -> Change:
            return _deployment(state, offered, activate, self.clock.now())

        return self._transact(program_id, decide).current.version

    def activate(self, program_id: str) -> None:
        """Make a draft active.

        Raises:
            LifecycleError: the program is unknown or not a draft; nothing is written.
        """
        self._move(program_id, "activate")

    def pause(self, program_id: str) -> None:
        """Pause an active program.

        Raises:
            LifecycleError: the program is unknown or not active; nothing is written.
        """
        self._move(program_id, "pause")

    def resume(self, program_id: str) -> None:
        """Make a paused program active again.

        Raises:
            LifecycleError: the program is unknown or not paused; nothing is written.
        """
        self._move(program_id, "resume")

    def stop(self, program_id: str) -> None:
        """End a program for good (a stopped program takes no operation again).

        Raises:
            LifecycleError: the program is unknown or already stopped; nothing is written.
        """
        self._move(program_id, "stop")

    def _move(self, program_id: str, name: str) -> None:
        def decide(state: State) -> Change:
            if state.current is None:
                raise LifecycleError(f"no program '{program_id}' is deployed")
            status, version = state.current
            current = Current(moved(program_id, status, name), version)
            return _change(state, program_id, current, None, [name], self.clock.now())

        self._transact(program_id, decide)

    @abstractmethod
    def _transact(self, program_id: str, decide: Callable[[State], Change]) -> Change:
        """Read the program's :class:`State`, write what ``decide`` makes of it (nothing if it
        has no operation, or raises), both as one atomic step; return the change."""


def _deployment(state: State, offered: Version, activate: bool, now: float) -> Change:
    """What deploying ``offered`` (not numbered yet) does to a program that is ``state``."""
    program_id, latest = offered.program, state.latest
    status = Status.DRAFT if state.current is None else state.current.status
    if status is Status.STOPPED:
        raise LifecycleError(f"cannot deploy program '{program_id}': it is stopped")
    if latest is not None and (latest.text, latest.format) == (offered.text, offered.format):
        new, number, names = None, latest.number, []
    else:
        number = latest.number + 1 if latest else 1
        new, names = replace(offered, number=number, recorded=now), ["deploy"]
    if activate and status is not Status.ACTIVE:
        status = moved(program_id, status, "activate")
        names.append("activate")
    return _change(state, program_id, Current(status, number), new, names, now)


def _change(
    state: State,
    program_id: str,
    current: Current,
    version: Version | None,
    names: list[str],
    now: float,
) -> Change:
    """The change that makes the program ``current``, logging ``names`` after ``state.seq``."""
    operations = (
        Operation(state.seq + i, program_id, current.version, name, now)
        for i, name in enumerate(names, 1)
    )
    return Change(program_id, current, version, tuple(operations))
