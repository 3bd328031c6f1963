"""Auto-deploy: offer a newly trained model to its project's auto-deploy deployments.

The training worker calls :func:`auto_deploy_model` right after it marked a
model Completed (and published its artifacts). Every deployment version of
the model's project with ``auto_deploy`` on, not disabled and not already
serving the model as its primary one, gets a decision:

* :func:`~recostack.evaluation.metrics_check.check_metrics` on the two
  models' statistics: the reference's rule, promote when the new model's
  metrics are comparable or better, with the deployment's metric and
  tolerance (``autoDeployMetric``, default ``ndcg@10``; ``autoDeployTolerance``,
  default 0.01: no more than 1 % below the served model's); a new model
  without that metric is not promoted (``skip_metrics_check`` promotes
  regardless); a deployment in the middle of a model switch is not either;
* a promotion is written as a completed ``set_model_version`` is
  (:func:`~recostack.store.deployment_repository.record_promotion`), its
  history entry tagged ``"source": "auto_deploy"``. For an ACTIVE
  deployment that is all it takes: each API process sees the stamp change
  and loads the new model before its live entry is swapped, so no request
  is dropped (:class:`~recostack.serving.deployments.live.LiveDeployments`);
* a promotion that does not happen is a failed promotion, as the reference
  says: its reason goes to the deployment's ``error`` (the served model
  keeps serving; the next promotion clears it);
* the decision, ``promoted`` or ``failed`` and why, is kept on the row
  (``last_auto_deploy``, ``lastAutoDeploy`` in the describe body), and sent
  to the deployment's webhooks (``PROMOTION_SUCCEEDED``, ``PROMOTION_FAILED``).

Each deployment is decided in a transaction of its own with its row locked,
so two models completing at once are compared one after the other. Nothing
here raises: a failure is logged and recorded as a failed promotion with
its reason, and the training job stays Completed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from recostack.evaluation.metrics_check import (
    DEFAULT_METRIC,
    DEFAULT_TOLERANCE,
    MetricsCheck,
    check_metrics,
)
from recostack.serving.deployments.records import Environment
from recostack.store.deployment_repository import iso_time, record_promotion
from recostack.store.deployment_tables import DeploymentRow
from recostack.store.engine import Database
from recostack.store.tables import ModelRow, utcnow
from recostack.store.webhook_repository import enqueue_event
from recostack.training.status import ModelStatus

__all__ = ["AUTO_DEPLOY_SOURCE", "AutoDeployOutcome", "auto_deploy_check", "auto_deploy_model"]

logger = logging.getLogger(__name__)

#: the ``source`` of a history entry written by an auto-deploy
AUTO_DEPLOY_SOURCE = "auto_deploy"
_MAX_REASON = 500


@dataclass(frozen=True)
class AutoDeployOutcome:
    """What auto-deploy decided for one deployment version."""

    deployment_id: str
    version: str
    model_version: str
    decision: Literal["promoted", "failed"]
    reason: str
    at: str

    def to_json(self) -> dict[str, Any]:
        """The ``last_auto_deploy`` document (``lastAutoDeploy`` in the API)."""
        return {
            "modelVersion": self.model_version,
            "decision": self.decision,
            "reason": self.reason,
            "at": self.at,
        }


def auto_deploy_model(db: Database, model_id: str) -> list[AutoDeployOutcome]:
    """Offer the Completed model ``model_id`` to its project's deployments; the decisions."""
    try:
        with db.transaction() as session:
            candidates = _candidates(session, model_id)
    except Exception:
        logger.warning(
            "auto-deploy of model %s: cannot read its deployments", model_id, exc_info=True
        )
        return []
    outcomes = [_offer(db, pk, model_id) for pk in candidates]
    return [o for o in outcomes if o is not None]


def _candidates(session: Session, model_id: str) -> list[int]:
    """The auto-deploy deployment rows of the model's project (none without a project)."""
    project_id = session.scalar(select(ModelRow.project_id).where(ModelRow.id == model_id))
    if project_id is None:
        return []
    return list(
        session.scalars(
            select(DeploymentRow.id)
            .where(
                DeploymentRow.project_id == project_id,
                DeploymentRow.auto_deploy.is_(True),
                DeploymentRow.environment != Environment.DISABLE,
            )
            .order_by(DeploymentRow.id)
        )
    )


