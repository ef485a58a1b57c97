"""The shard's table of strings: every text value of every contact and program, as an id.

Compiled code compares ids for equality and reads the UTF-8 bytes of a symbol for ``contains``,
``starts_with`` and ``ends_with``; the bytes sit end to end in one arena, located by offsets.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class Symbols:
    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._texts: list[str] = []
        self._offsets = np.zeros(1024, dtype=np.int64)  # symbol i is data[offsets[i]:offsets[i+1]]
        self._data = np.zeros(4096, dtype=np.uint8)
        self._used = 0

    def __len__(self) -> int:
        return len(self._texts)

    def intern(self, text: str) -> int:
        found = self._ids.get(text)
        if found is not None:
            return found
        ident = len(self._texts)
        encoded = text.encode("utf-8", "surrogatepass")
        self._reserve(ident + 2, self._used + len(encoded))
        self._data[self._used : self._used + len(encoded)] = np.frombuffer(encoded, dtype=np.uint8)
        self._used += len(encoded)
        self._offsets[ident + 1] = self._used
        self._ids[text] = ident
        self._texts.append(text)
        return ident

    def get(self, text: str) -> int | None:
        return self._ids.get(text)

    def text(self, ident: int) -> str:
        return self._texts[ident]

    def arena(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]:
        """(offsets, bytes) of every symbol, for compiled code (views: valid until the next
        intern grows them)."""
        return self._offsets[: len(self._texts) + 1], self._data[: self._used]

    def _reserve(self, symbols: int, size: int) -> None:
        if symbols > len(self._offsets):
            self._offsets = np.resize(self._offsets, max(symbols, 2 * len(self._offsets)))
        if size > len(self._data):
            self._data = np.resize(self._data, max(size, 2 * len(self._data)))
