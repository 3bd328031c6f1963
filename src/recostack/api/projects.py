"""``/api/projects``: create, list, describe, update, delete projects (admin key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from recostack.api.deployment_schemas import (
    PROJECT_COLUMNS,
    ProjectCreate,
    ProjectUpdate,
    format_time,
)
from recostack.api.deps import AdminKey, SessionDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.store import deployment_repository as repo
from recostack.store.deployment_tables import ProjectRow

__all__ = ["project_public", "router"]

router = APIRouter(prefix="/api/projects", tags=["projects"], responses=ERROR_RESPONSES)

ProjectId = Annotated[str, Path(max_length=128, description="the project's name")]
_NOT_FOUND = error_responses(e404="no such project")


def project_public(row: ProjectRow) -> dict[str, Any]:
    return {
        "projectId": row.project_id,
        "projectDescription": row.description,
        "projectType": row.project_type,
        "purpose": row.purpose,
        "projectStartDate": row.start_date,
        "projectEndDate": row.end_date,
        "dataScienceLead": row.data_science_lead,
        "dataLead": row.data_lead,
        "createdAt": format_time(row.created_at),
        "updatedAt": format_time(row.updated_at),
    }


def _columns(body: ProjectUpdate) -> dict[str, Any]:
    return {PROJECT_COLUMNS[k]: v for k, v in body.model_dump(exclude_unset=True).items()}


@router.post(
    "",
    status_code=201,
    summary="Create a project",
    responses=error_responses(e409="the project exists"),
)
def create_project(body: ProjectCreate, session: SessionDep, _: AdminKey) -> dict[str, Any]:
    fields = _columns(ProjectUpdate.model_validate(body.model_dump(exclude={"project_id"})))
    row = repo.create_project(session, body.project_id, **fields)
    session.commit()
    return project_public(row)


@router.get("", summary="List projects")
def list_projects(session: SessionDep, _: AdminKey) -> list[dict[str, Any]]:
    return [project_public(row) for row in repo.list_projects(session)]


@router.get("/{project_id}", summary="Describe a project", responses=_NOT_FOUND)
def describe_project(project_id: ProjectId, session: SessionDep, _: AdminKey) -> dict[str, Any]:
    return project_public(repo.get_project(session, project_id))


@router.patch("/{project_id}", summary="Update a project", responses=_NOT_FOUND)
def update_project(
    project_id: ProjectId, body: ProjectUpdate, session: SessionDep, _: AdminKey
) -> dict[str, Any]:
    row = repo.update_project(session, project_id, _columns(body))
    session.commit()
    return project_public(row)


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
