"""``/api/models``: train, list, describe, delete models; the default model (admin key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from recostack.api.deps import AdminKey, ServingDep, SessionDep, SettingsDep, WorkersDep
from recostack.api.errors import ERROR_RESPONSES, NAME_TOO_LONG, error_responses
from recostack.api.inputs import ModelId
from recostack.api.schemas import ModelCreate, ModelPublic, ModelSummary
from recostack.errors import Conflict, NotFound
from recostack.jobs.training import submit_training
from recostack.serving.models import NO_DEFAULT_MODEL
from recostack.store.artifacts import remove_artifacts
from recostack.store.model_repository import count_models, delete_model_row, get_model, list_models
from recostack.store.server_settings import get_default_model_id, set_default_model_id
from recostack.training.status import ModelStatus

__all__ = ["router"]

router = APIRouter(prefix="/api/models", tags=["models"], responses=ERROR_RESPONSES)

MAX_PAGE_SIZE = 10_000
_NOT_FOUND = error_responses(e404="no such model")
ModelIdPath = Annotated[ModelId, Path(alias="modelId", description="a model id (UUID)")]


@router.post(
    "",
    status_code=201,
    summary="Train a new model (asynchronously)",
    description="Answers at once with the new model (status Created) and its Location; "
    "poll GET /api/models/{modelId} for the training status. With projectId, the trained "
    "model is offered to the project's auto-deploy deployments.",
    responses={
        **error_responses(
            e404="no such project (projectId), container (blobContainerName) or input file"
        ),
        **NAME_TOO_LONG,
    },
)
def create_model(
    body: ModelCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    workers: WorkersDep,
    _: AdminKey,
) -> ModelPublic:
    row = submit_training(
        session,
        body.training_parameters(),
        files_root=settings.files_dir,
        max_attempts=settings.job_max_attempts,
        project_id=body.project_id,
    )
    session.commit()
    if workers is not None:
        workers.wake()
    response.headers["Location"] = str(request.url_for("get_model", modelId=row.id))
    return ModelPublic.of(row)


@router.get("", summary="List models, oldest first")
def list_all_models(
    response: Response,
    session: SessionDep,
    _: AdminKey,
    offset: Annotated[int, Query(ge=0, le=2**31, description="models to skip")] = 0,
    limit: Annotated[
        int | None, Query(ge=1, le=MAX_PAGE_SIZE, description="at most this many (default: all)")
    ] = None,
) -> list[ModelSummary]:
    response.headers["X-Total-Count"] = str(count_models(session))
    return [ModelSummary.of(row) for row in list_models(session, offset=offset, limit=limit)]


@router.get(
    "/default",
    summary="Describe the default model",
    responses=error_responses(e404="no default model is set"),
)
def get_default_model(session: SessionDep, _: AdminKey) -> ModelPublic:
    model_id = get_default_model_id(session)
    if model_id is None:
        raise NotFound(NO_DEFAULT_MODEL, field="modelId")
    return ModelPublic.of(get_model(session, model_id))


@router.put(
    "/default",
    summary="Set the default model",
    response_class=Response,
    responses={
        200: {"description": "the default model is set", "content": {}},
        **_NOT_FOUND,
        **error_responses(e409="the model is not Completed"),
    },
)
def set_default_model(
    session: SessionDep,
    serving: ServingDep,
    _: AdminKey,
    model_id: Annotated[ModelId, Query(alias="modelId")],
) -> Response:
    row = get_model(session, model_id)
    if row.status != ModelStatus.COMPLETED:
        raise Conflict(
            f"model {row.id} is {row.status}; only a Completed model can be the default",
            field="modelId",
        )
    set_default_model_id(session, row.id)
    session.commit()
    serving.models.set_default(row.id)
    return Response(status_code=200)


@router.get("/{modelId}", name="get_model", summary="Describe a model", responses=_NOT_FOUND)
def describe_model(model_id: ModelIdPath, session: SessionDep, _: AdminKey) -> ModelPublic:
    return ModelPublic.of(get_model(session, model_id))


@router.delete(
    "/{modelId}",
    status_code=202,
    summary="Delete a model (and stop its training)",
    response_class=Response,
    responses={202: {"description": "deleted", "content": {}}, **_NOT_FOUND},
)
def delete_model(
    model_id: ModelIdPath,
    session: SessionDep,
    serving: ServingDep,
    settings: SettingsDep,
    _: AdminKey,
) -> Response:
    deleted = delete_model_row(session, model_id)
    session.commit()
    remove_artifacts(settings.models_dir, deleted)
    serving.models.forget(deleted)
    return Response(status_code=202)
