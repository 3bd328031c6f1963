"""What follows a training's end: webhooks told, and auto-deploy for a Completed model.

The worker calls :func:`model_completed` once a model is Completed (its
artifacts published) and :func:`model_failed` in the transaction that marks
one Failed. ``MODEL_TRAINED`` / ``MODEL_FAILED`` go to the webhooks of every
deployment of the model's project (a model of no project has none).
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from recostack.services.auto_deploy import AutoDeployOutcome, auto_deploy_model
from recostack.store.deployment_tables import DeploymentRow
from recostack.store.engine import Database
from recostack.store.tables import ModelRow
from recostack.store.webhook_repository import enqueue_event

__all__ = ["model_completed", "model_failed"]

logger = logging.getLogger(__name__)


def _tell(session: Session, model_id: str, event: str, message: str | None) -> None:
    model = session.get(ModelRow, model_id)
    if model is None or model.project_id is None:
        return
    deployments = session.scalars(
        select(DeploymentRow.deployment_id)
        .where(DeploymentRow.project_id == model.project_id)
        .distinct()
    ).all()
    for deployment_id in deployments:
        enqueue_event(
            session,
            deployment_id,
            event,
            {
                "modelId": model.id,
                "modelStatus": model.status,
                "message": message or model.status_message,
            },
        )


def model_completed(db: Database, model_id: str) -> list[AutoDeployOutcome]:
    """Tell the webhooks, then offer the model to auto-deploy; its decisions (never raises)."""
    try:
        with db.transaction() as session:
            _tell(session, model_id, "MODEL_TRAINED", None)
    except Exception:
        logger.warning("MODEL_TRAINED of %s could not be queued", model_id, exc_info=True)
    return auto_deploy_model(db, model_id)


def model_failed(session: Session, model_id: str, message: str) -> None:
    """Tell the webhooks (in the caller's transaction, which marks the model Failed)."""
    _tell(session, model_id, "MODEL_FAILED", message)
