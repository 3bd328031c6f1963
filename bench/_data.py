"""Benchmark data: MovieLens 100K and deterministic synthetic Zipf usage.

Both come as :class:`Events` (parallel arrays of integer user and item ids,
epoch-second timestamps and weights), which convert to the reference's
data frame (:func:`events_frame`) and to Recostack's
:class:`~recostack.algorithms.interactions.Interactions` (:func:`index_events`).

Synthetic data (``zipf-2m``, ``zipf-10m``):

* item popularity is Zipf: item of popularity rank ``r`` is drawn with
  probability ∝ ``(r + 1) ** -exponent`` (exponent 1.05), ids shuffled;
* user activity is heavy-tailed: every user has at least one event, the
  rest are shared in proportion to log-normal(σ = 1.2) draws (the most
  active of 1M users then has ~150× the mean);
* timestamps are distinct seconds spread uniformly over one year (so no two
  rows are exact duplicates, which the reference SAR refuses);
* weights are ratings 1..5.

Arrays are cached as ``.npy`` under ``~/.cache/recostack/bench``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from _common import cache_dir

YEAR_SECONDS = 365 * 86_400
START = 1_704_067_200  # 2024-01-01T00:00:00Z
FIELDS = ("user", "item", "timestamp", "weight")


@dataclass(frozen=True)
class ZipfSpec:
    name: str
    n_users: int
    n_items: int
    n_events: int
    exponent: float = 1.05
    activity_sigma: float = 1.2
    seed: int = 42

    @property
    def folder(self) -> str:
        return (
            f"zipf-u{self.n_users}-i{self.n_items}-e{self.n_events}"
            f"-a{self.exponent}-s{self.activity_sigma}-seed{self.seed}-v1"
        )


ZIPF = {
    "zipf-2m": ZipfSpec("zipf-2m", 100_000, 20_000, 2_000_000),
    "zipf-10m": ZipfSpec("zipf-10m", 1_000_000, 50_000, 10_000_000),
    # issue 16: the local engine at scale (about 3 GB of arrays once generated)
    "zipf-100m": ZipfSpec("zipf-100m", 10_000_000, 200_000, 100_000_000),
}
#: the data sets run by default (zipf-100m only when named)
DATASETS = ("ml-100k", "zipf-2m", "zipf-10m")
ALL_DATASETS = ("ml-100k", *ZIPF)


@dataclass(frozen=True)
class Events:
    user: np.ndarray  # int64 external ids
    item: np.ndarray  # int64 external ids
    timestamp: np.ndarray  # int64 epoch seconds
    weight: np.ndarray  # float32

    @property
    def n_events(self) -> int:
        return int(self.user.shape[0])


def movielens_events() -> Events:
    from recostack.data.datasets import movielens_100k

    r = movielens_100k().ratings
    return Events(
        r["user_id"].astype(np.int64).to_numpy(),
        r["item_id"].astype(np.int64).to_numpy(),
        r["timestamp"].to_numpy(np.int64),
        r["rating"].to_numpy(np.float32),
    )


def generate_zipf(spec: ZipfSpec) -> Events:
    rng = np.random.default_rng(spec.seed)
    # heavy-tailed activity: 1 event each, the rest ∝ log-normal draws
    share = rng.lognormal(0.0, spec.activity_sigma, spec.n_users)
    extra = spec.n_events - spec.n_users
    raw = share / share.sum() * extra
    counts = np.floor(raw).astype(np.int64)
    short = extra - int(counts.sum())
    counts[np.argsort(raw - counts)[::-1][:short]] += 1
    counts += 1
    user = np.repeat(np.arange(spec.n_users, dtype=np.int64), counts)
    # Zipf item popularity over shuffled ids
    p = (np.arange(spec.n_items, dtype=np.float64) + 1.0) ** -spec.exponent
    cdf = np.cumsum(p / p.sum())
    rank = np.searchsorted(cdf, rng.random(spec.n_events), side="right")
    np.minimum(rank, spec.n_items - 1, out=rank)
    item = rng.permutation(spec.n_items).astype(np.int64)[rank]
    # distinct seconds over a year, in random order
    step = YEAR_SECONDS // spec.n_events
    timestamp = START + rng.permutation(spec.n_events).astype(np.int64) * step
    weight = rng.integers(1, 6, spec.n_events).astype(np.float32)
    return Events(user, item, timestamp, weight)


def zipf_events(spec: ZipfSpec) -> Events:
    """The cached data set, generated (and cached atomically) on first use."""
    folder = cache_dir() / spec.folder
    if not (folder / "weight.npy").exists():
        events = generate_zipf(spec)
        tmp = Path(tempfile.mkdtemp(dir=cache_dir(), prefix=".tmp-"))
        for name in FIELDS:
            np.save(tmp / f"{name}.npy", getattr(events, name), allow_pickle=False)
        try:
            os.rename(tmp, folder)
        except OSError:  # another process won the race
            shutil.rmtree(tmp, ignore_errors=True)
    return Events(*(np.load(folder / f"{name}.npy", allow_pickle=False) for name in FIELDS))


def load_events(name: str) -> Events:
    if name == "ml-100k":
        return movielens_events()
    return zipf_events(ZIPF[name])


def events_frame(events: Events) -> pd.DataFrame:
    """The reference's input: userID, itemID, rating, timestamp columns."""
    return pd.DataFrame(
        {
            "userID": events.user,
            "itemID": events.item,
            "rating": events.weight,
            "timestamp": events.timestamp,
        }
    )


def index_events(events: Events):
    """Recostack's input: ids factorized to indices, as Interactions.

    Returns ``(interactions, user_ids, item_ids)`` where ``user_ids[i]`` is
    the external id of user index ``i``.
    """
    from recostack.algorithms.interactions import Interactions

    user_index, user_ids = pd.factorize(events.user)
    item_index, item_ids = pd.factorize(events.item)
    inter = Interactions(
        int(user_ids.shape[0]),
        int(item_ids.shape[0]),
        user_index.astype(np.int32),
        item_index.astype(np.int32),
        events.timestamp,
        events.weight,
    )
    return inter, np.asarray(user_ids), np.asarray(item_ids)


def describe(events: Events) -> dict[str, float | int]:
    users, per_user = np.unique(events.user, return_counts=True)
    items, per_item = np.unique(events.item, return_counts=True)
    return {
        "events": events.n_events,
        "users": int(users.size),
        "items": int(items.size),
        "events_per_user_median": float(np.median(per_user)),
        "events_per_user_max": int(per_user.max()),
        "events_top_1pct_items_share": float(
            np.sort(per_item)[::-1][: max(1, items.size // 100)].sum() / events.n_events
        ),
    }
