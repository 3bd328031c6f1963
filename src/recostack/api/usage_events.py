"""Usage events of a request body → the library's :class:`UsageEvent`.

:func:`usage_events` converts validated ``UsageEventCreate`` models (naive
timestamps are UTC) for every endpoint that takes events. :func:`plain_events`
is the hot path's reader: it decodes a JSON body with orjson and checks it by
hand, accepting only what ``list[UsageEventCreate]`` accepts with the same
values (camelCase keys, an ``itemId`` string of 1..450 characters, an ISO 8601
timestamp of the plain ``YYYY-MM-DDTHH:MM:SS[.ffffff][Z|±HH:MM]`` shape, a
known ``eventType``, a finite ``weight``). Anything else returns ``None`` and
goes to pydantic, which gives the usual answer, errors included.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from recostack.api.schemas import UsageEventCreate
from recostack.data.events import event_weight
from recostack.training.trained_model import UsageEvent

__all__ = ["MAX_EVENTS", "plain_event_list", "plain_events", "usage_events"]

MAX_EVENTS = 1000
MAX_ITEM_ID = 450
MAX_EVENT_TYPE = 64
_KEYS = frozenset({"itemId", "timestamp", "eventType", "weight"})
_PLAIN_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})?\Z"
)
_SAFE_INT = 2**53


def usage_events(events: Sequence[UsageEventCreate | UsageEvent] | None) -> list[UsageEvent]:
    """Library events of validated models (those read by :func:`plain_events` pass as they are)."""
    return [
        e
        if isinstance(e, UsageEvent)
        else UsageEvent(e.item_id, _utc(e.timestamp), e.event_type, e.weight)
        for e in events or ()
    ]


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def plain_events(body: bytes) -> list[UsageEvent] | None:
    """The events of a plainly valid JSON array body, or ``None`` (let pydantic decide)."""
    try:
        raw: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return plain_event_list(raw)


def plain_event_list(raw: Any) -> list[UsageEvent] | None:
    """As :func:`plain_events`, for a JSON value decoded already."""
    if type(raw) is not list or len(raw) > MAX_EVENTS:
        return None
    events: list[UsageEvent] = []
    append = events.append
    for entry in raw:
        if type(entry) is not dict or not _KEYS.issuperset(entry):
            return None
        item_id = entry.get("itemId")
        if type(item_id) is not str or not 0 < len(item_id) <= MAX_ITEM_ID:
            return None
        timestamp = entry.get("timestamp")
        if timestamp is not None:
            if type(timestamp) is not str or _PLAIN_TIMESTAMP.match(timestamp) is None:
                return None
            try:
                timestamp = datetime.fromisoformat(timestamp)
            except ValueError:  # e.g. month 13: pydantic words the error
                return None
            if timestamp.tzinfo is None:
                timestamp = timestamp.replace(tzinfo=UTC)
        event_type = entry.get("eventType")
        if event_type is not None and (
            type(event_type) is not str
            or len(event_type) > MAX_EVENT_TYPE
            or event_weight(event_type) is None
        ):
            return None
        weight = entry.get("weight")
        if weight is not None:
            if type(weight) is int and -_SAFE_INT <= weight <= _SAFE_INT:
                weight = float(weight)
            elif type(weight) is not float or not math.isfinite(weight):
                return None
        append(UsageEvent(item_id, timestamp, event_type, weight))
    return events
