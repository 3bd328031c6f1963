"""Everything one API process holds to serve, built once per app.

:class:`Serving` wires the request-path pieces onto the store as serving
reads it (:class:`ServingSources`, implemented by
``recostack.store.serving_source``): the stamp poller every cache follows,
the key ring, the served models, the scenario snapshot, the one recommend
pipeline, the live deployments with their lifecycle and customer lookup,
and the prediction logger. :meth:`Serving.start` and :meth:`Serving.stop`
belong to the app's lifespan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from recostack.rules import ScenarioSnapshot
from recostack.serving.deployments.customers import CustomerCache, CustomerSource
from recostack.serving.deployments.lifecycle import DeploymentLifecycle
from recostack.serving.deployments.live import DeploymentSource, LiveDeployments
from recostack.serving.deployments.recommend import DeploymentRecommender
from recostack.serving.deployments.retention import LogRetention, Purge
from recostack.serving.keys import KeyDigest, KeyRing, KeySecret, Role
from recostack.serving.model_cache import ModelCache
from recostack.serving.models import ModelSource, ServedModels
from recostack.serving.online.deployment import OnlineDeployments
from recostack.serving.online.learner import MAX_BACKLOG
from recostack.serving.online.state import OnlineSource
from recostack.serving.prediction_logger import PredictionLogger, PredictionRecord
from recostack.serving.recommend import Recommender
from recostack.serving.rule_caches import ScorerCache
from recostack.serving.scenario_cache import ScenarioCache
from recostack.serving.stamps import StampPoller, Stamps
from recostack.serving.statistics import DeploymentStatistics, Rollup

__all__ = ["Serving", "ServingSources"]


@dataclass(frozen=True)
class ServingSources:
    """The store, as serving reads (and, for deployments and logs, writes) it."""

    stamps: Callable[[], Stamps]
    key_digests: Callable[[], tuple[KeyDigest, ...]]
    models: ModelSource
    scenarios: Callable[[], ScenarioSnapshot]
    deployments: DeploymentSource
    customers: CustomerSource
    write_predictions: Callable[[Sequence[PredictionRecord]], None]
    purge_logs: Purge
    #: online learning's store (none: a deployment cannot link a configuration)
    online: OnlineSource | None = None
    #: merges statistics rollups into the store (none: statistics are not kept)
    write_statistics: Callable[[Sequence[Rollup]], None] | None = None


class Serving:
    def __init__(
        self,
        sources: ServingSources,
        models_dir: Path,
        *,
        model_cache_bytes: int,
        refresh_seconds: float = 0.5,
        statistics_flush_seconds: float = 1.0,
        key_secret: KeySecret | None = None,
        online_max_backlog: int = MAX_BACKLOG,
    ) -> None:
        # key_secret: the server secret API keys are checked with (none: a process that
        # serves no API, such as a batch worker)
        self.poller = StampPoller(sources.stamps, refresh_seconds=refresh_seconds)
        self.keys = KeyRing(sources.key_digests, key_secret)
        self.scorers = ScorerCache()
        cache = ModelCache(model_cache_bytes, on_drop=self.scorers.forget)
        self.models = ServedModels(sources.models, models_dir, cache, self.poller)
        self.scenarios = ScenarioCache(sources.scenarios, self.poller)
        self.recommender = Recommender(self.models, self.scenarios, self.scorers)
        self.live = LiveDeployments(sources.deployments, self.models.load, self.poller)
        self.lifecycle = DeploymentLifecycle(self.live)
        self.customers = CustomerCache(sources.customers)
        write_statistics = sources.write_statistics or (lambda _rollups: None)
        self.statistics = DeploymentStatistics(
            write_statistics,
            version_of=self.default_version,
            flush_seconds=statistics_flush_seconds,
        )
        self.prediction_logger = PredictionLogger(
            sources.write_predictions, observer=self.statistics
        )
        self.deployments = DeploymentRecommender(
            self.live, self.customers, self.recommender, self.prediction_logger
        )
        self.retention = LogRetention(self.live, sources.purge_logs)
        self.online = (
            OnlineDeployments(sources.online, max_backlog=online_max_backlog)
            if sources.online is not None
            else None
        )
        self.deployments.online = self.online
        if self.online is not None:
            self.poller.subscribe(self.online.state)
        for subscriber in (
            self.keys,
            self.models,
            self.scenarios,
            self.customers,
            self.live,
            self.retention,
        ):
            self.poller.subscribe(subscriber)

    def role_for(self, key: str) -> Role | None:
        """The role of an API key (``None``: no such key), from the in-memory key ring."""
        self.poller.ensure_fresh()
        return self.keys.role_for(key)

    def default_version(self, deployment_id: str) -> str | None:
        """The version a request to ``deployment_id`` is served by when it names none (the
        newest ACTIVE one here, else the newest); ``None``: no such deployment."""
        records = self.live.records().get(deployment_id)
        if not records:
            return None
        for record in reversed(records):
            if self.live.current(record) is not None:
                return record.version
        return records[-1].version

    def start(self) -> None:
        if self.online is not None:
            self.online.start()
        self.prediction_logger.start()
        self.statistics.start()
        self.poller.start()

    def stop(self) -> None:
        self.poller.stop()
        self.lifecycle.wait_for_tasks(10)
        if self.online is not None:
            self.online.stop()
        self.prediction_logger.stop()
        self.statistics.stop()
