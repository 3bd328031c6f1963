"""A trained model as the service loads it: vocabularies, weights, metadata.

:class:`TrainedModel` is the edge where external string ids meet the
index-level :class:`~recostack.algorithms.item_item.ItemItemModel`. It is
saved as a directory of ``.npy`` arrays (loaded memory-mapped, never
pickled) and one ``model.json``; it is read-only once built (nothing in it
changes after construction), so a single instance serves concurrent
requests.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np
import scipy.sparse as sp

from recostack.algorithms.interactions import SECONDS_PER_DAY
from recostack.algorithms.item_item import ItemItemModel, ScoredItems
from recostack.data.events import event_weight
from recostack.data.ids import Vocabulary
from recostack.errors import Invalid
from recostack.rules.properties import ItemProperties
from recostack.training.artifact_integrity import seal_model_dir, verify_model_dir

__all__ = [
    "FORMAT_VERSION",
    "Recommendation",
    "ServingOptions",
    "TrainedModel",
    "UsageEvent",
    "UsageEventLike",
]

FORMAT_VERSION = 1
MAX_RECOMMENDATIONS = 100


class Recommendation(NamedTuple):
    """One recommended item (a named tuple: ten are built for every answer)."""

    item_id: str
    score: float

    def to_wire(self) -> dict[str, Any]:
        return {"recommendedItemId": self.item_id, "score": self.score}


class UsageEventLike(Protocol):
    """What scoring reads of a recent usage event: a :class:`UsageEvent`, or anything with
    these attributes (a validated request body; a naive timestamp is UTC)."""

    @property
    def item_id(self) -> str: ...

    @property
    def timestamp(self) -> datetime | None: ...

    @property
    def event_type(self) -> str | None: ...

    @property
    def weight(self) -> float | None: ...


@dataclass(slots=True)
class UsageEvent:
    """One recent event sent with a personalized request.

    Not frozen: a frozen dataclass costs five times as much to build, and a
    request builds one per event on the hot path; treat it as read-only.
    """

    item_id: str
    timestamp: datetime | None = None
    event_type: str | None = None
    weight: float | None = None


@dataclass(frozen=True)
class ServingOptions:
    """How the model answers, fixed at training time by its parameters."""

    allow_seed_items: bool = False
    enable_backfilling: bool = True
    enable_user_affinity: bool = False
    enable_user_to_item: bool = False
    half_life_days: float = 30.0
    reference_time: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _timestamp(value: datetime | None, now: float) -> float:
    if value is None:
        return now
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


class TrainedModel:
    """Everything needed to serve one model."""

    def __init__(
        self,
        *,
        algorithm: str,
        items: Vocabulary,
        item_item: ItemItemModel,
        options: ServingOptions,
        users: Vocabulary | None = None,
        history: sp.csr_matrix | None = None,
        properties: dict[str, np.ndarray] | None = None,
        parameters: dict[str, Any] | None = None,
        statistics: dict[str, Any] | None = None,
        item_created: np.ndarray | None = None,
    ) -> None:
        if len(items) != item_item.n_items:
            raise ValueError("item vocabulary and weights disagree on the number of items")
        self.algorithm = algorithm
        self.items = items
        self.item_item = item_item
        self.options = options
        self.users = users
        self.history = history
        self.properties = properties or {}
        self.parameters = parameters or {}
        self.statistics = statistics or {}
        #: per item, epoch seconds of its creation (the catalog's CREATION_TIMESTAMP) or of its
        #: first interaction; -1 when neither is known (item exploration's ages)
        self.item_created = item_created
        #: catalog properties prepared for business rules
        self.item_properties = ItemProperties(self.properties, n_items=self.n_items)

    # ---------------------------------------------------------------- sizing
    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def nbytes(self) -> int:
        total = self.item_item.nbytes + self.items.ids.nbytes
        if self.users is not None:
            total += self.users.ids.nbytes
        if self.history is not None:
            total += self.history.data.nbytes * 2 + self.history.indptr.nbytes
        total += sum(v.nbytes for v in self.properties.values())
        if self.item_created is not None:
            total += self.item_created.nbytes
        return int(total)

    # ------------------------------------------------------------- ids ↔ idx
    def item_index(self, item_id: str) -> int | None:
        return self.items.index(item_id)

    def to_recommendations(self, scored: ScoredItems) -> list[Recommendation]:
        ids = self.items.ids[scored.items].tolist()  # Python str and float already
        return list(map(Recommendation, ids, scored.scores.tolist()))

    def user_history(self, user_id: str | None) -> tuple[np.ndarray, np.ndarray]:
        """A known user's stored items and affinities (empty when not stored)."""
        empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))
        if user_id is None or self.users is None or self.history is None:
            return empty
        if not self.options.enable_user_to_item:
            return empty
        u = self.users.index(user_id)
        if u is None:
            return empty
        start, end = int(self.history.indptr[u]), int(self.history.indptr[u + 1])
        return (
            self.history.indices[start:end].astype(np.int64),
            np.asarray(self.history.data[start:end], dtype=np.float32),
        )

    def event_affinities(
        self, events: Sequence[UsageEventLike], user_id: str | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Item indices and affinities of a request's events merged with the stored history.

        With user affinity, each event weighs its type (or custom weight) and
        is halved every half-life before the newest event of the request;
        the stored history (decayed to the training time) is decayed the rest
        of the way. Without it, every item used counts 1. Unknown items are
        ignored.
        """
        opts = self.options
        stored_items, stored_weights = self.user_history(user_id)
        lookup = self.items.lookup.get
        if not opts.enable_user_affinity:
            for ev in events:  # a weight is not used here, but an unknown type is still wrong
                if ev.weight is None and ev.event_type is not None:
                    _weight_of(ev)
            used = {j for ev in events if (j := lookup(ev.item_id)) is not None}
            used.update(stored_items.tolist())
            distinct = np.array(sorted(used), dtype=np.int64)
            return distinct, np.ones(distinct.size, dtype=np.float32)
        now = time.time()
        found: list[int] = []
        weights: list[float] = []
        times: list[float] = []
        for ev in events:
            weight = _weight_of(ev)
            j = lookup(ev.item_id)
            if j is not None:
                found.append(j)
                weights.append(weight)
                times.append(now if ev.timestamp is None else _timestamp(ev.timestamp, now))
        half_life = opts.half_life_days * SECONDS_PER_DAY
        stored_scale = 1.0
        if found:
            ref = max(max(times), float(opts.reference_time) if stored_items.size else 0.0)
            if any(ev.timestamp is not None for ev in events):  # untimed events are "now"
                decays = [2.0 ** (-(ref - t) / half_life) for t in times]
                weights = [w * d for w, d in zip(weights, decays, strict=True)]
            stored_scale = 2.0 ** (-(ref - opts.reference_time) / half_life)
        if stored_items.size:
            idx = np.concatenate([stored_items, np.array(found, dtype=np.int64)])
            merged = np.concatenate([stored_weights * stored_scale, np.array(weights)])
            return _merge_repeats(idx, merged)
        # a request's few events: summed in a dict (float64), cheaper than sorting arrays
        summed: dict[int, float] = {}
        for j, weight in zip(found, weights, strict=True):
            summed[j] = summed.get(j, 0.0) + weight
        ordered = sorted(summed)
        return (
            np.array(ordered, dtype=np.int64),
            np.array([summed[j] for j in ordered], dtype=np.float32),
        )

    # --------------------------------------------------------------- scoring
    def score_item(
        self,
        item: int | None,
        count: int,
        *,
        allowed: np.ndarray | None = None,
        exclude: np.ndarray | None = None,
    ) -> ScoredItems:
        """Top items next to one seed item (index), with rules' mask and exclusions."""
        opts = self.options
        if item is None:
            return self.item_item.top_k(
                ScoredItems.empty(),
                count,
                exclude=exclude,
                allowed=allowed,
                backfill=opts.enable_backfilling,
            )
        if not opts.allow_seed_items:
            seed = np.array([item], dtype=np.int64)
            exclude = seed if exclude is None else np.concatenate([exclude, seed])
        # rows are sorted: the kernel reads only as far as the answer needs
        found = self.item_item.head_of_row(item, count, exclude=exclude, allowed=allowed)
        return self._backfilled(found, count, exclude, allowed)

    def score_history(
        self,
        items: np.ndarray,
        weights: np.ndarray,
        count: int,
        *,
        allowed: np.ndarray | None = None,
        exclude: np.ndarray | None = None,
    ) -> ScoredItems:
        """Top items for a history of (item index, affinity) pairs."""
        if not self.options.allow_seed_items and items.size:
            exclude = items if exclude is None else np.concatenate([exclude, items])
        found = self.item_item.best_of_history(
            items, weights, count, exclude=exclude, allowed=allowed
        )
        return self._backfilled(found, count, exclude, allowed)

    def _backfilled(
        self,
        found: ScoredItems,
        count: int,
        exclude: np.ndarray | None,
        allowed: np.ndarray | None,
    ) -> ScoredItems:
        """``found`` (best first), filled with popular items when short and the model backfills."""
        if len(found) >= count or not self.options.enable_backfilling:
            return found
        return self.item_item.top_k(
            found, count, exclude=exclude, allowed=allowed, backfill=True, presorted=True
        )

    def recommend_item(
        self, item_id: str, count: int = 10, *, allowed: np.ndarray | None = None
    ) -> list[Recommendation]:
        """Item-to-item recommendations; an unknown item gives [] (or popular items)."""
        _check_count(count)
        return self.to_recommendations(
            self.score_item(self.items.index(item_id), count, allowed=allowed)
        )

    def recommend_events(
        self,
        events: Sequence[UsageEventLike],
        count: int = 10,
        user_id: str | None = None,
        *,
        allowed: np.ndarray | None = None,
    ) -> list[Recommendation]:
        """Personalized recommendations from recent events (and the stored history)."""
        _check_count(count)
        items, weights = self.event_affinities(events, user_id)
        return self.to_recommendations(self.score_history(items, weights, count, allowed=allowed))

    # ------------------------------------------------------------- artifacts
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.items.save(str(directory / "items.npy"))
        self.item_item.save(directory)
        if self.users is not None:
            self.users.save(str(directory / "users.npy"))
        if self.history is not None:
            for name in ("indptr", "indices", "data"):
                np.save(directory / f"history_{name}.npy", getattr(self.history, name))
        if self.item_created is not None:
            np.save(directory / "item_created.npy", self.item_created, allow_pickle=False)
        property_names = list(self.properties)
        for i, name in enumerate(property_names):
            np.save(directory / f"property_{i}.npy", self.properties[name], allow_pickle=False)
        meta = {
            "formatVersion": FORMAT_VERSION,
            "algorithm": self.algorithm,
            "options": self.options.to_dict(),
            "properties": property_names,
            "hasUsers": self.users is not None,
            "hasHistory": self.history is not None,
            "parameters": self.parameters,
            "statistics": self.statistics,
        }
        (directory / "model.json").write_text(json.dumps(meta, indent=1))
        seal_model_dir(directory)

    @classmethod
    def load(cls, directory: Path, *, mmap: bool = True) -> TrainedModel:
        """The model saved in ``directory``, once every file matches its checksum."""
        verify_model_dir(directory)
        meta = json.loads((directory / "model.json").read_text())
        if meta.get("formatVersion") != FORMAT_VERSION:
            raise Invalid(f"unsupported model format {meta.get('formatVersion')!r} in {directory}")
        mode: Literal["r"] | None = "r" if mmap else None
        items = Vocabulary.load(str(directory / "items.npy"), mmap=mmap)
        users = (
            Vocabulary.load(str(directory / "users.npy"), mmap=mmap) if meta["hasUsers"] else None
        )
        history = None
        if meta["hasHistory"]:
            parts = [
                np.load(directory / f"history_{n}.npy", mmap_mode=mode, allow_pickle=False).view(
                    np.ndarray
                )
                for n in ("indptr", "indices", "data")
            ]
            history = sp.csr_matrix(
                (parts[2], parts[1], parts[0]), shape=(len(users or []), len(items))
            )
        properties = {
            name: np.load(directory / f"property_{i}.npy", allow_pickle=False)
            for i, name in enumerate(meta["properties"])
        }
        created_path = directory / "item_created.npy"
        return cls(
            item_created=(
                np.load(created_path, allow_pickle=False) if created_path.exists() else None
            ),
            algorithm=meta["algorithm"],
            items=items,
            item_item=ItemItemModel.load(directory, mmap=mmap),
            options=ServingOptions(**meta["options"]),
            users=users,
            history=history,
            properties=properties,
            parameters=meta["parameters"],
            statistics=meta["statistics"],
        )


def _weight_of(event: UsageEventLike) -> float:
    """The event's weight, else its type's (:class:`Invalid` for an unknown type)."""
    if event.weight is not None:
        return event.weight
    weight = event_weight(event.event_type)
    if weight is None:
        raise Invalid(f"unknown eventType {event.event_type!r}", field="eventType")
    return weight


def _merge_repeats(idx: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct items (ascending) and their summed weights (summed in float64)."""
    order = np.argsort(idx, kind="stable")
    items, weights = idx[order], weights[order]
    first = np.empty(items.size, dtype=bool)
    first[0] = True
    np.not_equal(items[1:], items[:-1], out=first[1:])
    if first.all():
        return items, weights.astype(np.float32)
    starts = np.flatnonzero(first)
    return items[starts], np.add.reduceat(weights, starts).astype(np.float32)


def _check_count(count: int) -> None:
    if not 1 <= count <= MAX_RECOMMENDATIONS:
        raise Invalid(
            f"recommendationCount must be between 1 and {MAX_RECOMMENDATIONS}, got {count}",
            field="recommendationCount",
        )
