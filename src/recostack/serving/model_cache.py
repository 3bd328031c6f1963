"""Loaded models, kept once per process and evicted least-recently-used by memory."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from recostack.training.trained_model import TrainedModel

__all__ = ["ModelCache", "load_for_serving"]


def load_for_serving(path: Path) -> TrainedModel:
    """Load a model and compile the scoring kernels, so the first request does not wait."""
    from recostack.rules import diversity_kernel
    from recostack.serving import ruled_kernel

    model = TrainedModel.load(path)
    model.item_item.warm_up()
    diversity_kernel.warm_up()
    ruled_kernel.warm_up(model.item_item, model.item_properties.rule_code_types())
    return model


class ModelCache:
    """At most ``budget_bytes`` of models (by ``model.nbytes``); the newest always stays.

    :meth:`get` is the hot path: a dictionary lookup under a lock. Loading
    happens once per model even when many requests miss at the same time.
    """

    def __init__(
        self, budget_bytes: int, load: Callable[[Path], TrainedModel] = load_for_serving
    ) -> None:
        self.budget_bytes = budget_bytes
        self._load = load
        self._models: OrderedDict[str, TrainedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def get(self, model_id: str) -> TrainedModel | None:
        with self._lock:
            model = self._models.get(model_id)
            if model is not None:
                self._models.move_to_end(model_id)
            return model

    def load(self, model_id: str, path: Path) -> TrainedModel:
        """The cached model, or load it from ``path`` (once, whoever asks)."""
        with self._lock:
            gate = self._loading.setdefault(model_id, threading.Lock())
        with gate:
            model = self.get(model_id)
            if model is not None:
                return model
            model = self._load(path)
            with self._lock:
                self._models[model_id] = model
                self._evict()
                self._loading.pop(model_id, None)
            return model

    def invalidate(self, model_id: str) -> None:
        with self._lock:
            self._models.pop(model_id, None)

    def retain(self, keep: set[str]) -> None:
        """Drop every model not in ``keep``."""
        with self._lock:
            for model_id in [m for m in self._models if m not in keep]:
                del self._models[model_id]

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._models)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(int(m.nbytes) for m in self._models.values())

    def _evict(self) -> None:
        total = sum(int(m.nbytes) for m in self._models.values())
        while total > self.budget_bytes and len(self._models) > 1:
            _, evicted = self._models.popitem(last=False)
            total -= int(evicted.nbytes)
