"""Usage event types and the weights the reference gives them."""

from __future__ import annotations

__all__ = ["DEFAULT_EVENT_TYPE", "EVENT_TYPE_WEIGHTS", "event_weight"]

EVENT_TYPE_WEIGHTS: dict[str, float] = {
    "Click": 1.0,
    "RecommendationClick": 2.0,
    "AddShopCart": 3.0,
    "RemoveShopCart": -1.0,
    "Purchase": 4.0,
}
DEFAULT_EVENT_TYPE = "Click"

_LOWER = {name.lower(): weight for name, weight in EVENT_TYPE_WEIGHTS.items()}


def event_weight(event_type: str | None) -> float | None:
    """Weight of an event type (case-insensitive); ``None`` if unknown."""
    if event_type is None or event_type == "":
        return EVENT_TYPE_WEIGHTS[DEFAULT_EVENT_TYPE]
    return _LOWER.get(event_type.strip().lower())