def _offer(db: Database, pk: int, model_id: str) -> AutoDeployOutcome | None:
    try:
        with db.transaction() as session:
            return _decide_and_record(session, pk, model_id)
    except Exception as exc:
        logger.warning(
            "auto-deploy of model %s into deployment row %d failed", model_id, pk, exc_info=True
        )
        return _record_failure(db, pk, model_id, exc)


def _decide_and_record(session: Session, pk: int, model_id: str) -> AutoDeployOutcome | None:
    """Under the row's lock: check it still qualifies, decide, promote or not, record."""
    row = session.get(DeploymentRow, pk, with_for_update=True)
    model = session.get(ModelRow, model_id)
    if row is None or model is None or not _eligible(row, model):
        return None
    check = _check(session, row, model)
    if check.promote:
        record_promotion(session, row, model.id, rollback=False, source=AUTO_DEPLOY_SOURCE)
    return _record(row, model.id, check)


def _eligible(row: DeploymentRow, model: ModelRow) -> bool:
    return (
        row.auto_deploy
        and row.environment != Environment.DISABLE
        and row.project_id == model.project_id
        and model.status == ModelStatus.COMPLETED
        and (not row.model_ids or row.model_ids[0] != model.id)
    )


def auto_deploy_check(settings: dict[str, Any] | None) -> tuple[str, float]:
    """The metric and tolerance of a deployment's promotion check (its settings document)."""
    check = (settings or {}).get("auto_deploy_check") or {}
    return (
        str(check.get("metric") or DEFAULT_METRIC),
        float(check.get("tolerance", DEFAULT_TOLERANCE)),
    )


def _check(session: Session, row: DeploymentRow, model: ModelRow) -> MetricsCheck:
    if row.pending_model_version:
        return MetricsCheck(False, f"a switch to model {row.pending_model_version} was in progress")
    served = session.get(ModelRow, row.model_ids[0]) if row.model_ids else None
    metric, tolerance = auto_deploy_check(row.settings)
    return check_metrics(
        model.statistics,
        served.statistics if served is not None else None,
        skip_metrics_check=row.skip_metrics_check,
        metric=metric,
        tolerance=tolerance,
    )


def _record(row: DeploymentRow, model_id: str, check: MetricsCheck) -> AutoDeployOutcome:
    """Keep the decision on the row (a failed one as its error) and tell the webhooks."""
    outcome = AutoDeployOutcome(
        deployment_id=row.deployment_id,
        version=row.version,
        model_version=model_id,
        decision="promoted" if check.promote else "failed",
        reason=check.reason[:_MAX_REASON],
        at=iso_time(utcnow()),
    )
    row.last_auto_deploy = outcome.to_json()
    if not check.promote:
        row.error = f"auto-deploy of model {model_id} failed: {outcome.reason}"
    row.updated_at = utcnow()
    session = object_session(row)
    if session is not None:
        event = "PROMOTION_SUCCEEDED" if check.promote else "PROMOTION_FAILED"
        enqueue_event(
            session,
            row.deployment_id,
            event,
            {
                "version": row.version,
                "modelVersion": model_id,
                "decision": outcome.decision,
                "reason": outcome.reason,
                "source": AUTO_DEPLOY_SOURCE,
            },
        )
    return outcome


def _record_failure(
    db: Database, pk: int, model_id: str, exc: Exception
) -> AutoDeployOutcome | None:
    """Keep the reason of a failed auto-deploy on the row (best effort)."""
    lines = str(exc).strip().splitlines()
    check = MetricsCheck(
        False, f"auto-deploy failed: {type(exc).__name__}: {lines[0] if lines else ''}"
    )
    try:
        with db.transaction() as session:
            row = session.get(DeploymentRow, pk)
            return _record(row, model_id, check) if row is not None else None
    except Exception:
        logger.warning("could not record the failed auto-deploy of %s", model_id, exc_info=True)
        return None
