"""Synthetic contacts for the evaluator's benchmarks (bench/hotpath.py): columns and purchase
histories.

Columns and histories are filled in bulk with numpy, as a partition holds them once contacts
are loaded; filling them one event at a time is the engine's business and not timed here.
Each contact made 0 to 3 purchases over the last 90 days (1.5 on average: 15 million events
for 10 million contacts, about 400 MB of history arena).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from parcours.core import conditions
from parcours.core.catalog import Catalog
from parcours.core.columns import ColumnStore, Kind
from parcours.core.history import History
from parcours.core.symbols import Symbols
from parcours.rules.checker import Checker
from parcours.rules.codegen import CodeGenerator
from parcours.rules.conditions import ConditionParser
from parcours.rules.source import Document

#: a 5-clause filter (field ops, group, history): numbers, a set of words, a group, a suffix,
#: a purchase in the last 30 days
FILTER = {
    "all": [
        {"field": "age", "gte": 18},
        {"field": "city", "in": ["Paris", "Lyon"]},
        {"in_group": "vip"},
        {"field": "email", "ends_with": ".fr"},
        {"did": "purchase", "within": "30d", "at_least": 1},
    ]
}
#: when the filter runs (2026-12-01T08:00:00Z)
NOW = 1_796_112_000.0
DAY = 86400.0
CITIES = ["Paris", "Lyon", "Lille", "Nantes"]
EMAILS = ["a@example.fr", "b@example.com", "c@example.fr"]


def contacts(size: int, seed: int = 1) -> tuple[ColumnStore, History, Catalog, dict[str, Any]]:
    """A store of ``size`` contacts with the fields FILTER reads and a history of their
    purchases; also the raw columns (and each contact's last purchase)."""
    catalog = Catalog()
    store = ColumnStore(Symbols(), capacity=size)
    store.reserve(size)
    rng = np.random.default_rng(seed)
    raw: dict[str, Any] = {"age": rng.integers(0, 90, size)}
    column = store.column(catalog.fields.intern("age"))
    column.kind[:] = Kind.NUMBER
    column.number[:] = column.epoch[:] = raw["age"]
    for name, words in (("city", CITIES), ("email", EMAILS)):
        column = store.column(catalog.fields.intern(name))
        symbols = np.array([store.symbols.intern(w) for w in words], dtype=np.int32)
        raw[name] = rng.integers(0, len(words), size)
        column.kind[:] = Kind.TEXT
        column.symbol[:] = symbols[raw[name]]
    raw["vip"] = rng.random(size) < 0.5
    store.groups[:, 0] = raw["vip"].astype(np.uint64) << np.uint64(catalog.groups.intern("vip"))
    history, raw["last_purchase"] = purchases(catalog, size, rng)
    return store, history, catalog, raw


def purchases(catalog: Catalog, size: int, rng: Any) -> tuple[History, Any]:
    """0 to 3 purchases per contact over the last 90 days, loaded in bulk; with each
    contact's last purchase (-inf when none)."""
    counts = rng.integers(0, 4, size)
    slots = np.repeat(np.arange(size, dtype=np.int64), counts)
    times = NOW - rng.uniform(0, 90 * DAY, len(slots))
    order = np.lexsort((times, slots))  # by contact, then oldest first
    slots, times = slots[order], times[order]
    history = History(catalog)
    history.load(catalog.events.intern("purchase"), slots, times)
    last = np.full(size, -np.inf)
    last[counts > 0] = times[np.cumsum(counts)[counts > 0] - 1]
    return history, last


def bind(make: Any, store: ColumnStore, history: History, catalog: Catalog) -> Any:
    """FILTER compiled and bound to ``store`` and ``history`` with the evaluator class
    ``make``."""
    checker = Checker(Document("filter.yaml", FILTER))
    tree = ConditionParser(checker).parse(FILTER, ("filter",))
    generator = CodeGenerator(catalog, "bench")
    pc = generator.condition(tree)
    bytecode = generator.finish()
    kinds, values = conditions.link(bytecode, store.symbols)
    return make(bytecode.code, kinds, values, pc, store, history, bytecode.history)


def numpy_peer(raw: dict[str, Any]) -> Any:
    """The same filter as numpy expressions over the same data: the well-known way."""
    return (
        (raw["age"] >= 18)
        & np.isin(raw["city"], [0, 1])
        & raw["vip"]
        & np.isin(raw["email"], [0, 2])
        & (raw["last_purchase"] >= NOW - 30 * DAY)
    )
