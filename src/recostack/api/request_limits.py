"""Limits every request meets before any endpoint reads it (an ASGI middleware).

* **JSON bodies** (``application/json``, ``*+json``, or no content type, sent
  to an operation that reads its body as JSON): at most ``max_json_bytes``
  (413), nested at most ``max_json_depth`` arrays and objects deep (400);
  the body is read here, checked, and handed on as it came.
* **Other bodies** (file and CSV uploads, forms): at most
  ``max_upload_bytes``, by their ``Content-Length`` or as they stream (413).
* **Request rate**: with ``rate_limit_per_second`` set, each API key's
  requests go through its token bucket (:mod:`recostack.api.rate_limit`);
  one over the limit is a 429 with ``Retry-After`` (whole seconds). Only
  keys the key ring accepts count; a wrong key gets its 401 from the route.
* **Requests in flight**: with ``max_requests_in_flight`` set, a request that
  finds that many of this process's requests unanswered gets a 503 with
  ``Retry-After`` at once, instead of joining a queue that only grows (a
  server past its peak answered everything later and later: see
  docs/reliability.md). The probes (``/healthz``, ``/readyz``) and
  ``/metrics`` are never refused, so an overloaded process still reports.

Every refusal is the API's JSON error body, naming the problem. A refused
request is answered before the router sees it, so the middleware selects its
route first, as the router would (the same route contexts, a full match
before a method mismatch): the metrics count it under its route template and
a deployment's statistics count the failure of its recommend route
(:mod:`recostack.api.metrics_middleware`), instead of as ``unmatched``.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

import numpy as np
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.routing import Match

from recostack.api.deps import API_KEY_HEADER
from recostack.api.rate_limit import RateLimiter, rate_limiter
from recostack.errors import Invalid, RecostackError, TooLarge
from recostack.settings import Settings

__all__ = ["RequestLimits", "bucket_namespace", "install_request_limits", "json_depth"]

Scope = dict[str, Any]
Message = dict[str, Any]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = np.frombuffer(b"[{", dtype=np.uint8)
_KEY_HEADER = API_KEY_HEADER.encode()
#: (method, path) pairs remembered as reading a JSON body or not
_MAX_ROUTES = 4096
#: answered whatever the load: an orchestrator and Prometheus still see the process
_NEVER_SHED = frozenset({"/healthz", "/readyz", "/metrics"})
OVERLOAD_RETRY_AFTER_SECONDS = 1


def json_depth(body: bytes, limit: int) -> int:
    """How deep the arrays and objects of a JSON text nest (exact when over ``limit``;
    a body with no more than ``limit`` brackets is not scanned)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return 0
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where(np.isin(codes, _OPEN), 1, -1)
    return int(np.cumsum(steps).max())


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _is_json(content_type: bytes | None) -> bool:
    if not content_type:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or media.endswith(b"+json")


class RequestLimits:
    """The middleware (see the module docstring)."""

    def __init__(
        self,
        app: Any,
        *,
        max_json_bytes: int,
        max_json_depth: int,
        max_upload_bytes: int,
        limiter: RateLimiter | None,
        max_in_flight: int = 0,
    ) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.max_json_depth = max_json_depth
        self.max_upload_bytes = max_upload_bytes
        self.limiter = limiter
        self.max_in_flight = max_in_flight
        #: this process's requests taken and not answered yet (one event loop: a plain count)
        self.in_flight = 0
        self._reads_json: dict[tuple[str, str], bool] = {}

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        try:
            try:
                self._admit(scope)
                if self.limiter is not None:
                    await self._rate(scope)
                if scope["method"] in _BODY_METHODS:
                    receive = await self._body(scope, receive)
            except _Refused as refused:
                _select_route(scope)
                await refused.response(scope, receive, send)
                return
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    def _admit(self, scope: Scope) -> None:
        if (
            self.max_in_flight
            and self.in_flight > self.max_in_flight
            and scope["path"] not in _NEVER_SHED
        ):
            raise _Refused(
                RecostackError(
                    f"this server process has {self.max_in_flight} requests in flight, its "
                    f"limit (max_requests_in_flight): retry in {OVERLOAD_RETRY_AFTER_SECONDS} s",
                ),
                status=503,
                code="overloaded",
                headers={"Retry-After": str(OVERLOAD_RETRY_AFTER_SECONDS)},
            )

    async def _rate(self, scope: Scope) -> None:
        assert self.limiter is not None
        key = _header(scope, _KEY_HEADER)
        if not key:
            return
        verified = scope["app"].state.serving.keys.verify(key.decode("latin-1"))
        if verified is None:
            return
        wait = await self.limiter.take(verified.id)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise _Refused(
                RecostackError(
                    f"the API key {verified.id} is over its limit of {self.limiter.rate:g} "
                    f"requests per second (bursts of {self.limiter.burst}): retry in "
                    f"{seconds} s",
                    field=API_KEY_HEADER,
                ),
                status=429,
                code="too_many_requests",
                headers={"Retry-After": str(seconds)},
            )

    async def _body(self, scope: Scope, receive: Any) -> Any:
        declared = _header(scope, b"content-length")
        size = int(declared) if declared is not None and declared.isdigit() else None
        if not (_is_json(_header(scope, b"content-type")) and self._route_reads_json(scope)):
            if size is not None and size > self.max_upload_bytes:
                raise _Refused(_too_large("the request body", self.max_upload_bytes))
            return _counted(receive, self.max_upload_bytes)
        if size is not None and size > self.max_json_bytes:
            raise _Refused(_too_large("the JSON body", self.max_json_bytes))
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                return _replay(b"".join(chunks), receive, first=message)
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_json_bytes:
                raise _Refused(_too_large("the JSON body", self.max_json_bytes))
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        depth = json_depth(body, self.max_json_depth)
        if depth > self.max_json_depth:
            raise _Refused(
                Invalid(
                    f"the JSON body nests {depth} arrays and objects deep; "
                    f"at most {self.max_json_depth} are accepted",
                    field="body",
                )
            )
        return _replay(body, receive)

    def _route_reads_json(self, scope: Scope) -> bool:
        """Whether the operation the request goes to declares a body it parses (uploads
        read theirs raw); remembered by method and path."""
        key = (scope["method"], scope["path"])
        reads = self._reads_json.get(key)
        if reads is None:
            found = _match_route(scope)
            reads = (
                found is not None
                and found[0] == Match.FULL
                and getattr(found[1].original_route, "body_field", None) is not None
            )
            if len(self._reads_json) >= _MAX_ROUTES:
                self._reads_json.clear()
            self._reads_json[key] = reads
        return reads


