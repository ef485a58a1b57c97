"""Durable state in the embedded Valkey: sustained events/s with persistence, a mass program
enrolled and persisted, and Redis bytes per enrollment.

    python bench/durable.py [--contacts N] [--events N] [--mass N] [--only stream|mass] [--json]

Everything runs here, the server on the same machine (append-only file on, fsync every second):

- stream: the examples' event mix (bench/mix.py) over ``--contacts`` contacts in 8 partitions;
  events enter the partitions' streams as the ingest API takes them (checked, in columns,
  entries of 1,000, the partitions in turn), and each partition takes batches of up to 10,000,
  runs them and commits (records, outbox, cursor) in one MULTI/EXEC. ``stream_end_to_end`` is
  sustained, as a service runs: an appender process feeds the streams while this process steps
  every partition that has input waiting, until every event is taken. ``stream_ingest`` (the
  appending alone) and ``stream_engine`` (the partitions draining streams filled beforehand)
  are measured one after the other on a server of their own.
- mass: ``--mass`` contacts in a group, then a program whose segment takes the group at
  activation; every enrollment waits on a delay, persisted with its due time. Redis bytes per
  enrollment are INFO's used_memory after, less before the activation, over the count (at
  10 million, the default: with fewer, the 256 partitions' chunks of rows are mostly empty);
  peak memory is this process's peak RSS plus the server's peak.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import multiprocessing
import resource
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import mix
import redis

from parcours.core.batch import parse_batch
from parcours.core.catalog import Catalog
from parcours.core.clock import VirtualClock
from parcours.core.durable import IMPORT_CHUNK, Partition
from parcours.core.shard import Shard
from parcours.core.store import partition_of
from parcours.core.stores.embedded import EmbeddedValkey
from parcours.core.stores.redis import RedisStore
from parcours.rules import compile_workspace, load_project
from parcours.rules.compiler import compile_program
from parcours.rules.program import check_program
from parcours.rules.source import Document

PARTITIONS = 8
#: events per input entry, as the ingest API appends them
ENTRY = 1000
#: the mass program runs over the production number of partitions (docs/storage.md)
MASS_PARTITIONS = 256
TARGETS = {"stream": 250_000, "mass_seconds_10m": 60, "peak_gib": 4, "bytes_per_enrollment": 48}
Figures = dict[str, float]
Raw = list[list[dict[str, Any]]]  #: per partition, its events as the ingest API receives them
MASS = {
    "program": "mass", "name": "Mass", "category": "bench",
    "entry": [{"segment": {"in_group": "everyone"}, "schedule": "once"}],
    "nodes": {"later": {"type": "delay", "for": "3d", "next": "hello"},
              "hello": {"type": "email", "template": "hello"}},
}  # fmt: skip


def stream_setup(store: RedisStore, contacts: int) -> tuple[list[Partition], VirtualClock]:
    """Partitions with every triggered example program and ``contacts`` contacts committed,
    and their clock (at the mix's start)."""
    project = load_project([mix.EXAMPLES])
    compiled = compile_workspace(project.programs)
    programs = mix.triggered(compiled.programs.values())
    versions = {(p.id, p.version): p for p in programs}
    clock = VirtualClock(mix.START)

    def new_shard(number: int) -> Shard:
        return Shard(compiled.catalog, clock, timezone="Europe/Paris", partition=number)

    parts = [
        Partition(store, n, new_shard, lambda i, v: versions[(i, v)]) for n in range(PARTITIONS)
    ]
    for i in range(contacts):
        contact = f"c{i}"
        shard = parts[partition_of(contact, PARTITIONS)].shard
        shard.upsert_contact(contact, {"email": f"{contact}@example.com"})
    for part in parts:
        for program in programs:
            part.shard.deploy(program, activate=True)
        part.commit(None)
    return parts, clock


def stream_events(contacts: int, count: int) -> tuple[Raw, float]:
    """``count`` events of the mix, by partition, as the ingest API receives them; and the
    last one's time."""
    events = mix.stream(contacts, count)
    raw: Raw = [[] for _ in range(PARTITIONS)]
    for e in events:
        raw[partition_of(e.contact, PARTITIONS)].append(
            {"contact": e.contact, "event": e.name, "timestamp": e.time, "properties": e.properties}
        )
    return raw, events[-1].time


def append_all(store: RedisStore, raw: Raw, now: float) -> None:
    """As the ingest API takes them: checked, in columns, entries of ``ENTRY`` events, the
    partitions in turn."""
    entries = [[mine[at : at + ENTRY] for at in range(0, len(mine), ENTRY)] for mine in raw]
    for turn in itertools.zip_longest(*entries):
        for number, events in enumerate(turn):
            if events:
                batch, refused = parse_batch(events, now)
                assert not refused
                store.append(number, batch)


class Appender:
    """A process standing for the ingest API: it makes the events, then appends them all when
    started. Spawned, not forked: a child forked from the partitions' process would share their
    heap, and each write to a shared page (a reference count) would copy it, in both."""

    def __init__(self, socket: Path, contacts: int, count: int) -> None:
        processes = multiprocessing.get_context("spawn")
        self._pipe, theirs = processes.Pipe()
        self._process = processes.Process(target=_append, args=(socket, contacts, count, theirs))
        self._process.start()
        self.now: float = self._pipe.recv()  #: the last event's time, once the events are made

    def start(self) -> None:
        self._pipe.send(None)

    def join(self) -> None:
        self._process.join()
        assert self._process.exitcode == 0, self._process.exitcode


def _append(socket: Path, contacts: int, count: int, pipe: Connection) -> None:
    raw, now = stream_events(contacts, count)
    gc.freeze()  # the events stand for the API's network input: not the collector's to scan
    store = RedisStore(redis.Redis(unix_socket_path=str(socket)))
    pipe.send(now)
    pipe.recv()
    append_all(store, raw, now)


def taken(parts: list[Partition]) -> int:
    return sum(p.shard.stats.events["accepted"] + p.shard.stats.events["late"] for p in parts)


def stream_sequential(store: RedisStore, socket: Path, contacts: int, count: int) -> Figures:
    """The appender appending every event, then the partitions draining their streams."""
    parts, clock = stream_setup(store, contacts)
    appender = Appender(socket, contacts, count)
    clock.set(appender.now)
    began = time.perf_counter()
    appender.start()
    appender.join()
    appended = time.perf_counter()
    for part in parts:
        part.drain()
    done = time.perf_counter()
    assert taken(parts) == count, taken(parts)
    return {"stream_engine": count / (done - appended), "stream_ingest": count / (appended - began)}


def stream_sustained(store: RedisStore, socket: Path, contacts: int, count: int) -> Figures:
    """The appender feeds the streams while this process steps each partition that has input
    waiting, until every event is taken and what falls due by the last one has fired."""
    parts, clock = stream_setup(store, contacts)
    appender = Appender(socket, contacts, count)
    clock.set(appender.now)
    numbers = range(len(parts))
    began = time.perf_counter()
    appender.start()
    while taken(parts) < count:
        for part, waiting in zip(parts, store.waiting(numbers), strict=True):
            if waiting:
                part.step()
    for part in parts:  # then what falls due after the last event, as a drain ends
        part.drain()
    done = time.perf_counter()
    appender.join()
    return {"stream_end_to_end": count / (done - began)}


def mass(store: RedisStore, count: int, partitions: int = MASS_PARTITIONS) -> Figures:
    """``count`` contacts imported in a group over ``partitions`` partitions, then a program
    whose segment takes the group at activation: the activation is timed, partition by
    partition, each enrolling and committing its rows."""
    catalog, clock = Catalog(), VirtualClock(mix.START)
    check = check_program(Document("mass.yaml", MASS))
    assert check.program is not None
    program = compile_program(check.program, catalog)
    parts = [
        Partition(store, n, lambda n: Shard(catalog, clock, partition=n), lambda i, v: program)
        for n in range(partitions)
    ]
    waiting: list[list[tuple[str, dict[str, Any]]]] = [[] for _ in parts]
    member = {"groups": ["everyone"]}
    for i in range(count):
        contact = f"m{i}"
        mine = waiting[partition_of(contact, partitions)]
        mine.append((contact, member))
        if len(mine) == IMPORT_CHUNK or i == count - 1:
            for number, rows in enumerate(waiting):
                if rows:
                    parts[number].import_contacts(rows)
                    rows.clear()
    before = int(store.client.info("memory")["used_memory"])
    began = time.perf_counter()
    for part in parts:
        part.deploy(program, activate=True)
    seconds = time.perf_counter() - began
    after = store.client.info("memory")
    enrolled = sum(len(part.shard.enrollments) for part in parts)
    assert enrolled == count, enrolled
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "mass_seconds": seconds,
        "mass_rate": count / seconds,
        "mass_seconds_10m": 10_000_000 / (count / seconds),
        "bytes_per_enrollment": (int(after["used_memory"]) - before) / count,
        "peak_gib": (rss + int(after["used_memory_peak"])) / 2**30,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--mass", type=int, default=10_000_000)
    parser.add_argument("--only", choices=["stream", "mass"], help="run one part")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    parts: dict[str, list[Callable[[EmbeddedValkey, RedisStore], Figures]]] = {
        "stream": [
            lambda server, store: stream_sustained(
                store, server.socket, args.contacts, args.events
            ),
            lambda server, store: stream_sequential(
                store, server.socket, args.contacts, args.events
            ),
        ],
        "mass": [lambda server, store: mass(store, args.mass)],
    }
    figures: Figures = {}
    for name, runs in parts.items():
        for run in runs if args.only in (None, name) else []:  # each on a fresh server
            server = EmbeddedValkey(Path(tempfile.mkdtemp(prefix="parcours-bench-")))
            store = RedisStore(server.start())
            try:
                figures.update(run(server, store))
            finally:
                server.stop()
    report(figures, args)


def report(figures: dict[str, float], args: argparse.Namespace) -> None:
    units = {
        "stream_end_to_end": "events/s", "stream_engine": "events/s", "stream_ingest": "events/s",
        "mass_seconds": "s", "mass_rate": "enrollments/s", "mass_seconds_10m": "s (extrapolated)",
        "bytes_per_enrollment": "bytes", "peak_gib": "GiB",
    }  # fmt: skip
    target_of = {"stream_end_to_end": TARGETS["stream"], **TARGETS}
    for metric, value in figures.items():
        target = target_of.get(metric)
        if args.json:
            print(json.dumps({"metric": metric, "value": value, "unit": units[metric],
                              "target": target, "pure_value": None}))  # fmt: skip
        else:
            beside = "" if target is None else f"   target {target:,}"
            print(f"{metric:>22}: {value:>14,.2f} {units[metric]}{beside}")


if __name__ == "__main__":
    main()
