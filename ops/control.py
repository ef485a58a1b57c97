"""Commands that act on a running service through its store: ``parcours status``, ``programs``,
``deploy``, ``pause``, ``resume`` and ``stop``.

They reach the store ``REDIS_URL`` names, or the embedded Valkey that ``parcours up`` runs in
the data folder (they never start one). A change goes to the program registry; every partition
actor applies it in the next round, in order, whatever the number of actors.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import redis

from parcours.core.registries.redis import RedisRegistry
from parcours.core.stores.embedded import EmbeddedValkey, connect

from .deploy import deploy_paths

#: a status older than this says the instance stopped
STALE = 10.0
#: the figures of ``parcours status``, in the order shown
FIGURES = ("events_per_s", "events", "timers", "messages", "sent", "enrollments")


def add_commands(commands: Any) -> None:
    """The commands' parsers, under the ``parcours`` command's."""
    status = _command(commands, "status", "the figures of a running 'parcours up'",
                      "Read the figures a running 'parcours up' writes to its store every "
                      "second; exits 1 when none is running.")  # fmt: skip
    status.set_defaults(run=run_status)
    programs = _command(commands, "programs", "the programs of a store, with status and version",
                        "List the programs of the store's registry.")  # fmt: skip
    programs.set_defaults(run=run_programs)
    deploy = _command(commands, "deploy", "record new versions of programs in a running store",
                      "Validate the programs of PATH together and record a new version of each "
                      "changed one (drafts are activated); the actors take them in their next "
                      "round.")  # fmt: skip
    deploy.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    deploy.set_defaults(run=run_deploy)
    for move, what in (("pause", "nothing enters or moves on until resumed"),
                       ("resume", "a paused program runs again"),
                       ("stop", "a program ends for good")):  # fmt: skip
        summary = f"{move} a program: {what}"
        parser = _command(commands, move, summary, f"{summary.capitalize()}.")
        parser.add_argument("program", metavar="PROGRAM", help="the program's id")
        parser.set_defaults(run=run_move, move=move)


def _command(commands: Any, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=f"{description} The store is REDIS_URL's, or the embedded Valkey that "
        "'parcours up' runs in the data folder.",
    )
    parser.add_argument("--data", type=Path, default=Path(".parcours"), help="default: .parcours")
    parser.add_argument("--prefix", default="pc", help="the store's key prefix, default: pc")
    return parser


def run_status(args: argparse.Namespace) -> int:
    client = client_for(args.data, "status")
    stored: dict[bytes, bytes] = client.hgetall(f"{args.prefix}:status")  # type: ignore[assignment]
    found = {key.decode(): value.decode() for key, value in stored.items()}
    if not found:
        print("parcours status: no 'parcours up' has run on this store", file=sys.stderr)
        return 1
    age = time.time() - float(found["updated"])
    state = "running" if age < STALE else f"stopped ({age:,.0f} s ago)"
    print(f"parcours {state}")
    for name in FIGURES:
        print(f"  {name:<13} {int(found[name]):>12,}")
    return 0 if age < STALE else 1


def run_programs(args: argparse.Namespace) -> int:
    registry = RedisRegistry(client_for(args.data, "programs"), args.prefix)
    for program, (status, version) in registry.programs().items():
        print(f"{program:<32} {status.value:<8} version {version}")
    return 0


def run_deploy(args: argparse.Namespace) -> int:
    registry = RedisRegistry(client_for(args.data, "deploy"), args.prefix)
    for program, version in deploy_paths(registry, args.paths).versions.items():
        print(f"{program:<32} version {version}")
    return 0


def run_move(args: argparse.Namespace) -> int:
    registry = RedisRegistry(client_for(args.data, args.move), args.prefix)
    getattr(registry, args.move)(args.program)
    print(f"{args.program}: {registry.programs()[args.program].status.value}")
    return 0


def client_for(data: Path, command: str) -> redis.Redis:
    """The running instance's server, without starting one.

    Raises:
        SystemExit: no REDIS_URL, and no embedded Valkey runs in ``data``.
    """
    url = os.environ.get("REDIS_URL")
    if not url:
        socket = EmbeddedValkey(data).socket
        if not socket.exists():
            raise SystemExit(f"parcours {command}: nothing runs on {data} (no {socket})")
        url = f"unix://{socket}"
    return connect(url)
