"""The database cannot be reached: a 503 with a JSON message, never a 500 with a traceback.

A request that needs the store while it is down (stopped, restarting, a
connection cut, a statement past ``database_statement_timeout_seconds``,
no pooled connection free in time) is answered at once with::

    503 {"error": "unavailable", "message": "the database cannot be reached ..."}
    Retry-After: 1

Requests served from memory (the recommendations of loaded models and
deployments; their logs are queued and written when the store is back) do
not touch the store and go on answering. The store's engine fails fast
(``recostack.store.engine``: connect timeout, pre-ping, pool timeout), and
each process recovers by itself when the database is back: the pool
replaces the connections the restart cut.

An outage is logged when it is first met (which request, why), then at
most once every ten seconds with the number of requests refused since: not
once per refused request.
Other database errors (a constraint, a bug) are not this module's: they
stay logged 500s. The OpenAPI document states the 503 on every operation.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc

from recostack.store.availability import is_database_unavailable

__all__ = ["MESSAGE", "install_unavailable_handlers", "is_database_unavailable"]

logger = logging.getLogger(__name__)

MESSAGE = "the database cannot be reached or did not answer in time; try again shortly"
RETRY_AFTER_SECONDS = 1

_ERROR_BODY = "#/components/schemas/ErrorBody"
_INLINE_BODY = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


class _Outage:
    """Logs the first refusal of an outage, then one line a while with how many followed."""

    def __init__(self, every_seconds: float = 10.0) -> None:
        self._lock = threading.Lock()
        self.every_seconds = every_seconds
        self._logged_at = -math.inf
        self._since = 0

    def refused(self, request: Request, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            self._since += 1
            if now - self._logged_at < self.every_seconds:
                return
            count, self._since, self._logged_at = self._since, 0, now
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        logger.error(
            "the database is unavailable: %d request(s) answered 503 (the last: %s %s): %s",
            count,
            request.method,
            request.url.path,
            reason[0] if reason else type(exc).__name__,
        )


def install_unavailable_handlers(app: FastAPI) -> None:
    """Answer 503 for an unreachable database, and let the OpenAPI document say so."""
    outage = _Outage()

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        if not is_database_unavailable(exc):
            raise exc  # another database error: the 500 handler logs it
        outage.refused(request, exc)
        return JSONResponse(
            status_code=503,
            content={"error": "unavailable", "message": MESSAGE},
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    for kind in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        app.add_exception_handler(kind, unavailable)
    app.add_exception_handler(sa_exc.DBAPIError, unavailable)
    build_document = app.openapi

    def openapi() -> dict[str, Any]:
        document = build_document()
        known = "ErrorBody" in document.get("components", {}).get("schemas", {})
        answer = {
            "description": "the database cannot be reached now (try again shortly)",
            "content": {
                "application/json": {"schema": {"$ref": _ERROR_BODY} if known else _INLINE_BODY}
            },
        }
        for path in document.get("paths", {}).values():
            for operation in path.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"].setdefault("503", answer)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
