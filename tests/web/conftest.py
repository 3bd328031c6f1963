"""A real server and a real browser for the dashboard's tests.

The server is uvicorn in a thread on a free loopback port (SQLite, an
in-process worker training in the same process); the browser is Debian's
headless Chromium driven by Selenium through Debian's chromedriver
(``.ci/run`` installs both when missing). Screenshots go to ``screenshots``
under the session's temporary directory.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from conftest import ADMIN_KEY, RECOMMEND_KEY, make_settings
from recostack.api.app import create_app
from recostack.serving.keys import Role
from recostack.store.engine import Database
from recostack.store.key_repository import ensure_keys
from recostack.store.migrate import upgrade
from recostack.store.server_secret import key_secret

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@dataclass
class Dashboard:
    url: str
    root: Path
    screenshots: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    root = tmp_path_factory.mktemp("dashboard")
    settings = make_settings(
        root / "data",
        f"sqlite:///{root / 'recostack.db'}",
        workers_in_process=1,
        train_in_subprocess=False,
        job_poll_seconds=0.2,
    )
    db = Database.open(settings.effective_database_url)
    upgrade(db.engine)
    with db.transaction() as session:
        ensure_keys(
            session, {Role.ADMIN: ADMIN_KEY, Role.RECOMMEND: RECOMMEND_KEY}, key_secret(settings)
        )
    db.dispose()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    shots = root / "screenshots"
    shots.mkdir()
    yield Dashboard(f"http://127.0.0.1:{port}", root, shots)
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
