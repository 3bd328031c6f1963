"""Item properties as columns over item indices, with the derived arrays rules need.

The serving layer builds one :class:`ItemProperties` per loaded model from the
catalog (``name``, ``category``, ``description`` and each catalog feature):
``column[i]`` is the property value of item index ``i``, a string, ``""`` when
the item does not have it. Property names and values are **case-sensitive**
and compared exactly as given (no trimming).

Everything derived is computed when the object is built, and it never
changes afterwards (one object serves concurrent requests):

- per property, the sorted distinct values, each item's code into them, and
  the items grouped by code (so "items whose value is one of these" is a slice
  of a precomputed order, not a scan);
- per property, the numeric reading of every item (``NaN`` where the value is
  not a number; see :func:`parse_number`), and the codes as the compiled
  reranking reads them (:meth:`ItemProperties.rule_codes`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

__all__ = ["ItemProperties", "PropertyColumn", "parse_number"]

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

#: Runs of consecutive codes matched one slice at a time up to this many; beyond, a gather.
_MAX_SLICES = 64
#: A single run of codes is compared, not scattered, when both its hits and its misses are
#: more than 1/_SCATTER_SHARE of the items.
_SCATTER_SHARE = 8


def parse_number(text: str) -> float | None:
    """The finite number ``text`` spells, or ``None``.

    Plain decimal notation only: ``12``, ``-3.5``, ``.5``, ``1e3``. No
    surrounding spaces, no ``_`` separators, no ``nan``/``inf`` (those are
    strings to a filter, as they are to a user).
    """
    if _NUMBER.fullmatch(text) is None:
        return None
    value = float(text)
    return value if np.isfinite(value) else None


class _CatalogLike(Protocol):
    names: np.ndarray
    categories: np.ndarray
    descriptions: np.ndarray
    features: dict[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class PropertyColumn:
    """One property factorised: ``uniques[codes[i]]`` is item ``i``'s value.

    ``uniques`` is sorted (code point order), so a lexicographic range of
    values is a range of codes. Items with code ``c`` are
    ``order[bounds[c]:bounds[c + 1]]``. ``empty_code`` is the code of ``""``
    (always 0 when present, as ``""`` sorts first) or -1.
    """

    values: np.ndarray
    uniques: np.ndarray
    codes: np.ndarray
    order: np.ndarray
    bounds: np.ndarray
    empty_code: int

    @classmethod
    def build(cls, values: np.ndarray) -> PropertyColumn:
        uniques, codes = np.unique(values, return_inverse=True)
        codes = codes.astype(np.intp, copy=False).reshape(-1)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
        empty_code = 0 if len(uniques) and uniques[0] == "" else -1
        for arr in (uniques, codes, order, bounds):
            arr.flags.writeable = False
        return cls(values, uniques, codes, order, bounds, empty_code)

    def code_of(self, value: str) -> int:
        """The code of ``value``, or -1 when no item has it."""
        pos = int(np.searchsorted(self.uniques, value))
        if pos < len(self.uniques) and self.uniques[pos] == value:
            return pos
        return -1

    def codes_of(self, values: list[str]) -> np.ndarray:
        """The sorted distinct codes of those ``values`` some item has."""
        if not values or not len(self.uniques):
            return np.zeros(0, dtype=np.intp)
        wanted = np.asarray(values, dtype=str)  # its own width: never truncate a value
        pos = np.searchsorted(self.uniques, wanted)
        inside = pos < len(self.uniques)
        pos, wanted = pos[inside], wanted[inside]
        return np.unique(pos[self.uniques[pos] == wanted]).astype(np.intp)

    def code_range_mask(self, lo: int, hi: int) -> np.ndarray:
        """Mask of the items whose code is in ``[lo, hi)``."""
        return self._runs_mask([(lo, hi)] if hi > lo else [])

    def codes_mask(self, selected: np.ndarray) -> np.ndarray:
        """Mask of the items whose code is in ``selected`` (sorted codes ≥ 0, no repeats)."""
        if len(selected) > 4 * _MAX_SLICES:
            return self._table_mask(selected)
        runs: list[tuple[int, int]] = []
        for code in selected.tolist():
            if runs and runs[-1][1] == code:
                runs[-1] = (runs[-1][0], code + 1)
            else:
                runs.append((code, code + 1))
        if len(runs) > _MAX_SLICES:
            return self._table_mask(selected)
        return self._runs_mask(runs)

    def _table_mask(self, selected: np.ndarray) -> np.ndarray:
        table = np.zeros(len(self.uniques), dtype=bool)
        table[selected] = True
        return table[self.codes]

    def _runs_mask(self, runs: list[tuple[int, int]]) -> np.ndarray:
        """Mask of the items whose code is in one of the ``[lo, hi)`` runs (sorted, disjoint).

        A run's items are one slice of ``order``, and so are the items between
        runs: scatter whichever side is smaller (hits into zeros, or misses
        into ones); or, for one run whose hits and misses are both many,
        compare the codes.
        """
        n = len(self.codes)
        bounds = self.bounds
        slices = [(int(bounds[lo]), int(bounds[hi])) for lo, hi in runs]
        hits = sum(stop - start for start, stop in slices)
        if len(runs) == 1 and min(hits, n - hits) > n // _SCATTER_SHARE:
            lo, hi = runs[0]
            if hi - lo == 1:
                return self.codes == lo
            if lo == 0:
                return self.codes < hi
            if hi == len(self.uniques):
                return self.codes >= lo
            return (self.codes >= lo) & (self.codes < hi)
        order = self.order
        if 2 * hits <= n:
            mask = np.zeros(n, dtype=bool)
            for start, stop in slices:
                mask[order[start:stop]] = True
            return mask
        mask = np.ones(n, dtype=bool)
        previous = 0
        for start, stop in [*slices, (n, n)]:
            if start > previous:
                mask[order[previous:start]] = False
            previous = stop
        return mask


class ItemProperties:
    """Property name → value array over item indices, plus derived arrays.

    >>> props = ItemProperties({"category": np.array(["a", "b", ""])})
    >>> props.n_items, props.names, "category" in props
    (3, ('category',), True)
    """

    def __init__(self, columns: Mapping[str, np.ndarray], *, n_items: int | None = None) -> None:
        self._values: dict[str, np.ndarray] = {}
        for name, column in columns.items():
            self._values[name] = _as_strings(column)
        lengths = {len(v) for v in self._values.values()}
        if n_items is not None:
            lengths.add(n_items)
        if len(lengths) > 1:
            raise ValueError(f"property columns have different lengths: {sorted(lengths)}")
        self.n_items: int = lengths.pop() if lengths else 0
        self._columns = {name: PropertyColumn.build(v) for name, v in self._values.items()}
        self._unique_numbers = {name: _numbers_of(c.uniques) for name, c in self._columns.items()}
        self._numbers = {
            name: _read_only(self._unique_numbers[name][c.codes])
            for name, c in self._columns.items()
        }
        self._rule_codes = {name: _rule_codes(c) for name, c in self._columns.items()}
        all_items = np.ones(self.n_items, dtype=bool)
        all_items.flags.writeable = False
        self.all_items: np.ndarray = all_items

    @classmethod
    def from_catalog(cls, catalog: _CatalogLike) -> ItemProperties:
        """Properties of a :class:`recostack.data.catalog.Catalog` (same item order)."""
        columns = {
            "name": catalog.names,
            "category": catalog.categories,
            "description": catalog.descriptions,
            **catalog.features,
        }
        return cls(columns)

    @property
    def names(self) -> tuple[str, ...]:
        """The property names, in the order given."""
        return tuple(self._values)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __getitem__(self, name: str) -> np.ndarray:
        """The raw values of ``name`` (``KeyError`` if unknown)."""
        return self._values[name]

    def column(self, name: str) -> PropertyColumn:
        """The factorised column of ``name`` (``KeyError`` if unknown)."""
        return self._columns[name]

    def rule_codes(self, name: str) -> np.ndarray:
        """``column(name).codes`` as a (1, n_items) C-contiguous array, for rule plans.

        int16 when the property has few enough distinct values (most have:
        a category, a brand), else int32: the compiled reranking reads the
        codes of its candidates at random positions, and half the bytes
        keep twice as many of them in the CPU's caches. Writable (numba
        reads a read-only argument on a slower path) but never to be
        modified.
        """
        return self._rule_codes[name]

    def rule_code_type(self, name: str) -> type[np.signedinteger[Any]]:
        """The dtype of :meth:`rule_codes` of ``name``: int16 if its values fit, else int32."""
        return _rule_code_type(self._columns[name])

    def rule_code_types(self) -> set[type[np.signedinteger[Any]]]:
        """The dtypes the rule codes of this catalog come in (int16 always: plans without
        reranking have int16 codes too)."""
        return {np.int16, *(self.rule_code_type(name) for name in self._values)}

    def unique_numbers(self, name: str) -> np.ndarray:
        """Float value of each of ``column(name).uniques``; ``NaN`` where not a number."""
        return self._unique_numbers[name]

    def numbers(self, name: str) -> np.ndarray:
        """Float value of every item for ``name``; ``NaN`` where not a number."""
        return self._numbers[name]


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _numbers_of(uniques: np.ndarray) -> np.ndarray:
    numbers = np.full(len(uniques), np.nan)
    for i, text in enumerate(uniques.tolist()):
        value = parse_number(text)
        if value is not None:
            numbers[i] = value
    return _read_only(numbers)


def _rule_code_type(column: PropertyColumn) -> type[np.signedinteger[Any]]:
    return np.int16 if len(column.uniques) <= np.iinfo(np.int16).max else np.int32


def _rule_codes(column: PropertyColumn) -> np.ndarray:
    codes = np.ascontiguousarray(column.codes, dtype=_rule_code_type(column))
    return codes.reshape(1, -1)


def _as_strings(column: np.ndarray) -> np.ndarray:
    arr = np.asarray(column)
    if arr.ndim != 1:
        raise ValueError(f"a property column must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind != "U":
        # None and float NaN (pandas' missing) are missing values, like "".
        items = ["" if v is None or v != v else str(v) for v in arr.tolist()]
        arr = np.array(items, dtype=str) if items else np.array([], dtype="U1")
    return arr
