"""The models this process serves: the default model's id and the loaded models.

:class:`ServedModels` reads the store through a :class:`ModelSource` and
follows its stamps (:mod:`recostack.serving.stamps`): a new default model
is served at once, a deleted model leaves the cache. A request does no
database work unless its model is not loaded yet; then it is loaded in a
worker thread (:meth:`ServedModels.get`), once, whoever asks.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Protocol

import anyio.to_thread

from recostack.errors import Conflict, NotFound, RecostackError, Unavailable
from recostack.serving.model_cache import ModelCache
from recostack.serving.stamps import DEFAULT_MODEL_ID, MODELS_GENERATION, StampPoller, Stamps
from recostack.training.status import ModelStatus
from recostack.training.trained_model import TrainedModel

__all__ = ["NO_DEFAULT_MODEL", "ModelSource", "ServedModels", "canonical_model_id"]

NO_DEFAULT_MODEL = "no default model is set: set one with PUT /api/models/default?modelId=<id>"


def canonical_model_id(value: str) -> str | None:
    """``value`` as a lower-case hyphenated UUID, or ``None`` if it is not one."""
    if len(value) > 64:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


class ModelSource(Protocol):
    """The store, as serving reads models (``recostack.store.serving_source``)."""

    def model_status(self, model_id: str) -> tuple[str, str | None] | None:
        """(status, status message) of the model ``model_id`` (canonical), if it exists."""

    def completed_among(self, model_ids: Collection[str]) -> set[str]:
        """Which of ``model_ids`` still exist and are Completed."""


class ServedModels:
    def __init__(
        self, source: ModelSource, models_dir: Path, cache: ModelCache, poller: StampPoller
    ) -> None:
        self.source = source
        self.models_dir = models_dir
        self.cache = cache
        self.poller = poller
        self.default_model_id: str | None = None
        self._models_stamp: str | None = None

    # --- the request path -----------------------------------------------------------
    def default_id(self) -> str:
        """The default model's id, or :class:`NotFound`."""
        self.poller.ensure_fresh()
        if self.default_model_id is None:
            # set a moment ago by another process (or app): read the stamps once before a 404
            self.poller.poll()
        if self.default_model_id is None:
            raise NotFound(NO_DEFAULT_MODEL, field="modelId")
        return self.default_model_id

    async def get(self, model_id: str | None) -> tuple[str, TrainedModel]:
        """The model ``model_id`` (``None``: the default) and its canonical id; a model not
        loaded yet is loaded in a worker thread."""
        if model_id is None:
            canonical = self.default_id()
        else:
            found = canonical_model_id(model_id)
            if found is None:
                raise NotFound(f"model {model_id!r} does not exist", field="modelId")
            canonical = found
        model = self.cache.get(canonical)
        if model is None:
            model = await anyio.to_thread.run_sync(self.load, canonical)
        return canonical, model

    # --- loading (blocking) ---------------------------------------------------------
    def load(self, model_id: str) -> TrainedModel:
        """Load the Completed model ``model_id`` (canonical); :class:`NotFound` or
        :class:`Conflict` otherwise."""
        found = self.source.model_status(model_id)
        if found is None:
            raise NotFound(f"model {model_id!r} does not exist", field="modelId")
        status, message = found
        if status != ModelStatus.COMPLETED:
            detail = f" ({message})" if message else ""
            raise Conflict(
                f"model {model_id} is {status}{detail}; only a Completed model can recommend",
                field="modelId",
            )
        try:
            return self.cache.load(model_id, self.models_dir / model_id)
        except (OSError, ValueError, RecostackError) as exc:
            raise Unavailable(
                f"model {model_id} is Completed but its artifacts cannot be loaded from "
                f"{self.models_dir / model_id}: {exc}",
                field="modelId",
            ) from exc

    # --- changes ----------------------------------------------------------------------
    def forget(self, model_id: str) -> None:
        """A model was deleted by this process."""
        self.cache.invalidate(model_id)
        if self.default_model_id == model_id:
            self.default_model_id = None

    def set_default(self, model_id: str | None) -> None:
        """Point the default at ``model_id``; the previous default leaves the cache."""
        previous, self.default_model_id = self.default_model_id, model_id
        if previous is not None and previous != model_id:
            self.cache.invalidate(previous)

    def on_stamps(self, stamps: Stamps) -> None:
        generation = stamps.get(MODELS_GENERATION)
        if generation != self._models_stamp:
            cached = self.cache.ids()
            if cached:
                self.cache.retain(self.source.completed_among(cached))
            self._models_stamp = generation
        self.set_default(stamps.get(DEFAULT_MODEL_ID))
