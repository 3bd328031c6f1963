"""Serving through deployments: live versions per process, the recommend path, switches.

:class:`DeploymentServing` holds, per process, every ACTIVE deployment
version with its models already loaded (:class:`LiveDeployment`, immutable).
A refresher thread polls the ``deployments_generation`` stamp and rebuilds
the live set when it changed, loading any new model *before* it replaces
the entry that served the old one, so a switch never fails a request; a
model the deployment is switching to (``pending_model_version``) is loaded
ahead. Lifecycle work (start, promotion, rollback) runs in a background
thread of the process that was asked: load, answer a warm-up request, then
record the new state in the store (ACTIVE, or FAILED with the error) and
install it locally at once.

A request (:meth:`DeploymentServing.recommend`) goes, in this order:
customer lookup (defaults for a missing customer, virtual variables) →
model selector → default prediction arguments / overrides → whitelist (an
allowed mask) → rules and scenarios → answer, then queues its log record.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from recostack.errors import Conflict, NotFound, RecostackError, Unavailable
from recostack.rules import (
    RecoType,
    ResolvedRules,
    RuntimeRules,
)
from recostack.serving.deployment_config import DeploymentConfig, WhitelistIndices
from recostack.serving.prediction_logger import PredictionLogger
from recostack.serving.ruled_recommendations import score_with_rules
from recostack.serving.rules_request import rules_resolver
from recostack.store.deployment_repository import DeploymentRecord
from recostack.store.deployment_tables import DeploymentStatus, Environment
from recostack.store.scenario_repository import EMPTY_SNAPSHOT, ScenarioSnapshot
from recostack.training.trained_model import TrainedModel, UsageEvent

__all__ = [
    "CustomerCache",
    "DeploymentRequest",
    "DeploymentServing",
    "LiveDeployment",
]

logger = logging.getLogger(__name__)

DEFAULT_COUNT = 10
_PURGE_EVERY_SECONDS = 60.0


class DeploymentSource(Protocol):
    """The store (``recostack.store.deployment_repository.DeploymentStore``)."""

    def stamp(self) -> str | None: ...

    def records(self) -> tuple[str | None, list[DeploymentRecord]]: ...

    def set_status(
        self, pk: int, status: DeploymentStatus, error: str | None = None, *, deployed: bool = False
    ) -> None: ...

    def complete_promotion(self, pk: int, model_version: str, *, rollback: bool) -> None: ...

    def fail_promotion(self, pk: int, error: str) -> None: ...


class CustomerSource(Protocol):
    def stamp(self) -> str | None: ...

    def fields(self, collection: str, customer_id: str) -> dict[str, Any] | None: ...


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


@dataclass(frozen=True)
class DeploymentRequest:
    """One recommend call: who, seeded by what, and the arguments it gave."""

    user_id: str | None = None
    customer_id: str | None = None
    item_id: str | None = None
    events: Sequence[UsageEvent] = ()
    session_id: str | None = None
    #: only the prediction arguments the request set (see ``PREDICTION_ARGUMENTS``)
    arguments: Mapping[str, Any] = field(default_factory=dict)

    @property
    def lookup_id(self) -> str | None:
        return self.customer_id or self.user_id


class _Missing:
    pass


MISSING = _Missing()


class CustomerCache:
    """Customer records per (collection, id), LRU, dropped when the customers change."""

    def __init__(self, source: CustomerSource, max_entries: int = 100_000) -> None:
        self.source = source
        self.max_entries = max_entries
        self._records: OrderedDict[tuple[str, str], dict[str, Any] | None] = OrderedDict()
        self._lock = threading.Lock()
        self.stamp: str | None = None

    def cached(self, collection: str, customer_id: str) -> dict[str, Any] | _Missing | None:
        key = (collection, customer_id)
        with self._lock:
            if key in self._records:
                self._records.move_to_end(key)
                return self._records[key]
        return MISSING

    def fetch(self, collection: str, customer_id: str) -> dict[str, Any] | None:
        """Read through the store (blocking: off the event loop)."""
        found = self.source.fields(collection, customer_id)
        with self._lock:
            self._records[(collection, customer_id)] = found
            while len(self._records) > self.max_entries:
                self._records.popitem(last=False)
        return found

    def refresh(self) -> None:
        stamp = self.source.stamp()
        if stamp != self.stamp:
            with self._lock:
                self._records.clear()
            self.stamp = stamp


def _reco_type(request: DeploymentRequest) -> RecoType:
    if request.item_id is not None:
        return "item_to_items"
    return "profile_to_items" if request.user_id else "session_to_items"


def _warm_up(model: TrainedModel) -> None:
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


class DeploymentServing:
    def __init__(
        self,
        source: DeploymentSource,
        load_model: Callable[[str], TrainedModel],
        customers: CustomerCache,
        prediction_logger: PredictionLogger | None,
        *,
        refresh_seconds: float = 0.5,
        purge: Callable[[str, datetime], int] | None = None,
    ) -> None:
        self.source = source
        self.load_model = load_model
        self.customers = customers
        self.prediction_logger = prediction_logger
        self.refresh_seconds = refresh_seconds
        self.purge = purge
        self._live: dict[str, dict[str, LiveDeployment]] = {}
        self._records: dict[str, list[DeploymentRecord]] = {}
        self._stamp: str | None = None
        self._loaded = False
        self._refreshed_at = 0.0
        self._purged_at = 0.0
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tasks: list[threading.Thread] = []

    # --- the hot path ------------------------------------------------------------
    def live(self, deployment_id: str, version: str | None = None) -> LiveDeployment:
        """The version to serve (the newest ACTIVE one by default) or why there is none."""
        if time.monotonic() - self._refreshed_at > 2 * self.refresh_seconds:
            self._refresh_quietly()
        records = self._records.get(deployment_id)
        if not records:
            # a deployment created a moment ago may not be in this process's
            # set yet: one stamp-checked refresh before answering 404
            self._refresh_quietly()
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

    def recommend(
        self,
        live: LiveDeployment,
        request: DeploymentRequest,
        customer: dict[str, Any] | None,
        snapshot: ScenarioSnapshot = EMPTY_SNAPSHOT,
        *,
        started: float | None = None,
    ) -> dict[str, Any]:
        """Answer one request (``customer``: the looked-up record, ``None`` if not found)."""
        started = time.perf_counter() if started is None else started
        config, record = live.config, live.record
        # 1. customer lookup, with defaults and virtual variables
        fields = config.customer_record(customer)
        # 2. model selector
        index = config.model_index(fields)
        model, model_id = live.models[index], record.model_ids[index]
        # 3. default prediction arguments / overrides
        args = config.arguments(request.arguments)
        count = int(args.get("count") or DEFAULT_COUNT)
        # 4. whitelist
        allowed = config.whitelist_mask(model, fields, customer is not None, live.whitelists[index])
        # 5. rules and scenarios
        rules = self._rules(model, config, request, args, snapshot)
        scored = score_with_rules(
            model,
            rules,
            count,
            allowed=allowed,
            item_id=request.item_id,
            events=request.events,
            user_id=request.user_id,
        )
        ids = model.items.ids[scored.items].tolist()
        items = [
            {"itemId": str(i), "score": float(s), "rank": rank}
            for rank, (i, s) in enumerate(zip(ids, scored.scores.tolist(), strict=True), start=1)
        ]
        request_id = str(uuid.uuid4())
        context = dict(args.get("context") or {})
        if args.get("channel") is not None:
            context["channel"] = args["channel"]
        answer: dict[str, Any] = {
            "requestId": request_id,
            "deploymentId": record.deployment_id,
            "version": record.version,
            "modelId": model_id,
            "items": items,
            "customerFound": customer is not None,
        }
        if rules.scenarios:
            answer["scenario"] = rules.trace()
        latency_ms = (time.perf_counter() - started) * 1000.0
        if config.logging and self.prediction_logger is not None:
            self.prediction_logger.log(
                {
                    "request_id": request_id,
                    "deployment_id": record.deployment_id,
                    "version": record.version,
                    "model_id": model_id,
                    "user_id": request.lookup_id,
                    "items": items,
                    "context": context,
                    "created_at": datetime.now(UTC),
                    "latency_ms": latency_ms,
                }
            )
        return answer

    @staticmethod
    def _rules(
        model: TrainedModel,
        config: DeploymentConfig,
        request: DeploymentRequest,
        args: Mapping[str, Any],
        snapshot: ScenarioSnapshot,
    ) -> ResolvedRules:
        reco_type = _reco_type(request)
        exclude = args.get("exclude_rated_items")
        runtime = RuntimeRules(
            filters=(*tuple(args.get("filters") or ()), *config.filters),
            reranking=(*tuple(args.get("reranking") or ()), *config.reranking),
            exclude_rated_items=config.exclude_rated_items if exclude is None else bool(exclude),
        )
        # resolved as on the model API (one resolver per options and snapshot), so that
        # the rules of equal decisions are one object and the model keeps their scorer
        resolver = rules_resolver(
            snapshot,
            reco_type,
            runtime,
            args.get("scenario"),
            bool(args.get("skip_default_scenario")),
            default_scenario=config.default_scenario,
        )
        return resolver.rules(model, request.user_id, request.session_id, request.events)

    # --- lifecycle (background threads of this process) ------------------------------
    def activate(self, record: DeploymentRecord) -> None:
        """Load and warm up ``record``'s models, then mark it ACTIVE (or FAILED)."""
        self._spawn(self._activate, record)

    def switch_model(self, record: DeploymentRecord, model_version: str, *, rollback: bool) -> None:
        """Load and warm up ``model_version``, then serve it instead of the current one."""
        self._spawn(self._switch, record, model_version, rollback)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name="deployment-task", daemon=True)
        with self._lock:
            self._tasks = [t for t in self._tasks if t.is_alive()]
            self._tasks.append(thread)
        thread.start()

    def _activate(self, record: DeploymentRecord) -> None:
        try:
            models = self._load(record.model_ids)
            config = DeploymentConfig.parse(record.settings, len(models))
        except Exception as exc:
            logger.warning("deployment %s failed to start", record.deployment_id, exc_info=True)
            self.source.set_status(record.pk, DeploymentStatus.FAILED, _reason(exc))
            self.reload()
            return
        # this process serves before the store says ACTIVE (a client that sees
        # ACTIVE is answered), a disabled one never; the reload then rebuilds
        # the entry from the store's record as it is now
        if record.environment != Environment.DISABLE:
            active = _replace(record, status=DeploymentStatus.ACTIVE, error=None)
            self._install(LiveDeployment(active, config, models))
        self.source.set_status(record.pk, DeploymentStatus.ACTIVE, None, deployed=True)
        self.reload()

    def _switch(self, record: DeploymentRecord, model_version: str, rollback: bool) -> None:
        try:
            new = self._load([model_version])[0]
        except Exception as exc:
            logger.warning("deployment %s: switch failed", record.deployment_id, exc_info=True)
            self.source.fail_promotion(record.pk, f"model {model_version}: {_reason(exc)}")
            self.reload()
            return
        current = self._live.get(record.deployment_id, {}).get(record.version)
        if current is not None:
            switched = _replace(
                current.record,
                model_ids=(model_version, *current.record.model_ids[1:]),
                pending_model_version=None,
            )
            # the new model serves from here on; the old one is released afterwards
            self._install(LiveDeployment(switched, current.config, (new, *current.models[1:])))
        self.source.complete_promotion(record.pk, model_version, rollback=rollback)
        self.reload()

    def _load(self, model_ids: Sequence[str]) -> tuple[TrainedModel, ...]:
        models = tuple(self.load_model(m) for m in model_ids)
        for model in models:
            _warm_up(model)
        return models

    def _install(self, entry: LiveDeployment) -> None:
        with self._lock:
            versions = dict(self._live.get(entry.record.deployment_id, {}))
            versions[entry.record.version] = entry
            live = dict(self._live)
            live[entry.record.deployment_id] = versions
            self._live = live

    def wait_for_tasks(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in list(self._tasks):
            thread.join(max(0.0, deadline - time.monotonic()))

    # --- refreshing ----------------------------------------------------------------
    def reload(self) -> None:
        """Rebuild the live set from the store now."""
        self._refresh(force=True)

    def refresh(self) -> None:
        self._refresh(force=False)

    def _refresh(self, *, force: bool) -> None:
        with self._lock:
            self.customers.refresh()
            if not force and self._loaded and self.source.stamp() == self._stamp:
                self._refreshed_at = time.monotonic()
                self._maybe_purge()
                return
            stamp, records = self.source.records()
            by_id: dict[str, list[DeploymentRecord]] = {}
            for record in records:
                by_id.setdefault(record.deployment_id, []).append(record)
            live: dict[str, dict[str, LiveDeployment]] = {}
            for record in records:
                entry = self._build(record)
                if entry is not None:
                    live.setdefault(record.deployment_id, {})[record.version] = entry
            self._records, self._live = by_id, live
            self._stamp, self._loaded = stamp, True
            self._refreshed_at = time.monotonic()
            self._maybe_purge()

    def _build(self, record: DeploymentRecord) -> LiveDeployment | None:
        """The live entry of an ACTIVE record, reusing loaded models; ``None`` otherwise."""
        if record.pending_model_version:
            self._preload(record.pending_model_version)
        if record.status != DeploymentStatus.ACTIVE or record.environment == Environment.DISABLE:
            return None
        old = self._live.get(record.deployment_id, {}).get(record.version)
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
            _warm_up(self.load_model(model_id))
        except Exception:
            logger.debug("cannot preload model %s", model_id, exc_info=True)

    def _maybe_purge(self) -> None:
        if self.purge is None or time.monotonic() - self._purged_at < _PURGE_EVERY_SECONDS:
            return
        self._purged_at = time.monotonic()
        self.purge_expired()

    def purge_expired(self) -> int:
        """Apply every deployment's log retention now; returns the records removed."""
        if self.purge is None:
            return 0
        removed = 0
        now = datetime.now(UTC)
        for deployment_id, records in self._records.items():
            days = [
                DeploymentConfig.parse(r.settings, len(r.model_ids)).retention_days for r in records
            ]
            kept = [d for d in days if d is not None]
            if kept:
                try:
                    removed += self.purge(deployment_id, now - timedelta(days=max(kept)))
                except Exception:
                    logger.warning("could not purge the logs of %s", deployment_id, exc_info=True)
        return removed

    def _refresh_quietly(self) -> None:
        try:
            self.refresh()
        except Exception:
            logger.warning("could not refresh the deployments", exc_info=True)
            self._refreshed_at = time.monotonic()

    def start(self) -> None:
        if self.prediction_logger is not None:
            self.prediction_logger.start()
        self._refresh_quietly()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="deployment-refresher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self.wait_for_tasks(10)
        if self.prediction_logger is not None:
            self.prediction_logger.stop()

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_seconds):
            self._refresh_quietly()


def _reason(exc: BaseException) -> str:
    return exc.message if isinstance(exc, RecostackError) else f"{type(exc).__name__}: {exc}"


def _replace(record: DeploymentRecord, **changes: Any) -> DeploymentRecord:
    from dataclasses import replace

    return replace(record, **changes)
