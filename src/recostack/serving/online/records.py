"""Online learning as serving sees it: configurations, feature stores, arms, learning events.

The store maps its rows onto these values
(``recostack.store.online_repository`` / ``recostack.store.options_store``);
serving never reads a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple, cast

import numpy as np
import orjson

from recostack.algorithms.bandits import EcosystemRewardsConfig

__all__ = [
    "ONLINE_GENERATION",
    "SEGMENT_SEPARATOR",
    "Arm",
    "ArmStats",
    "ArmTable",
    "ContextVariable",
    "FeatureStore",
    "Impression",
    "OnlineConfiguration",
    "ResponseEvent",
    "segment_key",
]

#: the change stamp of configurations, feature stores and offers
ONLINE_GENERATION: Final = "online_learning_generation"
SEGMENT_SEPARATOR: Final = "|"


def segment_key(values: tuple[str, ...]) -> str:
    """A segment's key: its variables' values joined by ``|`` (``""`` without variables)."""
    return SEGMENT_SEPARATOR.join(values)


@dataclass(frozen=True)
class ContextVariable:
    """One contextual variable of a configuration (``contextual_variables_..._one/two``)."""

    #: the field of the feature store (and the key of a request's ``context``)
    name: str
    #: read from the deployment's customer lookup instead of the request's context
    from_data_source: bool = False
    #: the customer lookup's field (default: ``name``)
    lookup: str = ""

    @property
    def lookup_field(self) -> str:
        return self.lookup or self.name


@dataclass(frozen=True)
class FeatureStore:
    """Offers by segment: the arms a configuration can have."""

    database: str
    collection: str
    #: variable name -> its values, in the order given (at most two variables)
    variables: Mapping[str, tuple[str, ...]]
    #: segment key -> the offers configured in it
    segments: Mapping[str, tuple[str, ...]]
    #: offer -> its attributes (the offer collection's record)
    offers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class OnlineConfiguration:
    """A stored ``create_online_learning`` configuration, parsed."""

    id: str
    name: str
    params: EcosystemRewardsConfig
    variables: tuple[ContextVariable, ...]
    feature_store: FeatureStore
    #: every parameter as stored (reference names)
    parameters: Mapping[str, Any] = field(default_factory=dict)
    #: arms per customer: the segment is the customer (Recostack's ``per_customer_arms``)
    per_customer: bool = False


class ArmStats(NamedTuple):
    """One arm of the options store, as last read."""

    alpha: float
    beta: float
    alpha_zero: float
    beta_zero: float
    shown: int
    taken_up: int


#: an arm of a configuration: (offer, segment)
Arm = tuple[str, str]


@dataclass(frozen=True)
class ArmTable:
    """Arms of one configuration as the options store gives them, read at once.

    ``layout`` names the arms as JSON, ``[[offer, segment], ...]``, in the order of
    ``values``' rows: a text that stays the same from read to read while the arms do (only
    their figures change), so a reader keeps what it worked out from it. ``values`` holds one
    row per arm: alpha, beta, alpha_zero, beta_zero, shown, taken_up.
    """

    layout: str
    values: np.ndarray

    def arms(self) -> list[Arm]:
        return cast(list[Arm], list(map(tuple, orjson.loads(self.layout))))

    def stats(self) -> dict[Arm, ArmStats]:
        return {
            key: ArmStats(alpha, beta, alpha_zero, beta_zero, int(shown), int(taken_up))
            for key, (alpha, beta, alpha_zero, beta_zero, shown, taken_up) in zip(
                self.arms(), self.values.tolist(), strict=True
            )
        }


class Impression(NamedTuple):
    """An offer shown by a configuration (one interaction; not taken up until a take-up)."""

    request_id: str
    offer: str
    config_id: str
    deployment_id: str
    #: the deployment's version that answered
    version: str
    segment: str
    customer_id: str | None
    rank: int
    shown_ms: int
    draw: float
    propensity: float
    explored: bool
    #: what it adds to beta while not taken up (learning_rate × fail_reward)
    fail_part: float


class ResponseEvent(NamedTuple):
    """A response to a shown offer, with what it means for the arm."""

    request_id: str
    offer: str
    config_id: str
    #: True: taken up; False: declined
    take_up: bool
    reward: float | None
    #: what a take-up adds to alpha (capped reward × learning_rate)
    success_part: float
    fail_part: float
    #: the response log record to store with it
    log: Mapping[str, Any]
