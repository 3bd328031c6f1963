"""The deployment versions this process serves, with their models loaded.

:class:`LiveDeployments` holds every ACTIVE version of every deployment
(:class:`LiveDeployment`, immutable) and rebuilds that set when the
deployments' stamp changes, loading any new model *before* the entry that
served the old one is replaced, so a switch never fails a request; a model
a deployment is switching to (``pending_model_version``) is loaded ahead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from recostack.errors import Conflict, NotFound, RecostackError, Unavailable
from recostack.serving.deployments.config import DeploymentConfig, WhitelistIndices
from recostack.serving.deployments.records import DeploymentRecord, DeploymentStatus, Environment
from recostack.serving.stamps import DEPLOYMENTS_GENERATION, StampPoller, Stamps
from recostack.training.trained_model import TrainedModel

__all__ = ["DeploymentSource", "LiveDeployment", "LiveDeployments", "warm_up"]

logger = logging.getLogger(__name__)


class DeploymentSource(Protocol):
    """The store (``recostack.store.deployment_repository.DeploymentStore``)."""

    def records(self) -> list[DeploymentRecord]:
        """Every deployment version, the newest version of a deployment last."""

    def set_status(
        self, pk: int, status: DeploymentStatus, error: str | None = None, *, deployed: bool = False
    ) -> None: ...

    def complete_promotion(self, pk: int, model_version: str, *, rollback: bool) -> None: ...

    def fail_promotion(self, pk: int, error: str) -> None: ...


@dataclass(frozen=True)
class LiveDeployment:
    record: DeploymentRecord
    config: DeploymentConfig
    models: tuple[TrainedModel, ...]
    #: per model: the item indices of the whitelists seen so far
    whitelists: tuple[WhitelistIndices, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.whitelists:
            known = tuple(WhitelistIndices() for _ in self.models)
            object.__setattr__(self, "whitelists", known)


def warm_up(model: TrainedModel) -> None:
    """Answer one request with the model (touches its memory-mapped arrays)."""
    if model.n_items:
        model.recommend_item(str(model.items.ids[0]), 1)


def not_serving_error(record: DeploymentRecord) -> RecostackError:
    """Why a deployment version does not answer, as the API should say it."""
    name = f"deployment {record.deployment_id!r} version {record.version!r}"
    if record.environment == Environment.DISABLE:
        return Unavailable(f"{name} is disabled (project_status 'disable')", field="deployment_id")
    if record.status == DeploymentStatus.STOPPED:
        return Conflict(
            f"{name} is STOPPED: start it with POST /api/deployments/{record.deployment_id}/start",
            field="deployment_id",
        )
    if record.status == DeploymentStatus.FAILED:
        return Unavailable(f"{name} FAILED: {record.error}", field="deployment_id")
    if record.status == DeploymentStatus.ACTIVE:
        return Unavailable(
            f"{name} is ACTIVE but not loaded here yet; retry", field="deployment_id"
        )
    return Unavailable(
        f"{name} is {record.status}: it answers once ACTIVE (poll GET /api/deployments/"
        f"{record.deployment_id})",
        field="deployment_id",
    )


class LiveDeployments:
    def __init__(
        self,
        source: DeploymentSource,
        load_model: Callable[[str], TrainedModel],
        poller: StampPoller,
    ) -> None:
        self.source = source
        self.load_model = load_model
        self.poller = poller
        self._live: dict[str, dict[str, LiveDeployment]] = {}
        self._records: dict[str, list[DeploymentRecord]] = {}
        self._stamp: str | None = None
        self._loaded = False
        self._lock = threading.RLock()

    # --- the request path ----------------------------------------------------------
    def get(self, deployment_id: str, version: str | None = None) -> LiveDeployment:
        """The version to serve (the newest ACTIVE one by default) or why there is none."""
        self.poller.ensure_fresh()
        records = self._records.get(deployment_id)
        if not records:
            # a deployment created a moment ago may not be in this process's
            # set yet: read the stamps once before answering 404
            self.poller.poll()
            records = self._records.get(deployment_id)
        if not records:
            raise NotFound(f"deployment {deployment_id!r} does not exist", field="deployment_id")
        versions = self._live.get(deployment_id, {})
        if version is not None:
            entry = versions.get(version)
            if entry is not None:
                return entry
            record = next((r for r in records if r.version == version), None)
            if record is None:
                raise NotFound(
                    f"deployment {deployment_id!r} has no version {version!r}", field="version"
                )
            raise not_serving_error(record)
        for record in reversed(records):
            entry = versions.get(record.version)
            if entry is not None:
                return entry
        raise not_serving_error(records[-1])

    def records(self) -> dict[str, list[DeploymentRecord]]:
        """Every deployment's versions, as last read."""
        return self._records

    def current(self, record: DeploymentRecord) -> LiveDeployment | None:
        return self._live.get(record.deployment_id, {}).get(record.version)

    # --- changes ---------------------------------------------------------------------
    def install(self, entry: LiveDeployment) -> None:
        """Serve ``entry`` in this process now (before the store says so)."""
        with self._lock:
            versions = dict(self._live.get(entry.record.deployment_id, {}))
            versions[entry.record.version] = entry
            live = dict(self._live)
            live[entry.record.deployment_id] = versions
            self._live = live

    def reload(self) -> None:
        """Rebuild the live set from the store now."""
        with self._lock:
            records = self.source.records()
            by_id: dict[str, list[DeploymentRecord]] = {}
            for record in records:
                by_id.setdefault(record.deployment_id, []).append(record)
            live: dict[str, dict[str, LiveDeployment]] = {}
            for record in records:
                entry = self._build(record)
                if entry is not None:
                    live.setdefault(record.deployment_id, {})[record.version] = entry
            self._records, self._live, self._loaded = by_id, live, True

    def on_stamps(self, stamps: Stamps) -> None:
        stamp = stamps.get(DEPLOYMENTS_GENERATION)
        if self._loaded and stamp == self._stamp:
            return
        self.reload()
        self._stamp = stamp

    def load(self, model_ids: Sequence[str]) -> tuple[TrainedModel, ...]:
        """Load and warm up models (blocking)."""
        models = tuple(self.load_model(m) for m in model_ids)
        for model in models:
            warm_up(model)
        return models

    def _build(self, record: DeploymentRecord) -> LiveDeployment | None:
        """The live entry of an ACTIVE record, reusing loaded models; ``None`` otherwise."""
        if record.pending_model_version:
            self._preload(record.pending_model_version)
        old = self.current(record)
        if record.status == DeploymentStatus.DEPLOYING and old is not None:
            # activated in this process a moment ago (DeploymentLifecycle installs it before
            # the store says ACTIVE): keep serving it until the store catches up
            return old if old.record.status == DeploymentStatus.ACTIVE else None
        if record.status != DeploymentStatus.ACTIVE or record.environment == Environment.DISABLE:
            return None
        loaded: dict[str, TrainedModel] = {}
        if old is not None:
            loaded = dict(zip(old.record.model_ids, old.models, strict=True))
        try:
            models = tuple(loaded.get(m) or self.load_model(m) for m in record.model_ids)
            config = (
                old.config
                if old is not None and old.record.settings == record.settings
                else DeploymentConfig.parse(record.settings, len(models))
            )
        except Exception:
            logger.warning(
                "deployment %s version %s cannot be loaded here",
                record.deployment_id,
                record.version,
                exc_info=True,
            )
            return old  # keep serving what was served
        return LiveDeployment(record, config, models)

    def _preload(self, model_id: str) -> None:
        try:
            warm_up(self.load_model(model_id))
        except Exception:
            logger.debug("cannot preload model %s", model_id, exc_info=True)
