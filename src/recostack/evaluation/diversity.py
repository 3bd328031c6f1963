"""The diversity report: how much of what is recommended is popular.

Popularity of an item is the number of **distinct users** with a stored
nonzero for it in the train matrix (repeated events of one user count once).
The *train items* are the items with popularity > 0.

The popularity percentile of a train item is the percentage of train items
that are strictly less popular than it (``scipy.stats.percentileofscore``
with ``kind="strict"``), so it lies in ``[0, 100)``, tied items share one
percentile, and the ``[99, 100]`` bucket holds the most popular 1% of train
items (more when several tie at the top). Buckets are the reference's
``[0, 90)``, ``[90, 99)`` and ``[99, 100]``; bucket membership is decided in
integer arithmetic, so an item exactly at the 90th or 99th percentile falls
in the upper bucket. Recommended items that never occur in train (cold
items, including indices beyond the train matrix's columns) fall in
``[0, 90)``.

A bucket's ``percentage`` is the share, in percent (0..100), of all
recommended (user, item) slots whose item falls in the bucket; the reference
words it as "the fraction of all recommended users that belong to the
bucket", and a share of recommendation slots is what that measures. Padding
slots (``-1``) are not recommendations and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from recostack.evaluation._hits import canonical_csr, check_k, check_recs
from recostack.evaluation.coverage import recommended_items

__all__ = [
    "BUCKETS",
    "DiversityMetrics",
    "PercentileBucket",
    "diversity_metrics",
    "item_popularity",
    "popularity_bucket",
]

#: The reference's popularity percentile buckets, ``(min, max)``; the last is closed.
BUCKETS: tuple[tuple[int, int], ...] = ((0, 90), (90, 99), (99, 100))


@dataclass(frozen=True)
class PercentileBucket:
    """One popularity bucket and the percentage of recommendations in it."""

    min_percentile: int
    max_percentile: int
    percentage: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "min": self.min_percentile,
            "max": self.max_percentile,
            "percentage": self.percentage,
        }


@dataclass(frozen=True)
class DiversityMetrics:
    """The reference's "Model Diversity Metrics" object."""

    percentile_buckets: tuple[PercentileBucket, ...]
    total_items_recommended: int
    unique_items_recommended: int
    unique_items_in_train_set: int

    def to_dict(self) -> dict[str, Any]:
        """The camelCase wire form of the reference's schema."""
        return {
            "percentileBuckets": [b.to_dict() for b in self.percentile_buckets],
            "totalItemsRecommended": self.total_items_recommended,
            "uniqueItemsRecommended": self.unique_items_recommended,
            "uniqueItemsInTrainSet": self.unique_items_in_train_set,
        }


def item_popularity(train: Any) -> npt.NDArray[np.int64]:
    """Number of distinct users per item (column) of a user x item train matrix."""
    csr = canonical_csr(train, field="train")
    return np.bincount(csr.indices, minlength=csr.shape[1]).astype(np.int64)


def popularity_bucket(popularity: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Index into :data:`BUCKETS` of every item, from per-item popularity.

    Items with popularity 0 (cold) get bucket 0.
    """
    pop = np.asarray(popularity, dtype=np.int64)
    warm = np.sort(pop[pop > 0])
    n_warm = warm.size
    # 100 * (#train items strictly less popular) compared with lower * n_warm, exactly.
    less_popular = np.searchsorted(warm, pop, side="left").astype(np.int64)
    bucket = np.zeros(pop.shape, dtype=np.int64)
    for lower, _ in BUCKETS[1:]:
        bucket += 100 * less_popular >= lower * n_warm
    bucket[pop <= 0] = 0
    return bucket


def diversity_metrics(recs: npt.ArrayLike, train: Any, k: int | None = None) -> DiversityMetrics:
    """The diversity report of the top ``k`` recommendations (all columns when None).

    ``recs`` holds the rows of the users to count (the evaluation report
    passes the users with at least one relevant test item); ``train`` is the
    user x item matrix the model was trained on.
    """
    top = check_recs(recs)
    if k is not None:
        top = top[:, : check_k(k)]
    items = top[top >= 0]
    popularity = item_popularity(train)
    buckets = popularity_bucket(popularity)

    in_train = items < popularity.size
    item_bucket = np.zeros(items.shape, dtype=np.int64)  # cold items: bucket 0
    item_bucket[in_train] = buckets[items[in_train]]
    counts = np.bincount(item_bucket, minlength=len(BUCKETS))
    total = int(items.size)
    shares = 100.0 * counts / total if total else np.zeros(len(BUCKETS))
    return DiversityMetrics(
        percentile_buckets=tuple(
            PercentileBucket(lo, hi, float(share))
            for (lo, hi), share in zip(BUCKETS, shares, strict=True)
        ),
        total_items_recommended=total,
        unique_items_recommended=int(recommended_items(top).size),
        unique_items_in_train_set=int(np.count_nonzero(popularity)),
    )
