"""``parcours graph``: the drawings parse back into the program's graph."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import EXAMPLES

from parcours.ops.graph import dot, edges, format_duration, mermaid
from parcours.rules import load_project

_NODE = re.compile(r'^\s*(\w+)(\(\[|\[|\{|\(\()"(.*)"(\]\)|\]|\}|\)\))$')
_EDGE = re.compile(r'^\s*(\w+) (?:-- "([^"]*)" )?--> (\w+)$')


def parse_mermaid(text: str) -> tuple[dict[str, str], set[tuple[str, str, str]]]:
    """A reader for the Mermaid subset we write: node declarations and labelled arrows."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    nodes: dict[str, str] = {}
    edges: set[tuple[str, str, str]] = set()
    for line in lines[1:]:
        if line.strip().startswith("%%"):
            continue
        if node := _NODE.match(line):
            nodes[node.group(1)] = node.group(3).split("<br/>")[0]
        elif edge := _EDGE.match(line):
            edges.add((edge.group(1), edge.group(2) or "", edge.group(3)))
        else:
            raise AssertionError(f"not Mermaid we can read: {line!r}")
    for source, _, target in edges:
        assert source in nodes and target in nodes, (source, target)
    return nodes, edges


def graph(path: str, *options: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "parcours.ops.cli", "graph", str(EXAMPLES / path), *options],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_welcome_coupon_mermaid() -> None:
    nodes, edges = parse_mermaid(graph("welcome-coupon.yaml"))
    assert nodes["entry_0"] == "on form.submitted (where ...)"
    assert edges == {
        ("entry_0", "", "n_welcome"),
        ("n_welcome", "", "n_wait"),
        ("n_wait", "", "n_opened"),
        ("n_opened", "then", "n_coupon_mail"),
        ("n_opened", "else", "n_coupon_sms"),
    }


def test_relaunch_mermaid_has_cases_default_and_loop() -> None:
    nodes, edges = parse_mermaid(graph("relaunch-7-days.yaml"))
    assert nodes["n_openers_to_actives"] == "Openers join the actives' relaunch"
    assert edges == {
        ("entry_0", "", "n_first_campaign"),
        ("n_first_campaign", "", "n_wait_7_days"),
        ("n_wait_7_days", "", "n_reaction"),
        ("n_reaction", "case 1", "n_form_filled"),
        ("n_reaction", "case 2", "n_openers_to_actives"),
        ("n_reaction", "case 3", "n_relaunch_inactives"),
        ("n_reaction", "default", "n_not_reachable"),
        ("n_form_filled", "then", "n_entered"),
        ("n_form_filled", "else", "n_relaunch_actives"),
        ("n_openers_to_actives", "target", "n_relaunch_actives"),
        ("n_relaunch_actives", "", "n_actives_done"),
        ("n_relaunch_inactives", "", "n_inactives_done"),
    }


def test_split_dot_shows_weights_and_holdout() -> None:
    text = graph("ab-email-vs-sms.json", "--format", "dot")
    assert text.startswith('digraph "ab-email-vs-sms" {')
    arrows = set(re.findall(r'"([^"]+)" -> "([^"]+)"(?: \[label="([^"]*)"\])?;', text))
    assert arrows == {
        ("entry 0", "channel_test", ""),
        ("channel_test", "offer_email", "50%"),
        ("channel_test", "offer_sms", "50%"),
        ("channel_test", "channel_test control", "holdout 10%"),
    }


def test_every_example_draws_every_arrow() -> None:
    project = load_project([EXAMPLES])
    assert len(project.programs) == 22
    for program in project.programs:
        nodes, arrows = parse_mermaid(mermaid(program))
        assert len(nodes) >= len(program.nodes) + len(program.entries)
        assert len(arrows) == len(edges(program))
        assert dot(program).count(" -> ") == len(edges(program))


def test_durations_print_as_written() -> None:
    assert [format_duration(s) for s in (0, 30, 129600, -3600, 7 * 86400 + 90)] == [
        "0s",
        "30s",
        "1d12h",
        "-1h",
        "7d1m30s",
    ]
