"""Which of a module's two forms to load, for the modules compiled as they are written
(setup.py's ``COMPILED_AS_WRITTEN``): the compiled build beside the source, or the source.

Python's own import system always prefers an extension module to the source of the same name.
A finder placed first (:class:`SourceFirst`) loads the ``.py`` instead when

- the environment asks for the pure twins (``PARCOURS_PUREPYTHON=1``, see :mod:`hotpath`), or
- in a checkout (``setup.py`` beside the package's folder), the source changed after the build
  (an edit, a ``git pull``): running the stale build would run old code, so the source runs,
  with a warning to rebuild (``pip install -e .``). An installed package is not checked: its
  files are written together, in no set order.

Modules that exist only compiled (``_wheel`` ...) have no source: the usual finders load them.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import EXTENSION_SUFFIXES, ModuleSpec
from types import ModuleType

PACKAGE = __name__.rpartition(".")[0]  #: parcours.core


def pure_wanted() -> bool:
    """Whether the environment asks for the pure-Python twins (``PARCOURS_PUREPYTHON``)."""
    return os.environ.get("PARCOURS_PUREPYTHON", "") not in ("", "0")


class SourceFirst(MetaPathFinder):
    """Finds a ``parcours.core`` module by its ``.py`` source when it must run from it (see
    the module); otherwise leaves it to the usual finders."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if path is None or not fullname.startswith(PACKAGE + "."):
            return None
        leaf = fullname.rpartition(".")[2]
        for folder in path:
            source = os.path.join(folder, leaf + ".py")
            if os.path.isfile(source) and (pure_wanted() or _stale_build(source)):
                return importlib.util.spec_from_file_location(fullname, source)
        return None


def _stale_build(source: str) -> bool:
    """Whether, in a checkout, a compiled build of ``source`` sits beside it and is older than
    it (warned)."""
    checkout = os.path.dirname(os.path.dirname(os.path.abspath(source)))
    if not os.path.isfile(os.path.join(checkout, "setup.py")):
        return False
    stem = source[: -len(".py")]
    builds = [stem + suffix for suffix in EXTENSION_SUFFIXES if os.path.isfile(stem + suffix)]
    if not builds or os.path.getmtime(source) <= os.path.getmtime(builds[0]):
        return False
    warnings.warn(
        f"{source} changed after it was compiled: its source runs, slower; "
        "'pip install -e .' compiles it again",
        RuntimeWarning,
        stacklevel=2,
    )
    return True


def install() -> None:
    """Put :class:`SourceFirst` first among the finders (once per process)."""
    if not any(isinstance(finder, SourceFirst) for finder in sys.meta_path):
        sys.meta_path.insert(0, SourceFirst())
