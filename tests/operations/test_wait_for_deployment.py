"""The SDK's ``wait_for_deployment`` against a real server: it polls a new deployment
through PENDING and DEPLOYING and returns it ACTIVE.

A new deployment is stored PENDING; the server's lifecycle thread marks it DEPLOYING,
loads its model, then marks it ACTIVE, each step in milliseconds. So that the SDK surely
sees every state, the test holds each one on a lock of the server's own: the lifecycle's
(the create request takes it to start the loading thread) and the model cache's gate of
the model (a load takes it), and lets go once the SDK has seen the state three times.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from client.conftest import LiveServer, live_server  # noqa: F401 (the live server fixture)
from conftest import ADMIN_KEY
from recostack.client import Client, Deployment
from recostack.errors import NotFound

#: how many times the SDK sees a state before the server may leave it
SIGHTINGS = 3


class _Holds:
    """Locks held, each until its state was seen :data:`SIGHTINGS` times (or a deadline)."""

    def __init__(self, locks: dict[str, threading.Lock], deadline: float) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.timed_out = False
        for state, lock in locks.items():
            lock.acquire()
            self._locks[state] = lock
        # a server that never reaches a state must not stay blocked: the test fails instead
        self._timer = threading.Timer(deadline, self._time_out)
        self._timer.start()

    def release(self, state: str) -> None:
        with self._guard:
            lock = self._locks.pop(state, None)
        if lock is not None:
            lock.release()

    def release_all(self) -> None:
        self._timer.cancel()
        for state in list(self._locks):
            self.release(state)

    def _time_out(self) -> None:
        self.timed_out = True
        for state in list(self._locks):
            self.release(state)


class _Watching(httpx.HTTPTransport):
    """A real HTTP transport that notes the status of each description of ``path``."""

    def __init__(self, path: str, on_seen: Callable[[str], None]) -> None:
        super().__init__()
        self.path = path
        self.states: list[str] = []
        self._on_seen = on_seen

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        described = request.method == "GET" and request.url.path == self.path
        if described and response.status_code == 200:
            state = str(json.loads(response.read())["status"])
            self.states.append(state)
            if self.states.count(state) >= SIGHTINGS:
                self._on_seen(state)
        return response


def _described(client: Client, deployment_id: str, timeout: float = 30) -> Deployment:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return client.describe_deployment(deployment_id)
        except NotFound:
            assert time.monotonic() < deadline, f"{deployment_id} was not stored"
            time.sleep(0.02)


def test_wait_for_deployment_polls_through_pending_and_deploying_to_active(
    live_server: LiveServer,  # noqa: F811
) -> None:
    name = f"waiting-{live_server.backend}"
    serving = live_server.app.state.serving
    gate = serving.models.cache._loading.setdefault(live_server.model_id, threading.Lock())
    holds = _Holds({"PENDING": serving.lifecycle._lock, "DEPLOYING": gate}, deadline=60)
    transport = _Watching(f"/api/deployments/{name}", holds.release)
    pool = ThreadPoolExecutor(1)
    try:
        with (
            live_server.client() as admin,
            Client(live_server.url, ADMIN_KEY, poll_seconds=0.02, transport=transport) as watcher,
        ):
            admin.create_project(name)
            # the create request stores the deployment, then waits to start its loading
            creating = pool.submit(
                admin.create_deployment, name, name, model_id=live_server.model_id
            )
            deployment = _described(watcher, name)
            assert deployment.status == "PENDING"
            waited = deployment.wait_for_deployment(timeout=60)
            assert not holds.timed_out, f"the SDK saw only {transport.states}"
            assert creating.result(timeout=30).status == "PENDING"  # the create's answer
            assert waited is deployment and waited.status == "ACTIVE"
            assert waited.model_id == live_server.model_id and waited.deployed_at is not None
            states = transport.states
            assert [state for state, _ in itertools.groupby(states)] == [
                "PENDING",
                "DEPLOYING",
                "ACTIVE",
            ], states
            assert states.count("PENDING") >= SIGHTINGS
            assert states.count("DEPLOYING") >= SIGHTINGS
            assert states.count("ACTIVE") == 1  # it stopped polling at ACTIVE
            # ACTIVE means it answers
            assert waited.recommend(item_id="item1").item_ids
            waited.delete()
    finally:
        holds.release_all()
        pool.shutdown()
