"""``parcours up`` and ``parcours demo``: the engine as a running service.

``up`` opens the store (``REDIS_URL``, or an embedded Valkey in the data folder), joins or starts
Ray (``RAY_ADDRESS``, or a local one), deploys the programs of a folder, and steps the actors on
the wall clock until stopped, with a status line that ``parcours status`` (ops/control.py) can
read from another shell (the figures are written to the store every second). ``demo`` runs the
examples on generated contacts and a week of their events on a virtual clock, and ends with
per-node counts.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from parcours.actors.partitions import Figures, ServiceConfig
from parcours.actors.service import Service, start_ray
from parcours.core.registries.redis import RedisRegistry
from parcours.core.store import PARTITIONS
from parcours.core.stores.embedded import open_store
from parcours.rules.project import load_valid_project
from parcours.rules.registry import CompiledVersions

from . import simulate, workload
from .deploy import deploy_paths, settings_of

#: the examples, beside the package's folders in a source checkout
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: seconds between two status lines (and two writes of the figures to the store)
STATUS_EVERY = 1.0
#: seconds the actors run on their own between two looks of the service (senders drain then)
SLICE = 0.2
#: a status older than this says the instance stopped
STALE = 10.0
HOUR = 3600
DEMO_PARTITIONS = 32


def add_commands(commands: Any) -> None:
    """The two commands' parsers, under the ``parcours`` command's."""
    up = commands.add_parser(
        "up",
        help="run the programs of a folder as a service",
        description="Start (or join) the store and Ray, deploy and activate the programs of "
        "PATH, and run until stopped (Ctrl-C), printing a status line every second. Without "
        "REDIS_URL the store is an embedded Valkey in the data folder; without RAY_ADDRESS, a "
        "local Ray. Messages go to DATA/outbox/CHANNEL.jsonl.",
    )
    up.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH")
    _service_options(up)
    up.add_argument("--for", dest="seconds", type=float, help="stop after this many seconds")
    up.set_defaults(run=run_up)
    demo = commands.add_parser(
        "demo",
        help="run the examples on generated contacts and a week of events",
        description="Start the service on a fresh data folder, deploy the examples, import "
        "CONTACTS generated contacts, play a week of their events on a virtual clock (an hour "
        "a step), and print how many times each node of each program was entered.",
    )
    demo.add_argument("--contacts", type=positive, default=100_000, help="default: 100,000")
    demo.add_argument("--days", type=positive, default=7, help="default: 7")
    demo.add_argument("--events", type=positive, default=5, help="per contact, default: 5")
    # a week played in minutes steps every partition every simulated hour: fewer, fuller ones
    _service_options(demo, data=None, partitions=DEMO_PARTITIONS)
    demo.set_defaults(run=run_demo)


def _service_options(
    parser: argparse.ArgumentParser,
    data: Path | None = Path(".parcours"),
    partitions: int = PARTITIONS,
) -> None:
    where = "default: .parcours" if data else "default: a new temporary folder"
    parser.add_argument("--data", type=Path, default=data, help=f"data folder ({where})")
    parser.add_argument("--actors", type=positive, default=2, help="partition actors, default: 2")
    parser.add_argument(
        "--partitions",
        type=positive,
        default=partitions,
        help=f"P, fixed for a data folder's life (default: {partitions})",
    )


def positive(text: str) -> int:
    """An argument that must be a whole number of 1 or more."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is not 1 or more")
    return number


# -- running ------------------------------------------------------------------------------


@contextmanager
def running(
    data: Path,
    paths: list[Path],
    actors: int,
    partitions: int,
    environ: Mapping[str, str] = os.environ,
) -> Iterator[Service]:
    """The store (``REDIS_URL`` in ``environ``, or an embedded one in ``data``), Ray
    (``RAY_ADDRESS``, or a local one) and a service running the programs of ``paths``,
    deployed once the service holds the store; all stopped after."""
    data.mkdir(parents=True, exist_ok=True)
    project = load_valid_project(paths)  # problems are reported before anything starts
    timezone, caps = settings_of(project, paths)
    with open_store(data, environ) as opened:
        start_ray(environ=environ)
        config = ServiceConfig(opened.url, str(data.resolve()), partitions, timezone=timezone,
                               caps=caps)  # fmt: skip
        service = Service(config, actors, CompiledVersions)
        try:
            deploy_paths(RedisRegistry(opened.client), paths)
            yield service
        finally:
            service.stop()


