"""Item exploration: new items with little interaction data enter answers on purpose.

``itemExplorationConfig`` (the managed service's names, string values on
the wire): ``explorationWeight`` in 0..1 (default 0.3) and
``explorationItemAgeCutOff`` in days (default 30).

Which items are explored (:class:`ExplorationCandidates`): an item's age
is the time from its creation (the catalog's ``CREATION_TIMESTAMP``) or,
without one, from its first interaction, back from the newest interaction
in the data; an item never used and without a creation time counts as new
(age 0). An item is a candidate when it is younger than the cut-off and has
little interaction data: fewer distinct users than the median of the items
that have any. Candidates are drawn with probability proportional to
``1 / (1 + users)``: the less is known of an item, the more it is tried.

How (:func:`explore`): each position of an answer is, independently, an
exploration slot with probability ``explorationWeight / 2`` (so weight 0
never explores, weight 1 makes about half of an answer new items). An
exploration slot takes a candidate not already in the answer and allowed
for the request (rules, whitelist, rated items); the model's items move
down one place. An explored item takes the score of the position it fills,
so scores still never increase down the list; it is marked explored, with
its propensity: the probability that the policy put it in that slot
(slot probability × the item's share of the candidates eligible then).
Randomness comes only from the ``rng`` given. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from recostack.errors import Invalid

__all__ = [
    "DEFAULT_AGE_CUTOFF_DAYS",
    "DEFAULT_WEIGHT",
    "ExplorationCandidates",
    "ExploredAnswer",
    "ItemExploration",
    "explore",
]

DEFAULT_WEIGHT = 0.3
DEFAULT_AGE_CUTOFF_DAYS = 30.0
SECONDS_PER_DAY = 86_400.0
#: the share of an answer's positions explored at weight 1
MAX_SLOT_SHARE = 0.5
_FIELD = "itemExplorationConfig"


def _number(config: Mapping[str, Any], name: str, default: float) -> float:
    value = config.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise Invalid(f"{_FIELD}.{name} must be a number, got {value!r}", field=_FIELD)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Invalid(f"{_FIELD}.{name} must be a number, got {value!r}", field=_FIELD) from None
    if not np.isfinite(number):
        raise Invalid(f"{_FIELD}.{name} must be finite, got {value!r}", field=_FIELD)
    return number


@dataclass(frozen=True, slots=True)
class ItemExploration:
    """How much to explore (``weight``, 0..1) and which items are new (``age_cutoff_days``)."""

    weight: float = DEFAULT_WEIGHT
    age_cutoff_days: float = DEFAULT_AGE_CUTOFF_DAYS

    def __post_init__(self) -> None:
        if not 0.0 <= self.weight <= 1.0:
            raise Invalid(
                f"{_FIELD}.explorationWeight must be between 0 and 1, got {self.weight}",
                field=_FIELD,
            )
        if not self.age_cutoff_days > 0:
            raise Invalid(
                f"{_FIELD}.explorationItemAgeCutOff must be > 0 days, got {self.age_cutoff_days}",
                field=_FIELD,
            )

    @classmethod
    def from_wire(cls, config: Mapping[str, Any] | None) -> ItemExploration | None:
        """The config of ``{"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}``
        (strings or numbers); ``None`` for no config. Unknown keys are refused."""
        if config is None:
            return None
        if not isinstance(config, Mapping):
            raise Invalid(f"{_FIELD} must be an object", field=_FIELD)
        unknown = set(config) - {"explorationWeight", "explorationItemAgeCutOff"}
        if unknown:
            raise Invalid(
                f"{_FIELD}: unknown key(s) {sorted(unknown)}; known: explorationWeight, "
                "explorationItemAgeCutOff",
                field=_FIELD,
            )
        return cls(
            _number(config, "explorationWeight", DEFAULT_WEIGHT),
            _number(config, "explorationItemAgeCutOff", DEFAULT_AGE_CUTOFF_DAYS),
        )

    def to_wire(self) -> dict[str, str]:
        return {
            "explorationWeight": f"{self.weight:g}",
            "explorationItemAgeCutOff": f"{self.age_cutoff_days:g}",
        }

    @property
    def slot_probability(self) -> float:
        return self.weight * MAX_SLOT_SHARE


@dataclass(frozen=True)
class ExplorationCandidates:
    """A model's items that exploration may show: indices (ascending) and their draw weights."""

    items: np.ndarray  # int64
    weights: np.ndarray  # float64, > 0

    @classmethod
    def build(
        cls,
        created: np.ndarray | None,
        users: np.ndarray,
        reference_time: float,
        age_cutoff_days: float,
    ) -> ExplorationCandidates:
        """Candidates among items whose creation (or first use) time is ``created`` (epoch
        seconds; negative: unknown, i.e. never used and no creation time) and whose
        distinct-user counts are ``users``."""
        users = np.asarray(users, dtype=np.float64)
        if created is None:  # a model without item times: nothing is known to be new
            return cls(np.empty(0, dtype=np.int64), np.empty(0))
        created = np.asarray(created, dtype=np.float64)
        age_days = np.where(created >= 0, (reference_time - created) / SECONDS_PER_DAY, 0.0)
        used = users[users > 0]
        little = users < (float(np.median(used)) if used.size else 1.0)
        young = age_days < age_cutoff_days
        items = np.flatnonzero(young & little).astype(np.int64)
        return cls(items, 1.0 / (1.0 + users[items]))

    def __len__(self) -> int:
        return int(self.items.shape[0])


@dataclass(frozen=True)
class ExploredAnswer:
    """An answer after exploration: items, scores, and per position whether it was explored
    and its propensity (``nan`` for the model's own items)."""

    items: np.ndarray
    scores: np.ndarray
    explored: np.ndarray  # bool
    propensities: np.ndarray  # float64


def explore(
    items: np.ndarray,
    scores: np.ndarray,
    count: int,
    candidates: ExplorationCandidates,
    config: ItemExploration,
    rng: np.random.Generator,
    *,
    eligible: np.ndarray | None = None,
) -> ExploredAnswer:
    """Mix exploration into an answer (``items``/``scores``, best first, at most ``count``).

    ``eligible`` masks the candidates (over all items) the request may receive.
    """
    n = min(count, items.shape[0]) if items.shape[0] else 0
    p = config.slot_probability
    if p <= 0 or not len(candidates) or count <= 0:
        return _unexplored(items[:count], scores[:count])
    pool = candidates.items
    weights = candidates.weights
    keep = ~np.isin(pool, items)
    if eligible is not None:
        keep &= eligible[pool]
    pool, weights = pool[keep], weights[keep].copy()
    slots = rng.random(count) < p
    if not pool.size or not slots.any():
        return _unexplored(items[:count], scores[:count])
    out_items: list[int] = []
    out_scores: list[float] = []
    explored: list[bool] = []
    propensity: list[float] = []
    model_at = 0
    last_score = float(scores[0]) if n else 0.0
    for position in range(count):
        slot_score = float(scores[model_at]) if model_at < n else last_score
        if slots[position] and weights.sum() > 0:
            total = float(weights.sum())
            pick = int(rng.choice(pool.size, p=weights / total))
            out_items.append(int(pool[pick]))
            out_scores.append(slot_score)
            explored.append(True)
            propensity.append(p * float(weights[pick]) / total)
            weights[pick] = 0.0
        elif model_at < n:
            out_items.append(int(items[model_at]))
            out_scores.append(slot_score)
            explored.append(False)
            propensity.append(float("nan"))
            model_at += 1
        else:
            break
        last_score = out_scores[-1]
    return ExploredAnswer(
        np.array(out_items, dtype=np.int64),
        np.array(out_scores, dtype=np.float32),
        np.array(explored, dtype=bool),
        np.array(propensity, dtype=np.float64),
    )


def _unexplored(items: np.ndarray, scores: np.ndarray) -> ExploredAnswer:
    return ExploredAnswer(
        items,
        scores,
        np.zeros(items.shape[0], dtype=bool),
        np.full(items.shape[0], np.nan),
    )
