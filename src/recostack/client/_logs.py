"""Log records of a deployment: its answers (predictions) and the responses to them.

Pages come newest first; the next page starts after the last record of
this one (``last_log_request_id``, ``last_log_timestamp``), which
:meth:`PredictionLogRecord.next_page` and :meth:`ResponseLogRecord.next_page` give.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from recostack.client._recommendations import RankedItem
from recostack.client._wire import WireRecord

__all__ = ["LogCursor", "PredictionLogRecord", "ResponseLogRecord", "log_page_params"]


class LogCursor(TypedDict):
    """Where the next page of a log starts: ``get_..._logs_records(**record.next_page())``."""

    last_log_request_id: str
    last_log_timestamp: datetime


class PredictionLogRecord(WireRecord):
    """One answer of a deployment, as logged."""

    request_id: str
    deployment_id: str
    version: str
    model_id: str | None = None
    user_id: str | None = None
    items: list[RankedItem]
    context: dict[str, Any] | None = None
    timestamp: datetime
    latency_ms: float | None = None

    def next_page(self) -> LogCursor:
        """The paging arguments of the page after this record."""
        return {"last_log_request_id": self.request_id, "last_log_timestamp": self.timestamp}


class ResponseLogRecord(WireRecord):
    """One response to an answer (take-up, an event, a reward), as logged."""

    response_id: str
    request_id: str
    deployment_id: str
    item_id: str | None = None
    event: str | None = None
    reward: float | None = None
    take_up: bool | None = None
    timestamp: datetime

    def next_page(self) -> LogCursor:
        """The paging arguments of the page after this record (it pages by responseId)."""
        return {"last_log_request_id": self.response_id, "last_log_timestamp": self.timestamp}


def log_page_params(
    limit: int, last_log_request_id: str, last_log_timestamp: str | datetime | None
) -> dict[str, Any]:
    """The query of a log page: ``limit`` records after the given last record, if any."""
    params: dict[str, Any] = {"limit": limit}
    if last_log_request_id:
        params["last_log_request_id"] = last_log_request_id
    if isinstance(last_log_timestamp, datetime):
        last_log_timestamp = last_log_timestamp.isoformat()
    if last_log_timestamp is not None:
        params["last_log_timestamp"] = last_log_timestamp
    return params