def _match_route(scope: Scope) -> tuple[Match, RouteContext, Scope] | None:
    """The route the router would select for the request: the first full match, else the
    first whose path matches with another method (the router's 405); with its child scope."""
    partial: tuple[Match, RouteContext, Scope] | None = None
    for route in iter_route_contexts(scope["app"].routes):
        match, child = route.matches(dict(scope))
        if match == Match.FULL:
            return match, route, child
        if match == Match.PARTIAL and partial is None:
            partial = (match, route, child)
    return partial


def _select_route(scope: Scope) -> None:
    """Note in ``scope`` the route of a request answered here, as the router would
    (``route``, ``path_params``): what the metrics label it by."""
    found = _match_route(scope)
    if found is not None:
        _match, route, child = found
        scope.update(child)
        scope["route"] = route.original_route


class _Refused(Exception):
    def __init__(
        self,
        error: RecostackError,
        *,
        status: int | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = error.to_dict()
        if code is not None:
            body["error"] = code
        self.response = JSONResponse(
            status_code=status or error.status_code, content=body, headers=headers
        )


def _too_large(what: str, limit: int) -> TooLarge:
    return TooLarge(f"{what} is over {limit} bytes", field="body")


def _replay(body: bytes, receive: Any, *, first: Message | None = None) -> Any:
    """A ``receive`` that gives the whole body once, then whatever the client sends."""
    pending: list[Message] = [first] if first is not None else []
    if first is None:
        pending.append({"type": "http.request", "body": body, "more_body": False})

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        message: Message = await receive()
        return message

    return replay


def _counted(receive: Any, limit: int) -> Any:
    """A ``receive`` that refuses a streamed body once it passes ``limit`` bytes."""
    total = 0

    async def counted() -> Message:
        nonlocal total
        message: Message = await receive()
        if message["type"] == "http.request":
            total += len(message.get("body", b""))
            if total > limit:
                raise _too_large("the request body", limit)
        return message

    return counted


def bucket_namespace(settings: Settings) -> str:
    """Where the buckets live in Redis: every process on the same database shares them,
    another installation using the same Redis does not."""
    store = hashlib.blake2b(settings.effective_database_url.encode(), digest_size=6).hexdigest()
    return f"recostack:{store}"


def install_request_limits(app: FastAPI, settings: Settings) -> RateLimiter | None:
    """Add the middleware with the settings' limits; the rate limiter, if one is set."""
    limiter = rate_limiter(
        settings.rate_limit_per_second,
        settings.rate_limit_burst,
        settings.redis_url,
        namespace=bucket_namespace(settings),
    )
    app.add_middleware(
        RequestLimits,
        max_json_bytes=settings.max_json_bytes,
        max_json_depth=settings.max_json_depth,
        max_upload_bytes=settings.max_upload_bytes,
        limiter=limiter,
        max_in_flight=settings.max_requests_in_flight,
    )
    return limiter
