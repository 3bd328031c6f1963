"""Running one batch job in a worker: chunk after chunk, resumable, published at the end.

The job's input is read a chunk at a time from where its last finished
chunk ended (:mod:`recostack.jobs.batch_io`); each chunk is scored by the
job's engine (:mod:`recostack.jobs.batch_scoring` on the local engine,
:mod:`recostack.engines.spark.batch` on Spark), appended to the output's
temporary file, flushed to disk, and then counted in the store under the
job's lease (:func:`~recostack.store.batch_repository.record_chunk`). A
worker that dies between the write and the count leaves bytes past the
counted offset, which the next run cuts off before it goes on: every input
line is in the output exactly once. When the input is exhausted the output
is renamed to its final name and the job is done.
"""

from __future__ import annotations

import csv
import logging
import os
import threading
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recostack.algorithms.exploration import ItemExploration
from recostack.errors import Conflict, RecostackError
from recostack.jobs.batch_io import (
    ChunkedOutput,
    LineInput,
    UsersInput,
    count_lines,
    partial_path,
)
from recostack.jobs.batch_lines import BatchRequest, CsvLines, JsonLines
from recostack.jobs.batch_records import CustomersInput
from recostack.jobs.batch_scoring import (
    BatchRules,
    ChunkScorer,
    DeploymentScorer,
    LineFormat,
    ModelScorer,
)
from recostack.jobs.queue import ClaimedJob
from recostack.jobs.runner import JobCancelled
from recostack.serving import Serving
from recostack.settings import Settings
from recostack.store.availability import is_database_unavailable
from recostack.store.batch_repository import get_batch_job, record_chunk, set_lines_total
from recostack.store.engine import Database
from recostack.store.serving_source import serving_sources

__all__ = ["BatchRun", "batch_serving", "run_batch_job"]

logger = logging.getLogger(__name__)

BatchInput = LineInput | UsersInput | CustomersInput


@dataclass(frozen=True)
class BatchRun:
    """What a run needs of the job's row, read once when it starts."""

    id: str
    name: str
    kind: str
    model_id: str | None
    deployment_id: str | None
    engine: str
    config: dict[str, Any]
    input_path: Path | None
    output_path: Path
    lines_total: int | None
    lines_done: int
    lines_failed: int
    input_offset: int
    output_offset: int

    @property
    def seed(self) -> int:
        return int(self.config.get("seed") or int(self.id.replace("-", "")[:15], 16))

    @property
    def exploration(self) -> ItemExploration | None:
        return ItemExploration.from_wire(self.config.get("itemExplorationConfig"))


def _run_of(settings: Settings, db: Database, batch_job_id: str) -> BatchRun:
    with db.transaction() as session:
        row = get_batch_job(session, batch_job_id)
        return BatchRun(
            row.id,
            row.name,
            row.kind,
            row.model_id,
            row.deployment_id,
            row.engine,
            dict(row.config or {}),
            Path(row.input_path) if row.input_path else None,
            Path(row.output_path),
            row.lines_total,
            row.lines_done,
            row.lines_failed,
            row.input_offset,
            row.output_offset,
        )


def batch_serving(settings: Settings, db: Database) -> Serving:
    """The serving layer a worker scores batch lines with (no threads of its own: it reads
    the store's stamps when it is asked)."""
    return Serving(
        serving_sources(db.engine),
        settings.models_dir,
        model_cache_bytes=settings.model_cache_bytes,
        refresh_seconds=settings.state_refresh_seconds,
        online_max_backlog=settings.online_learning_max_backlog,
    )


