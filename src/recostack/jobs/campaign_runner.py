"""Deploying, updating and deleting a campaign in a worker, and measuring its throughput.

The worker holds a serving layer of its own (as for batch jobs): it creates
the campaign's deployment and loads it there, or switches its model, or
changes its exploration, waits until the deployment is ACTIVE, then answers
a short warm-up burst of requests through the deployment's pipeline (the
model's own users and items, one after the other, for
``CAMPAIGN_BURST_SECONDS``, nothing logged) and records the requests per
second it sustained. API processes pick the deployment up through the
store's stamps.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from typing import Any

from recostack.errors import Conflict, NotFound
from recostack.jobs.batch_runner import batch_serving
from recostack.jobs.campaign_status import campaign_action
from recostack.jobs.queue import ClaimedJob
from recostack.jobs.runner import JobCancelled
from recostack.services.campaigns import CAMPAIGNS_PROJECT
from recostack.services.deployments import DeploymentService
from recostack.serving import Serving
from recostack.serving.deployments.recommend import DeploymentRecommender, DeploymentRequest
from recostack.serving.deployments.records import DeploymentStatus, Environment
from recostack.settings import Settings
from recostack.store import deployment_repository as repo
from recostack.store.batch_tables import CampaignRow
from recostack.store.engine import Database

__all__ = ["CAMPAIGN_BURST_SECONDS", "measure_tps", "run_campaign_job"]

#: how long the warm-up burst that measures a campaign's throughput lasts
CAMPAIGN_BURST_SECONDS = 1.0
_DEPLOY_TIMEOUT = 600.0


def measure_tps(serving: Serving, deployment_id: str, seconds: float) -> float:
    """Requests per second the deployment answers in this process, one after the other."""
    live = serving.live.get(deployment_id)
    model = live.models[0]
    users = model.users.ids[:1000].tolist() if model.users is not None else []
    items = model.items.ids[:1000].tolist()
    requests = [DeploymentRequest(user_id=str(u)) for u in users] or [
        DeploymentRequest(item_id=str(i)) for i in items
    ]
    if not requests:
        return 0.0
    pipeline = DeploymentRecommender(serving.live, serving.customers, serving.recommender, None)
    pipeline.online = serving.deployments.online

    async def burst() -> tuple[int, float]:
        await pipeline.recommend(deployment_id, requests[0])  # compiled paths warm
        started = time.perf_counter()
        done = 0
        for request in itertools.cycle(requests):
            await pipeline.recommend(deployment_id, request)
            done += 1
            elapsed = time.perf_counter() - started
            if elapsed >= seconds:
                return done, elapsed
        return done, time.perf_counter() - started  # pragma: no cover

    done, elapsed = asyncio.run(burst())
    return round(done / elapsed, 1) if elapsed > 0 else 0.0


def _settings_of(config: dict[str, Any]) -> dict[str, Any]:
    exploration = config.get("itemExplorationConfig")
    return {"item_exploration_config": dict(exploration) if exploration else None}


def _wait_active(service: DeploymentService, deployment_id: str, cancel: threading.Event) -> None:
    deadline = time.monotonic() + _DEPLOY_TIMEOUT
    while True:
        service.serving.lifecycle.wait_for_tasks(1.0)
        view = service.describe(deployment_id)
        row = view.row
        if row.status == DeploymentStatus.FAILED:
            raise Conflict(f"the campaign's deployment failed: {row.error}", field="campaignArn")
        if row.status == DeploymentStatus.ACTIVE and row.pending_model_version is None:
            service.serving.live.reload()
            return
        if cancel.is_set():
            raise JobCancelled("the campaign job was cancelled")
        if time.monotonic() > deadline:
            raise Conflict("the campaign's deployment did not become ACTIVE", field="campaignArn")


def _create(service: DeploymentService, db: Database, row: CampaignRow) -> None:
    with db.transaction() as session:
        try:
            repo.get_project(session, CAMPAIGNS_PROJECT)
        except NotFound:
            repo.create_project(
                session, CAMPAIGNS_PROJECT, description="deployments of the campaigns"
            )
    try:
        existing = service.describe(row.deployment_id)
    except NotFound:
        existing = None
    if existing is None:
        service.create(
            CAMPAIGNS_PROJECT,
            deployment_id=row.deployment_id,
            version="1",
            description=f"campaign {row.name}",
            environment=Environment.PRODUCTION,
            model_ids=[row.model_id],
            settings=_settings_of(row.campaign_config),
            auto_deploy=False,
            skip_metrics_check=False,
        )
    else:  # an earlier attempt created it: make it serve what the campaign says
        _apply_settings(service, db, row.deployment_id, row.campaign_config)
        if existing.row.model_ids[:1] != [row.model_id]:
            service.set_model_version(row.deployment_id, row.model_id)
        service.start(row.deployment_id)


def _apply_settings(
    service: DeploymentService, db: Database, deployment_id: str, config: dict[str, Any]
) -> None:
    with db.transaction() as session:
        deployment = repo.get_deployment(session, deployment_id)
        settings = dict(deployment.settings or {})
        settings.update(_settings_of(config))
        if settings != deployment.settings:
            repo.update_deployment(session, deployment, settings=settings)
    service.serving.live.reload()


def run_campaign_job(
    settings: Settings, db: Database, job: ClaimedJob, cancel: threading.Event
) -> dict[str, Any]:
    """Do what the campaign's status asks (create, update or delete); its statistics."""
    with db.transaction() as session:
        row = session.get(CampaignRow, job.subject_id)
        if row is None:
            return {}
        session.expunge(row)
    action = campaign_action(row)
    serving = batch_serving(settings, db)
    service = DeploymentService(db, serving)
    try:
        if action == "delete":
            with contextlib.suppress(NotFound):
                service.delete(row.deployment_id)
            with db.transaction() as session:
                found = session.get(CampaignRow, row.name)
                if found is not None:
                    session.delete(found)
            return {"deleted": row.name}
        if action == "update":
            update = dict(row.latest_update or {})
            _apply_settings(service, db, row.deployment_id, update.get("campaignConfig") or {})
            model = update.get("solutionVersionArn") or row.model_id
            if service.describe(row.deployment_id).row.model_ids[:1] != [model]:
                service.set_model_version(row.deployment_id, model)
        else:
            _create(service, db, row)
        _wait_active(service, row.deployment_id, cancel)
        tps = measure_tps(serving, row.deployment_id, CAMPAIGN_BURST_SECONDS)
        with db.transaction() as session:
            stored = session.get(CampaignRow, row.name)
            if stored is not None:
                stored.measured_tps = tps
                if action == "update":
                    update = dict(stored.latest_update or {})
                    stored.model_id = update.get("solutionVersionArn") or stored.model_id
                    stored.min_provisioned_tps = int(
                        update.get("minProvisionedTPS") or stored.min_provisioned_tps
                    )
                    stored.campaign_config = dict(update.get("campaignConfig") or {})
        return {"measuredTPS": tps}
    finally:
        serving.lifecycle.wait_for_tasks(10)
