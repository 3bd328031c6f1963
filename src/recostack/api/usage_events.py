"""Usage events of a request body → the library's :class:`UsageEvent`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from recostack.api.schemas import UsageEventCreate
from recostack.training.trained_model import UsageEvent

__all__ = ["usage_events"]


def usage_events(events: Sequence[UsageEventCreate] | None) -> tuple[UsageEvent, ...]:
    """Library events of validated bodies (naive timestamps are UTC)."""
    return tuple(
        UsageEvent(e.item_id, _utc(e.timestamp), e.event_type, e.weight) for e in events or ()
    )


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
