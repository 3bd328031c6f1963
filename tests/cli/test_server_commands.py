"""``recostack serve | worker | db upgrade | keys``, in this process and as real processes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import recostack.cli.server_commands as server_commands
from conftest import make_settings, write_catalog, write_usage
from recostack.cli import app
from recostack.serving.keys import Role, verify_key
from recostack.settings import get_settings
from recostack.store.engine import Database
from recostack.store.migrate import current_revision, head_revision
from recostack.store.model_repository import get_model
from recostack.store.server_secret import key_secret
from recostack.store.server_settings import get_default_model_id
from recostack.store.serving_source import serving_sources

KEY = re.compile(r"^  (admin|recommend)\s+(primary|secondary)\s+(\S{40,})$", re.M)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, data_dir: Path, database_url: str) -> dict[str, str]:
    """The CLI's configuration, through the environment only."""
    for name in list(os.environ):
        if name.startswith("RECOSTACK_"):
            monkeypatch.delenv(name)
    values = {"RECOSTACK_DATA_DIR": str(data_dir), "RECOSTACK_DATABASE_URL": database_url}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_db_upgrade(env: dict[str, str]) -> None:
    assert "at revision" in _run("db", "upgrade")
    db = Database.open(env["RECOSTACK_DATABASE_URL"])
    try:
        assert current_revision(db.engine) == head_revision()
    finally:
        db.dispose()


def test_keys_rotate_prints_a_working_key_and_show_never_does(env: dict[str, str]) -> None:
    key = _run("keys", "rotate", "--role", "admin", "--slot", "secondary").strip().splitlines()[-1]
    db = Database.open(env["RECOSTACK_DATABASE_URL"])
    try:
        digests = serving_sources(db.engine).key_digests()
        assert verify_key(digests, key, key_secret(get_settings())) == Role.ADMIN
    finally:
        db.dispose()
    shown = _run("keys", "show")
    assert "admin" in shown and "secondary" in shown and key not in shown


def test_keys_rotate_refuses_an_unknown_role(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["keys", "rotate", "--role", "root", "--slot", "primary"])
    assert result.exit_code != 0


def test_load_demo_trains_and_sets_the_default_once(
    env: dict[str, str], data_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def tiny_movielens(dest: Path) -> dict[str, Path]:
        write_usage(dest / "train.csv")
        write_usage(dest / "test.csv", users=8, per_user=2, seed=3)
        write_catalog(dest / "catalog.csv")
        return {"train": dest / "train.csv", "test": dest / "test.csv"}

    monkeypatch.setattr("recostack.data.datasets.movielens_100k_files", tiny_movielens)
    settings = make_settings(data_dir, database_url)
    db = server_commands._open_store(settings)
    try:
        model_id = server_commands.load_demo(settings, db)
        with db.transaction() as session:
            assert get_default_model_id(session) == model_id
            model = get_model(session, model_id)
            assert model.status == "Completed"
            assert model.statistics and "evaluation" in model.statistics
        assert server_commands.load_demo(settings, db) == model_id
    finally:
        db.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``recostack serve`` as a real process, its output in a file."""

    def __init__(self, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            str(Path(sys.executable).parent / "recostack"),
            "serve",
            "--port",
            str(self.port),
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                env={**os.environ, "RECOSTACK_STATE_REFRESH_SECONDS": "0.2"},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                assert self.process.poll() is None, self.output()
                assert time.monotonic() < deadline, self.output()
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def keys(self) -> dict[tuple[str, str], str]:
        return {(role, slot): key for role, slot, key in KEY.findall(self.output())}


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "serve.log")
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.slow
def test_serve_end_to_end(server: Server, data_dir: Path) -> None:
    """New keys printed once; upload, train with the in-process worker, recommend; rotation."""
    url = server.url
    keys = server.keys()
    assert set(keys) == {(r, s) for r in ("admin", "recommend") for s in ("primary", "secondary")}
    admin = {"x-api-key": keys["admin", "primary"]}
    recommend = {"x-api-key": keys["recommend", "secondary"]}
    assert httpx.get(f"{url}/api/models", headers=recommend).status_code == 403
    assert httpx.get(f"{url}/api/models").status_code == 401

    usage = write_usage(data_dir / "u.csv").read_bytes()
    uploaded = httpx.put(f"{url}/api/files/input/usage.csv", content=usage, headers=admin)
    assert uploaded.status_code == 201
    body = {"blobContainerName": "input", "usageRelativePath": "usage.csv", "supportThreshold": 3}
    created = httpx.post(f"{url}/api/models", json=body, headers=admin)
    assert created.status_code == 201
    location = created.headers["location"]
    deadline = time.monotonic() + 60
    while (status := httpx.get(location, headers=admin).json()["modelStatus"]) not in (
        "Completed",
        "Failed",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status == "Completed"
    recs = httpx.get(f"{location}/recommend", params={"itemId": "item1"}, headers=recommend)
    assert recs.status_code == 200 and len(recs.json()) == 10

    output = _run("keys", "rotate", "--role", "admin", "--slot", "secondary")
    rotated = output.strip().splitlines()[-1]
    deadline = time.monotonic() + 2
    while httpx.get(f"{url}/api/models", headers={"x-api-key": rotated}).status_code != 200:
        assert time.monotonic() < deadline, "the server did not see the rotated key"
        time.sleep(0.05)

    server.stop()
    assert server.process is not None and server.process.returncode == 0, server.output()
    printed = len(server.output())
    server.start()
    again = server.output()[printed:]
    assert "already set" in again and not KEY.search(again)
    assert httpx.get(f"{url}/api/models", headers={"x-api-key": rotated}).status_code == 200
    assert httpx.get(f"{location}/recommend", params={"itemId": "item1"}, headers=admin).json() == (
        recs.json()
    )
