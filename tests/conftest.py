"""Shared fixtures: the repository's folders and a writer of program files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from parcours.core.clock import VirtualClock
from parcours.core.registries.memory import MemoryRegistry
from parcours.core.registries.redis import RedisRegistry
from parcours.core.registry import Registry
from parcours.core.store import Store
from parcours.core.stores.embedded import EmbeddedValkey
from parcours.core.stores.memory import MemoryStore
from parcours.core.stores.redis import RedisStore

#: when registry tests start (2026-01-01T00:00:00Z)
REGISTRY_START = 1_767_225_600.0
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a file under a fresh folder and return its path."""

    def write_file(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write_file


@pytest.fixture(scope="session")
def valkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[redis.Redis]:
    """One embedded Valkey for the session (a real server, on a Unix socket)."""
    server = EmbeddedValkey(tmp_path_factory.mktemp("valkey"))
    client = server.start()
    yield client
    client.close()
    server.stop()


@pytest.fixture(params=["memory", "valkey"])
def new_store(request: pytest.FixtureRequest) -> Callable[[], Store]:
    """Each durable-state test runs on the memory store and on the embedded Valkey: this makes
    an empty one (hypothesis tests call it once per example)."""
    if request.param == "memory":
        return MemoryStore
    client: redis.Redis = request.getfixturevalue("valkey")

    def emptied() -> Store:
        client.flushall()
        return RedisStore(client)

    return emptied


@pytest.fixture
def store(new_store: Callable[[], Store]) -> Store:
    return new_store()


@pytest.fixture(params=["memory", "valkey"])
def registry(request: pytest.FixtureRequest) -> Registry:
    """Each registry test runs on the memory registry and on the embedded Valkey (emptied): an
    empty registry on a virtual clock (``registry.clock``) at :data:`REGISTRY_START`."""
    clock = VirtualClock(REGISTRY_START)
    if request.param == "memory":
        return MemoryRegistry(clock)
    client: redis.Redis = request.getfixturevalue("valkey")
    client.flushall()
    return RedisRegistry(client, clock=clock)
