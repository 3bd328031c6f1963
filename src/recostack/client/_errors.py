"""Error answers of the API raised as the library's own exception classes."""

from __future__ import annotations

from typing import Any

import httpx

from recostack.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ParsingFailed,
    RecostackError,
    TooLarge,
    TrainingFailed,
    Unauthorized,
    Unavailable,
)

__all__ = ["error_from_response"]

_BY_CODE: dict[str, type[RecostackError]] = {
    cls.code: cls
    for cls in (
        Invalid,
        ParsingFailed,
        TooLarge,
        NotFound,
        Conflict,
        Unauthorized,
        Forbidden,
        Unavailable,
        TrainingFailed,
    )
}
_BY_STATUS: dict[int, type[RecostackError]] = {
    400: Invalid,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: Invalid,
    409: Conflict,
    413: TooLarge,
    422: Invalid,
    503: Unavailable,
}


def error_from_response(response: httpx.Response) -> RecostackError:
    """The exception an error answer stands for (same class, message and field)."""
    try:
        body: Any = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or f"HTTP {response.status_code}: {response.text[:200]}")
    cls = _BY_CODE.get(str(body.get("error"))) or _BY_STATUS.get(
        response.status_code, RecostackError
    )
    error = cls(message, field=body.get("field"), detail=body.get("detail"))
    error.status_code = response.status_code
    return error
