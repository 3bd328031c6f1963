"""Batch inference jobs as use cases: create (checked, stored, queued), describe, list.

Creating a job checks everything that can be checked before any line is
scored — the model exists and is Completed (or the deployment exists), the
scenario exists, the input can be read, the output is somewhere the server
may write — stores the job PENDING and queues it for the workers. The
workers run it (:mod:`recostack.jobs.batch_runner`).

Each refusal names its field. A request the document accepts but the
stored state refuses is not a 400 (the API's OpenAPI conformance holds it
to that): no such input file, model, deployment or scenario is a 404, a
model that is not Completed a 409, an output the server may not write a
422.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from recostack.algorithms.exploration import ItemExploration
from recostack.errors import Conflict, Invalid, NotFound, Unprocessable
from recostack.jobs.queue import JobKind, enqueue
from recostack.services.batch_paths import batch_input_path, batch_output_path
from recostack.settings import Settings
from recostack.store import deployment_repository
from recostack.store.batch_repository import create_batch_job, get_batch_job, list_batch_jobs
from recostack.store.batch_tables import BatchJobRow
from recostack.store.engine import Database
from recostack.store.model_repository import get_model
from recostack.store.scenario_repository import read_scenario_snapshot
from recostack.training.status import ModelStatus

__all__ = ["ENGINES", "BatchJobService", "BatchJobSpec", "BatchJobView", "completed_model"]

ENGINES = ("local", "spark")


@dataclass(frozen=True)
class BatchJobSpec:
    """A batch inference job as asked for (camelCase config keys, as stored)."""

    job_name: str
    input_path: str
    output_path: str
    model_id: str | None = None
    deployment_id: str | None = None
    engine: str = "local"
    config: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class BatchJobView:
    """A job as describe shows it: its row, with progress figures derived from it."""

    row: BatchJobRow

    @property
    def rate(self) -> float | None:
        """Lines per second of the current (or last) run."""
        row = self.row
        if row.started_at is None:
            return None
        seconds = (row.updated_at - row.started_at).total_seconds()
        lines = row.lines_done - row.run_started_lines
        return round(lines / seconds, 1) if seconds > 0 and lines > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the run's rate (none while the rate is unknown or rounds to 0)."""
        rate, row = self.rate, self.row
        if not rate or row.lines_total is None or row.status != "IN PROGRESS":
            return None
        return round(max(0, row.lines_total - row.lines_done) / rate, 1)


def completed_model(session: Session, model_id: str, field: str) -> str:
    """The canonical id of a Completed model (404: none; 409: not Completed)."""
    try:
        model = get_model(session, model_id)
    except NotFound as exc:
        raise NotFound(exc.message, field=field) from None
    if model.status != ModelStatus.COMPLETED:
        raise Conflict(
            f"model {model.id} is {model.status}; only a Completed model can score a batch",
            field=field,
        )
    return model.id


def check_scenario(session: Session, name: str | None, field: str) -> None:
    if name is None:
        return
    snapshot = read_scenario_snapshot(session.connection())
    if not any(name in snapshot.of_type(t) for t in snapshot.scenarios):
        raise NotFound(f"there is no scenario {name!r}", field=field)


class BatchJobService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def create(self, spec: BatchJobSpec) -> BatchJobView:
        config = dict(spec.config or {})
        if spec.engine not in ENGINES:
            raise Invalid(f"engine is one of {ENGINES}", field="engine")
        if (spec.model_id is None) == (spec.deployment_id is None):
            raise Invalid(
                "give solutionVersionArn (a model) or deploymentId", field="solutionVersionArn"
            )
        if spec.deployment_id is not None and spec.engine != "local":
            raise Unprocessable(
                "a deployment's pipeline (customer lookup, whitelist, online learning) runs on "
                "the local engine: engine spark scores with a model (solutionVersionArn)",
                field="engine",
            )
        ItemExploration.from_wire(config.get("itemExplorationConfig"))
        input_path = batch_input_path(self.settings, spec.input_path, "jobInput")
        output_path = batch_output_path(
            self.settings, spec.output_path, "jobOutput", input_path=input_path
        )
        with self.db.transaction() as session:
            model_id = None
            if spec.model_id is not None:
                model_id = completed_model(session, spec.model_id, "solutionVersionArn")
            if spec.deployment_id is not None:
                try:
                    deployment_repository.get_deployment(session, spec.deployment_id)
                except NotFound as exc:
                    raise NotFound(exc.message, field="deploymentId") from None
            scenario_field = "filterArn" if config.get("filterArn") else "scenario"
            check_scenario(
                session, config.get("filterArn") or config.get("scenario"), scenario_field
            )
            row = create_batch_job(
                session,
                name=spec.job_name,
                kind="inference",
                output_path=str(output_path),
                config=config,
                input_path=str(input_path),
                model_id=model_id,
                deployment_id=spec.deployment_id,
                engine=spec.engine,
            )
            enqueue(session, JobKind.BATCH, row.id, max_attempts=self.settings.job_max_attempts)
            return BatchJobView(row)

    def describe(self, job_id: str) -> BatchJobView:
        with self.db.transaction() as session:
            return BatchJobView(get_batch_job(session, job_id))

    def list(
        self, *, model_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[BatchJobView], int | None]:
        """Jobs newest first; the offset of the next page (``None``: no more)."""
        with self.db.transaction() as session:
            rows = list_batch_jobs(
                session, kind="inference", model_id=model_id, limit=limit + 1, offset=offset
            )
        more = len(rows) > limit
        return [BatchJobView(r) for r in rows[:limit]], (offset + limit if more else None)


def output_display(path: str, settings: Settings) -> str:
    """A job's output as the API shows it: ``<container>/<path>`` inside the input files."""
    return _display(Path(path), settings)


def _display(path: Path, settings: Settings) -> str:
    files = settings.files_dir.resolve()
    if path.is_relative_to(files):
        return path.relative_to(files).as_posix()
    return str(path)


def wire_time(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
