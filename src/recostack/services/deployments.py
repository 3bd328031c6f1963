"""Deployments as use cases: create, describe, update, start, stop, delete, promote, roll back.

:class:`DeploymentService` does each in one transaction of its own and
hands the loading of models to this process's serving layer
(:class:`~recostack.serving.deployments.lifecycle.DeploymentLifecycle`):
``start``, ``set_model_version`` and ``rollback`` return at once with the
deployment ``DEPLOYING`` or with a ``pendingModelVersion``; the switch
happens when the new model is loaded, so no request is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from recostack.errors import Conflict, Invalid, Unprocessable
from recostack.services.realtime_monitor import realtime_monitor_id
from recostack.services.refresh_policies import refresh_schedules
from recostack.serving import Serving
from recostack.serving.deployments.config import DeploymentConfig
from recostack.serving.deployments.records import DeploymentRecord, DeploymentStatus, Environment
from recostack.store import deployment_repository as repo
from recostack.store.deployment_tables import DeploymentRow
from recostack.store.engine import Database
from recostack.store.model_repository import get_model
from recostack.store.online_repository import get_configuration
from recostack.store.operations_repository import forget_deployment
from recostack.store.tables import ModelRow
from recostack.store.webhook_repository import enqueue_event
from recostack.training.status import ModelStatus

__all__ = ["DeploymentService", "DeploymentView", "record_of"]


@dataclass(frozen=True)
class DeploymentView:
    """A deployment version as its describe answer shows it: the row and its primary model,
    its refresh schedules and realtime monitor."""

    row: DeploymentRow
    model: ModelRow | None
    refresh_schedules: list[dict[str, Any]] = field(default_factory=list)
    realtime_monitor_id: str | None = None

    @property
    def algorithm(self) -> str | None:
        if self.model is None:
            return None
        return str((self.model.parameters or {}).get("algorithm", "sar"))

    @property
    def model_version(self) -> str | None:
        row = self.row
        return repo.current_model_version(row.history) or (
            row.model_ids[0] if row.model_ids else None
        )


def record_of(row: DeploymentRow) -> DeploymentRecord:
    """The serving record of a row."""
    return DeploymentRecord(
        row.id,
        row.deployment_id,
        row.version,
        row.status,
        row.environment,
        row.error,
        tuple(row.model_ids),
        row.pending_model_version,
        dict(row.settings or {}),
    )


def _view(session: Session, row: DeploymentRow) -> DeploymentView:
    model = session.get(ModelRow, row.model_ids[0]) if row.model_ids else None
    return DeploymentView(
        row,
        model,
        refresh_schedules(session, row.deployment_id),
        realtime_monitor_id(session, row.deployment_id),
    )


def _event(session: Session, row: DeploymentRow, event: str, **data: Any) -> None:
    enqueue_event(
        session, row.deployment_id, event, {"version": row.version, "status": row.status, **data}
    )


def _completed_model(session: Session, model_id: str, field: str) -> str:
    model = get_model(session, model_id)
    if model.status != ModelStatus.COMPLETED:
        raise Conflict(
            f"model {model.id} is {model.status}; only a Completed model can be deployed",
            field=field,
        )
    return model.id


class DeploymentService:
    def __init__(self, db: Database, serving: Serving) -> None:
        self.db = db
        self.serving = serving

    # --- reading -------------------------------------------------------------------
    def describe(self, deployment_id: str, version: str | None = None) -> DeploymentView:
        with self.db.transaction() as session:
            return _view(session, repo.get_deployment(session, deployment_id, version))

    def list(self, project_id: str) -> list[DeploymentView]:
        with self.db.transaction() as session:
            return [_view(session, row) for row in repo.list_deployments(session, project_id)]

    # --- writing -------------------------------------------------------------------
    def create(
        self,
        project_id: str,
        *,
        deployment_id: str,
        version: str,
        description: str | None,
        environment: Environment,
        model_ids: Sequence[str],
        settings: Mapping[str, Any],
        auto_deploy: bool,
        skip_metrics_check: bool,
    ) -> DeploymentView:
        """Store a new deployment version and start deploying it."""
        if not model_ids:
            raise Invalid("a deployment needs a model", field="modelId")
        with self.db.transaction() as session:
            models = [_completed_model(session, m, "modelId") for m in model_ids]
            try:  # refuse what serving could not use (the document cannot state it: a 422)
                parsed = DeploymentConfig.parse(settings, len(models))
            except Unprocessable:
                raise
            except Invalid as exc:
                raise Unprocessable(exc.message, field=exc.field) from None
            if parsed.online is not None:  # a linked configuration must exist (else a 404)
                get_configuration(session, parsed.online.config_id)
            row = repo.create_deployment(
                session,
                project_id=project_id,
                deployment_id=deployment_id,
                version=version,
                description=description,
                environment=environment,
                model_ids=models,
                settings=settings,
                auto_deploy=auto_deploy,
                skip_metrics_check=skip_metrics_check,
            )
            _event(session, row, "DEPLOYMENT_START")
            record, view = record_of(row), _view(session, row)
        # the answer says PENDING; this process's lifecycle thread loads the models
        # (DEPLOYING), then serves them (ACTIVE): wait_for_deployment polls through both
        self.serving.lifecycle.activate(record)
        return view

    def update(
        self, deployment_id: str, version: str | None, changes: Mapping[str, Any]
    ) -> DeploymentView:
        changes = dict(changes)
        check = {
            k: changes.pop(f"auto_deploy_{k}")
            for k in ("metric", "tolerance")
            if (f"auto_deploy_{k}" in changes)
        }
        with self.db.transaction() as session:
            row = repo.get_deployment(session, deployment_id, version)
            if check:
                settings = dict(row.settings or {})
                settings["auto_deploy_check"] = {**settings.get("auto_deploy_check", {}), **check}
                changes["settings"] = settings
            repo.update_deployment(session, row, **changes)
            return _view(session, row)

    def set_default_prediction_arguments(
        self,
        deployment_id: str,
        version: str | None,
        arguments: Mapping[str, Any],
        *,
        override: bool,
    ) -> DeploymentView:
        with self.db.transaction() as session:
            row = repo.get_deployment(session, deployment_id, version)
            settings = dict(row.settings or {})
            settings["default_prediction_arguments"] = dict(arguments)
            settings["set_as_override"] = override
            repo.update_deployment(session, row, settings=settings)
            view = _view(session, row)
        self.serving.live.reload()
        return view

    def start(self, deployment_id: str, version: str | None = None) -> DeploymentView:
        """Deploy a version that is not ACTIVE or DEPLOYING (idempotent otherwise)."""
        with self.db.transaction() as session:
            row = repo.get_deployment(session, deployment_id, version)
            started = row.status not in (DeploymentStatus.ACTIVE, DeploymentStatus.DEPLOYING)
            if started:
                repo.update_deployment(session, row, status=DeploymentStatus.DEPLOYING, error=None)
                _event(session, row, "DEPLOYMENT_START")
            record, version = record_of(row), row.version
        if started:
            self.serving.lifecycle.activate(record)
        return self.describe(deployment_id, version)

    def stop(self, deployment_id: str, version: str | None = None) -> DeploymentView:
        with self.db.transaction() as session:
            row = repo.get_deployment(session, deployment_id, version)
            repo.update_deployment(
                session, row, status=DeploymentStatus.STOPPED, pending_model_version=None
            )
            _event(session, row, "DEPLOYMENT_STOP")
            view = _view(session, row)
        self.serving.live.reload()
        return view

    def delete(self, deployment_id: str, version: str | None = None) -> None:
        """Delete one version, or every version of the deployment without ``version``."""
        with self.db.transaction() as session:
            if version is not None:
                rows = [repo.get_deployment(session, deployment_id, version)]
            else:
                newest = repo.get_deployment(session, deployment_id)
                rows = [
                    r
                    for r in repo.list_deployments(session, newest.project_id)
                    if r.deployment_id == deployment_id
                ]
            for row in rows:
                repo.delete_deployment(session, row)
            if not repo.deployment_exists(session, deployment_id):
                forget_deployment(session, deployment_id)  # its webhooks, alerts, schedules
        self.serving.live.reload()

    def set_model_version(
        self,
        deployment_id: str,
        model_version: str,
        version: str | None = None,
        *,
        algorithm: str | None = None,
        model_deployment_config: Mapping[str, Any] | None = None,
    ) -> DeploymentView:
        """Promote a Completed model: loaded first, then served instead of the current one.

        ``algorithm``, when given, must be the model's (a model has one);
        ``model_deployment_config`` is kept with the deployment and returned.
        """
        with self.db.transaction() as session:
            model_id = _completed_model(session, model_version, "modelVersion")
            trained = str((get_model(session, model_id).parameters or {}).get("algorithm", "sar"))
            if algorithm is not None and algorithm != trained:
                raise Unprocessable(
                    f"model {model_id} was trained with {trained!r}, not {algorithm!r}",
                    field="algorithm",
                )
            if model_deployment_config is not None:
                row = repo.get_deployment(session, deployment_id, version)
                settings = dict(row.settings or {})
                settings["model_deployment_config"] = dict(model_deployment_config)
                repo.update_deployment(session, row, settings=settings)
        return self._switch(deployment_id, version, model_id, rollback=False)

    def rollback(self, deployment_id: str, version: str | None = None) -> DeploymentView:
        """Return to the model version served before the current one."""
        with self.db.transaction() as session:
            row = repo.get_deployment(session, deployment_id, version)
            previous = repo.previous_model_version(row.history)
            if previous is None:
                raise Conflict(
                    f"deployment {deployment_id!r} has no previous model version to roll back to",
                    field="deployment_id",
                )
            model_id = _completed_model(session, previous, "modelVersion")
        return self._switch(deployment_id, version, model_id, rollback=True)

    def _switch(
        self, deployment_id: str, version: str | None, model_id: str, *, rollback: bool
    ) -> DeploymentView:
        with self.db.transaction() as session:
            row = repo.get_deployment(session, deployment_id, version)
            if row.pending_model_version:
                raise Conflict(
                    f"deployment {row.deployment_id!r} is already switching to "
                    f"{row.pending_model_version}",
                    field="modelVersion",
                )
            serving = row.status == DeploymentStatus.ACTIVE
            if serving:
                repo.update_deployment(session, row, pending_model_version=model_id)
            else:  # nothing is served: record the switch, it is loaded at the next start
                repo.record_promotion(session, row, model_id, rollback=rollback)
            record, version = record_of(row), row.version
        if serving:
            self.serving.lifecycle.switch_model(record, model_id, rollback=rollback)
        return self.describe(deployment_id, version)
