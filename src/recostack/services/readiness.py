"""Is this API process ready to serve, and the store-wide figures of ``/metrics``.

:func:`readiness` checks, in order: the database answers, its schema is at
the head revision, the default model (when one is set) is loaded here, and
every ACTIVE deployment version is loaded here. A model that is not loaded
yet starts loading in the background, so that a probe repeated a moment
later finds it ready; the answer names whatever is not ready.

:func:`store_metrics` renders what every process should report alike from
the store: jobs by kind and status, and the workers' heartbeats.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text

from recostack.serving import Serving
from recostack.serving.deployments.records import DeploymentStatus, Environment
from recostack.store.engine import Database
from recostack.store.migrate import current_revision, head_revision
from recostack.store.tables import utcnow
from recostack.store.worker_repository import job_counts, read_heartbeats

__all__ = ["Readiness", "readiness", "store_metrics"]

logger = logging.getLogger(__name__)

#: a worker whose last heartbeat is older than this is not counted as alive
WORKER_ALIVE_SECONDS = 60.0


@dataclass
class Readiness:
    checks: dict[str, dict[str, object]] = field(default_factory=dict)

    def add(self, name: str, ready: bool, detail: str) -> bool:
        self.checks[name] = {"ready": ready, "detail": detail}
        return ready

    @property
    def ready(self) -> bool:
        return all(bool(c["ready"]) for c in self.checks.values())

    @property
    def not_ready(self) -> list[str]:
        return [name for name, c in self.checks.items() if not c["ready"]]


_loading: set[str] = set()
_loading_lock = threading.Lock()


def _load_in_background(serving: Serving, model_id: str) -> None:
    with _loading_lock:
        if model_id in _loading:
            return
        _loading.add(model_id)

    def load() -> None:
        try:
            serving.models.load(model_id)
        except Exception:
            logger.warning("readiness: model %s cannot be loaded", model_id, exc_info=True)
        finally:
            with _loading_lock:
                _loading.discard(model_id)

    threading.Thread(target=load, name=f"ready-load-{model_id[:8]}", daemon=True).start()


@lru_cache(maxsize=1)
def _head() -> str | None:
    return head_revision()


def readiness(db: Database, serving: Serving) -> Readiness:
    result = Readiness()
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        result.add("database", False, f"the database does not answer: {type(exc).__name__}")
        return result
    result.add("database", True, db.engine.dialect.name)
    current, head = current_revision(db.engine), _head()
    behind = "" if current == head else f"; run `recostack db upgrade` (head is {head})"
    result.add("schema", current == head, f"at revision {current}{behind}")
    serving.poller.ensure_fresh()
    default = serving.models.default_model_id
    if default is None:
        result.add("defaultModel", True, "no default model is set")
    elif serving.models.cache.get(default) is not None:
        result.add("defaultModel", True, f"model {default} loaded")
    else:
        _load_in_background(serving, default)
        result.add("defaultModel", False, f"model {default} is loading")
    waiting = [
        f"{record.deployment_id} version {record.version}"
        for records in serving.live.records().values()
        for record in records
        if record.status == DeploymentStatus.ACTIVE
        and record.environment != Environment.DISABLE
        and serving.live.current(record) is None
    ]
    result.add(
        "deployments",
        not waiting,
        "every ACTIVE deployment is loaded" if not waiting else "not loaded: " + ", ".join(waiting),
    )
    return result


class _StoreCollector(Collector):
    def __init__(self, db: Database, now: datetime) -> None:
        self.db = db
        self.now = now

    def collect(self):  # type: ignore[no-untyped-def]
        jobs = GaugeMetricFamily(
            "recostack_jobs", "Jobs of the workers, by kind and status", labels=["kind", "status"]
        )
        seen = GaugeMetricFamily(
            "recostack_worker_last_heartbeat_timestamp_seconds",
            "When each worker last reported (Unix time)",
            labels=["worker", "host"],
        )
        alive = GaugeMetricFamily(
            "recostack_workers_alive",
            f"Workers that reported in the last {WORKER_ALIVE_SECONDS:g} seconds",
        )
        with self.db.engine.connect() as connection:
            for (kind, status), count in sorted(job_counts(connection).items()):
                jobs.add_metric([kind, status], count)
            beats = read_heartbeats(connection)
        recent = self.now - timedelta(seconds=WORKER_ALIVE_SECONDS)
        for owner, host, _pid, last in beats:
            seen.add_metric([owner, host], last.timestamp())
        alive.add_metric([], sum(1 for *_, last in beats if last >= recent))
        yield jobs
        yield seen
        yield alive


def store_metrics(db: Database) -> bytes:
    """The store-wide figures in the Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StoreCollector(db, utcnow()))
    return generate_latest(registry)
