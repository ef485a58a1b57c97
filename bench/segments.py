"""Synthetic contact columns for the evaluator's benchmarks (bench/hotpath.py).

Columns are filled in bulk with numpy, as a partition's store holds them once contacts are
loaded; filling them one contact at a time is the engine's business and not timed here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from parcours.core import conditions
from parcours.core.catalog import Catalog
from parcours.core.columns import ColumnStore, Kind
from parcours.core.symbols import Symbols
from parcours.rules.checker import Checker
from parcours.rules.codegen import CodeGenerator
from parcours.rules.conditions import ConditionParser
from parcours.rules.source import Document

#: a 5-clause filter: numbers, a set of words, a group, a suffix, a range
FILTER = {
    "all": [
        {"field": "age", "gte": 18},
        {"field": "city", "in": ["Paris", "Lyon"]},
        {"in_group": "vip"},
        {"field": "email", "ends_with": ".fr"},
        {"field": "score", "between": [10, 90]},
    ]
}
CITIES = ["Paris", "Lyon", "Lille", "Nantes"]
EMAILS = ["a@example.fr", "b@example.com", "c@example.fr"]


def contacts(size: int, seed: int = 1) -> tuple[ColumnStore, Catalog, dict[str, Any]]:
    """A store of ``size`` contacts with the fields FILTER reads; also the raw columns."""
    catalog = Catalog()
    store = ColumnStore(Symbols(), capacity=size)
    store.reserve(size)
    rng = np.random.default_rng(seed)
    raw: dict[str, Any] = {"age": rng.integers(0, 90, size), "score": rng.integers(0, 100, size)}
    for name in ("age", "score"):
        column = store.column(catalog.fields.intern(name))
        column.kind[:] = Kind.NUMBER
        column.number[:] = column.epoch[:] = raw[name]
    for name, words in (("city", CITIES), ("email", EMAILS)):
        column = store.column(catalog.fields.intern(name))
        symbols = np.array([store.symbols.intern(w) for w in words], dtype=np.int32)
        raw[name] = rng.integers(0, len(words), size)
        column.kind[:] = Kind.TEXT
        column.symbol[:] = symbols[raw[name]]
    raw["vip"] = rng.random(size) < 0.5
    store.groups[:, 0] = raw["vip"].astype(np.uint64) << np.uint64(catalog.groups.intern("vip"))
    return store, catalog, raw


def bind(make: Any, store: ColumnStore, catalog: Catalog) -> Any:
    """FILTER compiled and bound to ``store`` with the evaluator class ``make``."""
    checker = Checker(Document("filter.yaml", FILTER))
    tree = ConditionParser(checker).parse(FILTER, ("filter",))
    generator = CodeGenerator(catalog, "bench")
    pc = generator.condition(tree)
    bytecode = generator.finish()
    kinds, values = conditions.link(bytecode, store.symbols)
    return make(bytecode.code, kinds, values, pc, store)


def numpy_peer(raw: dict[str, Any]) -> Any:
    """The same filter as numpy expressions over the same data: the well-known way."""
    return (
        (raw["age"] >= 18)
        & np.isin(raw["city"], [0, 1])
        & raw["vip"]
        & np.isin(raw["email"], [0, 2])
        & (raw["score"] >= 10)
        & (raw["score"] <= 90)
    )
