"""Typed answers of the online learning calls: a configuration, an arm of the options store."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict

from recostack.client._wire import WireRecord

__all__ = ["Arm", "OnlineLearningConfiguration"]


class OnlineLearningConfiguration(WireRecord):
    """A configuration: its id, name and (in ``to_dict()``) every parameter."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    description: str | None = None
    algorithm: str = "ecosystem_rewards"
    feature_store_collection: str | None = None
    feature_store_database: str | None = None


class Arm(WireRecord):
    """One offer in one segment of the options store."""

    config_id: str
    offer: str
    segment: str
    alpha: float
    beta: float
    alpha_zero: float
    beta_zero: float
    propensity: float
    shown: int
    taken_up: int
    declined: int
    reward_sum: float
    counted: int
    arm_reward: float | None = None
    updated_at: datetime | None = None
