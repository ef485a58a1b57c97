"""The ``parcours`` command line."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from parcours.actors.placement import ServiceError
from parcours.actors.senders import SendError
from parcours.core.lifecycle import LifecycleError
from parcours.core.store import StoreError
from parcours.rules.errors import ProgramError
from parcours.rules.project import load_project

from . import control, up
from .deploy import DeployError
from .graph import dot, mermaid
from .journey import report, run_journey
from .journey_file import journey_files, read_journey
from .simulate import simulate

DESCRIPTION = """\
parcours runs marketing automation programs: files that say who enters, what happens to them,
and when (see the program format in the README).

Start here:
  parcours demo                             the examples on 100,000 generated contacts
  parcours validate examples/               check every program of a folder
  parcours graph examples/welcome-coupon.yaml   draw a program as a Mermaid flowchart
  parcours up examples/                     run a folder's programs as a service
"""
EPILOG = "Run 'parcours COMMAND --help' for the options of one command."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parcours",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    validate = commands.add_parser(
        "validate",
        help="check program files and report every problem",
        description="Check program files (YAML or JSON) and folders of them. Prints one 'ok' line "
        "per valid program; otherwise every problem as FILE:LINE: PATH: MESSAGE, and exits 1. "
        "Programs validated together may refer to each other (start_program, message of another "
        "program); templates are checked against the workspace's templates folder.",
    )
    validate.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="program files or folders"
    )
    validate.set_defaults(run=run_validate)
    graph = commands.add_parser(
        "graph",
        help="draw a program's flow (Mermaid or Graphviz DOT)",
        description="Print a program's entries, nodes and branches as a Mermaid flowchart "
        "(paste it in any Markdown that renders Mermaid) or as Graphviz DOT.",
    )
    graph.add_argument("file", type=Path, metavar="FILE", help="a program file")
    graph.add_argument(
        "--format", choices=("mermaid", "dot"), default="mermaid", help="default: mermaid"
    )
    graph.set_defaults(run=run_graph)
    test = commands.add_parser(
        "test", help="run journey tests on a virtual clock",
        description="Run journey tests: programs, contacts and timed events on a virtual clock, "
        "then check what was sent, who entered which node, and each contact's state. A failure "
        "shows what was expected, what happened instead, and the contact's trace. Folders are "
        "searched for journey files (YAML files with a 'programs' key).",
    )  # fmt: skip
    test.add_argument(
        "paths", nargs="+", type=Path, metavar="FILE", help="journey files or folders"
    )
    test.set_defaults(run=run_test)
    simulate = commands.add_parser(
        "simulate", help="run a program on generated contacts and print per-node counts",
        description="Run one program (with its workspace) on N generated contacts over D days "
        "of virtual time, with events drawn from what the program listens to, and print how "
        "many enrollments passed each node.",
    )  # fmt: skip
    simulate.add_argument("program", type=Path, metavar="PROGRAM", help="a program file")
    simulate.add_argument("--contacts", type=int, default=1000, help="default: 1000")
    simulate.add_argument("--days", type=int, default=30, help="default: 30")
    simulate.add_argument("--seed", type=int, default=1, help="default: 1 (same seed, same run)")
    simulate.set_defaults(run=run_simulate)
    up.add_commands(commands)
    control.add_commands(commands)
    return parser


def run_test(args: argparse.Namespace) -> int:
    files = journey_files(args.paths)
    if not files:
        print("no journey test found", file=sys.stderr)
        return 1
    passed = failed = 0
    for path in files:
        try:
            result = run_journey(read_journey(path))
        except ProgramError as error:  # this file is broken; the others still run
            for problem in error.problems:
                print(problem, file=sys.stderr)
            print(f"FAIL {path}: the journey cannot run")
            failed += 1
            continue
        print("\n".join(report(result)))
        passed, failed = passed + result.passed, failed + (not result.passed)
    print(f"journeys: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def run_simulate(args: argparse.Namespace) -> int:
    for line in simulate(args.program, args.contacts, args.days, args.seed):
        print(line)
    return 0


def run_validate(args: argparse.Namespace) -> int:
    project = load_project(args.paths)
    for program in project.programs:
        print(f"ok {program.id} ({program.file})")
    for problem in project.problems:
        print(problem, file=sys.stderr)
    if project.problems:
        files = len({p.file for p in project.problems})
        print(f"{len(project.problems)} problem(s) in {files} file(s)", file=sys.stderr)
        return 1
    if not project.programs:
        print("no program files found", file=sys.stderr)
        return 1
    return 0


def run_graph(args: argparse.Namespace) -> int:
    project = load_project([args.file])
    if project.problems:
        raise ProgramError(project.problems)
    if not project.programs:
        print(f"{args.file}: not a program file", file=sys.stderr)
        return 1
    draw = mermaid if args.format == "mermaid" else dot
    sys.stdout.write(draw(project.programs[0]))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``parcours`` console command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        code: int = args.run(args)
        return code
    except ProgramError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
    except (StoreError, ServiceError, DeployError, LifecycleError, SendError) as error:
        print(f"parcours {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the last resort: a clear line, the traceback only on request
        if os.environ.get("PARCOURS_DEBUG"):
            traceback.print_exc()
        print(
            f"parcours: internal error: {type(error).__name__}: {error} "
            "(set PARCOURS_DEBUG=1 for details, and please report it)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
