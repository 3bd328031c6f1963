"""The worker: claim a job, run it with a heartbeat, record the outcome.

One :class:`Worker` runs one job at a time: a training (below), or a job
of another kind (a batch job, a campaign's deployment), which it hands to
that kind's handler (:mod:`recostack.jobs.handlers`) with the same lease,
heartbeat and outcomes: what the handler returns marks the job done, a
Recostack error fails it with its message, a stopping worker gives it
back. ``recostack serve`` runs
a few in threads of the API process (:class:`WorkerThreads`), each
training in a child process; ``recostack worker`` runs them as processes
of their own (:func:`run_worker`). All of them coordinate through the
database only, so any number can run against the same store.

Outcomes, recorded in one place (:meth:`Worker.process`):

* the training returned: artifacts are published and the model is
  Completed, both only if the worker still holds the lease; then the model
  is offered to its project's auto-deploy deployments
  (:mod:`~recostack.services.auto_deploy`; a failure there is logged and
  recorded on the deployment, the job stays done);
* it raised a Recostack error (bad files, no valid usage): Failed with the
  error's message and the statistics so far (parsing reports);
* it raised anything else: Failed with the exception, logged with its
  traceback;
* the training process died: the job goes back to the queue, or Failed
  once it has used all its attempts;
* the worker is stopping: the job goes back to the queue at once, without
  using up an attempt.

A worker that dies itself leaves its lease to expire; the next worker to
look claims the job again or fails it (:func:`~recostack.jobs.queue.fail_abandoned`).
A worker on the same machine does not wait for the lease: it sees that the
process holding it is gone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from recostack.errors import RecostackError
from recostack.jobs.batch_schedule import run_due_batch_predictions
from recostack.jobs.handlers import handler_of
from recostack.jobs.queue import (
    ClaimedJob,
    JobKind,
    claim_next,
    expire_dead_leases,
    fail_abandoned,
    finish_failed,
    finish_succeeded,
    heartbeat,
    release,
)
from recostack.jobs.runner import TrainingCancelled, TrainingCrashed, run_training
from recostack.jobs.scheduler import SchedulerThread
from recostack.jobs.training import training_container_dir
from recostack.services.model_events import model_completed, model_failed
from recostack.settings import Settings
from recostack.store.artifacts import new_staging_dir, publish_artifacts
from recostack.store.availability import is_database_unavailable, retry_while_unavailable
from recostack.store.engine import Database
from recostack.training.parameters import TrainingParameters

__all__ = ["Worker", "WorkerThreads", "run_worker"]

logger = logging.getLogger(__name__)

_HOST = socket.gethostname()
#: owners of the workers alive in this process
_LIVE_OWNERS: set[str] = set()


def _owner_is_dead(owner: str) -> bool:
    """Whether the worker ``host:pid:name`` of this host is gone."""
    _host, _, rest = owner.partition(":")
    pid_text, _, _name = rest.partition(":")
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():  # a predecessor that had this process's pid
        return owner not in _LIVE_OWNERS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Worker:
    """Trains queued models one at a time."""

    def __init__(
        self, settings: Settings, db: Database, *, isolate: bool = False, name: str = ""
    ) -> None:
        self.settings = settings
        self.db = db
        self.isolate = isolate
        self.owner = f"{_HOST}:{os.getpid()}:{name or 'w'}-{uuid.uuid4().hex[:8]}"
        _LIVE_OWNERS.add(self.owner)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._cancel: threading.Event | None = None

    # --- the loop --------------------------------------------------------------
    def run(self) -> None:
        """Work until :meth:`stop` is called (through database outages: waiting them out)."""
        away = False
        while not self._stopping.is_set():
            try:
                worked = self.run_once()
            except Exception as exc:
                if not is_database_unavailable(exc):
                    logger.exception("worker %s: error while looking for work", self.owner)
                elif not away:
                    logger.warning("worker %s: the database is unavailable; waiting", self.owner)
                away = is_database_unavailable(exc)
                worked = False
            else:
                away = False
            if not worked:
                self._wake.wait(self.settings.job_poll_seconds)
                self._wake.clear()

    def run_once(self) -> bool:
        """Fail abandoned jobs, then claim and train one job; ``False`` if there was none."""
        with self.db.transaction() as session:
            expire_dead_leases(session, _HOST, _owner_is_dead)
            for subject_id in fail_abandoned(session):
                logger.warning("job on %s failed: it was abandoned too often", subject_id)
        run_due_batch_predictions(self.settings, self.db)
        with self.db.transaction() as session:
            job = claim_next(session, self.owner, lease_seconds=self.settings.job_lease_seconds)
        if job is None:
            return False
        self.process(job)
        return True

    def wake(self) -> None:
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Stop after the current job, which is cancelled and given back to the queue."""
        self._stopping.set()
        if self._cancel is not None:
            self._cancel.set()
        self._wake.set()

    # --- one job ---------------------------------------------------------------
    def process(self, job: ClaimedJob) -> None:
        """Run ``job`` and record the outcome (see the module docstring)."""
        if job.kind == JobKind.TRAINING:
            self._train(job)
        else:
            self._handle(job)

    def _handle(self, job: ClaimedJob) -> None:
        """Run a job of another kind than training through its kind's handler."""
        logger.info(
            "worker %s: %s job on %s (attempt %d)",
            self.owner,
            job.kind,
            job.subject_id,
            job.attempt,
        )
        cancel = self._cancel = threading.Event()
        beat = _Heartbeat(self.db, job, self.settings, cancel)
        try:
            handler = handler_of(job.kind)
            beat.start()
            statistics = handler(self.settings, self.db, job, cancel)
        except TrainingCancelled:
            if self._stopping.is_set():
                self._record(job, release, "the worker stopped", count_attempt=False)
            logger.info("worker %s: %s job on %s cancelled", self.owner, job.kind, job.subject_id)
        except RecostackError as exc:
            self._record(job, finish_failed, exc.message, None)
        except (KeyboardInterrupt, SystemExit):
            self._record(job, release, "the worker stopped", count_attempt=False)
            raise
        except Exception as exc:
            if is_database_unavailable(exc):  # not the job's fault: it resumes when it is back
                logger.warning(
                    "worker %s: %s job on %s interrupted: the database is unavailable",
                    self.owner,
                    job.kind,
                    job.subject_id,
                )
                self._record(job, release, "the database was unavailable", count_attempt=False)
                return
            logger.exception("worker %s: %s job on %s raised", self.owner, job.kind, job.subject_id)
            self._record(job, finish_failed, f"{type(exc).__name__}: {exc}", None)
        else:
            self._record(job, finish_succeeded, statistics)
        finally:
            beat.stop()
            self._cancel = None

    def _train(self, job: ClaimedJob) -> None:
        """Train ``job``'s model and record the outcome."""
        logger.info(
            "worker %s: training model %s (attempt %d)", self.owner, job.model_id, job.attempt
        )
        models_dir = self.settings.models_dir
        cancel = self._cancel = threading.Event()
        beat = _Heartbeat(self.db, job, self.settings, cancel)
        staging: Path | None = None
        try:
            params = TrainingParameters.model_validate(job.parameters)
            container = training_container_dir(self.settings.files_dir, params.blob_container_name)
            staging = new_staging_dir(models_dir, job.model_id)
            beat.start()
            statistics = run_training(
                params,
                container_dir=container,
                out_dir=staging,
                progress=beat.report,
                cancelled=cancel,
                isolate=self.isolate,
            )
        except TrainingCancelled:
            if self._stopping.is_set():
                self._record(job, release, "the worker stopped", count_attempt=False)
            logger.info("worker %s: training of %s cancelled", self.owner, job.model_id)
        except TrainingCrashed as exc:
            logger.error("worker %s: %s (model %s)", self.owner, exc, job.model_id)
            self._record(job, release, str(exc), count_attempt=True)
        except RecostackError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else None
            self._record(job, finish_failed, exc.message, detail)
        except (KeyboardInterrupt, SystemExit):
            self._record(job, release, "the worker stopped", count_attempt=False)
            raise
        except Exception as exc:
            logger.exception("worker %s: training of %s raised", self.owner, job.model_id)
            self._record(
                job, finish_failed, f"Model training failed: {type(exc).__name__}: {exc}", None
            )
        else:
            assert staging is not None
            self._complete(job, staging, statistics)
        finally:
            beat.stop()
            self._cancel = None
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)

    def _complete(self, job: ClaimedJob, staging: Path, statistics: dict[str, Any]) -> None:
        def finish() -> bool:
            with self.db.transaction() as session:
                completed = finish_succeeded(session, job, statistics)
                # published already by a try whose commit the database did not answer
                if completed and staging.exists():
                    publish_artifacts(staging, self.settings.models_dir, job.model_id)
            return completed

        try:
            completed = retry_while_unavailable(
                finish, seconds=self.settings.job_lease_seconds, what=f"completing {job.model_id}"
            )
        except OSError as exc:
            self._record(
                job, finish_failed, f"Model artifacts could not be saved: {exc}", statistics
            )
            return
        if not completed:
            logger.info("worker %s: lost the lease of %s; result dropped", self.owner, job.model_id)
            return
        logger.info("worker %s: model %s completed", self.owner, job.model_id)
        self._auto_deploy(job.model_id)

    def _auto_deploy(self, model_id: str) -> None:
        """Offer the Completed model to its project's auto-deploy deployments (never raises)."""
        for outcome in model_completed(self.db, model_id):
            logger.info(
                "worker %s: model %s %s for deployment %s version %s: %s",
                self.owner,
                model_id,
                outcome.decision,
                outcome.deployment_id,
                outcome.version,
                outcome.reason,
            )

    def _record(self, job: ClaimedJob, outcome: Any, *args: Any, **kwargs: Any) -> None:
        def record() -> None:
            with self.db.transaction() as session:
                if not outcome(session, job, *args, **kwargs):
                    logger.info("worker %s: lost the lease of %s", self.owner, job.model_id)
                elif outcome is finish_failed and job.model_id is not None:
                    model_failed(session, job.model_id, str(args[0]))

        try:
            # while the lease holds, an outage is waited out: the outcome is not left to it
            retry_while_unavailable(
                record, seconds=self.settings.job_lease_seconds, what=f"recording {job.subject_id}"
            )
        except Exception:
            # The lease will expire and the next worker will retry or fail the job.
            logger.exception(
                "worker %s: could not record the outcome of %s", self.owner, job.model_id
            )


