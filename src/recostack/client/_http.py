"""The HTTP side of the client: one ``httpx.Client``, the API key, and answers or errors."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from recostack.client._errors import error_from_response

__all__ = ["API_KEY_HEADER", "HttpSession", "request_content", "version_params"]

API_KEY_HEADER = "x-api-key"


def request_content(data: bytes | str | Path) -> bytes:
    """An upload's bytes: given as bytes, as text (UTF-8), or as a local file."""
    if isinstance(data, Path):
        return data.read_bytes()
    return data.encode() if isinstance(data, str) else data


def version_params(version: str | None) -> dict[str, str] | None:
    """The query of a call on one deployment version (none: the newest)."""
    return {"version": version} if version is not None else None


class HttpSession:
    """An ``httpx.Client`` on ``base_url`` with the API key; closes as a context manager.

    ``transport`` is any synchronous httpx transport (a test's, a proxy's);
    ``poll_seconds`` is how often the ``wait_for_*`` methods ask again.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float | httpx.Timeout = 30.0,
        transport: httpx.BaseTransport | None = None,
        poll_seconds: float = 0.2,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.poll_seconds = poll_seconds
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={API_KEY_HEADER: api_key},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request: its JSON answer (``None`` when it has none), or the error it stands for."""
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise error_from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()
