"""One exception hierarchy for the whole of Recostack.

The core raises these; the API maps them to HTTP status codes in one place
(``recostack.api.errors``), the CLI turns them into one line, and the SDK
raises the same classes from error responses::

    RecostackError
    ├── Invalid            bad input: a parameter, a file, a request (400)
    │   ├── ParsingFailed  an input file had no valid line (400)
    │   ├── TooLarge       an upload is over the size limit (413)
    │   └── Unprocessable  well-formed input whose content cannot be used (422)
    ├── NotFound           no such model, item, scenario, ... (404)
    ├── Conflict           the request contradicts stored state (409)
    ├── Unauthorized       missing or wrong API key (401)
    ├── Forbidden          the key's role may not do this (403)
    ├── Unavailable        the resource exists but cannot serve now (503)
    └── TrainingFailed     a training run ended without a model
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "ParsingFailed",
    "RecostackError",
    "TooLarge",
    "TrainingFailed",
    "Unauthorized",
    "Unavailable",
    "Unprocessable",
]


class RecostackError(Exception):
    """Base of every error Recostack raises on purpose.

    ``field`` names the input that is wrong (a parameter, a body field, a
    file) when there is one; ``detail`` carries structured data for the
    caller (e.g. a parsing report).
    """

    status_code: int = 500
    code: str = "error"

    def __init__(
        self, message: str, *, field: str | None = None, detail: Any | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.detail is not None:
            body["detail"] = self.detail
        return body


class Invalid(RecostackError):
    status_code = 400
    code = "invalid"


class ParsingFailed(Invalid):
    code = "parsing_failed"


class TooLarge(Invalid):
    status_code = 413
    code = "too_large"


class Unprocessable(Invalid):
    """Input that is well-formed, as the API's document describes it, but cannot be used.

    A rule no schema can state: the rows of an uploaded CSV against its
    header, say. (Input the document forbids is :class:`Invalid`, 400.)
    """

    status_code = 422
    code = "unprocessable"


class NotFound(RecostackError):
    status_code = 404
    code = "not_found"


class Conflict(RecostackError):
    status_code = 409
    code = "conflict"


class Unauthorized(RecostackError):
    status_code = 401
    code = "unauthorized"


class Forbidden(RecostackError):
    status_code = 403
    code = "forbidden"


class Unavailable(RecostackError):
    status_code = 503
    code = "unavailable"


class TrainingFailed(RecostackError):
    code = "training_failed"
