"""open_store: the server REDIS_URL names, or an embedded Valkey in the data folder; real
servers, no mocks."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from parcours.core.store import StoreError
from parcours.core.stores.embedded import EmbeddedValkey, open_store


def test_without_redis_url_an_embedded_valkey_keeps_the_data_folder(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    with open_store(folder, environ={"REDIS_URL": ""}) as opened:
        assert opened.server is not None
        opened.client.set("kept", b"yes")
        socket = opened.server.socket
    assert socket.parent == folder.resolve()
    with pytest.raises(redis.ConnectionError):  # stopped with the context
        redis.Redis(unix_socket_path=str(socket), retry=Retry(NoBackoff(), 0)).ping()
    with open_store(folder, environ={}) as again:
        assert again.client.get("kept") == b"yes"  # the append-only file brought it back


def test_the_embedded_server_runs_with_the_persistence_it_documents(tmp_path: Path) -> None:
    server = EmbeddedValkey(tmp_path / "data")
    client = server.start()
    try:
        settings = {
            name: client.config_get(name)[name]
            for name in ("appendonly", "appendfsync", "auto-aof-rewrite-min-size")
        }
    finally:
        client.close()
        server.stop()
    # rewrites of the append-only file at the server's 64 MB stalled a busy service
    assert settings == {
        "appendonly": "yes",
        "appendfsync": "everysec",
        "auto-aof-rewrite-min-size": str(512 * 2**20),
    }


def test_with_redis_url_it_uses_that_server_and_leaves_it_running(
    tmp_path: Path, valkey: redis.Redis
) -> None:
    url = f"unix://{valkey.connection_pool.connection_kwargs['path']}"
    valkey.set("there", b"before")
    folder = tmp_path / "unused"
    with open_store(folder, environ={"REDIS_URL": url}) as opened:
        assert opened.server is None
        assert opened.client.get("there") == b"before"
    assert valkey.ping()  # not ours to stop
    assert not folder.exists()  # no embedded server was started


def test_a_redis_url_that_cannot_be_reached_is_a_store_error(tmp_path: Path) -> None:
    url = f"unix://{tmp_path / 'nothing.sock'}"
    with pytest.raises(StoreError, match=r"cannot reach REDIS_URL=unix://.*nothing\.sock"):
        open_store(tmp_path, environ={"REDIS_URL": url})
    with pytest.raises(StoreError, match="cannot reach REDIS_URL=nowhere"):
        open_store(tmp_path, environ={"REDIS_URL": "nowhere"})


def test_a_data_folder_another_server_uses_is_a_store_error(tmp_path: Path) -> None:
    server = EmbeddedValkey(tmp_path)
    client = server.start()
    try:
        with pytest.raises(StoreError, match="another server already runs on the data folder"):
            open_store(tmp_path, environ={})
    finally:
        client.close()
        server.stop()


def test_a_data_folder_that_cannot_be_made_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the data folder"):
        open_store(tmp_path / "file" / "data", environ={})
