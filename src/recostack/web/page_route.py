"""The dashboard's routes: errors become pages, not the API's JSON.

A :class:`PageRoute` answers a domain error (:class:`~recostack.errors.RecostackError`),
a sign-in that is needed, a read-only session's attempt to change something
or a missing CSRF token with an HTML page (or a redirect to the sign-in
page), so a browser never shows a JSON body.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from recostack.errors import RecostackError
from recostack.web.auth import CsrfFailed, ReadOnly, SignInRequired
from recostack.web.templating import render

__all__ = ["PageRoute"]


def _page(request: Request, status: int, heading: str, message: str) -> Response:
    return render(
        request, "message.html", None, status_code=status, heading=heading, message=message
    )


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return RedirectResponse("/login", status_code=303)
            except ReadOnly:
                return _page(
                    request, 403, "Read-only", "Sign in with the admin key to change this."
                )
            except CsrfFailed:
                return _page(
                    request, 403, "Refused", "The form has expired: reload the page and try again."
                )
            except RequestValidationError as error:
                first = error.errors()[0] if error.errors() else {}
                return _page(request, 400, "Invalid input", str(first.get("msg", "invalid input")))
            except RecostackError as error:
                return _page(request, error.status_code, "Cannot do that", error.message)

        return handle
