"""Projects and deployments: rows, their lifecycle writes, and what serving reads.

Management functions take a ``Session`` (the API commits). Serving reads
and the lifecycle writes made off the request path go through
:class:`DeploymentStore`, in plain SQL on the engine. Every change that
serving must see bumps the ``deployments_generation`` stamp, which each
API process polls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recostack.errors import Conflict, Invalid, NotFound
from recostack.serving.deployments.records import DeploymentRecord, DeploymentStatus, Environment
from recostack.serving.stamps import DEPLOYMENTS_GENERATION
from recostack.store.deployment_tables import (
    DeploymentRow,
    ProjectRow,
)
from recostack.store.server_settings import bump_stamp
from recostack.store.tables import ModelRow, utcnow
from recostack.store.webhook_repository import enqueue_event

__all__ = [
    "PROJECT_FIELDS",
    "DeploymentStore",
    "create_deployment",
    "create_project",
    "current_model_version",
    "delete_deployment",
    "delete_project",
    "deployment_exists",
    "get_deployment",
    "get_project",
    "iso_time",
    "list_deployments",
    "list_projects",
    "previous_model_version",
    "record_promotion",
    "update_deployment",
    "update_project",
]

PROJECT_FIELDS = (
    "description",
    "project_type",
    "purpose",
    "start_date",
    "end_date",
    "data_science_lead",
    "data_lead",
)


# --- projects ----------------------------------------------------------------------


def create_project(session: Session, project_id: str, **fields: Any) -> ProjectRow:
    if session.get(ProjectRow, project_id) is not None:
        raise Conflict(f"project {project_id!r} already exists", field="project_id")
    row = ProjectRow(project_id=project_id, **{k: fields.get(k) for k in PROJECT_FIELDS})
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"project {project_id!r} already exists", field="project_id") from None
    return row


def get_project(session: Session, project_id: str, *, field: str = "project_id") -> ProjectRow:
    """The project, or :class:`NotFound` naming ``field``."""
    row = session.get(ProjectRow, project_id)
    if row is None:
        raise NotFound(f"project {project_id!r} does not exist", field=field)
    return row


def list_projects(session: Session) -> list[ProjectRow]:
    return list(session.scalars(select(ProjectRow).order_by(ProjectRow.project_id)))


def update_project(session: Session, project_id: str, changes: Mapping[str, Any]) -> ProjectRow:
    row = get_project(session, project_id)
    for name, value in changes.items():
        if name not in PROJECT_FIELDS:
            raise Invalid(f"a project has no field {name!r}", field=name)
        setattr(row, name, value)
    row.updated_at = utcnow()
    return row


def delete_project(session: Session, project_id: str) -> None:
    """Delete an empty project (:class:`Conflict` while it has deployments).

    Its models stay, in no project any more.
    """
    get_project(session, project_id)
    count = session.scalar(
        select(func.count())
        .select_from(DeploymentRow)
        .where(DeploymentRow.project_id == project_id)
    )
    if count:
        raise Conflict(
            f"project {project_id!r} has {count} deployment(s): delete them first",
            field="project_id",
        )
    session.execute(
        update(ModelRow)
        .where(ModelRow.project_id == project_id)
        .values(project_id=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(ProjectRow).where(ProjectRow.project_id == project_id))


# --- deployments -------------------------------------------------------------------


def create_deployment(
    session: Session,
    *,
    project_id: str,
    deployment_id: str,
    version: str,
    description: str | None,
    environment: Environment,
    model_ids: Sequence[str],
    settings: Mapping[str, Any],
    auto_deploy: bool = False,
    skip_metrics_check: bool = False,
) -> DeploymentRow:
    """A new PENDING deployment; the (deployment_id, version) pair is immutable."""
    get_project(session, project_id)
    if _find(session, deployment_id, version) is not None:
        raise _exists(deployment_id, version)
    now = utcnow()
    row = DeploymentRow(
        deployment_id=deployment_id,
        version=version,
        project_id=project_id,
        description=description,
        environment=environment,
        status=DeploymentStatus.PENDING,
        error=None,
        model_ids=list(model_ids),
        pending_model_version=None,
        history=[{"modelVersion": model_ids[0], "promotedAt": iso_time(now), "rolledBackAt": None}],
        settings=dict(settings),
        auto_deploy=auto_deploy,
        skip_metrics_check=skip_metrics_check,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise _exists(deployment_id, version) from None
    bump_stamp(session, DEPLOYMENTS_GENERATION)
    return row


def _exists(deployment_id: str, version: str) -> Conflict:
    return Conflict(
        f"deployment {deployment_id!r} version {version!r} already exists; "
        "a (deployment_id, version) pair cannot be overwritten: create a new version",
        field="version",
    )


def _find(session: Session, deployment_id: str, version: str) -> DeploymentRow | None:
    return session.scalar(
        select(DeploymentRow).where(
            DeploymentRow.deployment_id == deployment_id, DeploymentRow.version == version
        )
    )


def get_deployment(
    session: Session, deployment_id: str, version: str | None = None
) -> DeploymentRow:
    """The given version, or the newest one; :class:`NotFound` otherwise."""
    if version is not None:
        row = _find(session, deployment_id, version)
    else:
        row = session.scalar(
            select(DeploymentRow)
            .where(DeploymentRow.deployment_id == deployment_id)
            .order_by(DeploymentRow.id.desc())
            .limit(1)
        )
    if row is None:
        which = f" version {version!r}" if version is not None else ""
        raise NotFound(f"deployment {deployment_id!r}{which} does not exist", field="deployment_id")
    return row


def deployment_exists(session: Session, deployment_id: str) -> bool:
    """Whether any version of ``deployment_id`` is stored."""
    found = session.scalar(
        select(DeploymentRow.id).where(DeploymentRow.deployment_id == deployment_id).limit(1)
    )
    return found is not None


def list_deployments(session: Session, project_id: str) -> list[DeploymentRow]:
    get_project(session, project_id)
    return list(
        session.scalars(
            select(DeploymentRow)
            .where(DeploymentRow.project_id == project_id)
            .order_by(DeploymentRow.deployment_id, DeploymentRow.id)
        )
    )


def update_deployment(session: Session, row: DeploymentRow, **changes: Any) -> DeploymentRow:
    """Set mutable columns (description, auto_deploy, settings, status, ...) and bump the stamp."""
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    bump_stamp(session, DEPLOYMENTS_GENERATION)
    return row


def delete_deployment(session: Session, row: DeploymentRow) -> None:
    session.execute(delete(DeploymentRow).where(DeploymentRow.id == row.id))
    bump_stamp(session, DEPLOYMENTS_GENERATION)


def current_model_version(history: Sequence[Mapping[str, Any]]) -> str | None:
    """The model version served now: the newest entry not rolled back."""
    for entry in reversed(history):
        if not entry.get("rolledBackAt"):
            return str(entry["modelVersion"])
    return None


def previous_model_version(history: Sequence[Mapping[str, Any]]) -> str | None:
    """The version a rollback returns to: the one served before the current one."""
    live = [e for e in history if not e.get("rolledBackAt")]
    return str(live[-2]["modelVersion"]) if len(live) >= 2 else None


def record_promotion(
    session: Session,
    row: DeploymentRow,
    model_version: str,
    *,
    rollback: bool,
    source: str | None = None,
) -> None:
    """Make ``model_version`` the primary model of ``row`` and record it in the history.

    A rollback marks the current entry rolled back instead of adding one;
    ``source`` tags a new entry with what promoted it (``"auto_deploy"``).
    Serving picks the change up through the stamp.
    """
    now = iso_time(utcnow())
    history = [dict(e) for e in row.history]
    if rollback:
        for entry in reversed(history):
            if not entry.get("rolledBackAt"):
                entry["rolledBackAt"] = now
                break
    else:
        entry = {"modelVersion": model_version, "promotedAt": now, "rolledBackAt": None}
        if source is not None:
            entry["source"] = source
        history.append(entry)
    row.history = history
    row.model_ids = [model_version, *row.model_ids[1:]]
    row.pending_model_version = None
    row.error = None
    row.updated_at = utcnow()
    bump_stamp(session, DEPLOYMENTS_GENERATION)


def iso_time(value: datetime) -> str:
    """A time as the history writes it: ``2025-01-04T10:00:00.000000Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- serving reads and lifecycle writes (plain SQL) -------------------------------


