"""Build of the ``parcours`` distribution.

The repository keeps the client's layout (``core/ rules/ actors/ ops/`` at the top level); the
distribution exposes them as sub-packages of ``parcours`` through ``package_dir``.
"""

import os
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

#: top-level folder -> sub-package of the ``parcours`` distribution
SUBPACKAGES = {
    "parcours.core": "core",
    "parcours.rules": "rules",
    "parcours.actors": "actors",
    "parcours.ops": "ops",
}

#: the compiled hot path; each has a pure-Python twin in core/ (see core/hotpath.py)
EXTENSIONS = [
    Extension("parcours.core._wheel", ["core/_wheel.pyx"]),
    Extension("parcours.core._conditions", ["core/_conditions.pyx"]),
    Extension("parcours.core._pairs", ["core/_pairs.pyx"]),
    Extension("parcours.core._router", ["core/_router.pyx"]),
    Extension("parcours.core._hashing", ["core/_hashing.pyx"]),
]

#: the engine's per-event path (routing an event through programs, steps, history, records and
#: commits), compiled by Cython from its own Python source: the same code, without the
#: interpreter's dispatch between statements (about 15 % less time per event; bench/RESULTS.md).
#: Its twin is that source, which ``PARCOURS_PUREPYTHON=1`` loads instead (core/__init__.py);
#: tests/test_compiled_engine.py compares the two on random programs and streams.
COMPILED_AS_WRITTEN = [
    "arena", "batch", "catalog", "contact_changes", "contacts", "durable", "enrollments",
    "entering", "evaluator", "feedback", "history", "imports", "lifecycle", "mass", "nodes",
    "outbox", "records", "routing", "rows", "schedule", "shard", "snapshot", "steps",
    "timers", "updates", "values", "versions", "view",
]  # fmt: skip
EXTENSIONS += [
    Extension(f"parcours.core.{name}", [f"core/{name}.py"]) for name in COMPILED_AS_WRITTEN
]


def cython_include() -> str:
    """Cython finds a module's .pxd by its qualified name (``parcours/core/_wheel.pxd``) while
    the repository keeps ``core/`` at the top, so the build reads a tree of links shaped like
    the installed package."""
    top = Path(__file__).resolve().parent
    tree = top / "build" / "cython-include" / "parcours"
    tree.mkdir(parents=True, exist_ok=True)
    (tree / "__init__.pxd").touch()
    for package, folder in SUBPACKAGES.items():
        link = tree / package.rsplit(".", 1)[1]
        if not link.exists():
            link.symlink_to(top / folder, target_is_directory=True)
    return str(tree.parent)


setup(
    packages=[*SUBPACKAGES, "parcours.core.registries"],
    package_dir=SUBPACKAGES,
    package_data={
        "parcours.rules": ["py.typed"],
        "parcours.core": ["py.typed", "*.pxd", "*.pyi"],
    },
    ext_modules=cythonize(
        EXTENSIONS,
        include_path=[cython_include()],
        compiler_directives={"language_level": "3"},
        nthreads=os.cpu_count() or 1,
    ),
    options={"build_ext": {"parallel": os.cpu_count() or 1}},  # C compiles side by side too
)
