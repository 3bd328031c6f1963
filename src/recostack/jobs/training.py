"""Submitting a model for training: validate its inputs, store it, queue its job."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from recostack.errors import Invalid, NotFound, Unprocessable
from recostack.jobs.queue import enqueue_training
from recostack.store.deployment_repository import get_project
from recostack.store.files import container_dir, resolve_path
from recostack.store.model_repository import create_model
from recostack.store.tables import ModelRow
from recostack.training.parameters import TrainingParameters

__all__ = ["submit_training", "training_container_dir"]

_PATH_FIELDS = (
    ("usage_relative_path", "usageRelativePath"),
    ("catalog_file_relative_path", "catalogFileRelativePath"),
    ("evaluation_usage_relative_path", "evaluationUsageRelativePath"),
)


def training_container_dir(files_root: Path, container: str | None) -> Path:
    """Where ``blobContainerName`` lives (the files root itself when it is not given)."""
    if container is None:
        return files_root
    try:
        return container_dir(files_root, container)
    except Invalid as exc:
        raise Invalid(exc.message, field="blobContainerName") from None


def submit_training(
    session: Session,
    params: TrainingParameters,
    *,
    files_root: Path,
    max_attempts: int,
    project_id: str | None = None,
) -> ModelRow:
    """Store a new model in status Created and queue its training.

    Every input path must exist in the container now, so that a typo is a
    404 answer rather than a model that fails a minute later. A model of a
    project (``project_id``, which must exist) is offered to the project's
    auto-deploy deployments once it is trained.
    """
    if project_id is not None:
        get_project(session, project_id, field="projectId")
    if params.engine == "spark" and (
        params.algorithm != "sar" or params.hyperparameter_search is not None
    ):
        raise Unprocessable(
            "engine spark trains algorithm sar with the parameters given (no hyperparameterSearch)",
            field="engine",
        )
    container = training_container_dir(files_root, params.blob_container_name)
    if not container.is_dir():
        raise NotFound(
            f"container {params.blob_container_name!r} does not exist; upload files with "
            "PUT /api/files/{container}/{path}",
            field="blobContainerName",
        )
    for attribute, wire_name in _PATH_FIELDS:
        relative = getattr(params, attribute)
        if relative is None:
            continue
        if params.blob_container_name is None:
            path = container / relative
        else:
            path = resolve_path(files_root, params.blob_container_name, relative, field=wire_name)
        if not path.exists():
            raise NotFound(
                f"{wire_name}: {relative!r} does not exist in the container", field=wire_name
            )
    row = create_model(
        session, description=params.description, parameters=params.to_wire(), project_id=project_id
    )
    enqueue_training(session, row.id, max_attempts=max_attempts)
    return row
