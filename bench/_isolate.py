"""Run one measurement in a fresh process, with a time limit and a memory cap.

The parent starts ``python SCRIPT --worker TASK_JSON`` with its address
space capped by ``RLIMIT_AS`` (an allocation past the cap raises
``MemoryError`` in the child, which reports it), polls the child's RSS
with psutil and kills it past the cap or the timeout, so a run that
would exhaust the machine is reported as "out of memory", not a crash.

The child reports one JSON object on its last stdout line (:func:`report`);
its peak RSS is its own ``ru_maxrss`` (exact), else the parent's polled peak.
"""

from __future__ import annotations

import contextlib
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

MARKER = "@@bench-result "
POLL_SECONDS = 0.05


@dataclass
class IsolatedRun:
    status: str  # ok | out of memory | timeout | error
    result: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0
    polled_peak_rss: int = 0
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def peak_rss(self) -> int:
        return int(self.result.get("peak_rss") or self.polled_peak_rss)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "detail": self.detail,
            "wall_seconds": self.wall_seconds,
            "peak_rss": self.peak_rss,
            **self.result,
        }


def run_isolated(
    script: Path, task: dict[str, Any], *, timeout: float, memory_cap: float
) -> IsolatedRun:
    cap = int(memory_cap)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    cmd = [sys.executable, str(script), "--worker", json.dumps(task)]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, preexec_fn=limit, text=True)
        watched = psutil.Process(proc.pid)
        peak, killed = 0, ""
        while proc.poll() is None:
            try:
                rss = watched.memory_info().rss
            except psutil.Error:
                rss = 0
            peak = max(peak, rss)
            if rss > cap:
                killed = "out of memory"
            elif time.perf_counter() - started > timeout:
                killed = "timeout"
            if killed:
                proc.kill()
                proc.wait()
                break
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    result: dict[str, Any] = {}
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            result = json.loads(line[len(MARKER) :])
            break
    if killed == "timeout":
        return IsolatedRun("timeout", result, wall, peak, f"killed after {timeout:.0f} s")
    if killed:
        return IsolatedRun("out of memory", result, wall, peak, f"RSS passed {cap / 1e9:.0f} GB")
    status = result.pop("status", "ok" if proc.returncode == 0 else "error")
    detail = result.pop("detail", "")
    if status == "ok" and proc.returncode != 0:
        status = "error"
    if status != "ok" and not detail:
        detail = (stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
    return IsolatedRun(status, result, wall, peak, detail)


def peak_rss_self() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def rss_now() -> int:
    return int(psutil.Process().memory_info().rss)


def report(result: dict[str, Any]) -> None:
    print(MARKER + json.dumps(result), flush=True)


def worker_main(run: Callable[[dict[str, Any]], dict[str, Any]], task_json: str) -> None:
    """Run one task in this (fresh) process and report it; MemoryError is a result."""
    task = json.loads(task_json)
    try:
        result = run(task)
        result.setdefault("status", "ok")
    except MemoryError as exc:
        result = {"status": "out of memory", "detail": f"MemoryError: {exc}"[:300]}
    except Exception as exc:
        traceback.print_exc()
        result = {"status": "error", "detail": f"{type(exc).__name__}: {exc}"[:300]}
    result.setdefault("peak_rss", peak_rss_self())  # a task may measure more (its children)
    report(result)
    sys.exit(0 if result["status"] == "ok" else 3)


class PeakMemory:
    """The peak resident memory of this process and all its descendants together (a
    batch job's scoring processes; Spark's JVM and its Python workers), sampled every 0.1 s."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _total(self) -> int:
        total = 0
        for process in [self._process, *self._process.children(recursive=True)]:
            # a scoring process may end between the listing and the read
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, self._total())

    def __enter__(self) -> PeakMemory:
        self.peak = self._total()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
