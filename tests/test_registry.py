"""The program registry on the memory registry and on a real Valkey: versions, statuses, the
operations log (ordered, paged, consistent under a race), compiling from it, and stored data
that does not read."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import pytest
import redis
from conftest import EXAMPLES, REGISTRY_START
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.backoff import NoBackoff
from redis.retry import Retry

from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.lifecycle import LifecycleError, Status
from parcours.core.registries.memory import MemoryRegistry
from parcours.core.registries.redis import RedisRegistry
from parcours.core.registry import Current, Operation, Registry, RegistryError, Version
from parcours.core.store import StoreError
from parcours.rules import CompiledWorkspace, ProgramError, Project, compile_workspace
from parcours.rules.compiler import compile_program
from parcours.rules.project import load_valid_project
from parcours.rules.registry import compile_version, compiled

#: (operation, status before) -> status after: the life cycle as the issue states it, written
#: again here so that the registry is checked against something it does not share
LEGAL = {
    ("activate", "draft"): "active",
    ("pause", "active"): "paused",
    ("resume", "paused"): "active",
    ("stop", "draft"): "stopped",
    ("stop", "active"): "stopped",
    ("stop", "paused"): "stopped",
}
MOVES = ("activate", "pause", "resume", "stop")


def everything(registry: Registry) -> tuple[object, ...]:
    """All a registry holds, to compare before and after."""
    programs = registry.programs()
    versions = {program: registry.versions(program) for program in programs}
    return programs, versions, registry.operations()


def plain(value: Any) -> Any:
    """``value`` in tuples, numbers and strings, so that compiled forms compare with ``==``
    (numpy arrays by dtype, shape and bytes)."""
    if isinstance(value, np.ndarray):
        return (str(value.dtype), value.shape, value.tobytes())
    if isinstance(value, Enum | str | int | float | type(None)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value).__name__, tuple(plain(getattr(value, f.name)) for f in fields))
    if isinstance(value, Mapping):
        return tuple((plain(key), plain(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(plain(item) for item in value)
    if hasattr(value, "__dict__"):  # the catalog and its tables
        return (type(value).__name__, plain(vars(value)))
    return value


# -- versions -------------------------------------------------------------------------------


def test_versions_are_numbered_and_the_same_source_keeps_its_version(registry: Registry) -> None:
    clock = registry.clock
    assert isinstance(clock, VirtualClock)
    assert registry.deploy("a", "one", "a.yaml") == 1
    clock.advance(60)
    assert registry.deploy("a", "one", "renamed.yaml") == 1
    assert registry.deploy("a", "two", "a.yaml") == 2
    assert registry.deploy("a", "one", "a.yaml") == 3  # not the latest's: a new version
    assert [version.number for version in registry.versions("a")] == [1, 2, 3]
    assert registry.source("a", 1) == Version("a", 1, "one", "a.yaml", "yaml", REGISTRY_START)
    assert registry.source("a", 2).recorded == REGISTRY_START + 60
    assert [(op.name, op.version) for op in registry.operations()] == [
        ("deploy", 1),
        ("deploy", 2),
        ("deploy", 3),
    ]
    assert registry.programs() == {"a": Current(Status.DRAFT, 3)}


def test_a_version_keeps_its_file_name_and_format(registry: Registry) -> None:
    registry.deploy("a", '{"program": "a"}', "A.JSON")
    registry.deploy("a", "program: a", "a.yml")
    assert [(v.file, v.format) for v in registry.versions("a")] == [
        ("A.JSON", "json"),
        ("a.yml", "yaml"),
    ]
    # the same text in another format reads otherwise: a new version
    assert registry.deploy("a", "program: a", "a.json") == 3
    assert registry.versions("unknown") == []
    with pytest.raises(RegistryError, match="program 'a' has no version 4"):
        registry.source("a", 4)
    with pytest.raises(ValueError, match=r"'a\.txt' is not a program file name"):
        registry.deploy("a", "three", "a.txt")
    with pytest.raises(ValueError, match="empty"):
        registry.deploy("", "three", "a.yaml")


def test_programs_are_listed_in_the_order_they_were_first_deployed(registry: Registry) -> None:
    for program in ("b", "c", "a"):
        registry.deploy(program, "one", f"{program}.yaml")
    registry.deploy("b", "two", "b.yaml", activate=True)
    assert registry.programs() == {
        "b": Current(Status.ACTIVE, 2),
        "c": Current(Status.DRAFT, 1),
        "a": Current(Status.DRAFT, 1),
    }


# -- statuses -------------------------------------------------------------------------------


def test_statuses_move_as_the_life_cycle_allows(registry: Registry) -> None:
    registry.deploy("a", "one", "a.yaml")
    seen = []
    for move in ("activate", "pause", "resume", "pause", "stop"):
        getattr(registry, move)("a")
        seen.append(registry.programs()["a"].status.value)
    assert seen == ["active", "paused", "active", "paused", "stopped"]
    names = [op.name for op in registry.operations()]
    assert names == ["deploy", "activate", "pause", "resume", "pause", "stop"]


def test_deploying_with_activate_logs_both_and_an_active_program_stays_so(
    registry: Registry,
) -> None:
    registry.deploy("a", "one", "a.yaml", activate=True)
    registry.deploy("a", "two", "a.yaml", activate=True)
    registry.deploy("a", "two", "a.yaml", activate=True)  # nothing new: nothing written
    ops = [(op.seq, op.name, op.version) for op in registry.operations()]
    assert ops == [(1, "deploy", 1), (2, "activate", 1), (3, "deploy", 2)]
    assert registry.programs() == {"a": Current(Status.ACTIVE, 2)}


def test_a_new_version_keeps_the_programs_status(registry: Registry) -> None:
    registry.deploy("a", "one", "a.yaml", activate=True)
    registry.pause("a")
    assert registry.deploy("a", "two", "a.yaml") == 2
    assert registry.programs()["a"] == Current(Status.PAUSED, 2)
    registry.resume("a")
    assert registry.operations()[-1] == Operation(5, "a", 2, "resume", REGISTRY_START)


#: (what runs first, the change refused, what its error says)
ILLEGAL = {
    "activate an unknown program": ([], "activate", "no program 'a' is deployed"),
    "pause a draft": (["deploy"], "pause", "cannot pause program 'a': it is draft"),
    "resume a draft": (["deploy"], "resume", "cannot resume program 'a': it is draft"),
    "resume an active one": (["deploy", "activate"], "resume", "it is active"),
    "activate a paused one": (["deploy", "activate", "pause"], "activate", "it is paused"),
    "activate an active one": (["deploy", "activate"], "activate", "it is active"),
    "pause a stopped one": (["deploy", "stop"], "pause", "it is stopped"),
    "stop a stopped one": (["deploy", "stop"], "stop", "it is stopped"),
    "deploy a stopped one": (["deploy", "stop"], "deploy", "cannot deploy program 'a'"),
    "deploy and activate a paused one": (
        ["deploy", "activate", "pause"],
        "deploy_active",
        "cannot activate program 'a': it is paused",
    ),
}


def run(registry: Registry, name: str, program: str = "a", text: str = "one") -> None:
    if name in ("deploy", "deploy_active"):
        registry.deploy(program, text, f"{program}.yaml", activate=name == "deploy_active")
    else:
        getattr(registry, name)(program)


@pytest.mark.parametrize("case", ILLEGAL.values(), ids=list(ILLEGAL))
def test_an_illegal_change_raises_and_writes_nothing(
    registry: Registry, case: tuple[list[str], str, str]
) -> None:
    first, refused, message = case
    for name in first:
        run(registry, name)
    before = everything(registry)
    with pytest.raises(LifecycleError, match=message):
        run(registry, refused, text="another text")
    assert everything(registry) == before


# -- the operations log ---------------------------------------------------------------------


def test_the_log_is_ordered_and_pages(registry: Registry) -> None:
    clock = registry.clock
    assert isinstance(clock, VirtualClock)
    for step, program in enumerate(("a", "b", "c")):
        clock.advance(10)
        registry.deploy(program, f"text {step}", f"{program}.yaml", activate=True)
        registry.pause(program)
    clock.advance(10)
    registry.stop("b")
    ops = registry.operations()
    assert [op.seq for op in ops] == list(range(1, 11))
    assert [op.time for op in ops] == sorted(op.time for op in ops)
    assert ops[-1] == Operation(10, "b", 1, "stop", REGISTRY_START + 40)
    for after in range(12):
        assert registry.operations(after) == ops[after:]
    assert registry.operations(-3) == ops
    paged: list[Operation] = []
    while page := registry.operations(paged[-1].seq if paged else 0, limit=3):
        assert len(page) <= 3
        paged += page
    assert paged == ops


@pytest.fixture(params=["memory", "valkey"])
def two_clients(request: pytest.FixtureRequest) -> Iterator[tuple[Registry, Registry]]:
    """Two registries on the same data: one shared by threads, or two Redis connections."""
    clock = VirtualClock(REGISTRY_START)
    if request.param == "memory":
        shared = MemoryRegistry(clock)
        yield shared, shared
        return
    client: redis.Redis = request.getfixturevalue("valkey")
    client.flushall()
    other = redis.Redis(unix_socket_path=client.connection_pool.connection_kwargs["path"])
    yield RedisRegistry(client, clock=clock), RedisRegistry(other, clock=clock)
    other.close()


def test_two_clients_racing_keep_one_consistent_log(two_clients: tuple[Registry, Registry]):
    first, second = two_clients
    for program in ("a", "b"):
        first.deploy(program, "start", f"{program}.yaml", activate=True)
    start = threading.Barrier(2)
    done: list[int] = []

    def work(registry: Registry, name: str) -> None:
        start.wait()
        written = 0
        for i in range(40):
            program, choice = "ab"[i % 2], i % 3
            try:
                if choice == 0:
                    registry.deploy(program, f"{name} {i}", f"{program}.yaml")
                else:
                    getattr(registry, ("pause", "resume")[choice - 1])(program)
                written += 1
            except LifecycleError:
                pass  # the other client moved it first
        done.append(written)

    threads = [threading.Thread(target=work, args=pair) for pair in ((first, "x"), (second, "y"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(done) == 2  # neither thread failed otherwise
    ops = second.operations()
    assert [op.seq for op in ops] == list(range(1, len(ops) + 1))
    assert len(ops) == 4 + sum(done)
    assert replay(ops) == first.programs() == second.programs()
    for program in ("a", "b"):
        assert [v.number for v in first.versions(program)] == list(range(1, 16))


def replay(ops: list[Operation]) -> dict[str, Current]:
    """The programs that following ``ops`` gives, checking that each one was legal."""
    programs: dict[str, Current] = {}
    for op in ops:
        if op.name == "deploy":
            before = programs.get(op.program, Current(Status.DRAFT, 0))
            assert op.version == before.version + 1
            programs[op.program] = Current(before.status, op.version)
        else:
            status, version = programs[op.program]
            assert op.version == version
            after = LEGAL[op.name, status.value]
            programs[op.program] = Current(Status(after), version)
    return programs


# -- the memory and Redis registries, and a model of the life cycle -------------------------


class Model:
    """The registry's behaviour, told plainly: programs -> [status, texts], and the log."""

    def __init__(self) -> None:
        self.programs: dict[str, tuple[str, list[str]]] = {}
        self.log: list[tuple[str, int, str]] = []  #: (program, version, operation)

    def apply(self, name: str, program: str, text: str, activate: bool) -> int | str | None:
        """What the registry answers: a version, None, or "illegal"."""
        status, texts = self.programs.get(program, ("draft", []))
        if name != "deploy":
            if program not in self.programs or (name, status) not in LEGAL:
                return "illegal"
            self.programs[program] = (LEGAL[name, status], texts)
            self.log.append((program, len(texts), name))
            return None
        if status == "stopped" or (activate and status == "paused"):
            return "illegal"
        written = []
        if not texts or texts[-1] != text:
            texts = [*texts, text]
            written.append("deploy")
        if activate and status == "draft":
            status = "active"
            written.append("activate")
        self.programs[program] = (status, texts)
        self.log += [(program, len(texts), operation) for operation in written]
        return len(texts)


