"""A worker killed (SIGKILL) mid-job: its scoring processes end with it, the next worker resumes
from the last finished chunk, and the output holds every input line exactly once, under its final
name only when complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from fastapi.testclient import TestClient

from batch.conftest import describe, read_lines
from recostack.settings import Settings

#: a worker whose third chunk is written to the output and then never counted: it stops
#: right there (the window a crash can hit), after saying so in a marker file
WORKER = """
import sys, time
from recostack.jobs import batch_runner
from recostack.jobs.worker import run_worker
from recostack.settings import Settings

real = batch_runner.record_chunk
calls = 0

def record_chunk(session, **kwargs):
    global calls
    calls += 1
    if calls == 3:
        open(sys.argv[1], "w").write("written, not counted")
        time.sleep(600)
    return real(session, **kwargs)

batch_runner.record_chunk = record_chunk
run_worker(Settings(), once=True)
"""


def test_a_killed_worker_s_job_resumes_and_writes_each_line_once(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    settings: Settings,
    write_input: Callable[[str, list[Any]], str],
    create_job: Callable[..., dict[str, Any]],
    run_jobs: Callable[[], int],
    tmp_path: Path,
) -> None:
    lines = [{"userId": f"user{i % 30}", "line": i} for i in range(100)]
    job = create_job(
        jobName="killed",
        solutionVersionArn=trained_model["id"],
        jobInput={"path": write_input("many.jsonl", lines)},
        jobOutput={"path": "output/many.out"},
    )
    marker = tmp_path / "stalled"
    env = {
        **os.environ,
        "RECOSTACK_DATA_DIR": str(settings.data_dir),
        "RECOSTACK_DATABASE_URL": settings.effective_database_url,
        "RECOSTACK_BATCH_CHUNK_LINES": "10",
        "RECOSTACK_JOB_LEASE_SECONDS": "600",
        "RECOSTACK_LOG_LEVEL": "warning",
    }
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(marker)], env=env)
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert worker.poll() is None, "the worker ended before it stalled"
            assert time.monotonic() < deadline, "the worker did not reach its third chunk"
            time.sleep(0.05)
        # the worker's scoring processes (a pool: 100 lines in chunks of 10) and fork server
        pool = psutil.Process(worker.pid).children(recursive=True)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(30)
    assert pool, "the job was not scored by a pool of processes"
    # they end with the worker (each watches it): none is left waiting for work
    _, alive = psutil.wait_procs(pool, timeout=15)
    assert not alive, f"processes left after their worker was killed: {alive}"
    stalled = describe(client, admin_headers, job["batchInferenceJobArn"])
    assert stalled["status"] == "IN PROGRESS"
    assert stalled["progress"]["linesDone"] == 20  # two chunks counted
    final = settings.files_dir / "output" / "many.out"
    assert not final.exists()  # nothing under the final name before it is complete
    partial = final.parent / f".many.out.{job['batchInferenceJobArn']}.part"
    assert len(partial.read_bytes().splitlines()) == 30  # the third chunk, uncounted

    assert run_jobs() == 1  # a worker on the same host sees the dead one and takes over
    done = describe(client, admin_headers, job["batchInferenceJobArn"])
    assert done["status"] == "ACTIVE", done
    assert done["progress"]["resumed"] == 1
    assert done["progress"]["linesDone"] == done["progress"]["linesTotal"] == 100
    out = read_lines(final)
    assert [o["input"]["line"] for o in out] == list(range(100))
    assert all(o["error"] is None for o in out)
    assert not partial.exists()
