"""Interactions as the algorithms see them: parallel integer/float arrays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["SECONDS_PER_DAY", "Interactions", "affinity_matrix", "binary_matrix", "decay_factors"]

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Interactions:
    """One entry per event: who, what, when (epoch seconds) and how strongly."""

    n_users: int
    n_items: int
    user_index: np.ndarray
    item_index: np.ndarray
    timestamp: np.ndarray
    weight: np.ndarray

    def __post_init__(self) -> None:
        n = self.user_index.shape[0]
        for name in ("item_index", "timestamp", "weight"):
            if getattr(self, name).shape[0] != n:
                raise ValueError(f"{name} must have one entry per event")

    @property
    def n_events(self) -> int:
        return int(self.user_index.shape[0])

    @property
    def latest_time(self) -> int:
        return int(self.timestamp.max()) if self.n_events else 0


def decay_factors(
    timestamp: np.ndarray, reference_time: float, half_life_days: float
) -> np.ndarray:
    """``2 ** (-(reference_time - t) / half_life)``: 1 now, 1/2 one half-life ago."""
    age = (float(reference_time) - timestamp.astype(np.float64)) / (
        half_life_days * SECONDS_PER_DAY
    )
    return np.exp2(-age)


def affinity_matrix(
    inter: Interactions,
    *,
    weighted: bool,
    half_life_days: float | None = None,
    reference_time: float | None = None,
) -> sp.csr_matrix:
    """Users × items affinities.

    ``weighted``: the sum over a user's events on an item of the event weight,
    times the time decay when ``half_life_days`` is given (relative to
    ``reference_time``, default the latest event). Otherwise 1 for every
    (user, item) pair with an event.
    """
    shape = (inter.n_users, inter.n_items)
    if not weighted:
        return binary_matrix(inter.user_index, inter.item_index, shape)
    values = inter.weight.astype(np.float64)
    if half_life_days is not None and inter.n_events:
        ref = inter.latest_time if reference_time is None else reference_time
        values = values * decay_factors(inter.timestamp, ref, half_life_days)
    m = sp.csr_matrix(
        (values, (inter.user_index.astype(np.int64), inter.item_index.astype(np.int64))),
        shape=shape,
    )
    m.sum_duplicates()
    m.data = m.data.astype(np.float32)
    m.eliminate_zeros()
    return m


def binary_matrix(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A 0/1 float32 matrix with a one wherever some (row, col) pair occurs."""
    m = sp.csr_matrix(
        (np.ones(rows.shape[0], dtype=np.float32), (rows.astype(np.int64), cols.astype(np.int64))),
        shape=shape,
    )
    m.sum_duplicates()
    m.data[:] = 1.0
    return m
