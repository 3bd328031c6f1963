"""Batch predictions through a deployment (the reference's ``create_batch_prediction``).

A batch prediction is a description: the deployment, the arguments of every
prediction (``global_prediction_args``: count, filters, reranking, scenario,
context...), the batch's own (``batch_prediction_args``: ``inputLocation``,
``itemExplorationConfig``), the output (``output_format`` CSV or JSON,
``output_location``, ``csv_input_prefix``, ``csv_prediction_prefix``,
``output_includes_metadata``, ``result_input_columns``) and an optional
``refresh_schedule`` (cron, UTC). Each run is a batch job (a "batch
prediction version") scored by the workers through the deployment's whole
pipeline; creating one runs it once at once, the schedule runs it again at
each due time (:mod:`recostack.jobs.batch_schedule`), ``start`` runs it now.

Input: ``inputLocation`` (a file, as batch inference jobs take them), else,
for a deployment linked to an online learning configuration, that
configuration's batch input: the customer records of ``batch_collection``
that match ``batch_find`` (equality on fields), whose user is the
``batch_userid`` field (default: the customer id) and whose context is the
``batch_contextual_variables`` fields; else every user of the deployed
model's training data (the reference's default input). For a linked
configuration ``batch_number_of_offers`` is the count (unless
``global_prediction_args`` gives one), ``batch_collection_out`` (in the
container ``batch_database_out``, default ``batch``) the default output,
``batch_campaign`` is written to every output line, and ``batch_threads``
scores a chunk on that many threads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from recostack.algorithms.exploration import ItemExploration
from recostack.errors import Invalid, NotFound, Unprocessable
from recostack.jobs.queue import JobKind, enqueue
from recostack.services.batch_jobs import BatchJobView
from recostack.services.batch_paths import batch_input_path, batch_output_path
from recostack.serving.deployments.config import DeploymentConfig
from recostack.settings import Settings
from recostack.store import deployment_repository
from recostack.store.batch_repository import (
    create_batch_job,
    create_batch_prediction,
    get_batch_prediction,
    list_batch_jobs,
    list_batch_predictions,
)
from recostack.store.batch_tables import BatchPredictionRow
from recostack.store.engine import Database
from recostack.store.online_repository import get_configuration
from recostack.store.tables import utcnow

__all__ = ["BatchPredictionService", "BatchPredictionView", "next_run", "start_run"]

OUTPUT_FORMATS = ("CSV", "JSON")


def next_run(schedule: str, after: datetime) -> datetime:
    """The first time ``schedule`` (cron, UTC) is due after ``after``."""
    from croniter import croniter

    try:
        found: datetime = croniter(schedule, after.astimezone(UTC)).get_next(datetime)
    except (ValueError, KeyError) as exc:
        raise Unprocessable(
            f"refresh_schedule {schedule!r} is not a usable cron expression: {exc}",
            field="refreshSchedule",
        ) from None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


@dataclass(frozen=True)
class BatchPredictionView:
    row: BatchPredictionRow
    runs: list[BatchJobView]


def _online_batch(session: Session, deployment_row: Any) -> dict[str, Any] | None:
    """The batch_* parameters of the online learning configuration the deployment links."""
    config = DeploymentConfig.parse(deployment_row.settings or {}, len(deployment_row.model_ids))
    if config.online is None:
        return None
    values = dict(get_configuration(session, config.online.config_id).parameters or {})
    return {k: v for k, v in values.items() if k.startswith("batch")}


def start_run(session: Session, settings: Settings, prediction: BatchPredictionRow) -> BatchJobView:
    """Queue a new run (version) of ``prediction``."""
    stored = dict(prediction.settings)
    config = dict(stored["job"])
    config["predictionStartTime"] = utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    row = create_batch_job(
        session,
        name=prediction.name,
        kind="prediction",
        output_path=stored["outputPath"],
        config=config,
        input_path=stored.get("inputPath"),
        model_id=stored.get("modelId"),
        deployment_id=prediction.deployment_id,
        batch_prediction_id=prediction.id,
    )
    enqueue(session, JobKind.BATCH, row.id, max_attempts=settings.job_max_attempts)
    return BatchJobView(row)


class BatchPredictionService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def create(
        self,
        deployment_id: str,
        *,
        name: str | None,
        global_prediction_args: Mapping[str, Any],
        batch_prediction_args: Mapping[str, Any],
        output_format: str,
        output_location: str | None,
        refresh_schedule: str | None,
        csv_input_prefix: str | None,
        csv_prediction_prefix: str | None,
        output_includes_metadata: bool,
        result_input_columns: list[str] | None,
    ) -> BatchPredictionView:
        output_format = output_format.upper()
        if output_format not in OUTPUT_FORMATS:
            raise Invalid(f"output_format is one of {OUTPUT_FORMATS}", field="outputFormat")
        exploration = ItemExploration.from_wire(batch_prediction_args.get("itemExplorationConfig"))
        first = next_run(refresh_schedule, utcnow()) if refresh_schedule else None
        with self.db.transaction() as session:
            try:
                deployment = deployment_repository.get_deployment(session, deployment_id)
            except NotFound as exc:
                raise NotFound(exc.message, field="deployment_id") from None
            online = _online_batch(session, deployment)
            name = name or f"{deployment.deployment_id}-batch"
            job: dict[str, Any] = {
                "outputFormat": output_format.lower(),
                "csvInputPrefix": csv_input_prefix,
                "csvPredictionPrefix": csv_prediction_prefix,
                "outputIncludesMetadata": output_includes_metadata,
                "resultInputColumns": result_input_columns,
                "globalPredictionArgs": dict(global_prediction_args),
                "itemExplorationConfig": exploration.to_wire() if exploration else None,
            }
            input_location = batch_prediction_args.get("inputLocation")
            input_path = None
            if input_location:
                input_path = batch_input_path(self.settings, str(input_location), "inputLocation")
            elif online is not None and online.get("batch_collection"):
                job["inputCustomers"] = {
                    "collection": online["batch_collection"],
                    "find": online.get("batch_find") or "{}",
                    "userId": online.get("batch_userid") or None,
                    "context": [
                        v.strip()
                        for v in str(online.get("batch_contextual_variables") or "").split(",")
                        if v.strip()
                    ],
                }
            if online is not None:
                if str(online.get("batch_execution_type") or "internal") == "external":
                    raise Unprocessable(
                        "batch_execution_type 'external' (an outside runtime) is not supported: "
                        "Recostack's workers run batches ('internal')",
                        field="batch_execution_type",
                    )
                job["threads"] = int(online.get("batch_threads") or 1)
                if "count" not in job["globalPredictionArgs"]:
                    job["globalPredictionArgs"]["count"] = int(
                        online.get("batch_number_of_offers") or 1
                    )
                if online.get("batch_campaign"):
                    job["campaign"] = online["batch_campaign"]
            if not output_location and online is not None and online.get("batch_collection_out"):
                container = online.get("batch_database_out") or "batch"
                suffix = ".csv" if output_format == "CSV" else ".jsonl"
                output_location = f"{container}/{online['batch_collection_out']}{suffix}"
            if not output_location:
                suffix = "csv" if output_format == "CSV" else "jsonl"
                output_location = f"batch-predictions/{deployment_id}/{name}.{suffix}"
            output_path = batch_output_path(
                self.settings, output_location, "outputLocation", input_path=input_path
            )
            model_id = None
            if input_path is None and "inputCustomers" not in job:
                model_id = deployment.model_ids[0] if deployment.model_ids else None
            row = create_batch_prediction(
                session,
                deployment_id=deployment.deployment_id,
                name=name,
                settings={
                    "job": job,
                    "inputPath": None if input_path is None else str(input_path),
                    "outputPath": str(output_path),
                    "modelId": model_id,
                    "arguments": {
                        "global_prediction_args": dict(global_prediction_args),
                        "batch_prediction_args": dict(batch_prediction_args),
                        "output_format": output_format,
                        "output_location": output_location,
                        "csv_input_prefix": csv_input_prefix,
                        "csv_prediction_prefix": csv_prediction_prefix,
                        "output_includes_metadata": output_includes_metadata,
                        "result_input_columns": result_input_columns,
                    },
                },
                refresh_schedule=refresh_schedule,
                next_run_at=first,
            )
            run = start_run(session, self.settings, row)
            return BatchPredictionView(row, [run])

    def describe(self, prediction_id: str) -> BatchPredictionView:
        with self.db.transaction() as session:
            row = get_batch_prediction(session, prediction_id)
            runs = list_batch_jobs(session, batch_prediction_id=row.id, limit=100)
            return BatchPredictionView(row, [BatchJobView(r) for r in runs])

    def list(self, deployment_id: str) -> list[BatchPredictionView]:
        with self.db.transaction() as session:
            deployment_repository.get_deployment(session, deployment_id)
            return [
                BatchPredictionView(
                    row,
                    [
                        BatchJobView(r)
                        for r in list_batch_jobs(session, batch_prediction_id=row.id, limit=1)
                    ],
                )
                for row in list_batch_predictions(session, deployment_id)
            ]

    def start(self, prediction_id: str) -> BatchPredictionView:
        with self.db.transaction() as session:
            row = get_batch_prediction(session, prediction_id)
            start_run(session, self.settings, row)
        return self.describe(prediction_id)
