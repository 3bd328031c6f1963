"""``recostack batch run|status``: batch inference jobs on a running server, with a progress bar.

``run`` creates a job (a model or a deployment, an input and an output
path as the server sees them) and, unless ``--no-wait``, follows it with a
rich progress bar (lines done of the total, rate, ETA) until it is ACTIVE
or failed; ``status`` shows one job's progress, or follows it with
``--follow``. Both take ``--url`` and ``--api-key`` (env ``RECOSTACK_URL``,
``RECOSTACK_API_KEY``).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from recostack.cli import app
from recostack.cli.deployment_commands import DEFAULT_URL, ApiKey, Url
from recostack.client import BatchInferenceJob, Client
from recostack.errors import Invalid, RecostackError

__all__ = ["batch_app"]

console = Console(soft_wrap=True)
batch_app = typer.Typer(help="Batch inference jobs on a running server.", no_args_is_help=True)
app.add_typer(batch_app, name="batch")

_DONE = ("ACTIVE", "CREATE FAILED")


def _follow(job: BatchInferenceJob, every: float) -> BatchInferenceJob:
    """Refresh the job until it is done, drawing its progress."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(job.job_name, total=None, rate="")
        while True:
            figures = job.progress
            rate = figures.get("linesPerSecond")
            progress.update(
                task,
                total=figures.get("linesTotal"),
                completed=figures.get("linesDone") or 0,
                description=f"{job.job_name} {job.status}",
                rate=f"{rate:,.0f} lines/s" if rate else "",
            )
            if job.status in _DONE:
                return job
            time.sleep(every)
            job.refresh()


def _report(job: BatchInferenceJob) -> None:
    table = Table(title=f"batch inference job {job.job_name}")
    table.add_column("field")
    table.add_column("value")
    rows: dict[str, Any] = {
        "batchInferenceJobArn": job.batch_inference_job_arn,
        "status": job.status,
        "failureReason": job.failure_reason,
        "model": job.solution_version_arn,
        "deployment": job.deployment_id,
        "engine": job.engine,
        "input": job.job_input.get("s3DataSource", {}).get("path"),
        "output": job.job_output.get("s3DataDestination", {}).get("path"),
        **{k: v for k, v in job.progress.items()},
    }
    for name, value in rows.items():
        if value is not None:
            table.add_row(name, str(value))
    console.print(table)


@batch_app.command("run")
def run(
    input_path: Annotated[str, typer.Option("--input", help="<container>/<path> or a path")],
    output_path: Annotated[str, typer.Option("--output", help="<container>/<path> or a path")],
    model: Annotated[str | None, typer.Option(help="a Completed model's id")] = None,
    deployment: Annotated[str | None, typer.Option(help="score through this deployment")] = None,
    name: Annotated[str, typer.Option(help="the job's name")] = "batch",
    count: Annotated[int, typer.Option("--num-results", help="items per line")] = 25,
    engine: Annotated[str, typer.Option(help="local or spark")] = "local",
    exploration_weight: Annotated[
        float | None, typer.Option(help="itemExplorationConfig.explorationWeight, 0..1")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="follow the job")] = True,
    every: Annotated[float, typer.Option(help="seconds between refreshes")] = 1.0,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """Create a batch inference job and follow it with a progress bar."""
    if (model is None) == (deployment is None):
        raise Invalid("give --model or --deployment", field="--model")
    config = None
    if exploration_weight is not None:
        config = {"itemExplorationConfig": {"explorationWeight": str(exploration_weight)}}
    with Client(url, api_key) as client:
        job = client.create_batch_inference_job(
            job_name=name,
            job_input=input_path,
            job_output=output_path,
            solution_version_arn=model,
            deployment_id=deployment,
            num_results=count,
            engine=engine,
            batch_inference_job_config=config,
        )
        console.print(f"batch inference job [bold]{job.batch_inference_job_arn}[/bold] created")
        if wait:
            job = _follow(job, every)
        _report(job)
    if job.status == "CREATE FAILED":
        raise RecostackError(f"the job failed: {job.failure_reason}")


@batch_app.command("status")
def status(
    job_id: Annotated[str, typer.Argument(help="the job's batchInferenceJobArn")],
    follow: Annotated[bool, typer.Option("--follow", help="follow it to the end")] = False,
    every: Annotated[float, typer.Option(help="seconds between refreshes")] = 1.0,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """Show a batch inference job's status and progress."""
    with Client(url, api_key) as client:
        job = client.describe_batch_inference_job(job_id)
        if follow:
            job = _follow(job, every)
        _report(job)
