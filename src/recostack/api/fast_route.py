"""A route whose plain, valid requests skip FastAPI's argument machinery.

FastAPI's per-request work (solving dependencies, validating each
parameter, building the response) costs about as much as the whole
recommend call it wraps. :class:`FastRoute` keeps the endpoint exactly as
declared (its OpenAPI entry, and FastAPI's handling of every unusual
request) but first asks the endpoint's *binder* for its arguments. A binder
reads the request by hand and returns the keyword arguments of the
endpoint, or ``None`` when anything is not plainly valid; then FastAPI
handles the request as usual and gives its usual answer, errors included.
A binder must therefore accept only requests that FastAPI would accept
with the same values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

__all__ = ["Binder", "FastRoute", "binds"]

Binder = Callable[[Request], Awaitable[dict[str, Any] | None]]

_BINDERS: dict[Callable[..., Any], Binder] = {}


def binds(binder: Binder) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``binder`` for the decorated endpoint (put it under the route decorator)."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        _BINDERS[endpoint] = binder
        return endpoint

    return register


class FastRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        regular = super().get_route_handler()
        binder = _BINDERS.get(self.endpoint)
        if binder is None:
            return regular
        endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            arguments = await binder(request)
            if arguments is None:
                return await regular(request)
            response: Response = await endpoint(**arguments)
            return response

        return handle
