"""SAR: Smart Adaptive Recommendations.

Items are similar when the same users (or the same user at the same time)
use them. SAR counts co-occurrences ``C = Uᵀ U`` over a binary units × items
matrix ``U`` (a unit is a user, or a (user, timestamp) basket), drops pairs
seen together fewer than ``support_threshold`` times, and turns counts into
similarities:

* Cooccurrence: ``C_ij``
* Lift:         ``C_ij / (C_ii · C_jj)``
* Jaccard:      ``C_ij / (C_ii + C_jj − C_ij)``

A user's scores are ``affinity · S`` where affinity is the user's events,
weighted by event type and halved every ``half_life_days`` when user
affinity is enabled, else 1 per item used.

``C`` is computed in blocks of item rows, each block thresholded, turned
into similarities and pruned before the next is computed, so peak memory is
one block, not the whole product; blocks run on a thread pool (scipy's
sparse product releases the GIL).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recostack.algorithms.interactions import Interactions, affinity_matrix, binary_matrix
from recostack.algorithms.item_item import ItemItemModel, sorted_rows

__all__ = [
    "SAR",
    "SARConfig",
    "block_bounds",
    "cooccurrence_units",
    "similarity_from_counts",
    "stack_rows",
]

SIMILARITIES = ("Cooccurrence", "Lift", "Jaccard")
UNITS = ("User", "Timestamp")
Progress = Callable[[float], None]


@dataclass(frozen=True)
class SARConfig:
    """SAR's parameters. The reference API restricts the threshold to 3..50;
    the library accepts any threshold ≥ 1 (1 keeps every pair)."""

    support_threshold: int = 6
    cooccurrence_unit: str = "User"
    similarity_function: str = "Jaccard"
    enable_user_affinity: bool = False
    half_life_days: float = 30.0
    max_neighbors: int = 0
    block_flops: int = 40_000_000
    threads: int = 0

    def __post_init__(self) -> None:
        if self.support_threshold < 1:
            raise ValueError("support_threshold must be >= 1")
        if self.cooccurrence_unit not in UNITS:
            raise ValueError(f"cooccurrence_unit must be one of {UNITS}")
        if self.similarity_function not in SIMILARITIES:
            raise ValueError(f"similarity_function must be one of {SIMILARITIES}")
        if self.half_life_days <= 0:
            raise ValueError("half_life_days must be > 0")
        if self.max_neighbors < 0:
            raise ValueError("max_neighbors must be >= 0")


def cooccurrence_units(inter: Interactions, unit: str) -> sp.csr_matrix:
    """The binary units × items matrix co-occurrences are counted over."""
    if unit == "User":
        return binary_matrix(inter.user_index, inter.item_index, (inter.n_users, inter.n_items))
    key = inter.user_index.astype(np.int64) * (1 << 34) + (
        inter.timestamp.astype(np.int64) - int(inter.timestamp.min(initial=0))
    )
    baskets, codes = np.unique(key, return_inverse=True)
    return binary_matrix(codes, inter.item_index, (baskets.shape[0], inter.n_items))


def similarity_from_counts(
    block: sp.csr_matrix, row_offset: int, frequency: np.ndarray, function: str
) -> sp.csr_matrix:
    """Turn a block of co-occurrence rows into similarities, in place."""
    if function == "Cooccurrence" or block.nnz == 0:
        return block
    counts = np.diff(block.indptr)
    rows = np.repeat(np.arange(block.shape[0], dtype=np.int64) + row_offset, counts)
    c = block.data.astype(np.float32, copy=False)
    fi = frequency[rows]
    fj = frequency[block.indices]
    if function == "Lift":
        block.data = c / (fi * fj)
    else:
        block.data = c / (fi + fj - c)
    return block


class SAR:
    """Fit SAR on interactions; the result serves through :class:`ItemItemModel`."""

    def __init__(self, config: SARConfig | None = None) -> None:
        self.config = config or SARConfig()
        self.item_item: ItemItemModel | None = None
        self.user_affinity: sp.csr_matrix | None = None
        self.reference_time: int = 0

    def fit(self, inter: Interactions, progress: Progress | None = None) -> SAR:
        cfg = self.config
        self.reference_time = inter.latest_time
        self.user_affinity = affinity_matrix(
            inter,
            weighted=cfg.enable_user_affinity,
            half_life_days=cfg.half_life_days if cfg.enable_user_affinity else None,
        )
        units = cooccurrence_units(inter, cfg.cooccurrence_unit)
        similarity = self._similarity(units, progress)
        popularity = np.diff(
            binary_matrix(inter.user_index, inter.item_index, (inter.n_users, inter.n_items))
            .tocsc()
            .indptr
        ).astype(np.float32)
        self.item_item = ItemItemModel.from_similarity(similarity, popularity, presorted=True)
        return self

    def _similarity(self, units: sp.csr_matrix, progress: Progress | None) -> sp.csr_matrix:
        cfg = self.config
        n_items = units.shape[1]
        items_units = units.T.tocsr()
        frequency = np.diff(items_units.indptr).astype(np.float32)
        # work per item row of C: the sum of the lengths of its units' rows
        unit_lengths = np.diff(units.indptr).astype(np.float64)
        flops = items_units @ unit_lengths
        threads = cfg.threads or min(4, os.cpu_count() or 1)
        bounds = block_bounds(flops, cfg.block_flops, min_blocks=2 * threads if threads > 1 else 1)
        threshold = float(cfg.support_threshold)

        def compute(bound: tuple[int, int]) -> sp.csr_matrix:
            start, end = bound
            block = (items_units[start:end] @ units).tocsr()
            block.sort_indices()  # columns in order: ties rank alike on every engine
            if threshold > 1:
                block.data[block.data < threshold] = 0
                block.eliminate_zeros()
            block = similarity_from_counts(block, start, frequency, cfg.similarity_function)
            return sorted_rows(block, cfg.max_neighbors)

        parts: list[sp.csr_matrix] = []
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for i, part in enumerate(pool.map(compute, bounds)):
                parts.append(part)
                if progress is not None:
                    progress((i + 1) / len(bounds))
        if not parts:
            return sp.csr_matrix((n_items, n_items), dtype=np.float32)
        return stack_rows(parts, n_items)


def block_bounds(flops: np.ndarray, budget: int, min_blocks: int = 1) -> list[tuple[int, int]]:
    """Split rows into contiguous blocks of about ``budget`` work each (at least ``min_blocks``)."""
    n = flops.shape[0]
    if n == 0:
        return []
    cumulative = np.cumsum(flops)
    total = float(cumulative[-1])
    n_blocks = max(min_blocks, int(np.ceil(total / max(1, budget))))
    cuts = np.searchsorted(cumulative, np.linspace(0, total, n_blocks + 1)[1:-1])
    edges = np.unique(np.concatenate([[0], cuts, [n]]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


def stack_rows(parts: list[sp.csr_matrix], n_cols: int) -> sp.csr_matrix:
    """Concatenate row blocks keeping each row's (unsorted) column order."""
    indptr = [np.zeros(1, dtype=np.int64)]
    offset = 0
    for p in parts:
        indptr.append(p.indptr[1:].astype(np.int64) + offset)
        offset += int(p.indptr[-1])
    out = sp.csr_matrix(
        (
            np.concatenate([p.data for p in parts]).astype(np.float32),
            np.concatenate([p.indices for p in parts]).astype(np.int32),
            np.concatenate(indptr),
        ),
        shape=(sum(p.shape[0] for p in parts), n_cols),
    )
    out.has_sorted_indices = False
    return out
