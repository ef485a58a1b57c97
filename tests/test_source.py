"""Reading YAML and JSON: marketer-proof scalars, line numbers, and parse errors that say where."""

from __future__ import annotations

import pytest

from parcours.rules.errors import ProgramError
from parcours.rules.source import parse_json, parse_yaml


def test_yaml_reads_on_as_a_key_and_norway_as_text() -> None:
    document = parse_yaml("entry:\n  - on: form.submitted\ncountry: NO\nok: yes\n", "p.yaml")
    assert document.data == {"entry": [{"on": "form.submitted"}], "country": "NO", "ok": "yes"}


def test_yaml_keeps_times_dates_and_phone_numbers_as_text() -> None:
    text = "at: 09:00\nbirthday: 1990-05-04\nphone: 0600000001\nstart: 2026-12-01T08:00:00Z\n"
    assert parse_yaml(text, "p.yaml").data == {
        "at": "09:00",
        "birthday": "1990-05-04",
        "phone": "0600000001",
        "start": "2026-12-01T08:00:00Z",
    }


def test_yaml_types_numbers_and_booleans() -> None:
    text = "a: 12\nb: -3\nc: 2.5\nd: 1e3\ne: true\nf: False\ng: null\n"
    assert parse_yaml(text, "p.yaml").data == {
        "a": 12,
        "b": -3,
        "c": 2.5,
        "d": 1000.0,
        "e": True,
        "f": False,
        "g": None,
    }


def test_yaml_lines_point_at_keys_and_items() -> None:
    text = "program: x\nnodes:\n  welcome:\n    type: email\n  wait: {type: delay}\n"
    document = parse_yaml(text, "p.yaml")
    assert document.line(("nodes", "welcome", "type")) == 4
    assert document.line(("nodes", "wait", "type")) == 5
    assert document.line(("nodes", "wait", "absent", 3)) == 5  # nearest ancestor


def test_yaml_merge_keys_are_honoured() -> None:
    text = "base: &b {type: email, template: t}\nnode:\n  <<: *b\n  subject: Hi\n"
    assert parse_yaml(text, "p.yaml").data["node"] == {
        "type": "email",
        "template": "t",
        "subject": "Hi",
    }


def test_yaml_duplicate_key_is_a_problem_that_keeps_the_first_value() -> None:
    document = parse_yaml("program: a\nname: x\nprogram: b\n", "p.yaml")
    assert document.data == {"program": "a", "name": "x"}
    [problem] = document.problems
    assert (problem.line, problem.path, problem.message) == (
        3,
        ("program",),
        "'program' is given twice",
    )


def test_unclosed_yaml_bracket_is_reported_where_it_opens() -> None:
    with pytest.raises(ProgramError) as caught:
        parse_yaml("program: a\nnodes: {welcome: {type: email}\nname: x\n", "p.yaml")
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == ("p.yaml", 2)
    assert problem.message == "broken YAML at line 2, column 8: the '{' opened here is never closed"


def test_broken_yaml_names_line_and_column() -> None:
    with pytest.raises(ProgramError) as caught:
        parse_yaml("program: a\nname: x\n  category: y\n", "p.yaml")
    [problem] = caught.value.problems
    assert problem.line == 3
    assert problem.message.startswith("broken YAML at line 3, column 11:")


def test_json_trailing_comma_is_named_at_the_comma() -> None:
    with pytest.raises(ProgramError) as caught:
        parse_json('{\n  "program": "a",\n  "name": "x",\n}\n', "p.json")
    [problem] = caught.value.problems
    assert problem.line == 3
    assert problem.message == "broken JSON at line 3, column 14: trailing comma before '}'"


def test_broken_json_names_line_and_column() -> None:
    with pytest.raises(ProgramError) as caught:
        parse_json('{\n  "program": "a",\n  "name" "x"\n}\n', "p.json")
    [problem] = caught.value.problems
    assert problem.line == 3
    assert problem.message == "broken JSON at line 3, column 10: Expecting ':' delimiter"


def test_json_key_given_twice_is_a_problem() -> None:
    document = parse_json('{\n  "name": "a",\n  "name": "b"\n}', "p.json")
    assert document.data == {"name": "a"}
    assert [(p.line, p.message) for p in document.problems] == [(3, "'name' is given twice")]


def test_json_values_get_lines_too() -> None:
    document = parse_json(
        '{\n  "program": "a",\n  "nodes": {\n    "w": {"type": "email"}\n  }\n}', "p.json"
    )
    assert document.data["nodes"]["w"] == {"type": "email"}
    assert document.line(("nodes", "w", "type")) == 4