def _format(run: BatchRun, header: list[str] | None, explains: bool) -> LineFormat:
    config = run.config
    metadata: dict[str, Any] = {}
    # the reference's metadata: prediction start time, batch prediction version, model
    # version (per line: the model that answered it)
    model_version = bool(config.get("outputIncludesMetadata"))
    if model_version:
        metadata = {
            "predictionStartTime": config.get("predictionStartTime"),
            "batchPredictionVersion": run.id,
            "deploymentId": run.deployment_id,
        }
    if config.get("campaign"):
        metadata["campaign"] = config["campaign"]
    if str(config.get("outputFormat") or "json").lower() == "csv":
        default = ["customerId", "userId"] if config.get("inputCustomers") else ["userId", "itemId"]
        columns = list(config.get("resultInputColumns") or header or default)
        return CsvLines(
            columns,
            input_prefix=str(config.get("csvInputPrefix") or ""),
            prediction_prefix=str(config.get("csvPredictionPrefix") or ""),
            metadata=metadata,
            model_version=model_version,
        )
    return JsonLines(explains=explains, metadata=metadata, model_version=model_version)


def _input(run: BatchRun, serving: Serving, db: Database) -> BatchInput:
    if run.config.get("inputCustomers"):
        return CustomersInput(db, run.config["inputCustomers"])
    if run.input_path is not None:
        if not run.input_path.is_file():
            raise Conflict(f"the input {run.input_path} cannot be read", field="jobInput")
        fmt = str(run.config.get("inputFormat") or "")
        suffix = run.input_path.suffix.lower()
        return LineInput(run.input_path, fmt or ("csv" if suffix in (".csv", ".tsv") else "json"))
    model = serving.models.load(str(run.model_id))
    if model.users is None:
        raise Conflict(
            f"model {run.model_id} keeps no users (it was trained without "
            "enableUserToItemRecommendations): give the batch prediction an input",
            field="inputLocation",
        )
    return UsersInput(model.users.ids)


class _AnswerWriters:
    """The threads that store a deployment job's answers as its requests' would be: the
    prediction log and, for a deployment linked to online learning, the offers each answer
    shows (so they count as shown, and a response to a line's ``requestId`` is learned).
    Started with the job; stopping writes what is still queued."""

    def __init__(self, serving: Serving) -> None:
        self.serving = serving
        serving.prediction_logger.start()
        if serving.online is not None:
            serving.online.start()

    def stop(self) -> None:
        if self.serving.online is not None:
            self.serving.online.stop()
        self.serving.prediction_logger.stop()


def _scorer(
    run: BatchRun, settings: Settings, serving: Serving, header: list[str] | None, total: int
) -> tuple[ChunkScorer, Any]:
    """The chunk scorer of the job's engine, and what must be closed after it. A local job
    of more than one chunk is scored by a process per core (``RECOSTACK_BATCH_PROCESSES``)."""
    exploration = run.exploration
    count = int(run.config.get("numResults") or 25)
    if run.deployment_id is not None:
        live = serving.live.get(run.deployment_id)
        explains = exploration is not None or live.config.exploration is not None
        fmt = _format(run, header, explains)
        writers = _AnswerWriters(serving)
        deployments = serving.deployments  # the process's pipeline, online learning included
        # the job's rules as a recommend request's arguments (an inference job's), or a batch
        # prediction's global_prediction_args: the deployment resolves them as for one request
        arguments = {
            **BatchRules.of(run.config).arguments(),
            **dict(run.config.get("globalPredictionArgs") or {}),
        }
        arguments.setdefault("count", count)
        scorer: ChunkScorer = DeploymentScorer(
            deployments,
            run.deployment_id,
            fmt,
            header,
            run.seed,
            arguments,
            exploration,
            max(1, int(run.config.get("threads") or 1)),
        )
        return scorer, writers
    model_id = str(run.model_id)
    model = serving.models.load(model_id)
    fmt = _format(run, header, exploration is not None)
    rules = BatchRules.of(run.config)
    local = ModelScorer(
        serving.recommender,
        model_id,
        model,
        count=count,
        rules=rules,
        exploration=exploration,
        fmt=fmt,
        header=header,
        seed=run.seed,
    )
    _probe(local, run)
    payload = {
        "model_dir": str(settings.models_dir / model_id),
        "model_id": model_id,
        "snapshot": serving.scenarios.current(),
        "count": count,
        "rules": rules,
        "exploration": exploration,
        "fmt": fmt,
        "header": header,
        "seed": run.seed,
    }
    if run.engine == "spark":
        from recostack.jobs.batch_spark import SparkChunkScorer

        return SparkChunkScorer(settings.spark_master, payload), None
    processes = settings.batch_processes or os.cpu_count() or 1
    if processes > 1 and total > settings.batch_chunk_lines:
        from recostack.jobs.batch_pool import PooledChunkScorer

        pooled = PooledChunkScorer(processes, payload, fmt)
        return pooled, pooled
    return local, None


