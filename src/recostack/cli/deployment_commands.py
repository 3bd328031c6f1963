"""``recostack projects ...`` and ``recostack deployments ...``: a running server, through the SDK.

Every command takes ``--url`` and ``--api-key`` (env ``RECOSTACK_URL``,
``RECOSTACK_API_KEY``) and prints rich tables; errors of the server are
the library's own classes, which the CLI prints as one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from recostack.cli import app
from recostack.client import Client, Deployment
from recostack.errors import Invalid

console = Console(soft_wrap=True)  # long paths and URLs stay on one line

projects_app = typer.Typer(help="Projects on a running server.", no_args_is_help=True)
deployments_app = typer.Typer(help="Deployments on a running server.", no_args_is_help=True)
app.add_typer(projects_app, name="projects")
app.add_typer(deployments_app, name="deployments")

Url = Annotated[
    str, typer.Option("--url", envvar="RECOSTACK_URL", help="the server [env RECOSTACK_URL]")
]
ApiKey = Annotated[
    str,
    typer.Option(
        "--api-key", envvar="RECOSTACK_API_KEY", help="an admin key [env RECOSTACK_API_KEY]"
    ),
]
Version = Annotated[str | None, typer.Option("--version", help="a version (default: newest)")]
DEFAULT_URL = "http://127.0.0.1:8000"

_DEPLOYMENT_COLUMNS = (
    "deploymentId",
    "version",
    "status",
    "projectStatus",
    "modelVersion",
    "error",
)


def _table(title: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    return table


def _show(deployment: Deployment) -> None:
    table = Table(title=f"deployment {deployment.deployment_id} v{deployment.version}")
    table.add_column("field")
    table.add_column("value")
    for name, value in deployment.to_dict().items():
        if value not in (None, {}, []):
            shown = json.dumps(value) if isinstance(value, dict | list) else str(value)
            table.add_row(name, shown)
    console.print(table)


# --- projects ---------------------------------------------------------------------------


@projects_app.command("list")
def list_projects(url: Url = DEFAULT_URL, api_key: ApiKey = "") -> None:
    """List the projects."""
    with Client(url, api_key) as client:
        rows = [p.to_dict() for p in client.list_projects()]
    columns = ("projectId", "projectDescription", "projectType", "dataScienceLead", "dataLead")
    console.print(_table("projects", columns, rows))


@projects_app.command("create")
def create_project(
    project_id: str,
    description: Annotated[str | None, typer.Option(help="project_description")] = None,
    project_type: Annotated[str | None, typer.Option("--type", help="project_type")] = None,
    purpose: Annotated[str | None, typer.Option()] = None,
    data_science_lead: Annotated[str | None, typer.Option()] = None,
    data_lead: Annotated[str | None, typer.Option()] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """Create a project."""
    with Client(url, api_key) as client:
        client.create_project(
            project_id,
            project_description=description,
            project_type=project_type,
            purpose=purpose,
            data_science_lead=data_science_lead,
            data_lead=data_lead,
        )
    console.print(f"project [bold]{project_id}[/] created")


@projects_app.command("delete")
def delete_project(project_id: str, url: Url = DEFAULT_URL, api_key: ApiKey = "") -> None:
    """Delete a project (refused while it has deployments)."""
    with Client(url, api_key) as client:
        client.delete_project(project_id)
    console.print(f"project [bold]{project_id}[/] deleted")


# --- deployments -----------------------------------------------------------------------


def _read_spec(path: Path) -> dict[str, Any]:
    text = path.read_text()
    spec = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    if not isinstance(spec, dict):
        raise Invalid(f"{path} must hold one object (the deployment's fields)", field="file")
    return spec


@deployments_app.command("create")
def create_deployment(
    file: Annotated[Path, typer.Argument(help="a YAML or JSON file of the deployment's fields")],
    project: Annotated[
        str | None, typer.Option("--project", help="the project (default: project_id in the file)")
    ] = None,
    wait: Annotated[bool, typer.Option(help="wait until ACTIVE (or FAILED)")] = True,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """Create a deployment version from a file (snake_case or camelCase fields)."""
    spec = _read_spec(file)
    project_id = project or spec.pop("project_id", None) or spec.pop("projectId", None)
    if not project_id:
        raise Invalid("give --project or project_id in the file", field="project")
    deployment_id = spec.pop("deployment_id", None) or spec.pop("deploymentId", None)
    if not deployment_id:
        raise Invalid("the file needs a deployment_id", field="deployment_id")
    with Client(url, api_key) as client:
        deployment = client.create_deployment(str(project_id), str(deployment_id), **spec)
        if wait:
            deployment.wait_for_deployment()
    _show(deployment)


@deployments_app.command("list")
def list_deployments(
    project: Annotated[str, typer.Argument(help="the project")],
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """List a project's deployments."""
    with Client(url, api_key) as client:
        rows = [d.to_dict() for d in client.list_deployments(project)]
    console.print(_table(f"deployments of {project}", _DEPLOYMENT_COLUMNS, rows))


@deployments_app.command("describe")
def describe(
    deployment_id: str, version: Version = None, url: Url = DEFAULT_URL, api_key: ApiKey = ""
) -> None:
    """Describe a deployment."""
    with Client(url, api_key) as client:
        _show(client.describe_deployment(deployment_id, version))


@deployments_app.command("start")
def start(
    deployment_id: str, version: Version = None, url: Url = DEFAULT_URL, api_key: ApiKey = ""
) -> None:
    """Start a deployment and wait until it is ACTIVE (or FAILED)."""
    with Client(url, api_key) as client:
        _show(client.start_deployment(deployment_id, version).wait_for_deployment())


@deployments_app.command("stop")
def stop(
    deployment_id: str, version: Version = None, url: Url = DEFAULT_URL, api_key: ApiKey = ""
) -> None:
    """Stop a deployment."""
    with Client(url, api_key) as client:
        _show(client.stop_deployment(deployment_id, version))


@deployments_app.command("promote")
def promote(
    deployment_id: str,
    model_version: Annotated[str, typer.Argument(help="the id of a Completed model")],
    version: Version = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """Serve another model version (loaded before the switch)."""
    with Client(url, api_key) as client:
        deployment = client.set_deployment_model_version(
            deployment_id, model_version, version=version
        )
        _show(deployment.wait_for_pending_deployment_update())


@deployments_app.command("rollback")
def rollback(
    deployment_id: str, version: Version = None, url: Url = DEFAULT_URL, api_key: ApiKey = ""
) -> None:
    """Return to the model version served before the current one."""
    with Client(url, api_key) as client:
        _show(
            client.rollback_deployment(deployment_id, version).wait_for_pending_deployment_update()
        )


@deployments_app.command("logs")
def logs(
    deployment_id: str,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 10,
    responses: Annotated[bool, typer.Option(help="response logs instead of predictions")] = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """The newest prediction (or response) logs."""
    with Client(url, api_key) as client:
        if responses:
            rows = [r.to_dict() for r in client.get_response_logs_records(deployment_id, limit)]
            columns: tuple[str, ...] = (
                "timestamp",
                "requestId",
                "itemId",
                "event",
                "reward",
                "takeUp",
            )
        else:
            records = client.get_prediction_logs_records(deployment_id, limit)
            rows = [{**r.to_dict(), "items": " ".join(i.item_id for i in r.items)} for r in records]
            columns = ("timestamp", "requestId", "version", "userId", "items", "latencyMs")
    console.print(
        _table(f"{'responses' if responses else 'predictions'} of {deployment_id}", columns, rows)
    )
