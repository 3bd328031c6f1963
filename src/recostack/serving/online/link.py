"""A deployment's link to online learning: ``multi_armed_bandit`` and ``setup_offer_matrix``.

The reference's shapes: ``multi_armed_bandit = {epsilon, duration,
pulse_responder_id}`` (``pulse_responder_id`` is the configuration's UUID;
``""`` links none) and ``setup_offer_matrix = {datasource, database,
collection, offer_lookup_id}`` (``offer_lookup_id``: offer, offer_name or
offer_id). Either may be the reference's ``"default"`` (not set).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recostack.errors import Invalid

__all__ = ["OFFER_LOOKUP_IDS", "OnlineLink", "parse_online_link"]

OFFER_LOOKUP_IDS = ("offer", "offer_name", "offer_id")
DATASOURCES = ("mongodb", "cassandra", "presto", "recostack")


@dataclass(frozen=True)
class OnlineLink:
    """A deployment's ``multi_armed_bandit`` (and ``setup_offer_matrix``)."""

    config_id: str
    #: the deployment's epsilon (``None``: the configuration's ``randomisation_epsilon``)
    epsilon: float | None = None
    #: cache a customer's answer this many milliseconds (0: never)
    duration_ms: float = 0.0
    offer_collection: str | None = None
    offer_lookup_id: str = "offer"


def _section(settings: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = settings.get(name)
    if value in (None, "", "default"):
        return {}
    if not isinstance(value, Mapping):
        raise Invalid(f'{name} must be an object (or "default")', field=name)
    return value


def _number(name: str, value: Any, low: float, high: float = math.inf) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not (low <= number <= high):
        raise Invalid(f"{name} must be a number in [{low}, {high}], got {value!r}", field=name)
    return number


def parse_online_link(settings: Mapping[str, Any]) -> OnlineLink | None:
    """The deployment's link (``None``: no configuration linked); :class:`Invalid` names a
    bad field."""
    bandit = _section(settings, "multi_armed_bandit")
    matrix = _section(settings, "setup_offer_matrix")
    if matrix:
        lookup = matrix.get("offer_lookup_id", "offer")
        if lookup not in OFFER_LOOKUP_IDS:
            raise Invalid(
                f"setup_offer_matrix.offer_lookup_id must be one of {list(OFFER_LOOKUP_IDS)}",
                field="setup_offer_matrix.offer_lookup_id",
            )
        source = matrix.get("datasource", "recostack")
        if source not in DATASOURCES:
            raise Invalid(
                f"setup_offer_matrix.datasource must be one of {list(DATASOURCES)} (each "
                "names Recostack's own store)",
                field="setup_offer_matrix.datasource",
            )
    config_id = bandit.get("pulse_responder_id") or ""
    if not isinstance(config_id, str):
        raise Invalid(
            "multi_armed_bandit.pulse_responder_id must be a string",
            field="multi_armed_bandit.pulse_responder_id",
        )
    epsilon = bandit.get("epsilon")
    duration = bandit.get("duration", 0)
    link_epsilon = (
        None if epsilon is None else _number("multi_armed_bandit.epsilon", epsilon, 0.0, 1.0)
    )
    duration_ms = _number("multi_armed_bandit.duration", duration or 0, 0.0)
    if not config_id:
        return None
    return OnlineLink(
        config_id,
        link_epsilon,
        duration_ms,
        matrix.get("collection") or None,
        str(matrix.get("offer_lookup_id", "offer")),
    )
