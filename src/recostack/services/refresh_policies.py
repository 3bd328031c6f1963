"""Refresh policies: cron schedules that retrain a deployment's model or a model lineage.

A policy of a deployment retrains the model its newest version serves; a
policy of a model retrains that model's lineage (its parameters). A
refresh submits a new model with the same training parameters, reading
the input files as they are now, in the deployment's (or the model's)
project, so that deployments with auto-deploy on put it through the
promotion check once it is trained (:mod:`recostack.services.auto_deploy`).

Each due time runs once: the worker's scheduler claims it
(:func:`run_due_refreshes`, with :func:`~recostack.store.schedule_claims.claim_run`)
in the transaction that submits the training and moves the policy to its
next due time. A due time more than ``schedule_misfire_seconds`` old (no
scheduler ran then) is recorded as missed instead of run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recostack.errors import Conflict, Invalid, NotFound, Unprocessable
from recostack.jobs.training import submit_training
from recostack.settings import Settings
from recostack.store import deployment_repository as repo
from recostack.store.engine import Database
from recostack.store.model_repository import get_model
from recostack.store.operations_tables import RefreshPolicyRow
from recostack.store.schedule_claims import claim_run, delete_claims_of, record_outcome
from recostack.store.tables import utcnow
from recostack.training.parameters import TrainingParameters

__all__ = [
    "RefreshPolicyService",
    "check_cron",
    "next_due",
    "refresh_schedules",
    "run_due_refreshes",
]

KIND = "refresh"


def check_cron(cron: str, field: str = "cron") -> None:
    """:class:`Unprocessable` unless ``cron`` is a cron expression (5 fields, or 6 with
    seconds) that croniter takes (the API's pattern refuses most of what is not, as a 400)."""
    if not 5 <= len(cron.split()) <= 6 or not croniter.is_valid(cron):
        raise Unprocessable(
            f"{field}: {cron!r} is not a cron expression (minute hour day month weekday, "
            "optionally a sixth field of seconds), e.g. '0 3 * * *'",
            field=field,
        )


def next_due(cron: str, after: datetime) -> datetime:
    """The first time after ``after`` that ``cron`` names (UTC)."""
    found: datetime = croniter(cron, after).get_next(datetime)
    return found


@dataclass(frozen=True)
class RefreshOutcome:
    policy_id: str
    due_at: datetime
    model_id: str | None
    outcome: str


class RefreshPolicyService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def create(
        self,
        cron: str,
        *,
        deployment_id: str | None = None,
        model_id: str | None = None,
        name: str | None = None,
    ) -> RefreshPolicyRow:
        check_cron(cron)
        with self.db.transaction() as session:
            project_id: str | None
            if deployment_id is not None:
                row = repo.get_deployment(session, deployment_id)
                kind, project_id = "DEPLOYMENT", row.project_id
                target = f"deployment {deployment_id}"
            else:
                assert model_id is not None
                model = get_model(session, model_id)
                model_id, kind, project_id = model.id, "MODEL", model.project_id
                target = f"model {model.id}"
            policy = RefreshPolicyRow(
                id=str(uuid.uuid4()),
                name=name or f"refresh of {target}",
                refresh_type=kind,
                deployment_id=deployment_id,
                model_id=model_id,
                project_id=project_id,
                cron=cron,
                paused=False,
                next_run_at=next_due(cron, utcnow()),
                created_at=utcnow(),
            )
            session.add(policy)
        return policy

    def find(
        self, *, deployment_id: str | None = None, model_id: str | None = None
    ) -> list[RefreshPolicyRow]:
        with self.db.transaction() as session:
            query = select(RefreshPolicyRow).order_by(RefreshPolicyRow.created_at)
            if deployment_id is not None:
                repo.get_deployment(session, deployment_id)
                query = query.where(RefreshPolicyRow.deployment_id == deployment_id)
            if model_id is not None:
                model_id = get_model(session, model_id).id
                query = query.where(RefreshPolicyRow.model_id == model_id)
            return list(session.scalars(query))

    def describe(self, policy_id: str) -> RefreshPolicyRow:
        with self.db.transaction() as session:
            return _get(session, policy_id)

    def pause(self, policy_id: str) -> RefreshPolicyRow:
        with self.db.transaction() as session:
            policy = _get(session, policy_id)
            policy.paused = True
            return policy

    def resume(self, policy_id: str) -> RefreshPolicyRow:
        """Run again from the next due time after now (times missed while paused are not run)."""
        with self.db.transaction() as session:
            policy = _get(session, policy_id)
            if policy.paused:
                policy.paused = False
                policy.next_run_at = next_due(policy.cron, utcnow())
            return policy

    def delete(self, policy_id: str) -> None:
        with self.db.transaction() as session:
            session.delete(_get(session, policy_id))
            delete_claims_of(session, KIND, policy_id)

    def run_now(self, policy_id: str, owner: str = "api") -> RefreshPolicyRow:
        """Refresh now, whatever the schedule (a paused policy too); the policy after it."""
        now = utcnow()
        with self.db.transaction() as session:
            policy = _get(session, policy_id)
            if not claim_run(session, KIND, policy.id, now, owner):
                raise Conflict("this refresh was started a moment ago", field="refresh_policy_id")
            _refresh(session, self.settings, policy, now)
            return policy


class _Taken(Exception):
    """Another scheduler took this due time: undo what was written."""


def _get(session: Session, policy_id: str) -> RefreshPolicyRow:
    policy = session.get(RefreshPolicyRow, policy_id)
    if policy is None:
        raise NotFound(f"refresh policy {policy_id!r} does not exist", field="refresh_policy_id")
    return policy


def _refresh(session: Session, settings: Settings, policy: RefreshPolicyRow, due: datetime) -> str:
    """Submit the retraining of ``policy`` (in ``session``); the new model's id."""
    if policy.refresh_type == "DEPLOYMENT":
        assert policy.deployment_id is not None
        deployment = repo.get_deployment(session, policy.deployment_id)
        template = get_model(session, deployment.model_ids[0])
        project_id: str | None = deployment.project_id
    else:
        assert policy.model_id is not None
        template = get_model(session, policy.model_id)
        project_id = template.project_id
    parameters = TrainingParameters.model_validate(template.parameters)
    parameters = parameters.model_copy(
        update={"description": f"{policy.name} at {due:%Y-%m-%d %H:%M:%S}Z"[:256]}
    )
    model = submit_training(
        session,
        parameters,
        files_root=settings.files_dir,
        max_attempts=settings.job_max_attempts,
        project_id=project_id,
    )
    policy.last_run_at = utcnow()
    policy.last_model_id = model.id
    policy.last_error = None
    record_outcome(session, KIND, policy.id, due, f"model {model.id}")
    return model.id


def run_due_refreshes(
    db: Database, settings: Settings, owner: str, now: datetime | None = None
) -> list[RefreshOutcome]:
    """Run every due time of every active policy up to ``now`` that no one claimed yet."""
    now = now or utcnow()
    misfire = timedelta(seconds=settings.schedule_misfire_seconds)
    with db.engine.execution_options(readonly=True).connect() as connection:  # no write lock
        due = connection.execute(
            select(RefreshPolicyRow.id).where(
                RefreshPolicyRow.paused.is_(False), RefreshPolicyRow.next_run_at <= now
            )
        ).all()
    outcomes = []
    for (policy_id,) in due:
        while True:
            outcome = _run_one(db, settings, owner, policy_id, now, misfire)
            if outcome is None:
                break
            outcomes.append(outcome)
    return outcomes


def _run_one(
    db: Database,
    settings: Settings,
    owner: str,
    policy_id: str,
    now: datetime,
    misfire: timedelta,
) -> RefreshOutcome | None:
    """Claim and run the policy's next due time if it is due; ``None`` if there is none."""
    try:
        with db.transaction() as session:
            policy = session.get(RefreshPolicyRow, policy_id)
            if policy is None or policy.paused or policy.next_run_at > now:
                return None
            due = policy.next_run_at
            moved = session.execute(
                update(RefreshPolicyRow)
                .where(RefreshPolicyRow.id == policy_id, RefreshPolicyRow.next_run_at == due)
                .values(next_run_at=next_due(policy.cron, due))
                .execution_options(synchronize_session=False)
            )
            taken = moved.rowcount != 1  # type: ignore[attr-defined]
            if taken or not claim_run(session, KIND, policy_id, due, owner):
                raise _Taken
            session.refresh(policy)
            if now - due > misfire:
                text = f"missed: no scheduler ran within {misfire.total_seconds():g} s of it"
                record_outcome(session, KIND, policy_id, due, text)
                return RefreshOutcome(policy_id, due, None, text)
            model_id = _refresh(session, settings, policy, due)
            return RefreshOutcome(policy_id, due, model_id, f"model {model_id}")
    except _Taken:
        return None
    except (Invalid, NotFound, Conflict) as exc:
        # the deployment, model or input files are gone: keep the reason, move on
        with db.transaction() as session:
            policy = session.get(RefreshPolicyRow, policy_id)
            if policy is not None:
                due = policy.next_run_at
                policy.next_run_at = next_due(policy.cron, max(due, now))
                policy.last_error = exc.message
                policy.last_run_at = utcnow()
        return None


def refresh_schedules(session: Session, deployment_id: str) -> list[dict[str, object]]:
    """The reference's ``refreshSchedules`` of a deployment: its policies with their next run."""
    rows = session.scalars(
        select(RefreshPolicyRow)
        .where(RefreshPolicyRow.deployment_id == deployment_id)
        .order_by(RefreshPolicyRow.created_at)
    )
    return [
        {
            "refreshPolicyId": row.id,
            "name": row.name,
            "cron": row.cron,
            "refreshType": row.refresh_type,
            "nextRunTime": None if row.paused else repo.iso_time(row.next_run_at),
            "paused": row.paused,
            "error": row.last_error,
        }
        for row in rows
    ]
