"""``/metrics`` adds up every API process: ``recostack serve --workers 2`` on a real port."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from conftest import ADMIN_KEY, RECOMMEND_KEY

REQUESTS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _healthz_count(text: str) -> float:
    pattern = r'recostack_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)'
    found = re.search(pattern, text)
    return float(found.group(1)) if found else 0.0


def test_counts_stay_right_with_several_api_processes(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "RECOSTACK_ADMIN_KEY": ADMIN_KEY,
        "RECOSTACK_RECOMMEND_KEY": RECOMMEND_KEY,
        "RECOSTACK_LOG_LEVEL": "warning",
        "RECOSTACK_WORKERS_IN_PROCESS": "0",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [
        sys.executable,
        "-c",
        "from recostack.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
        "--workers",
        "2",
    ]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        time.sleep(1.0)  # both processes up
        before = _healthz_count(httpx.get(f"{base}/metrics").text)
        for _ in range(REQUESTS):  # a new connection each: the processes share them out
            assert httpx.get(f"{base}/healthz").status_code == 200
        pids = {
            p.name.rsplit("_", 1)[-1]
            for p in (tmp_path / "data" / "metrics" / str(port)).glob("counter_*.db")
        }
        assert len(pids) == 2, pids  # both processes answered and counted
        for _ in range(6):  # whichever process answers the scrape: the same total
            assert _healthz_count(httpx.get(f"{base}/metrics").text) - before == REQUESTS
    finally:
        server.terminate()
        server.wait(30)
