"""The FastAPI application: ``create_app(settings)``.

Building the app opens the database (lazily) and this process's serving
layer (:class:`~recostack.serving.Serving`); its lifespan starts the
serving layer's threads and the in-process training workers
(``settings.workers_in_process``) and stops them again. The schema must be
migrated already (``recostack db upgrade``; ``recostack serve`` does it).
For several uvicorn processes, ``recostack.api.app:create_app`` is a
factory that reads the settings from the environment.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from recostack.api import (
    ab_tests,
    alerts,
    batch_jobs,
    batch_predictions,
    campaigns,
    customers,
    default_scenarios,
    deployment_recommend,
    deployment_responses,
    deployments,
    files,
    models,
    online_learning,
    operations,
    projects,
    realtime_monitors,
    reco_endpoints,
    recommendations,
    refresh_policies,
    scenarios,
    statistics,
    webhooks,
)
from recostack.api.errors import install_error_handlers
from recostack.api.metrics_middleware import MetricsMiddleware
from recostack.api.request_limits import install_request_limits
from recostack.api.unavailable import install_unavailable_handlers
from recostack.jobs.worker import WorkerThreads
from recostack.services.alerts import AlertService
from recostack.services.batch_jobs import BatchJobService
from recostack.services.batch_predictions import BatchPredictionService
from recostack.services.campaigns import CampaignService
from recostack.services.deployment_logs import DeploymentLogs
from recostack.services.deployments import DeploymentService
from recostack.services.online_learning import OnlineLearningService
from recostack.services.realtime_monitor import RealtimeMonitorService
from recostack.services.refresh_policies import RefreshPolicyService
from recostack.services.response_intake import ResponseIntake
from recostack.services.webhooks import WebhookService
from recostack.serving import Serving
from recostack.serving.metrics import mark_process_dead, serving_metrics
from recostack.settings import Settings, get_settings
from recostack.store.engine import Database
from recostack.store.scenario_repository import ScenarioStore
from recostack.store.server_secret import key_secret
from recostack.store.serving_source import serving_sources
from recostack.web import install as install_dashboard

__all__ = ["create_app"]

DESCRIPTION = """\
Recostack's model training and recommendation API.

Send an API key in the `x-api-key` header: an **admin** key for everything,
a **recommend** key for the recommend endpoints only. Upload input files with
`PUT /api/files/{container}/{path}`, train with `POST /api/models`, poll
`GET /api/models/{modelId}`, then ask `.../recommend`.
"""


#: tracked objects allocated (less those freed) between two collections of the youngest
#: generation; Python's default is 700. Each online answer leaves objects alive for a while
#: (its shown offers wait for the learner, its log record for the logger, its answer is
#: remembered for the responses), and with 32 requests in flight a young collection every
#: 700 also promoted the in-flight requests' objects, so older and full collections followed
#: (measured: bench/bandit.py's online load on one process, 2026-12-07 from 21:09 UTC: 11 µs
#: per answer in the collector, a full collection every ~4,500 answers; with 5,000 here:
#: 5-6 µs, the event loop's CPU per answer 245 µs instead of 259-271, the longest young
#: collection still 6 ms; bench/README.md)
YOUNG_COLLECTION_THRESHOLD = 5_000


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = Database.open(
        settings.effective_database_url,
        connect_timeout=settings.database_connect_timeout_seconds,
        statement_timeout=settings.database_statement_timeout_seconds,
    )
    serving = Serving(
        serving_sources(db.engine),
        settings.models_dir,
        model_cache_bytes=settings.model_cache_bytes,
        refresh_seconds=settings.state_refresh_seconds,
        statistics_flush_seconds=settings.statistics_flush_seconds,
        key_secret=key_secret(settings),
        online_max_backlog=settings.online_learning_max_backlog,
    )
    workers = (
        WorkerThreads(
            settings, db, settings.workers_in_process, isolate=settings.train_in_subprocess
        )
        if settings.workers_in_process
        else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        serving.start()
        if workers is not None:
            workers.start()
        # everything imported and built so far lives as long as the process:
        # keep it out of the collector's full passes, which otherwise scan
        # the whole heap (FastAPI, pydantic, SQLAlchemy, numpy) and stall
        # requests for tens of milliseconds
        gc.collect()
        gc.freeze()
        thresholds = gc.get_threshold()
        gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *thresholds[1:])
        try:
            yield
        finally:
            gc.set_threshold(*thresholds)
            if workers is not None:
                workers.stop()
            serving.stop()
            db.dispose()
            mark_process_dead()

    app = FastAPI(
        title="Recostack",
        version=_version(),
        description=DESCRIPTION,
        docs_url="/swagger",
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    state = app.state
    state.settings = settings
    state.db = db
    state.serving = serving
    state.workers = workers
    state.scenario_store = ScenarioStore(db, on_change=serving.scenarios.reload)
    state.deployment_service = DeploymentService(db, serving)
    state.deployment_logs = DeploymentLogs(
        db,
        serving.prediction_logger,
        serving.statistics,
        serving.default_version,
        serving.online.learner if serving.online else None,
    )
    state.online_learning = OnlineLearningService(
        db, serving, settings.online_evaluation_max_answers
    )
    state.batch_jobs = BatchJobService(db, settings)
    state.batch_predictions = BatchPredictionService(db, settings)
    state.campaigns = CampaignService(db, settings)
    state.response_intake = ResponseIntake(
        state.deployment_logs, serving.online.learner if serving.online else None
    )
    state.webhooks = WebhookService(db, settings)
    state.refresh_policies = RefreshPolicyService(db, settings)
    state.alerts = AlertService(db, settings)
    state.realtime_monitors = RealtimeMonitorService(db, settings)
    install_error_handlers(app)
    install_unavailable_handlers(app)
    state.rate_limiter = install_request_limits(app, settings)
    app.add_middleware(MetricsMiddleware, metrics=serving_metrics(), failures=serving.statistics)
    for router in (
        recommendations.router,
        deployment_recommend.router,
        deployment_responses.router,
        models.router,
        files.router,
        reco_endpoints.router,
        scenarios.router,
        default_scenarios.router,
        ab_tests.router,
        projects.router,
        deployments.router,
        customers.router,
        online_learning.router,
        operations.router,
        statistics.router,
        batch_jobs.router,
        batch_predictions.router,
        campaigns.router,
        webhooks.router,
        refresh_policies.router,
        alerts.router,
        realtime_monitors.router,
    ):
        app.include_router(router)
    install_dashboard(app)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("recostack")
    except PackageNotFoundError:
        return "0"