def outcome(registry: Registry, name: str, program: str, text: str, activate: bool) -> object:
    try:
        if name == "deploy":
            return registry.deploy(program, text, f"{program}.yaml", activate)
        getattr(registry, name)(program)
        return None
    except LifecycleError:
        return "illegal"


STEPS = st.lists(
    st.tuples(
        st.sampled_from(("deploy", "deploy", *MOVES)),
        st.sampled_from(("a", "b")),
        st.sampled_from(("one", "two")),
        st.booleans(),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(steps=STEPS)
def test_memory_and_redis_registries_agree_with_a_model(
    valkey: redis.Redis, steps: list[tuple[str, str, str, bool]]
) -> None:
    valkey.flushall()
    clock = VirtualClock(REGISTRY_START)
    registries = (MemoryRegistry(clock), RedisRegistry(valkey, clock=clock))
    model = Model()
    for step in steps:
        clock.advance(1)
        expected = model.apply(*step)
        assert [outcome(registry, *step) for registry in registries] == [expected] * 2, step
    memory, stored = (everything(registry) for registry in registries)
    assert memory == stored
    ops = registries[0].operations()
    assert [op.seq for op in ops] == list(range(1, len(ops) + 1))
    assert [(op.program, op.version, op.name) for op in ops] == model.log
    statuses = {program: status for program, (status, _) in model.programs.items()}
    assert {p: c.status.value for p, c in registries[1].programs().items()} == statuses


# -- compiling from the registry ------------------------------------------------------------


@pytest.fixture(scope="module")
def examples() -> tuple[Project, CompiledWorkspace]:
    """The example programs, and what compiling their files gives."""
    project = load_valid_project([EXAMPLES])
    workspace = project.workspace_of(project.programs[0])
    return project, compile_workspace(project.programs, workspace=workspace)


def test_compiling_from_the_registry_equals_compiling_the_files(
    registry: Registry, examples: tuple[Project, CompiledWorkspace]
) -> None:
    project, direct = examples
    for program in project.programs:
        path = Path(program.file)
        registry.deploy(program.id, path.read_text(encoding="utf-8"), path.name)
    stored = compiled(registry, workspace=project.workspace_of(project.programs[0]))
    assert len(stored.programs) == 22
    assert {version.format for p in stored.programs for version in registry.versions(p)} == {
        "yaml",
        "json",
    }
    assert list(stored.programs) == list(direct.programs)
    assert plain(stored) == plain(direct)


def test_a_version_compiles_as_its_file_did(registry: Registry) -> None:
    path = EXAMPLES / "welcome-coupon.yaml"
    text = path.read_text(encoding="utf-8")
    registry.deploy("welcome-coupon", text, path.name)
    registry.deploy("welcome-coupon", text.replace("for: 2d", "for: 3d"), path.name)
    [program] = load_valid_project([path]).programs
    first = compile_version(registry, "welcome-coupon", 1, Catalog())
    assert plain(first) == plain(compile_program(program, Catalog()))
    second = compile_version(registry, "welcome-coupon", 2, Catalog())
    assert second.version != first.version
    assert second.node("wait") == replace(first.node("wait"), for_seconds=3 * 86400)


@pytest.mark.parametrize(
    ("text", "file", "message"),
    [
        ("program: [", "a.yaml", r"a\.yaml \(a version 1\):1: \(top\): broken YAML"),
        ('{"program": ', "a.json", r"a\.json \(a version 1\):1: \(top\): broken JSON"),
        ("program: a\nname: A\n", "a.yaml", r"a\.yaml \(a version 1\):1: .*missing required"),
    ],
)
def test_a_stored_text_that_is_no_program_names_program_and_version(
    registry: Registry, text: str, file: str, message: str
) -> None:
    registry.deploy("a", text, file)
    with pytest.raises(ProgramError, match=message):
        compiled(registry)


def test_a_stored_program_under_another_id_is_refused(registry: Registry) -> None:
    path = EXAMPLES / "birthday.yaml"
    registry.deploy("gifts", path.read_text(encoding="utf-8"), path.name)
    with pytest.raises(ProgramError, match=r"\(gifts version 1\):\d+: program: .* as 'gifts'"):
        compiled(registry)


# -- in Redis -------------------------------------------------------------------------------


def test_the_redis_keys_are_the_documented_ones(valkey: redis.Redis) -> None:
    valkey.flushall()
    registry = RedisRegistry(valkey, clock=VirtualClock(REGISTRY_START))
    registry.deploy("a", "one", "a.yaml", activate=True)
    types = {key.decode(): valkey.type(key).decode() for key in valkey.keys("*")}
    assert types == {
        "pc:registry:programs": "hash",
        "pc:registry:versions:a": "hash",
        "pc:registry:log": "stream",
        "pc:registry:seq": "string",
    }
    assert valkey.get("pc:registry:seq") == b"2"
    assert RedisRegistry(valkey, prefix="other").programs() == {}


def corrupt(valkey: redis.Redis, key: str, field: str, data: bytes) -> RedisRegistry:
    """A registry with one program, then ``data`` written over ``field`` of ``key``."""
    valkey.flushall()
    registry = RedisRegistry(valkey, clock=VirtualClock(REGISTRY_START))
    registry.deploy("a", "one", "a.yaml")
    valkey.hset(key, field, data)
    return registry


NOT_A_LIST = msgpack.packb({"text": "one"})


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xc1", r"not msgpack \(FormatError\)"),
        (NOT_A_LIST, "expected a list of 4 items"),
        (msgpack.packb(["one", "a.yaml", "toml", 0.0]), "unknown format 'toml'"),
        (msgpack.packb([1, "a.yaml", "yaml", 0.0]), "expected str, found 1"),
    ],
)
def test_a_stored_version_that_does_not_read_names_program_and_version(
    valkey: redis.Redis, data: bytes, reason: str
) -> None:
    registry = corrupt(valkey, "pc:registry:versions:a", "1", data)
    message = f"program 'a' version 1: its stored source does not read: {reason}"
    for read in (lambda: registry.source("a", 1), lambda: registry.versions("a")):
        with pytest.raises(RegistryError, match=message):
            read()
    with pytest.raises(RegistryError, match=message):
        compiled(registry)
    with pytest.raises(RegistryError, match=message):
        registry.deploy("a", "two", "a.yaml")  # it reads the latest to compare


