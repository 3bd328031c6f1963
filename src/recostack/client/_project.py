"""The ``Project`` resource: a project's fields, and its deployments, over the client's calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from recostack.client._deployment import Deployment
from recostack.client._wire import Resource

__all__ = ["Project", "ProjectCalls"]


class ProjectCalls(Protocol):
    """The calls of the client a :class:`Project` uses."""

    def describe_project(self, project_id: str) -> Project: ...

    def update_project(self, project_id: str, **changes: Any) -> Project: ...

    def delete_project(self, project_id: str) -> None: ...

    def create_deployment(
        self, project_id: str, deployment_id: str, **settings: Any
    ) -> Deployment: ...

    def list_deployments(self, project_id: str) -> list[Deployment]: ...


class Project(Resource[ProjectCalls]):
    """A project: the reference's fields (``create_project``), and its deployments."""

    project_id: str
    project_description: str | None = None
    project_type: str | None = None
    purpose: str | None = None
    project_start_date: str | None = None
    project_end_date: str | None = None
    data_science_lead: str | None = None
    data_lead: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __repr__(self) -> str:
        return f"Project(project_id={self.project_id!r})"

    def describe(self) -> Project:
        return self._client.describe_project(self.project_id)

    def refresh(self) -> Project:
        """Describe again and take the new fields; self."""
        return self._replace_with(self.describe())

    def update(self, **changes: Any) -> Project:
        """Change fields given by their ``create_project`` names (``data_lead=...``); self."""
        return self._replace_with(self._client.update_project(self.project_id, **changes))

    def delete(self) -> None:
        """Delete the project (:class:`~recostack.errors.Conflict` while it has deployments)."""
        self._client.delete_project(self.project_id)

    def create_deployment(self, deployment_id: str, **settings: Any) -> Deployment:
        """A deployment version in this project (``Client.create_deployment``'s arguments)."""
        return self._client.create_deployment(self.project_id, deployment_id, **settings)

    def list_deployments(self) -> list[Deployment]:
        return self._client.list_deployments(self.project_id)
