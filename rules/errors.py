"""Problems found in program files: where they are and what is wrong, in plain words."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

#: a place in a document: mapping keys and list indices from the top
Path = tuple[str | int, ...]


def dotted(path: Path) -> str:
    """``('nodes', 'check', 'else')`` -> ``nodes.check.else``; the top of a file is ``(top)``."""
    return ".".join(str(part) for part in path) if path else "(top)"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in one file."""

    file: str
    line: int
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {dotted(self.path)}: {self.message}"


class ProgramError(Exception):
    """Raised with every problem found, when a file or project cannot be used."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def suggestion(wrong: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``wrong``, else an empty string."""
    close = difflib.get_close_matches(wrong, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def one_of(choices: Iterable[str]) -> str:
    """``'a', 'b' or 'c'`` for messages."""
    quoted = [f"'{c}'" for c in choices]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
