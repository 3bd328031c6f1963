"""No API key, webhook secret, dashboard session or server secret ever reaches a log line
(issue 19, point 6).

A real uvicorn server (access log on) serves the app while every logger
writes at DEBUG to a capturing handler; a representative set of operations
runs with known keys and secrets: training, recommending, a wrong key, a
recommend key on an admin endpoint, a key rotation, a deployment with a
response, a webhook created and delivered (signed with its secret), a
dashboard sign-in, page and sign-out. Then every captured record, and
everything written to stdout and stderr, is searched for each of them.
"""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from conftest import ADMIN_KEY, RECOMMEND_KEY
from operations.receiver import receiver
from recostack.jobs.scheduler import SchedulerThread
from recostack.serving.keys import Role, Slot
from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.store.key_repository import rotate_key
from recostack.store.server_secret import key_secret, server_secret
from recostack.web.auth import COOKIE, WebUser

#: what the test's own HTTP client logs (it sees the dashboard's Set-Cookie: the browser's
#: side, not the server's); the server's and the scheduler's httpx records are kept
_HARNESS = ("httpx", "httpcore")


class Captured(logging.Handler):
    """Every record, formatted as a handler would write it (with its traceback), but the
    test client's own."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        harness = record.name.split(".")[0] in _HARNESS
        if harness and record.threadName == threading.main_thread().name:
            return
        self.lines.append(self.format(record) + f" args={record.args!r}")


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet = logging.getLogger("numba")  # its compiler's trace: no request data, very long
    quiet_level = quiet.level
    quiet.setLevel(logging.INFO)
    # uvicorn's loggers as an earlier uvicorn.run in this process may have left them (its
    # default log config stops their propagation): every record must reach the root here
    uvicorn_loggers = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    kept = [(one.propagate, one.disabled, one.level) for one in uvicorn_loggers]
    for one in uvicorn_loggers:
        one.propagate, one.disabled = True, False
        one.setLevel(logging.NOTSET)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        quiet.setLevel(quiet_level)
        for one, (propagate, disabled, level_before) in zip(uvicorn_loggers, kept, strict=True):
            one.propagate, one.disabled = propagate, disabled
            one.setLevel(level_before)


@pytest.fixture
def server(app: FastAPI, captured: Captured) -> Iterator[str]:
    """The app under uvicorn at DEBUG with its access log; its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="debug", access_log=True, log_config=None
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(10)


def _until(check: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.05)


def test_no_key_or_secret_reaches_a_log(
    server: str,
    captured: Captured,
    settings: Settings,
    db: Database,
    container: str,
    run_jobs: Callable[[], int],
    capfd: pytest.CaptureFixture[str],
) -> None:
    admin, recommend = {"x-api-key": ADMIN_KEY}, {"x-api-key": RECOMMEND_KEY}
    wrong = secrets.token_urlsafe(32)
    found: dict[str, str] = {}
    with httpx.Client(base_url=server, timeout=30) as http:
        created = http.post(
            "/api/models",
            json={
                "blobContainerName": container,
                "usageRelativePath": "usage.csv",
                "catalogFileRelativePath": "catalog.csv",
                "supportThreshold": 3,
                "enableUserToItemRecommendations": True,
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        model_id = created.json()["id"]
        run_jobs()
        params = {"modelId": model_id}
        assert http.put("/api/models/default", params=params, headers=admin).status_code == 200
        item = {"itemId": "item1"}
        answer = http.get("/api/models/default/recommend", params=item, headers=recommend)
        assert answer.status_code == 200
        events = [{"itemId": "item2", "eventType": "Purchase"}]
        user = {"userId": "user3"}
        answer = http.post(
            "/api/models/default/recommend", params=user, json=events, headers=recommend
        )
        assert answer.status_code == 200
        assert http.get("/api/models", headers={"x-api-key": wrong}).status_code == 401
        assert http.get("/api/models", headers=recommend).status_code == 403

        with db.transaction() as session:
            rotated = rotate_key(session, Role.ADMIN, Slot.SECONDARY, key_secret(settings))
        _until(
            lambda: http.get("/api/models", headers={"x-api-key": rotated}).status_code == 200,
            "the rotated key to work",
        )

        project = {"projectId": "shop", "projectDescription": "secrets"}
        assert http.post("/api/projects", json=project, headers=admin).status_code == 201
        deployment = {"deploymentId": "web", "version": "1", "modelId": model_id}
        created = http.post("/api/projects/shop/deployments", json=deployment, headers=admin)
        assert created.status_code == 201, created.text
        _until(
            lambda: http.get("/api/deployments/web", headers=admin).json()["status"] == "ACTIVE",
            "the deployment to start",
        )
        shown = http.post(
            "/api/deployments/web/recommend", json={"userId": "user3"}, headers=recommend
        )
        assert shown.status_code == 200, shown.text
        request_id = shown.json()["requestId"]
        _until(
            lambda: (
                http.post(
                    "/api/deployments/web/responses",
                    json={"requestId": request_id, "takeUp": True},
                    headers=recommend,
                ).status_code
                == 201
            ),
            "the response to be recorded",
        )

        with receiver() as hook:
            webhook = http.post(
                "/api/deployments/web/webhooks",
                json={"endpoint": hook.url, "webhookEventType": "DEPLOYMENT_STOP"},
                headers=admin,
            )
            assert webhook.status_code == 201, webhook.text
            found["webhook secret"] = webhook.json()["secret"]
            assert http.post("/api/deployments/web/stop", headers=admin).status_code == 200
            scheduler = SchedulerThread(settings, db)  # as a worker runs it: its own thread
            scheduler.start()
            try:
                _until(
                    lambda: any(r.status == 204 for r in hook.requests),
                    "the webhook to be delivered",
                )
            finally:
                scheduler.stop()
            signature = hook.requests[-1].headers["x-recostack-signature"]

        signed_in = http.post("/login", data={"key": ADMIN_KEY}, follow_redirects=False)
        assert signed_in.status_code == 303, signed_in.text
        session_id = signed_in.cookies[COOKIE]
        csrf = WebUser(Role.ADMIN, session_id).csrf
        http.cookies.set(COOKIE, session_id)
        page = http.get("/")
        assert page.status_code == 200
        out = http.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
        assert out.status_code == 303
        http.cookies.clear()
        refused = http.post("/login", data={"key": wrong}, follow_redirects=False)
        assert refused.status_code == 401

    found.update(
        {
            "admin key": ADMIN_KEY,
            "recommend key": RECOMMEND_KEY,
            "rotated key": rotated,
            "wrong key": wrong,
            "dashboard session": session_id,
            "CSRF token": csrf,
            "server secret": server_secret(settings).decode(),
        }
    )
    assert signature.startswith("t=")  # the signature is no secret; the secret behind it is
    written = capfd.readouterr()
    logged = "\n".join(captured.lines)
    # the capture saw the traffic: access log lines, the worker, the scheduler
    assert 'GET /api/models/default/recommend?itemId=item1 HTTP/1.1" 200' in logged
    assert "POST /api/deployments/web/responses HTTP/1.1" in logged
    assert "POST /login HTTP/1.1" in logged
    assert "recostack.jobs.worker" in logged
    assert "httpx INFO HTTP Request: POST http://127.0.0.1" in logged  # the delivery
    for name, value in found.items():
        assert value not in logged, f"the {name} is in a log record"
        assert value not in written.out + written.err, f"the {name} was written out"