class Meter:
    """Figures summed over steps, a rate per second, and the line that shows them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.total = Figures()
        self.last = Figures()  #: the latest step's holdings (timers, enrollments)
        self.began = self._mark = clock()
        self._events_at_mark = 0
        self.rate = 0.0

    def add(self, figures: Figures) -> None:
        self.total.events += figures.events
        self.total.messages += figures.messages
        self.total.sent += figures.sent
        self.last = figures

    def due(self) -> bool:
        """Whether a status line is due; if so, the rate is measured anew."""
        now = self.clock()
        if now - self._mark < STATUS_EVERY:
            return False
        self.rate = (self.total.events - self._events_at_mark) / (now - self._mark)
        self._mark, self._events_at_mark = now, self.total.events
        return True

    def line(self) -> str:
        return (
            f"events/s {self.rate:>9,.0f} | events {self.total.events:>11,} | "
            f"timers due {self.last.timers:>9,} | messages sent {self.total.sent:>9,} | "
            f"enrollments {self.last.enrollments:>9,}"
        )

    def status(self) -> dict[str, str]:
        return {
            "updated": str(time.time()),
            "events_per_s": f"{self.rate:.0f}",
            "events": str(self.total.events),
            "timers": str(self.last.timers),
            "messages": str(self.total.messages),
            "sent": str(self.total.sent),
            "enrollments": str(self.last.enrollments),
            "partitions": str(self.last.partitions),
        }


def run_up(args: argparse.Namespace) -> int:
    with running(args.data, args.paths, args.actors, args.partitions) as service:
        stopping = _stop_on_signals()  # after Ray's start: it sets handlers of its own
        print(f"parcours up: {args.actors} actors, {args.partitions} partitions, data in "
              f"{args.data}; Ctrl-C stops", flush=True)  # fmt: skip
        serve(service, stopping, args.seconds, sys.stdout)
    print("parcours up: stopped", flush=True)
    return 0


def serve(
    service: Service, stopping: Callable[[], bool], seconds: float | None, out: TextIO
) -> Meter:
    """Step the service on the wall clock until ``stopping()`` or ``seconds`` have passed."""
    meter = Meter()
    status_key = f"{service.config.prefix}:status"
    while not stopping() and (seconds is None or meter.clock() - meter.began < seconds):
        meter.add(service.run_for(SLICE))
        if meter.due():
            print(meter.line(), file=out, flush=True)
            service.store.client.hset(status_key, mapping=meter.status())  # type: ignore[arg-type]
    return meter


def _stop_on_signals() -> Callable[[], bool]:
    stop: list[int] = []

    def handle(number: int, frame: FrameType | None) -> None:
        del frame
        stop.append(number)

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    return lambda: bool(stop)


# -- demo ---------------------------------------------------------------------------------


def run_demo(args: argparse.Namespace) -> int:
    data = args.data or Path(tempfile.mkdtemp(prefix="parcours-demo-"))
    if not EXAMPLES.is_dir():
        print(f"parcours demo: the examples are not at {EXAMPLES} (a source checkout has them)",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"parcours demo: {args.contacts:,} contacts, {args.days} days of events; "
          f"{args.actors} actors, data in {data}", flush=True)  # fmt: skip
    # its own embedded store and a local Ray, whatever REDIS_URL and RAY_ADDRESS say: a demo
    # never writes into a real instance
    with running(data, [EXAMPLES], args.actors, args.partitions, environ={}) as service:
        meter = play(service, args.contacts, args.days, args.events, sys.stderr)
        counts = service.counts()
    print(f"\n{meter.total.events:,} events, {meter.total.sent:,} messages written to "
          f"{data / 'outbox'}\n")  # fmt: skip
    print("\n".join(count_lines(counts)))
    return 0


def play(service: Service, contacts: int, days: int, per_contact: int, out: TextIO) -> Meter:
    """Import the contacts, then play their events hour by hour on a virtual clock (from the
    same Monday morning as ``parcours simulate``, so that every demo gives the same counts)."""
    start = simulate.START  # a fixed Monday morning: the same demo on any day
    meter, hours = Meter(), days * 24
    rows, imported = workload.contacts(contacts), 0
    while chunk := list(itertools.islice(rows, 10_000)):
        service.import_contacts(chunk, start)
        imported += len(chunk)
        _progress(out, "contacts", imported, contacts, meter)
    stream = workload.stream(contacts, contacts * per_contact, start, hours * HOUR)
    at = 0
    for hour in range(hours):
        end = start + (hour + 1) * HOUR
        taken = at
        while at < len(stream) and stream[at].time < end:
            at += 1
        service.ingest(stream[taken:at], end)
        meter.add(service.step(end))
        _progress(out, f"day {hour // 24 + 1}/{days}", hour + 1, hours, meter)
    meter.add(service.step(start + hours * HOUR + 1))  # the last results
    print(file=out)
    return meter


def _progress(out: TextIO, what: str, done: int, total: int, meter: Meter) -> None:
    width = 30
    filled = width * done // total
    bar = "#" * filled + "." * (width - filled)
    figures = meter.total
    print(f"\r[{bar}] {100 * done // total:>3}% {what:<10} events {figures.events:>10,} "
          f"messages {figures.sent:>9,}", end="", file=out, flush=True)  # fmt: skip


def count_lines(counts: Counter[tuple[str, str]]) -> list[str]:
    """Per program, each node entered at least once and how many times."""
    lines = []
    for program in sorted({program for program, _ in counts}):
        lines.append(program)
        for (owner, node), count in sorted(counts.items()):
            if owner == program:
                lines.append(f"  {node:<28} {count:>10,}")
    return lines
