"""Usage event types and the weights the reference gives them."""

from __future__ import annotations

from typing import Literal

__all__ = ["DEFAULT_EVENT_TYPE", "EVENT_TYPE_WEIGHTS", "EventType", "event_weight"]

EventType = Literal["Click", "RecommendationClick", "AddShopCart", "RemoveShopCart", "Purchase"]
#: every event type's weight (its keys are checked against ``EventType`` by mypy)
EVENT_TYPE_WEIGHTS: dict[EventType, float] = {
    "Click": 1.0,
    "RecommendationClick": 2.0,
    "AddShopCart": 3.0,
    "RemoveShopCart": -1.0,
    "Purchase": 4.0,
}
DEFAULT_EVENT_TYPE: EventType = "Click"

_LOWER = {name.lower(): weight for name, weight in EVENT_TYPE_WEIGHTS.items()}


def event_weight(event_type: str | None) -> float | None:
    """Weight of an event type (case-insensitive); ``None`` if unknown."""
    if event_type is None or event_type == "":
        return EVENT_TYPE_WEIGHTS[DEFAULT_EVENT_TYPE]
    return _LOWER.get(event_type.strip().lower())
