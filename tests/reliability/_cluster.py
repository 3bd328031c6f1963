"""Recostack as production runs it: API replicas and workers as processes of their own.

:class:`Cluster` starts ``recostack serve`` (one uvicorn process each, no
in-process worker) on free loopback ports, ``recostack worker`` processes
and the round-robin proxy of ``_proxy.py`` in front of the replicas, all on
one database and one data directory; :meth:`Cluster.stop` stops them with
SIGINT (each writes what it still holds) and kills what does not stop.
Each process writes its output to a log file in the cluster's folder,
shown when a process does not start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from conftest import ADMIN_KEY, RECOMMEND_KEY

PROXY = Path(__file__).with_name("_proxy.py")
RECOSTACK = [sys.executable, "-c", "from recostack.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def within(seconds: float, check: Callable[[], bool], what: str, pause: float = 0.02) -> float:
    """Wait until ``check()``; how long it took (fails after ``seconds``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"{what}: not within {seconds} s"
        time.sleep(pause)
    return time.monotonic() - started


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str | None = None

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Cluster:
    root: Path
    database_url: str
    settings: dict[str, str] = field(default_factory=dict)
    apis: list[Proc] = field(default_factory=list)
    workers: list[Proc] = field(default_factory=list)
    proxy: Proc | None = None
    _logs: list[IO[bytes]] = field(default_factory=list)
    _stopped: dict[str, int | None] | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RECOSTACK_DATA_DIR": str(self.data_dir),
            "RECOSTACK_DATABASE_URL": self.database_url,
            "RECOSTACK_ADMIN_KEY": ADMIN_KEY,
            "RECOSTACK_RECOMMEND_KEY": RECOMMEND_KEY,
            "RECOSTACK_LOG_LEVEL": "warning",
            "RECOSTACK_WORKERS_IN_PROCESS": "0",
            "RECOSTACK_JOB_POLL_SECONDS": "0.1",
            "RECOSTACK_JOB_HEARTBEAT_SECONDS": "0.5",
            "RECOSTACK_JOB_LEASE_SECONDS": "20",
            "RECOSTACK_SCHEDULER_POLL_SECONDS": "0.5",
            **self.settings,
        }

    def _spawn(self, name: str, args: list[str], url: str | None = None) -> Proc:
        log_path = self.root / f"{name}.log"
        log = log_path.open("ab")
        self._logs.append(log)
        popen = subprocess.Popen(
            args, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        return Proc(name, popen, log_path, url)

    def start_api(self) -> Proc:
        port = free_port()
        name = f"api{len(self.apis)}"
        args = [*RECOSTACK, "serve", "--host", "127.0.0.1", "--port", str(port)]
        proc = self._spawn(name, args, f"http://127.0.0.1:{port}")
        self.apis.append(proc)
        return proc

    def start_worker(self) -> Proc:
        proc = self._spawn(f"worker{len(self.workers)}", [*RECOSTACK, "worker"])
        self.workers.append(proc)
        return proc

    def start_proxy(self) -> Proc:
        port = free_port()
        upstreams = [api.url for api in self.apis if api.url]
        args = [sys.executable, str(PROXY), str(port), *upstreams]
        self.proxy = self._spawn("proxy", args, f"http://127.0.0.1:{port}")
        return self.proxy

    def start(self, apis: int, workers: int, *, proxy: bool = True, timeout: float = 180) -> None:
        """Start everything, then wait until every replica (and the proxy) answers. The first
        replica starts alone: ``recostack serve`` migrates the store and sets the keys."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        self.wait_ready(self.start_api(), deadline)
        for _ in range(apis - 1):
            self.start_api()
        for _ in range(workers):
            self.start_worker()
        if proxy:
            self.start_proxy()
        for proc in [*self.apis, *([self.proxy] if self.proxy else [])]:
            self.wait_ready(proc, deadline)

    def wait_ready(self, proc: Proc, deadline: float) -> None:
        assert proc.url is not None
        probe = "/__proxy" if proc is self.proxy else "/healthz"
        while True:
            code = proc.popen.poll()
            assert code is None, f"{proc.name} exited ({code}):\n{proc.tail()}"
            try:
                if httpx.get(proc.url + probe, timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{proc.name} did not start:\n{proc.tail()}"
            time.sleep(0.1)

    @property
    def url(self) -> str:
        """Where clients go: the proxy (the first replica without one)."""
        proc = self.proxy or self.apis[0]
        assert proc.url is not None
        return proc.url

    def http(self, url: str | None = None, key: str = ADMIN_KEY, **kwargs: Any) -> httpx.Client:
        return httpx.Client(
            base_url=url or self.url, headers={"x-api-key": key}, timeout=30, **kwargs
        )

    def cli(self, *args: str) -> str:
        """Run ``recostack ARGS`` on the cluster's store; its standard output."""
        done = subprocess.run(
            [*RECOSTACK, *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop(self, timeout: float = 30) -> dict[str, int | None]:
        """SIGINT to every process (the proxy last), wait, kill the rest; their exit codes
        (again: those of the first call)."""
        if self._stopped is not None:
            return self._stopped
        procs = [*self.apis, *self.workers]
        for proc in procs:
            if proc.popen.poll() is None:
                proc.popen.send_signal(signal.SIGINT)
        codes = {proc.name: _wait(proc, timeout) for proc in procs}
        if self.proxy is not None:
            self.proxy.popen.send_signal(signal.SIGINT)
            codes["proxy"] = _wait(self.proxy, timeout)
        for log in self._logs:
            log.close()
        self._stopped = codes
        return codes


def _wait(proc: Proc, timeout: float) -> int | None:
    try:
        return proc.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.popen.kill()
        proc.popen.wait(10)
        return None
