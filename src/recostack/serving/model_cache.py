"""Loaded models, kept once per process and evicted least-recently-used by memory."""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from recostack.serving.metrics import serving_metrics
from recostack.training.trained_model import TrainedModel

__all__ = ["ModelCache", "load_for_serving"]


def load_for_serving(path: Path) -> TrainedModel:
    """Load a model and compile the scoring kernels, so the first request does not wait.

    What loading leaves behind lives as long as the model or the process
    (numba's compiled kernels alone are about 140,000 objects): it is moved
    out of the garbage collector's reach (``gc.freeze``) after one collection.
    Measured in ``bench/deployment.py``: left in, every full collection scanned
    it again and paused requests for up to 140 ms, the deployment path's p99.
    The models' own arrays are freed by reference counting when evicted.
    """
    from recostack.rules import diversity_kernel
    from recostack.serving import ruled_kernel

    model = TrainedModel.load(path)
    model.item_item.warm_up()
    diversity_kernel.warm_up()
    ruled_kernel.warm_up(model.item_item, model.item_properties.rule_code_types())
    gc.collect()
    gc.freeze()
    return model


class ModelCache:
    """At most ``budget_bytes`` of models (by ``model.nbytes``); the newest always stays.

    :meth:`get` is the hot path: a dictionary lookup under a lock. Loading
    happens once per model even when many requests miss at the same time.
    """

    def __init__(
        self,
        budget_bytes: int,
        load: Callable[[Path], TrainedModel] = load_for_serving,
        *,
        on_drop: Callable[[str], None] | None = None,
    ) -> None:
        self.budget_bytes = budget_bytes
        self._load = load
        #: told the id of every model that leaves the cache (what was derived from it goes too)
        self._on_drop = on_drop
        self._models: OrderedDict[str, TrainedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self._metrics = serving_metrics()

    def get(self, model_id: str) -> TrainedModel | None:
        with self._lock:
            model = self._models.get(model_id)
            if model is not None:
                self._models.move_to_end(model_id)
        if model is not None:
            self._metrics.model_cache_hits.inc()
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
                evicted = self._evict()
                self._loading.pop(model_id, None)
            self._metrics.model_cache_loads.inc()
            self._dropped(evicted)
            return model

    def invalidate(self, model_id: str) -> None:
        with self._lock:
            dropped = self._models.pop(model_id, None) is not None
        if dropped:
            self._dropped([model_id])

    def retain(self, keep: set[str]) -> None:
        """Drop every model not in ``keep``."""
        with self._lock:
            dropped = [m for m in self._models if m not in keep]
            for model_id in dropped:
                del self._models[model_id]
        self._dropped(dropped)

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._models)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(int(m.nbytes) for m in self._models.values())

    def _evict(self) -> list[str]:
        total = sum(int(m.nbytes) for m in self._models.values())
        evicted: list[str] = []
        while total > self.budget_bytes and len(self._models) > 1:
            model_id, model = self._models.popitem(last=False)
            total -= int(model.nbytes)
            evicted.append(model_id)
        return evicted

    def _dropped(self, model_ids: list[str]) -> None:
        self._metrics.model_cache_bytes.set(self.nbytes)
        if self._on_drop is not None:
            for model_id in model_ids:
                self._on_drop(model_id)