def test_a_stored_status_that_does_not_read_names_the_program(valkey: redis.Redis) -> None:
    registry = corrupt(valkey, "pc:registry:programs", "a", msgpack.packb(["lost", 1, 1]))
    with pytest.raises(RegistryError, match="program 'a': its stored status does not read"):
        registry.programs()
    with pytest.raises(RegistryError, match="program 'a': its stored status"):
        registry.pause("a")
    registry = corrupt(valkey, "pc:registry:versions:a", "x", msgpack.packb([]))
    with pytest.raises(RegistryError, match="program 'a' has a stored version named b'x'"):
        registry.versions("a")


def test_a_stored_operation_that_does_not_read_names_its_seq(valkey: redis.Redis) -> None:
    valkey.flushall()
    registry = RedisRegistry(valkey)
    registry.deploy("a", "one", "a.yaml")
    valkey.xadd("pc:registry:log", {"m": b"\x93"}, id="7-0")
    with pytest.raises(RegistryError, match="operation 7 of the registry log does not read"):
        registry.operations()
    assert registry.operations(limit=1)[0].name == "deploy"


def test_a_server_that_cannot_be_reached_is_a_store_error(tmp_path: Path) -> None:
    no_retry = Retry(NoBackoff(), 0)  # redis-py retries a refused connection, with backoff
    client = redis.Redis(unix_socket_path=str(tmp_path / "nothing.sock"), retry=no_retry)
    registry = RedisRegistry(client)
    for call in (registry.programs, lambda: registry.deploy("a", "one", "a.yaml")):
        with pytest.raises(StoreError, match="the Redis server refused or failed"):
            call()
