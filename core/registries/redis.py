"""The program registry in Redis (or Valkey). Key layout: docs/storage.md, "Program registry".

The registry's keys are global (no partition hash tag): every partition reads them. Each call
reads under WATCH, decides, and writes in one MULTI/EXEC; another process's write in between
makes the EXEC fail and the call start again, so two processes never log the same seq.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import msgpack
import redis

from ..clock import Clock
from ..lifecycle import Status
from ..registry import FORMATS, Change, Current, Operation, Registry, RegistryError, State, Version
from ..store import StoreError


def _pack(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def _unpack(data: bytes, shape: tuple[type, ...]) -> list[Any]:
    """A msgpack list whose items have the types of ``shape``.

    Raises:
        ValueError: the data is not such a list.
    """
    try:
        value = msgpack.unpackb(data, raw=False)
    except ValueError as error:  # msgpack's own errors are ValueErrors
        raise ValueError(f"not msgpack ({str(error) or type(error).__name__})") from None
    if not isinstance(value, list) or len(value) != len(shape):
        raise ValueError(f"expected a list of {len(shape)} items, found {value!r:.60}")
    for item, wanted in zip(value, shape, strict=True):
        if not isinstance(item, wanted) or isinstance(item, bool):
            raise ValueError(f"expected {wanted.__name__}, found {item!r:.60}")
    return value


class RedisRegistry(Registry):
    """The registry in a Redis or Valkey server (``client`` from redis-py, bytes replies).

    Parameters:
        client: the server's client.
        prefix: the first part of every key (``pc``, as the store's).
        clock: when versions and operations are recorded.
    """

    def __init__(self, client: redis.Redis, prefix: str = "pc", clock: Clock | None = None):
        super().__init__(clock)
        self.client = client
        self.prefix = prefix
        self._programs = self.key("programs")
        self._log = self.key("log")
        self._seq = self.key("seq")

    def key(self, name: str) -> str:
        return f"{self.prefix}:registry:{name}"

    # -- reading ----------------------------------------------------------------------------

    def programs(self) -> dict[str, Current]:
        stored = _ask(lambda: self.client.hgetall(self._programs))
        found = [(program.decode(), data) for program, data in stored.items()]
        read = [(program, *_current(program, data)) for program, data in found]
        # in the order of their first deployments, which the log gave them
        return {program: current for program, current, _ in sorted(read, key=lambda r: r[2])}

    def versions(self, program_id: str) -> list[Version]:
        stored = _ask(lambda: self.client.hgetall(self.key(f"versions:{program_id}")))
        found = [
            _version(program_id, _number(program_id, number), data)
            for number, data in stored.items()
        ]
        return sorted(found, key=lambda version: version.number)

    def source(self, program_id: str, version: int) -> Version:
        data = _ask(lambda: self.client.hget(self.key(f"versions:{program_id}"), str(version)))
        if data is None:
            raise RegistryError(f"program '{program_id}' has no version {version}")
        return _version(program_id, version, data)

    def operations(self, after: int = 0, limit: int | None = None) -> list[Operation]:
        # the log's entry ids are seq-0, so the entries after ``after`` start at after+1-0
        start = f"{max(after, 0) + 1}-0"
        entries = _ask(lambda: self.client.xrange(self._log, start, "+", limit))
        return [_operation(entry, fields) for entry, fields in entries]

    def last_seq(self) -> int:
        return int(_ask(lambda: self.client.get(self._seq)) or 0)

    # -- changing ---------------------------------------------------------------------------

    def _transact(self, program_id: str, decide: Callable[[State], Change]) -> Change:
        # Every write sets the seq, so watching it alone catches any change in between.
        pipe: Any
        with _server(), self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(self._seq)
                    state, registered = self._state(pipe, program_id)
                    change = decide(state)
                    if not change.operations:
                        pipe.unwatch()
                        return change
                    pipe.multi()
                    self._write(pipe, change, registered or change.operations[0].seq)
                    pipe.execute()
                    return change
                except redis.WatchError:
                    continue

    def _state(self, pipe: Any, program_id: str) -> tuple[State, int | None]:
        """The program's state, and the seq of its first deployment (None: never deployed)."""
        seq = int(pipe.get(self._seq) or 0)
        data = pipe.hget(self._programs, program_id)
        if data is None:
            return State(seq, None, None), None
        current, registered = _current(program_id, data)
        stored = pipe.hget(self.key(f"versions:{program_id}"), str(current.version))
        if stored is None:
            raise RegistryError(f"program '{program_id}' has no version {current.version}")
        return State(seq, current, _version(program_id, current.version, stored)), registered

    def _write(self, pipe: Any, change: Change, registered: int) -> None:
        program, (status, version) = change.program, change.current
        if change.version is not None:
            new = change.version
            record = [new.text, new.file, new.format, float(new.recorded)]
            pipe.hset(self.key(f"versions:{program}"), str(new.number), _pack(record))
        pipe.hset(self._programs, program, _pack([status.value, version, registered]))
        for operation in change.operations:
            packed = _pack([program, operation.version, operation.name, float(operation.time)])
            pipe.xadd(self._log, {"m": packed}, id=f"{operation.seq}-0")
        pipe.set(self._seq, change.operations[-1].seq)


@contextmanager
def _server() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as error:
        raise StoreError(f"the Redis server refused or failed: {error}") from error


def _ask(run: Callable[[], Any]) -> Any:
    """The server's answer to ``run``."""
    with _server():
        return run()


def _current(program_id: str, data: bytes) -> tuple[Current, int]:
    """A program's status and version, and the seq of its first deployment."""
    try:
        status, version, registered = _unpack(data, (str, int, int))
        return Current(Status(status), version), registered
    except ValueError as error:
        raise RegistryError(
            f"program '{program_id}': its stored status does not read: {error}"
        ) from None


def _number(program_id: str, field: bytes) -> int:
    """A version number, from its field in the program's versions hash."""
    if not field.isdigit():
        raise RegistryError(f"program '{program_id}' has a stored version named {field!r}")
    return int(field)


def _version(program_id: str, number: int, data: bytes) -> Version:
    try:
        text, file, file_format, recorded = _unpack(data, (str, str, str, float))
        if file_format not in FORMATS.values():
            raise ValueError(f"unknown format {file_format!r}")
    except ValueError as error:
        raise RegistryError(
            f"program '{program_id}' version {number}: its stored source does not read: {error}"
        ) from None
    return Version(program_id, number, text, file, file_format, recorded)


def _operation(entry: bytes, fields: dict[bytes, bytes]) -> Operation:
    seq = entry.decode().split("-")[0]
    try:
        program, version, name, time = _unpack(fields.get(b"m", b""), (str, int, str, float))
    except ValueError as error:
        raise RegistryError(f"operation {seq} of the registry log does not read: {error}") from None
    return Operation(int(seq), program, version, name, time)
