"""Every error answer of the API, in one shape, decided in one place.

``{"error": <code>, "message": <what is wrong>, "field": <which input>}``
(``field`` when one input is to blame; ``detail`` when there is more to
say, such as every validation problem of a request). The
:mod:`recostack.errors` hierarchy carries its own status code; FastAPI's
validation errors become 400 naming the first offending field; unknown
routes and methods keep their 404/405 (a 405's ``Allow`` naming every method
of the path); a file name the file system finds too long is a 422; anything
else is a logged 500. The OpenAPI document states
these answers and no other: FastAPI's own "422 Validation Error", which this
API never sends, is left out of it.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

from recostack.api.inputs import PATTERN_MESSAGES
from recostack.errors import RecostackError, Unauthorized, Unprocessable

__all__ = [
    "ERROR_RESPONSES",
    "NAME_TOO_LONG",
    "ErrorBody",
    "Responses",
    "allowed_methods",
    "error_responses",
    "field_name",
    "install_error_handlers",
]

logger = logging.getLogger(__name__)

_SOURCES = ("body", "query", "path", "header", "cookie")


class ErrorBody(BaseModel):
    """The body of every 4xx and 5xx answer."""

    error: str
    message: str
    field: str | None = None
    detail: Any | None = None


Responses = dict[int | str, dict[str, Any]]


def error_responses(**descriptions: str) -> Responses:
    """OpenAPI entries for error answers: ``error_responses(e404="no such model")``."""
    return {
        int(code.removeprefix("e")): {"model": ErrorBody, "description": text}
        for code, text in descriptions.items()
    }


#: a path whose segment is longer in UTF-8 than the file system takes (255 bytes): a rule
#: no JSON Schema can state (it counts characters), so the document's limit is 255 of them
NAME_TOO_LONG = error_responses(
    e422="a segment of the path is longer in UTF-8 than the file system takes (255 bytes)"
)

#: the error answers every protected endpoint can give, for the OpenAPI document
ERROR_RESPONSES = error_responses(
    e400="invalid input (the field is named)",
    e401="missing or wrong API key",
    e403="the key's role may not do this",
    e413="the request body is over the size limit (recostack.api.request_limits)",
    e429="the API key is over its request rate (when one is set): retry after Retry-After",
)
ERROR_RESPONSES[429]["headers"] = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
}


def field_name(loc: Sequence[Any]) -> str:
    """A validation error location as a field name: ``[2].eventType``, ``recommendationCount``
    (a repeated query parameter is named as it is sent: ``filters``)."""
    parts = list(loc)
    source = parts.pop(0) if parts and parts[0] in _SOURCES else "body"
    if not parts:
        return str(source)
    if source in ("query", "header", "cookie"):
        parts = [part for part in parts if not isinstance(part, int)]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name


def _message(error: dict[str, Any], field: str) -> str:
    if error.get("type") == "json_invalid":
        return "the request body is not valid JSON"
    if error.get("type") == "missing" and field == "body":
        return "a request body is required"
    if error.get("type") == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern", "")
        if pattern in PATTERN_MESSAGES:
            return f"{field}: {error.get('input')!r}: {PATTERN_MESSAGES[pattern]}"
        return f"{field}: {error.get('input')!r} does not match the pattern {pattern}"
    return f"{field}: {error.get('msg', 'invalid value')}"


def _json(
    status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(status_code=status, content=body, headers=headers)


async def _recostack_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RecostackError)
    headers = {"WWW-Authenticate": "ApiKey"} if isinstance(exc, Unauthorized) else None
    return _json(exc.status_code, exc.to_dict(), headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "field": field_name(e.get("loc", ())),
            "message": _message(e, field_name(e.get("loc", ()))),
        }
        for e in exc.errors()
    ]
    first = problems[0] if problems else {"field": "body", "message": "invalid request"}
    body: dict[str, Any] = {
        "error": "invalid",
        "message": first["message"],
        "field": first["field"],
    }
    if len(problems) > 1:
        body["detail"] = problems
    return _json(400, body)


def allowed_methods(app: FastAPI, scope: Mapping[str, Any]) -> list[str]:
    """The methods the request's path takes, for the ``Allow`` header of a 405.

    FastAPI makes one route per method, and Starlette's router names only
    the methods of the first route whose path matches. The path belongs to
    that route's template (``/api/models/default`` before
    ``/api/models/{modelId}``, as the router tries them); every route of
    that template counts.
    """
    routes = list(iter_route_contexts(app.routes))
    matched = next((r for r in routes if r.matches(dict(scope))[0] != Match.NONE), None)
    if matched is None:
        return []
    return sorted({m for r in routes if r.path == matched.path for m in r.methods or ()})


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
        methods = allowed_methods(request.app, request.scope)
        if methods:
            headers["Allow"] = ", ".join(methods)
    else:
        message = str(exc.detail) if exc.detail else phrase
    code = phrase.lower().replace(" ", "_").replace("-", "_")
    return _json(exc.status_code, {"error": code, "message": message}, headers or None)


async def _os_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OSError)
    if exc.errno != errno.ENAMETOOLONG:
        raise exc
    problem = Unprocessable(
        "a name in the path is longer than the file system takes (255 bytes in UTF-8)"
    )
    return _json(problem.status_code, problem.to_dict())


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return _json(500, {"error": "internal", "message": "internal server error"})


_VALIDATION_ERROR_REF = "#/components/schemas/HTTPValidationError"


def _without_validation_422(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` without the 422 answers FastAPI adds (a validation error here is a 400)."""
    for path in document.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            schema = responses.get("422", {}).get("content", {}).get("application/json", {})
            if schema.get("schema", {}).get("$ref") == _VALIDATION_ERROR_REF:
                del responses["422"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in one shape, and let the OpenAPI document say so."""
    app.add_exception_handler(RecostackError, _recostack_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OSError, _os_error)
    app.add_exception_handler(Exception, _unexpected_error)
    build_document = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI builds the document once (again when routes are added); the cut is idempotent
        return _without_validation_422(build_document())

    app.openapi = openapi  # type: ignore[method-assign]
