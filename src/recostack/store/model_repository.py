"""Model rows: create, read, list, change status, delete."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from recostack.errors import NotFound
from recostack.serving.models import canonical_model_id
from recostack.store.server_settings import (
    MODELS_GENERATION,
    bump_stamp,
    get_default_model_id,
    set_default_model_id,
)
from recostack.store.tables import ModelRow, TrainingJobRow, utcnow
from recostack.training.status import ModelStatus

__all__ = [
    "count_models",
    "create_model",
    "delete_model_row",
    "get_model",
    "list_models",
    "update_model_status",
]


def create_model(
    session: Session,
    *,
    description: str | None,
    parameters: dict[str, Any],
    project_id: str | None = None,
) -> ModelRow:
    row = ModelRow(
        id=str(uuid.uuid4()),
        description=description,
        creation_time=utcnow(),
        status=ModelStatus.CREATED,
        status_message="Model is queued for training",
        parameters=parameters,
        statistics=None,
        project_id=project_id,
    )
    session.add(row)
    session.flush()
    return row


def get_model(session: Session, model_id: str) -> ModelRow:
    """The model, or :class:`NotFound`."""
    canonical = canonical_model_id(model_id)
    row = session.get(ModelRow, canonical) if canonical is not None else None
    if row is None:
        raise NotFound(f"model {model_id!r} does not exist", field="modelId")
    return row


def list_models(session: Session, *, offset: int = 0, limit: int | None = None) -> list[ModelRow]:
    """Models by creation time, oldest first."""
    query = select(ModelRow).order_by(ModelRow.creation_time, ModelRow.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_models(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ModelRow)) or 0


def update_model_status(
    session: Session,
    model_id: str,
    status: ModelStatus,
    message: str | None,
    statistics: dict[str, Any] | None = None,
    *,
    keep_statistics: bool = False,
) -> None:
    row = session.get(ModelRow, model_id)
    if row is None:
        return
    row.status = status
    row.status_message = message
    if not keep_statistics:
        row.statistics = statistics
    row.updated_at = utcnow()


def delete_model_row(session: Session, model_id: str) -> str:
    """Delete the model and its job; clear the default if it was the default.

    Returns the model's id; :class:`NotFound` when there is no such model.
    The caller removes the artifacts once the transaction has committed.
    """
    model_id = get_model(session, model_id).id
    if get_default_model_id(session) == model_id:
        set_default_model_id(session, None)
    session.execute(delete(TrainingJobRow).where(TrainingJobRow.model_id == model_id))
    session.execute(delete(ModelRow).where(ModelRow.id == model_id))
    bump_stamp(session, MODELS_GENERATION)
    return model_id
