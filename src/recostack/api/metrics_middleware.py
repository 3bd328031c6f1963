"""Every request, counted: a pure ASGI middleware around the whole app.

For each HTTP request it notes the status the app answered (500 when the
app raised) and the time taken, then counts it by the template of the
route that matched (``/api/deployments/{deployment_id}/recommend``, never
the raw path; ``unmatched`` when no route did; a request the request limits
refuse before routing carries the route they selected,
:mod:`recostack.api.request_limits`) and method
(:meth:`~recostack.serving.metrics.ServingMetrics.observe_request`). A
failed recommend request of a deployment is also handed to the deployment's
statistics, so that errors appear in its statistics over time.

It is pure ASGI (no ``BaseHTTPMiddleware``: no task or stream per
request); its cost per request is a closure, two clock reads and a dict
lookup besides the counters themselves (``bench/serve.py``,
``bench/deployment.py`` measure it).
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recostack.serving.metrics import UNMATCHED, ServingMetrics

__all__ = ["DEPLOYMENT_RECOMMEND_ROUTE", "FailureSink", "MetricsMiddleware"]

#: the route whose failures count as errors of a deployment
DEPLOYMENT_RECOMMEND_ROUTE = "/api/deployments/{deployment_id}/recommend"


class FailureSink(Protocol):
    def add_failure(self, deployment_id: str, status: int, latency_ms: float) -> None: ...


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: ServingMetrics, failures: FailureSink) -> None:
        self.app = app
        self.metrics = metrics
        self.failures = failures

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            elapsed = time.perf_counter() - started
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED
            self.metrics.observe_request(template, scope["method"], status, elapsed)
            if status >= 400 and template == DEPLOYMENT_RECOMMEND_ROUTE:
                deployment_id = scope.get("path_params", {}).get("deployment_id")
                if isinstance(deployment_id, str):
                    self.failures.add_failure(deployment_id, status, elapsed * 1000.0)
