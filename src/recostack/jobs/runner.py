"""Run one training, in this thread or in a child process.

In a child process (what ``recostack serve``'s in-process worker does by
default; forked from a server process that has the training code imported
already, so a child starts in milliseconds) the training has an
interpreter of its own, so the API keeps
serving at full speed, and a training that is killed (out of memory, a
signal) is reported as :class:`TrainingCrashed` instead of taking the
server down. Errors of the :mod:`recostack.errors` hierarchy come back as
the same classes either way.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from recostack import errors
from recostack.training.parameters import TrainingParameters

__all__ = ["JobCancelled", "ProgressFn", "TrainingCancelled", "TrainingCrashed", "run_training"]

ProgressFn = Callable[[str, float], None]

logger = logging.getLogger(__name__)

#: progress reports sent by a child process, at most this often (seconds)
_PROGRESS_INTERVAL = 0.25


class TrainingCrashed(Exception):
    """The training process died without reporting a result."""


class TrainingCancelled(Exception):
    """The worker was asked to stop (lease lost, model deleted, shutdown)."""


#: a job of any kind was asked to stop (lease lost, subject deleted, shutdown)
JobCancelled = TrainingCancelled


def run_training(
    parameters: TrainingParameters,
    *,
    container_dir: Path,
    out_dir: Path,
    progress: ProgressFn,
    cancelled: threading.Event,
    isolate: bool,
) -> dict[str, Any]:
    """Train into ``out_dir``; the training statistics (camelCase, JSON-ready)."""
    if not isolate:
        return _train(parameters, container_dir, out_dir, _cancellable(progress, cancelled))
    return _train_in_child(parameters, container_dir, out_dir, progress, cancelled)


def _train(
    parameters: TrainingParameters, container_dir: Path, out_dir: Path, progress: ProgressFn
) -> dict[str, Any]:
    from recostack.training.pipeline import train_model

    result = train_model(
        parameters, container_dir=container_dir, out_dir=out_dir, progress=progress
    )
    return dict(result.statistics)


def _cancellable(progress: ProgressFn, cancelled: threading.Event) -> ProgressFn:
    def report(stage: str, fraction: float) -> None:
        if cancelled.is_set():
            raise TrainingCancelled(stage)
        progress(stage, fraction)

    return report


def _train_in_child(
    parameters: TrainingParameters,
    container_dir: Path,
    out_dir: Path,
    progress: ProgressFn,
    cancelled: threading.Event,
) -> dict[str, Any]:
    context = _process_context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_main,
        args=(sender, parameters.model_dump(mode="json"), str(container_dir), str(out_dir)),
        name="recostack-training",
        daemon=True,
    )
    child.start()
    sender.close()
    try:
        while True:
            if cancelled.is_set():
                raise TrainingCancelled("cancelled")
            if receiver.poll(0.1):
                try:
                    message = receiver.recv()
                except EOFError:
                    break
                kind = message[0]
                if kind == "progress":
                    progress(message[1], message[2])
                elif kind == "ok":
                    return dict(message[1])
                else:
                    raise _rebuild_error(message)
            elif not child.is_alive() and not receiver.poll():
                break
        child.join(5)
        raise TrainingCrashed(f"the training process died (exit code {child.exitcode})")
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
            child.join(5)
            if child.is_alive():
                child.kill()
        child.join()


def _process_context() -> Any:  # a SpawnContext or ForkServerContext
    """A fork server that has imported the training code once (spawn where there is none)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["recostack.jobs.runner", "recostack.training.pipeline"])
    return context


def _rebuild_error(message: tuple[Any, ...]) -> Exception:
    kind = message[0]
    if kind == "error":
        _, name, text, field, detail = message
        cls = getattr(errors, name, errors.RecostackError)
        if not (isinstance(cls, type) and issubclass(cls, errors.RecostackError)):
            cls = errors.RecostackError
        return cls(text, field=field, detail=detail)
    logger.error("the training process raised:\n%s", message[2])
    return RuntimeError(message[1])


def _child_main(sender: Connection, parameters: dict[str, Any], container: str, out: str) -> None:
    last = 0.0

    def report(stage: str, fraction: float) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= _PROGRESS_INTERVAL or fraction >= 1.0:
            last = now
            sender.send(("progress", stage, float(fraction)))

    try:
        params = TrainingParameters.model_validate(parameters)
        statistics = _train(params, Path(container), Path(out), report)
        sender.send(("ok", statistics))
    except errors.RecostackError as exc:
        sender.send(("error", type(exc).__name__, exc.message, exc.field, exc.detail))
    except BaseException as exc:  # report everything: the parent records it
        text = f"{type(exc).__name__}: {exc}"
        sender.send(("crash", text, traceback.format_exc()))
    finally:
        sender.close()
