"""Item exploration's candidates per model and age cut-off (a bounded LRU).

Building :class:`~recostack.algorithms.exploration.ExplorationCandidates`
reads every item's age and interaction count once; requests of the same
model and cut-off share the result. Keyed by model id: a model's
artifacts never change once it is Completed.
"""

from __future__ import annotations

import threading

from cachetools import LRUCache

from recostack.algorithms.exploration import ExplorationCandidates, ItemExploration
from recostack.training.trained_model import TrainedModel

__all__ = ["ExplorationCache"]


class ExplorationCache:
    def __init__(self, maxsize: int = 256) -> None:
        self._entries: LRUCache[tuple[str, float], ExplorationCandidates] = LRUCache(maxsize)
        self._lock = threading.Lock()

    def get(
        self, model_id: str, model: TrainedModel, exploration: ItemExploration
    ) -> ExplorationCandidates:
        key = (model_id, exploration.age_cutoff_days)
        with self._lock:
            found = self._entries.get(key)
        if found is None:
            found = ExplorationCandidates.build(
                model.item_created,
                model.item_item.popularity,
                float(model.options.reference_time),
                exploration.age_cutoff_days,
            )
            with self._lock:
                self._entries[key] = found
        return found
