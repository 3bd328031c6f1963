"""What serving derives from rules, kept by what it is derived from (bounded LRUs).

- :class:`ResolutionCache`: how a request's rule options resolve against a
  scenario snapshot (:class:`~recostack.rules.Resolution`), by (snapshot
  stamp, options);
- :class:`ScorerCache`: a model's compiled answers under a rule set
  (:class:`~recostack.serving.scoring.RuledScorer`), by (model id, rule
  set). A model that leaves the model cache takes its scorers with it
  (:meth:`ScorerCache.forget`).

Entries are immutable; a key that changes (a new snapshot stamp, another
model) simply stops being asked for and ages out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

from recostack.rules import Resolution, RuleOptions, RuleSet, ScenarioSnapshot
from recostack.serving.scoring import RuledScorer
from recostack.training.trained_model import TrainedModel

__all__ = ["ResolutionCache", "ScorerCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Bounded(Generic[K, V]):
    """A thread-safe LRU; a missing value is built outside the lock (twice at worst)."""

    def __init__(self, maxsize: int) -> None:
        self._entries: LRUCache[K, V] = LRUCache(maxsize)
        self._lock = threading.Lock()

    def get(self, key: K, build: Callable[[], V]) -> V:
        with self._lock:
            found = self._entries.get(key)
        if found is None:
            found = build()
            with self._lock:
                self._entries[key] = found
        return found

    def discard(self, doomed: Callable[[K], bool]) -> None:
        """Drop every entry whose key is ``doomed``."""
        with self._lock:
            for key in [k for k in self._entries if doomed(k)]:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)


class ResolutionCache:
    def __init__(self, maxsize: int = 4096) -> None:
        self._cache: _Bounded[tuple[str | None, RuleOptions], Resolution] = _Bounded(maxsize)

    def get(self, snapshot: ScenarioSnapshot, options: RuleOptions) -> Resolution:
        return self._cache.get((snapshot.stamp, options), lambda: Resolution(snapshot, options))

    def __len__(self) -> int:
        return len(self._cache)


class ScorerCache:
    def __init__(self, maxsize: int = 1024) -> None:
        self._cache: _Bounded[tuple[str, RuleSet], RuledScorer] = _Bounded(maxsize)

    def get(self, model_id: str, model: TrainedModel, rules: RuleSet) -> RuledScorer:
        """The scorer of ``model`` (loaded as ``model_id``) under ``rules``."""
        return self._cache.get((model_id, rules), lambda: RuledScorer(model, rules))

    def forget(self, model_id: str) -> None:
        """Drop the scorers of a model that is no longer loaded."""
        self._cache.discard(lambda key: key[0] == model_id)

    def __len__(self) -> int:
        return len(self._cache)