class DeploymentStore:
    """What :mod:`recostack.serving.deployments` reads and writes."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._reader = engine.execution_options(readonly=True)

    def records(self) -> list[DeploymentRecord]:
        """Every deployment version (newest version last per deployment)."""
        with self._reader.connect() as connection:
            rows = connection.execute(
                select(
                    DeploymentRow.id,
                    DeploymentRow.deployment_id,
                    DeploymentRow.version,
                    DeploymentRow.status,
                    DeploymentRow.environment,
                    DeploymentRow.error,
                    DeploymentRow.model_ids,
                    DeploymentRow.pending_model_version,
                    DeploymentRow.settings,
                ).order_by(DeploymentRow.id)
            ).all()
        return [
            DeploymentRecord(r[0], r[1], r[2], r[3], r[4], r[5], tuple(r[6]), r[7], r[8] or {})
            for r in rows
        ]

    def set_status(
        self, pk: int, status: DeploymentStatus, error: str | None = None, *, deployed: bool = False
    ) -> None:
        values: dict[str, Any] = {"status": status, "error": error, "updated_at": utcnow()}
        if deployed:
            values["deployed_at"] = utcnow()
        events = {
            DeploymentStatus.ACTIVE: "DEPLOYMENT_SUCCESS",
            DeploymentStatus.FAILED: "DEPLOYMENT_FAILED",
        }
        self._write(pk, values, events.get(status), {"error": error})

    def complete_promotion(self, pk: int, model_version: str, *, rollback: bool) -> None:
        """Serve ``model_version`` now, recording it in the history."""
        with Session(self._engine) as session, session.begin():
            row = session.get(DeploymentRow, pk)
            if row is not None:
                record_promotion(session, row, model_version, rollback=rollback)
                enqueue_event(
                    session,
                    row.deployment_id,
                    "PROMOTION_SUCCEEDED",
                    {"version": row.version, "modelVersion": model_version, "rollback": rollback},
                )

    def fail_promotion(self, pk: int, error: str) -> None:
        """The switch did not happen: the old version keeps serving; say why."""
        values = {"pending_model_version": None, "error": error, "updated_at": utcnow()}
        self._write(pk, values, "PROMOTION_FAILED", {"reason": error})

    def _write(
        self,
        pk: int,
        values: dict[str, Any],
        event: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Write ``values`` (and queue ``event`` for the deployment's webhooks)."""
        with Session(self._engine) as session, session.begin():
            session.execute(update(DeploymentRow).where(DeploymentRow.id == pk).values(**values))
            bump_stamp(session, DEPLOYMENTS_GENERATION)
            if event is not None:
                row = session.get(DeploymentRow, pk)
                if row is not None:
                    status = values.get("status", row.status)
                    enqueue_event(
                        session,
                        row.deployment_id,
                        event,
                        {"version": row.version, "status": status, **(data or {})},
                    )
