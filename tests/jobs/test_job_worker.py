"""The worker: outcomes of a training, and crashes of workers and training processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import make_settings
from recostack.jobs import runner
from recostack.jobs.queue import claim_next
from recostack.jobs.training import submit_training
from recostack.jobs.worker import Worker, _owner_is_dead
from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.store.model_repository import delete_model_row, get_model
from recostack.store.tables import ModelRow
from recostack.training.parameters import parse_training_parameters
from recostack.training.status import ModelStatus


def _submit(
    settings: Settings, db: Database, container: str, usage: str = "usage.csv", **extra: object
) -> str:
    params = parse_training_parameters(
        {"blobContainerName": container, "usageRelativePath": usage, "supportThreshold": 3, **extra}
    )
    with db.transaction() as session:
        return submit_training(
            session, params, files_root=settings.files_dir, max_attempts=settings.job_max_attempts
        ).id


def _row(db: Database, model_id: str) -> ModelRow:
    with db.transaction() as session:
        return get_model(session, model_id)


def test_a_training_completes_and_publishes_its_artifacts(
    settings: Settings, db: Database, container: str
) -> None:
    model_id = _submit(
        settings,
        db,
        container,
        catalogFileRelativePath="catalog.csv",
        evaluationUsageRelativePath="eval.csv",
    )
    assert Worker(settings, db).run_once() is True
    row = _row(db, model_id)
    assert row.status == ModelStatus.COMPLETED
    assert row.status_message == "Model Training Completed Successfully"
    assert row.statistics is not None
    assert row.statistics["usageEventsParsing"]["successfulLinesCount"] == 144
    assert row.statistics["catalogParsing"]["successfulLinesCount"] == 14
    assert "precisionMetrics" in row.statistics["evaluation"]["metrics"]
    assert (settings.models_dir / model_id / "model.json").is_file()
    assert sorted(p.name for p in settings.models_dir.iterdir()) == [model_id]
    assert Worker(settings, db).run_once() is False


def test_a_file_without_valid_lines_fails_with_the_parsing_report(
    settings: Settings, db: Database, container: str
) -> None:
    model_id = _submit(settings, db, container, usage="bad.csv")
    Worker(settings, db).run_once()
    row = _row(db, model_id)
    assert row.status == ModelStatus.FAILED
    assert row.status_message and "usage" in row.status_message
    assert row.statistics is not None
    report = row.statistics["usageEventsParsing"]
    assert report["successfulLinesCount"] == 0 and report["totalLinesCount"] == 2
    assert {e["error"] for e in report["errors"]} >= {"MissingFields"}
    assert not (settings.models_dir / model_id).exists()


def test_a_dead_workers_job_is_trained_again_after_its_lease(
    settings: Settings, db: Database, container: str
) -> None:
    model_id = _submit(settings, db, container)
    with db.transaction() as session:
        assert claim_next(session, "died", lease_seconds=0.2) is not None
    worker = Worker(settings, db)
    assert worker.run_once() is False  # the lease still holds
    assert _row(db, model_id).status == ModelStatus.IN_PROGRESS
    time.sleep(0.3)
    assert worker.run_once() is True
    assert _row(db, model_id).status == ModelStatus.COMPLETED


def test_a_job_whose_workers_keep_dying_ends_failed(
    data_dir: Path, database_url: str, db: Database, container: str
) -> None:
    settings = make_settings(data_dir, database_url, job_max_attempts=2)
    model_id = _submit(settings, db, container)
    for owner in ("died-1", "died-2"):
        with db.transaction() as session:
            assert claim_next(session, owner, lease_seconds=0.05) is not None
        time.sleep(0.1)
    assert Worker(settings, db).run_once() is False
    row = _row(db, model_id)
    assert row.status == ModelStatus.FAILED
    assert row.status_message and "after 2 attempts" in row.status_message


def test_a_model_deleted_while_training_leaves_nothing_behind(
    settings: Settings, db: Database, container: str
) -> None:
    model_id = _submit(settings, db, container)
    worker = Worker(settings, db)
    with db.transaction() as session:
        job = claim_next(session, worker.owner, lease_seconds=30)
    assert job is not None
    with db.transaction() as session:
        delete_model_row(session, model_id)
    worker.process(job)
    assert list(settings.models_dir.iterdir()) == []


def test_training_in_a_child_process(
    data_dir: Path, database_url: str, db: Database, container: str
) -> None:
    settings = make_settings(data_dir, database_url, train_in_subprocess=True)
    model_id = _submit(settings, db, container)
    Worker(settings, db, isolate=True).run_once()
    assert _row(db, model_id).status == ModelStatus.COMPLETED
    bad = _submit(settings, db, container, usage="bad.csv")
    Worker(settings, db, isolate=True).run_once()
    row = _row(db, bad)
    assert row.status == ModelStatus.FAILED and row.statistics is not None
    assert row.statistics["usageEventsParsing"]["successfulLinesCount"] == 0


def _die(*_args: object) -> None:
    os._exit(3)


def test_a_training_process_that_dies_is_retried_then_failed(
    data_dir: Path, database_url: str, db: Database, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(data_dir, database_url, job_max_attempts=2)
    model_id = _submit(settings, db, container)
    monkeypatch.setattr(runner, "_child_main", _die)
    worker = Worker(settings, db, isolate=True)
    worker.run_once()
    row = _row(db, model_id)
    assert row.status == ModelStatus.CREATED
    assert row.status_message and "exit code 3" in row.status_message
    worker.run_once()
    row = _row(db, model_id)
    assert row.status == ModelStatus.FAILED
    assert row.status_message == (
        "Model training failed after 2 attempts: the training process died (exit code 3)"
    )


_STALLING_WORKER = textwrap.dedent(
    """
    import time
    from recostack.jobs import worker
    from recostack.settings import Settings

    def stall(params, *, container_dir, out_dir, progress, cancelled, isolate):
        while True:
            progress("stalling", 0.5)
            time.sleep(0.05)

    worker.run_training = stall
    worker.run_worker(Settings(), once=True)
    """
)


@pytest.mark.slow
def test_a_worker_process_killed_mid_training_is_replaced_at_once(
    tmp_path: Path, settings: Settings, db: Database, container: str
) -> None:
    model_id = _submit(settings, db, container)
    script = tmp_path / "stalling_worker.py"
    script.write_text(_STALLING_WORKER)
    env = {
        **os.environ,
        "RECOSTACK_DATA_DIR": str(settings.data_dir),
        "RECOSTACK_DATABASE_URL": settings.effective_database_url,
        "RECOSTACK_JOB_LEASE_SECONDS": "600",
        "RECOSTACK_JOB_HEARTBEAT_SECONDS": "0.2",
    }
    process = subprocess.Popen([sys.executable, str(script)], env=env)
    try:
        deadline = time.monotonic() + 60
        while "stalling" not in (_row(db, model_id).status_message or ""):
            assert process.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker never reported progress"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    assert _row(db, model_id).status == ModelStatus.IN_PROGRESS
    # A worker on the same machine sees that the lease holder is gone: no
    # need to wait out its 10-minute lease.
    assert Worker(settings, db, name="survivor").run_once() is True
    row = _row(db, model_id)
    assert row.status == ModelStatus.COMPLETED
    assert (settings.models_dir / model_id / "model.json").is_file()
    assert [p.name for p in settings.models_dir.iterdir()] == [model_id]


def test_owner_liveness() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert _owner_is_dead(f"host:{child.pid}:w") is True
    assert _owner_is_dead(f"host:{os.getpid()}:not-one-of-ours") is True
    assert _owner_is_dead(f"host:{os.getppid()}:w") is False
    assert _owner_is_dead("died") is False
