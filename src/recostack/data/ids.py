"""Vocabularies: the map between external string ids and integer indices.

Algorithms only ever see integer indices; a :class:`Vocabulary` translates at
the edge. Ids are held as a numpy unicode array (saved with ``np.save`` and
loaded memory-mapped), lookups go through a pandas ``Index`` hash table that
is built on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MAX_ITEM_ID_LENGTH", "MAX_USER_ID_LENGTH", "Vocabulary"]

#: the longest ids the reference accepts, in usage files, catalogs and requests alike
MAX_USER_ID_LENGTH = 255
MAX_ITEM_ID_LENGTH = 450


class Vocabulary:
    """An ordered set of unique string ids; index ``i`` is ``ids[i]``."""

    __slots__ = ("_index", "_lookup", "ids")

    def __init__(self, ids: Sequence[str] | np.ndarray | pd.Index) -> None:
        arr = np.asarray(ids)
        if arr.dtype.kind != "U":
            arr = arr.astype(str) if arr.size else np.array([], dtype="U1")
        self.ids: np.ndarray = arr
        self._index: pd.Index | None = None
        self._lookup: dict[str, int] | None = None

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, str) and self.index(item_id) is not None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and np.array_equal(self.ids, other.ids)

    def __hash__(self) -> int:  # pragma: no cover - vocabularies are not dict keys
        return id(self)

    @property
    def pandas_index(self) -> pd.Index:
        if self._index is None:
            self._index = pd.Index(self.ids.astype(object))
            if not self._index.is_unique:
                raise ValueError("vocabulary ids must be unique")
        return self._index

    @property
    def lookup(self) -> dict[str, int]:
        """id → index as a dict (built on first use): the fastest one-id lookup."""
        if self._lookup is None:
            self._lookup = {str(v): i for i, v in enumerate(self.ids.tolist())}
        return self._lookup

    def index(self, item_id: str) -> int | None:
        """Index of one id, or ``None``."""
        return self.lookup.get(item_id)

    def indices(self, ids: Sequence[str] | np.ndarray | pd.Series[Any]) -> np.ndarray:
        """Indices of many ids (int64); ``-1`` where an id is unknown."""
        if len(ids) == 0:
            return np.empty(0, dtype=np.int64)
        return np.asarray(self.pandas_index.get_indexer(pd.Index(np.asarray(ids, dtype=object))))

    def id(self, index: int) -> str:
        return str(self.ids[index])

    def lookup_ids(self, indices: np.ndarray) -> list[str]:
        return [str(v) for v in self.ids[indices].tolist()]

    def extend(self, new_ids: Sequence[str] | np.ndarray) -> Vocabulary:
        """A new vocabulary with ``new_ids`` (not already present) appended."""
        new = np.asarray(new_ids, dtype=object)
        if new.size == 0:
            return self
        known = self.indices(new) >= 0
        extra = pd.unique(pd.Series(new[~known], dtype=object)).astype(str)
        if extra.size == 0:
            return self
        return Vocabulary(np.concatenate([self.ids.astype(object), extra]).astype(str))

    def save(self, path: str) -> None:
        np.save(path, self.ids, allow_pickle=False)

    @classmethod
    def load(cls, path: str, *, mmap: bool = True) -> Vocabulary:
        ids = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        return cls(ids.view(np.ndarray))
