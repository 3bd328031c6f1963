"""What the recommend hot path needs, held in memory and refreshed from the store.

:class:`ServingState` keeps the API key ring, the default model id and the
loaded models. A refresher thread re-reads the store's change stamps every
``refresh_seconds`` (one tiny query), reloading the key ring when keys
changed and dropping cached models that were deleted when models changed,
so several API processes agree within about a second. A request does no
database work unless its model is not loaded yet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from pathlib import Path
from typing import Protocol

from recostack.errors import Conflict, NotFound, RecostackError, Unavailable
from recostack.serving.model_cache import ModelCache
from recostack.store.key_repository import KeyDigest, verify_key
from recostack.store.server_settings import DEFAULT_MODEL_ID, KEYS_GENERATION, MODELS_GENERATION
from recostack.store.tables import ModelStatus, Role
from recostack.training.trained_model import TrainedModel

__all__ = ["NO_DEFAULT_MODEL", "ServingSource", "ServingState"]

logger = logging.getLogger(__name__)

_MAX_VERIFIED = 64
NO_DEFAULT_MODEL = "no default model is set: set one with PUT /api/models/default?modelId=<id>"


class ServingSource(Protocol):
    """The store, as the serving layer reads it (see ``recostack.store.serving_source``)."""

    def server_settings(self) -> dict[str, str | None]: ...

    def key_digests(self) -> tuple[KeyDigest, ...]: ...

    def model_status(self, model_id: str) -> tuple[str, str, str | None] | None: ...

    def completed_among(self, model_ids: Collection[str]) -> set[str]: ...


class ServingState:
    def __init__(
        self,
        source: ServingSource,
        models_dir: Path,
        cache: ModelCache,
        *,
        refresh_seconds: float = 0.5,
    ) -> None:
        self.source = source
        self.models_dir = models_dir
        self.cache = cache
        self.refresh_seconds = refresh_seconds
        self.default_model_id: str | None = None
        #: the stored key digests, and the keys that matched them so far
        #: (replaced together, so a rotated key stops working at once)
        self._key_ring: tuple[tuple[KeyDigest, ...], dict[str, Role]] = ((), {})
        self._stamps: dict[str, str | None] = {}
        self._refreshed_at = 0.0
        self._refresh_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the hot path ----------------------------------------------------------
    def role_for(self, key: str) -> Role | None:
        """The role of an API key, from the in-memory key ring."""
        self._ensure_fresh()
        digests, verified = self._key_ring
        role = verified.get(key)
        if role is None:
            role = verify_key(digests, key)
            if role is not None and len(verified) < _MAX_VERIFIED:
                verified[key] = role
        return role

    def cached_model(self, model_id: str) -> TrainedModel | None:
        """The model if it is loaded (no I/O); else call :meth:`load_model` in a thread."""
        return self.cache.get(model_id)

    def default_id(self) -> str:
        """The default model's id, or :class:`NotFound`."""
        model_id = self.default_model_id
        if model_id is None:
            # set a moment ago by another process (or app): re-read once before a 404
            try:
                self.refresh()
            except Exception:
                logger.warning("could not refresh the serving state", exc_info=True)
            model_id = self.default_model_id
        if model_id is None:
            raise NotFound(NO_DEFAULT_MODEL, field="modelId")
        return model_id

    # --- cache misses (blocking: run them in a worker thread) -----------------
    def load_model(self, model_id: str) -> TrainedModel:
        """Load a Completed model; :class:`NotFound` or :class:`Conflict` otherwise."""
        found = self.source.model_status(model_id)
        if found is None:
            raise NotFound(f"model {model_id!r} does not exist", field="modelId")
        canonical, status, message = found
        if status != ModelStatus.COMPLETED:
            detail = f" ({message})" if message else ""
            raise Conflict(
                f"model {canonical} is {status}{detail}; only a Completed model can recommend",
                field="modelId",
            )
        try:
            return self.cache.load(canonical, self.models_dir / canonical)
        except (OSError, ValueError, RecostackError) as exc:
            raise Unavailable(
                f"model {canonical} is Completed but its artifacts cannot be loaded from "
                f"{self.models_dir / canonical}: {exc}",
                field="modelId",
            ) from exc

    # --- changes made by this process -----------------------------------------
    def forget_model(self, model_id: str) -> None:
        self.cache.invalidate(model_id)
        if self.default_model_id == model_id:
            self.default_model_id = None

    def set_default(self, model_id: str | None) -> None:
        """Point the default at ``model_id``; the previous default leaves the cache."""
        previous, self.default_model_id = self.default_model_id, model_id
        if previous is not None and previous != model_id:
            self.cache.invalidate(previous)

    # --- refreshing ------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the stamps; reload whatever changed."""
        with self._refresh_lock:
            stamps = self.source.server_settings()
            keys_changed = stamps.get(KEYS_GENERATION) != self._stamps.get(KEYS_GENERATION)
            if keys_changed or not self._key_ring[0]:
                self._key_ring = (self.source.key_digests(), {})
            if stamps.get(MODELS_GENERATION) != self._stamps.get(MODELS_GENERATION):
                cached = self.cache.ids()
                if cached:
                    alive = self.source.completed_among(cached)
                    self.cache.retain(alive)
            self.set_default(stamps.get(DEFAULT_MODEL_ID))
            self._stamps = stamps
            self._refreshed_at = time.monotonic()

    def _ensure_fresh(self) -> None:
        # The refresher thread keeps this true; without it (an app used
        # without its lifespan), refresh on the request path.
        if time.monotonic() - self._refreshed_at > 2 * self.refresh_seconds:
            try:
                self.refresh()
            except Exception:
                logger.warning("could not refresh the serving state", exc_info=True)
                self._refreshed_at = time.monotonic()

    def start(self) -> None:
        self.refresh()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="serving-refresher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            try:
                self.refresh()
            except Exception:
                logger.warning("could not refresh the serving state", exc_info=True)