def _probe(scorer: ModelScorer, run: BatchRun) -> None:
    """Refuse a job whose rules cannot be used with its model at all (e.g. a filter on a
    property the catalog lacks), before any line is written."""
    try:
        scorer.answer(BatchRequest({}, user_id="\x00probe"), 0)
    except RecostackError as exc:
        raise type(exc)(
            f"the job's rules cannot be used with model {run.model_id}: {exc.message}",
            field=exc.field,
        ) from exc


def run_batch_job(
    settings: Settings, db: Database, job: ClaimedJob, cancel: threading.Event
) -> dict[str, Any]:
    """Score the batch job ``job.subject_id`` from where it stopped; its statistics."""
    run = _run_of(settings, db, job.subject_id)
    chunk_lines = int(run.config.get("chunkLines") or settings.batch_chunk_lines)
    serving = batch_serving(settings, db)
    with ExitStack() as stack:
        source = _input(run, serving, db)
        stack.callback(source.close)
        header = None
        if isinstance(source, LineInput) and source.header is not None:
            header = [h.strip() for h in next(csv.reader([source.header.decode("utf-8")]))]
        total = run.lines_total
        if total is None:
            total = count_lines(source.path) if isinstance(source, LineInput) else len(source)
            if header is not None:
                total -= 1
            with db.transaction() as session:
                set_lines_total(session, run.id, total)
        scorer, closing = _scorer(run, settings, serving, header, total)
        if closing is not None:
            stack.callback(getattr(closing, "close", None) or closing.stop)
        # published already (a previous output at that path does not count: this job's
        # partial output is still there until it is renamed)
        published = not partial_path(run.output_path, run.id).exists()
        if run.lines_done >= total and run.output_path.exists() and published:
            return _statistics(run.lines_done, run.lines_failed, total)
        output = ChunkedOutput(run.output_path, run.id, run.output_offset)
        try:
            done, failed = _score_chunks(db, job, run, source, scorer, output, chunk_lines, cancel)
            output.publish()
        except JobCancelled:
            output.close()
            raise
        except BaseException as exc:
            if is_database_unavailable(exc):  # kept: the job resumes there once it is back
                output.close()
            else:
                output.discard()
            raise
        output.close()
    logger.info("batch job %s: %d lines (%d failed)", run.id, done, failed)
    return _statistics(done, failed, total)


def _score_chunks(
    db: Database,
    job: ClaimedJob,
    run: BatchRun,
    source: BatchInput,
    scorer: ChunkScorer,
    output: ChunkedOutput,
    chunk_lines: int,
    cancel: threading.Event,
) -> tuple[int, int]:
    done, failed = run.lines_done, run.lines_failed
    if run.output_offset == 0 and scorer.header:
        output.append(scorer.header)
    for chunk in source.chunks(run.input_offset, chunk_lines):
        if cancel.is_set():
            raise JobCancelled("the batch job was cancelled")
        data, chunk_failed = scorer.score(chunk.lines, done)
        offset = output.append(data)
        with db.transaction() as session:
            counted = record_chunk(
                session,
                job_id=job.job_id,
                owner=job.owner,
                batch_job_id=run.id,
                input_offset=chunk.end,
                output_offset=offset,
                lines=len(chunk),
                failed=chunk_failed,
            )
        if not counted:
            raise JobCancelled("the batch job's lease was lost")
        done += len(chunk)
        failed += chunk_failed
    return done, failed


def _statistics(done: int, failed: int, total: int) -> dict[str, Any]:
    return {"linesTotal": total, "linesDone": done, "linesFailed": failed}