class _Heartbeat(threading.Thread):
    """Renews a job's lease and writes its progress; cancels the training if the lease is lost."""

    def __init__(
        self, db: Database, job: ClaimedJob, settings: Settings, cancel: threading.Event
    ) -> None:
        super().__init__(name=f"heartbeat-{job.subject_id[:8]}", daemon=True)
        self._db = db
        self._job = job
        self._lease = settings.job_lease_seconds
        self._interval = settings.job_heartbeat_seconds
        self._cancel = cancel
        self._done = threading.Event()
        self._progress: str | None = None
        prefix = "Model training in progress"
        if job.attempt > 1:
            prefix += f" (attempt {job.attempt} of {job.max_attempts})"
        self._prefix = prefix

    def report(self, stage: str, fraction: float) -> None:
        self._progress = f"{self._prefix}: {stage} ({max(0.0, min(fraction, 1.0)):.0%})"

    def run(self) -> None:
        while not self._done.wait(self._interval):
            progress, self._progress = self._progress, None
            try:
                with self._db.transaction() as session:
                    held = heartbeat(
                        session, self._job, lease_seconds=self._lease, progress=progress
                    )
            except Exception:
                logger.warning(
                    "heartbeat of %s failed; retrying", self._job.model_id, exc_info=True
                )
                continue
            if not held:
                logger.warning("lease of %s lost; cancelling its training", self._job.model_id)
                self._cancel.set()
                return

    def stop(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join()


class WorkerThreads:
    """``count`` workers in threads of this process (``recostack serve``)."""

    def __init__(self, settings: Settings, db: Database, count: int, *, isolate: bool) -> None:
        self.workers = [
            Worker(settings, db, isolate=isolate, name=f"thread{i}") for i in range(count)
        ]
        self._threads: list[threading.Thread] = []
        #: refresh policies, alerts, monitors and webhooks (``recostack.jobs.scheduler``)
        self.scheduler = SchedulerThread(settings, db)

    def start(self) -> None:
        self.scheduler.start()
        for worker in self.workers:
            thread = threading.Thread(target=worker.run, name=f"worker-{worker.owner}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        for worker in self.workers:
            worker.wake()

    def stop(self, timeout: float = 10.0) -> None:
        for worker in self.workers:
            worker.stop()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        self.scheduler.stop()


def run_worker(settings: Settings, *, once: bool = False, name: str = "") -> int:
    """Run one worker in this thread; with ``once``, until the queue is empty.

    In the main thread, SIGINT and SIGTERM stop the worker (:func:`_stopping_on_signals`).
    Returns the number of jobs processed.
    """
    db = Database.open(
        settings.effective_database_url, connect_timeout=settings.database_connect_timeout_seconds
    )
    worker = Worker(settings, db, isolate=False, name=name)
    scheduler = SchedulerThread(settings, db)
    processed = 0
    try:
        if once:
            scheduler.scheduler.tick()
            while worker.run_once():
                processed += 1
        else:
            scheduler.start()
            with _stopping_on_signals(worker):
                worker.run()
    finally:
        scheduler.stop()
        db.dispose()
    return processed


@contextlib.contextmanager
def _stopping_on_signals(worker: Worker) -> Iterator[None]:
    """While the block runs in the main thread: SIGINT and SIGTERM stop ``worker`` after its
    current step (a job in hand is cancelled and given back), a second one interrupts at once.

    Python's own SIGINT raises KeyboardInterrupt wherever the main thread is, and inside a
    database driver's call the driver's clean-up can replace it with an error of its own:
    seen in CI, SQLAlchemy's connection ping, interrupted, failed to restore the connection's
    autocommit and raised a ProgrammingError, which the worker's loop logged as a failed look
    for work and went on from, until it was killed 30 s later."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        if worker.stopping:
            raise KeyboardInterrupt  # asked twice: do not wait for the step to end
        logger.info("worker %s: stopping (signal %d)", worker.owner, signum)
        worker.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if handler is not None:  # None: not set from Python, nothing to put back
                signal.signal(sig, handler)
