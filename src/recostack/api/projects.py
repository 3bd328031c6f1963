"""``/api/projects``: create, list, describe, update, delete projects (admin key)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from recostack.api.deployment_public import ProjectPublic
from recostack.api.deployment_schemas import PROJECT_COLUMNS, ProjectCreate, ProjectUpdate
from recostack.api.deps import AdminKey, SessionDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import ProjectId
from recostack.store import deployment_repository as repo

__all__ = ["router"]

router = APIRouter(prefix="/api/projects", tags=["projects"], responses=ERROR_RESPONSES)

_NOT_FOUND = error_responses(e404="no such project")


def _columns(body: ProjectUpdate) -> dict[str, Any]:
    return {PROJECT_COLUMNS[k]: v for k, v in body.model_dump(exclude_unset=True).items()}


@router.post(
    "",
    status_code=201,
    summary="Create a project",
    response_model=ProjectPublic,
    responses=error_responses(e409="the project exists"),
)
def create_project(body: ProjectCreate, session: SessionDep, _: AdminKey) -> ProjectPublic:
    fields = _columns(ProjectUpdate.model_validate(body.model_dump(exclude={"project_id"})))
    row = repo.create_project(session, body.project_id, **fields)
    session.commit()
    return ProjectPublic.of(row)


@router.get("", summary="List projects", response_model=list[ProjectPublic])
def list_projects(session: SessionDep, _: AdminKey) -> list[ProjectPublic]:
    return [ProjectPublic.of(row) for row in repo.list_projects(session)]


@router.get(
    "/{project_id}",
    summary="Describe a project",
    response_model=ProjectPublic,
    responses=_NOT_FOUND,
)
def describe_project(project_id: ProjectId, session: SessionDep, _: AdminKey) -> ProjectPublic:
    return ProjectPublic.of(repo.get_project(session, project_id))


@router.patch(
    "/{project_id}",
    summary="Update a project",
    response_model=ProjectPublic,
    responses=_NOT_FOUND,
)
def update_project(
    project_id: ProjectId, body: ProjectUpdate, session: SessionDep, _: AdminKey
) -> ProjectPublic:
    row = repo.update_project(session, project_id, _columns(body))
    session.commit()
    return ProjectPublic.of(row)


@router.delete(
    "/{project_id}",
    status_code=204,
    summary="Delete a project (refused while it has deployments)",
    responses={**_NOT_FOUND, **error_responses(e409="the project has deployments")},
)
def delete_project(project_id: ProjectId, session: SessionDep, _: AdminKey) -> Response:
    repo.delete_project(session, project_id)
    session.commit()
    return Response(status_code=204)
