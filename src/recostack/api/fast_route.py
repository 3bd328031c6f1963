"""Routes whose plain, valid requests skip FastAPI's machinery.

FastAPI's per-request work (its middleware stack, routing, solving
dependencies, validating each parameter, building the response) costs about
as much as the whole recommend call it wraps. :class:`FastRoute` keeps the
endpoint exactly as declared (its OpenAPI entry, and FastAPI's handling of
every unusual request) but first asks the endpoint's *binder* for its
arguments. A binder reads the request by hand and returns the keyword
arguments of the endpoint, or ``None`` when anything is not plainly valid;
then FastAPI handles the request as usual and gives its usual answer,
errors included. A binder must therefore accept only requests that FastAPI
would accept with the same values.

:class:`FastApp` goes one step further for the hot endpoints: at the ASGI
level, before any middleware, it finds the route a request goes to; when
that is a :class:`FastRoute` with a binder and the binder accepts the
request, the endpoint answers directly. Whenever the binder declines or the
endpoint raises, the request (its body replayed) goes through the full
FastAPI application instead, which answers it as usual. A bound endpoint
must therefore have no side effect before it can raise.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute, APIRouter
from starlette.datastructures import QueryParams
from starlette.types import Message, Receive, Scope, Send

__all__ = ["Binder", "FastApp", "FastRoute", "ParsedQuery", "binds", "parse_query", "sends_json"]

Binder = Callable[[Request], Awaitable[dict[str, Any] | None]]

Handler = Callable[..., Awaitable[Response]]

_BINDERS: dict[Callable[..., Any], tuple[Binder, Handler | None]] = {}


def binds(
    binder: Binder, handler: Handler | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``binder`` for the decorated endpoint (put it under the route decorator).

    The binder's arguments go to the endpoint itself, or to ``handler`` when
    given: the part of the endpoint after its own parsing, so a binder can
    hand over what it read (a parsed body) rather than the raw request.
    """

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        _BINDERS[endpoint] = (binder, handler)
        return endpoint

    return register


def sends_json(request: Request) -> bool:
    """Whether the request's body is declared ``application/json`` (for binders)."""
    media_type = request.headers.get("content-type", "").partition(";")[0]
    return media_type.strip().lower() == "application/json"


def _bound(route: APIRoute) -> tuple[Binder, Handler] | None:
    found = _BINDERS.get(route.endpoint)
    if found is None:
        return None
    binder, handler = found
    return binder, handler or route.endpoint


class FastRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        regular = super().get_route_handler()
        bound = _bound(self)
        if bound is None:
            return regular
        binder, handler = bound

        async def handle(request: Request) -> Response:
            arguments = await binder(request)
            if arguments is None:
                return await regular(request)
            return await handler(**arguments)

        return handle


#: a bound route: its path pattern, methods, the route, its binder and handler
_HotRoute = tuple[re.Pattern[str], frozenset[str], "FastRoute", Binder, Handler]


class FastApp(FastAPI):
    """A FastAPI app that answers plainly valid requests of bound routes first (see above).

    The bound routes are those of the routers included so far, in include
    order; include the routers holding them first (with no prefix) so that
    no other route could have matched their paths before them.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hot: list[_HotRoute] = []

    def include_router(self, router: APIRouter, **kwargs: Any) -> None:
        super().include_router(router, **kwargs)
        for route in router.routes:
            if not isinstance(route, FastRoute) or (bound := _bound(route)) is None:
                continue
            if kwargs.get("prefix"):
                raise ValueError(f"bound route {route.path} included with a prefix")
            self._hot.append((route.path_regex, frozenset(route.methods or ()), route, *bound))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._hot:
            found = self._find(scope)
            if found is not None:
                answered, receive = await self._answer(found, scope, receive, send)
                if answered:
                    return
        await super().__call__(scope, receive, send)

    def _find(self, scope: Scope) -> tuple[Binder, Handler, dict[str, Any]] | None:
        path, method = scope["path"], scope["method"]
        root_path = scope.get("root_path", "")
        if root_path and path.startswith(root_path):  # behind a proxy: route as Starlette does
            path = path[len(root_path) :]
        for pattern, methods, route, binder, handler in self._hot:
            match = pattern.match(path)
            if match is None or method not in methods:
                continue
            params = {
                name: route.param_convertors[name].convert(value)
                for name, value in match.groupdict().items()
            }
            return binder, handler, params
        return None

    async def _answer(
        self,
        found: tuple[Binder, Handler, dict[str, Any]],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> tuple[bool, Receive]:
        """Answer through the binder and endpoint; (False, a replaying receive) if declined."""
        binder, handler, params = found
        body, complete = await _read_body(receive)
        if not complete:  # the client went away mid-body: FastAPI sees the same
            return False, _disconnected
        replay = _replaying(body, receive)
        scope["app"] = self
        scope["path_params"] = params
        try:
            arguments = await binder(_FastRequest(scope, _replaying(body, receive)))
            if arguments is None:
                return False, replay
            response = await handler(**arguments)
        except Exception:  # FastAPI answers it again, with its error handling
            return False, replay
        await response(scope, receive, send)
        return True, replay


class _FastRequest(Request):
    """A request whose query string is parsed through :func:`parse_query`'s cache."""

    @property
    def query_params(self) -> QueryParams:
        parsed: QueryParams | None = self.__dict__.get("_fast_query")
        if parsed is None:
            parsed = self.__dict__["_fast_query"] = ParsedQuery(
                parse_query(self.scope["query_string"])
            )
        return parsed


class ParsedQuery(QueryParams):
    """The :class:`QueryParams` of :func:`parse_query`'s pairs, as Starlette would hold them.

    Starlette's constructor copies and converts every pair four times (it
    takes any mapping or string); these pairs are strings already, so they
    are kept as they are (the last value of a name wins, as there), and
    ``get`` is one dict lookup instead of two calls through ``Mapping``.
    """

    def __init__(self, pairs: list[tuple[str, str]]) -> None:  # no super(): see above
        self._list = pairs
        self._dict = dict(pairs)

    def get(self, key: str, default: Any = None) -> Any:
        return self._dict.get(key, default)


#: decoded ``name=value`` pieces that needed percent- or plus-decoding
_PIECES: dict[str, tuple[str, str]] = {}
_MAX_PIECES = 4096


def parse_query(raw: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs of a query string, exactly as Starlette reads them.

    Starlette decodes the string as latin-1 and parses it with
    ``urllib.parse.parse_qsl(keep_blank_values=True)``. Here, pieces without
    ``%`` or ``+`` are split as they are, and decoded pieces are remembered:
    business rules (``filters=category%3Ain%3A...``) repeat from request to
    request, and percent-decoding them costs more than the rest of the query.
    """
    pairs: list[tuple[str, str]] = []
    for piece in raw.decode("latin-1").split("&"):
        if not piece:
            continue
        pair = _PIECES.get(piece)
        if pair is None:
            name, _, value = piece.partition("=")
            if "%" not in piece and "+" not in piece:
                pairs.append((name, value))
                continue
            pair = (unquote(name.replace("+", " ")), unquote(value.replace("+", " ")))
            if len(_PIECES) >= _MAX_PIECES:
                _PIECES.clear()
            _PIECES[piece] = pair
        pairs.append(pair)
    return pairs


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body, and whether it all came (False: the client disconnected)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the (already read) body once, then defers to ``receive``."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
