"""Bodies of the online learning endpoints, with the reference's parameter names.

``OnlineLearningCreate`` has every parameter of ``create_online_learning``
(generated from :data:`recostack.serving.online.configuration.DEFAULTS`, so
the document and the defaults cannot drift apart); a name the reference does
not have (a third contextual variable) is a 400.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from recostack.serving.online.configuration import DEFAULTS, REQUIRED, UNSUPPORTED

__all__ = [
    "ArmPrior",
    "EvaluatePolicy",
    "EvaluatePolicyBody",
    "FeatureStoreSetup",
    "HistoricalInteraction",
    "IsoDateTime",
    "OfferRecord",
    "OnlineLearningCreate",
]

#: JSON types as documented (no "0.5" for a number, no 1 for a boolean)
_FORBID = ConfigDict(extra="forbid", populate_by_name=True, strict=True)
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}")


def _iso(value: Any) -> Any:
    """An ISO 8601 date-time only (pydantic would read a number as a Unix time)."""
    if value is not None and not (isinstance(value, str) and _DATE_TIME.match(value)):
        raise ValueError("an ISO 8601 date-time, e.g. 2026-01-01T00:00:00Z")
    return value


#: an ISO 8601 date-time (UTC when it has no offset)
IsoDateTime = Annotated[datetime, BeforeValidator(_iso), Field(strict=False)]


def _whole(value: Any) -> Any:
    """A JSON integer written as a number with no fraction (``2.0``) is that integer."""
    if isinstance(value, float) and not isinstance(value, bool) and value.is_integer():
        return int(value)
    return value


_CV = "contextual_variables_contextual_variable_"
_UNIT: dict[str, Any] = {"ge": 0, "le": 1}
#: the range of every numeric parameter (what ``EcosystemRewardsConfig`` checks)
_RANGES: dict[str, dict[str, Any]] = {
    "randomisation_epsilon": _UNIT,
    "randomisation_cross_segment_epsilon": _UNIT,
    "randomisation_random_action": _UNIT,
    "randomisation_discount_factor": _UNIT,
    "randomisation_success_reward": {"ge": 0},
    "randomisation_fail_reward": {"ge": 0},
    "randomisation_prior_success_reward": {"ge": 0},
    "randomisation_prior_fail_reward": {"ge": 0},
    "randomisation_max_reward": {"gt": 0},
    "randomisation_processing_window": {"gt": 0},
    "randomisation_cache_duration": {"ge": 0},
    "randomisation_learning_rate": {"gt": 0, "le": 100},
}
#: integers, with their least value
_INTEGERS = {"randomisation_processing_count": 1, "batch_threads": 1, "batch_number_of_offers": 1}
#: numbers the reference writes as text ("0", "1"): a number, or text of a number in range
_TEXT_NUMBERS: dict[str, tuple[Any, str]] = {
    "randomisation_interaction_count": (
        Annotated[int, Field(ge=0), BeforeValidator(_whole)],
        r"^[0-9]+$",
    ),
    "randomisation_decay_gamma": (
        Annotated[float, Field(ge=1, allow_inf_nan=False)],
        r"^[1-9][0-9]*(\.[0-9]+)?$",
    ),
}
_FLAG = bool | Literal["true", "false", "True", "False", ""]
#: names with a closed set of values
_CHOICES: dict[str, Any] = {
    "algorithm": Literal["ecosystem_rewards"],
    "randomisation_calendar": Literal["None", ""],
    "batch_execution_type": Literal["", "internal", "external"],
}


def _field(name: str, default: Any) -> tuple[Any, Any]:
    if name in _CHOICES:
        return (_CHOICES[name] | None, Field(default=default))
    if isinstance(default, bool) or name in (
        "batch",
        "randomisation_batch",
        "randomisation_test_options_across_segment",
    ):
        return (_FLAG | None, Field(default=default))
    if name in _INTEGERS:
        low = _INTEGERS[name]
        return (
            Annotated[int, Field(ge=low), BeforeValidator(_whole)] | None,
            Field(default=default),
        )
    if name in _RANGES:
        return (float | None, Field(default=default, allow_inf_nan=False, **_RANGES[name]))
    if name in _TEXT_NUMBERS:
        number, pattern = _TEXT_NUMBERS[name]
        return (number | Annotated[str, Field(pattern=pattern)] | None, Field(default=default))
    return (str | None, Field(default=default, max_length=10_000))


_FIELDS: dict[str, Any] = {
    name: (str, Field(min_length=1, max_length=128)) for name in REQUIRED if name != "description"
}
_FIELDS["description"] = (str, Field(max_length=10_000))
_FIELDS.update({name: _field(name, default) for name, default in DEFAULTS.items()})
for _name, _why in UNSUPPORTED.items():
    _FIELDS[_name] = (
        Literal[""] | None,
        Field(default="", description=f"must be empty: {_why}"),
    )
_FIELDS["per_customer_arms"] = (
    bool,
    Field(
        default=False,
        description="Recostack's: each customer is a segment (arms per offer and customer; "
        "no contextual variables); the request names the customer (customerId or userId)",
    ),
)
_FIELDS["replace"] = (bool, Field(default=False))


def _constraints(field: Any) -> dict[str, Any]:
    """A create field's constraints, for the same parameter in another body."""
    out: dict[str, Any] = {}
    for item in getattr(field, "metadata", ()):
        for name in ("ge", "gt", "le", "lt", "max_length", "allow_inf_nan"):
            if getattr(item, name, None) is not None:
                out[name] = getattr(item, name)
    return out


_FIELDS["require_policy_evaluation"] = (
    bool,
    Field(
        default=False,
        description="with replace: refuse the new parameters when their DR lower bound on the "
        "logged answers is below the live configuration's",
    ),
)

OnlineLearningCreate = create_model(
    "OnlineLearningCreate",
    __config__=_FORBID,
    __doc__="create_online_learning: every parameter of the reference, with its default.",
    **_FIELDS,
)


_VALUE = (
    Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^|]*$")]
    | Annotated[int, Field(ge=-(10**15), le=10**15), BeforeValidator(_whole)]
)


class FeatureStoreSetup(BaseModel):
    """online_learning_ecosystem_rewards_setup_feature_store's parameters."""

    model_config = _FORBID

    offer_db: str = Field(default="recostack", max_length=128)
    offer_collection: str = Field(min_length=1, max_length=128)
    offer_name_column: str = Field(default="", max_length=128)
    contextual_variables: dict[
        Annotated[str, Field(min_length=1, max_length=128)],
        Annotated[list[_VALUE], Field(min_length=1, max_length=10_000)],
    ] = Field(
        default_factory=dict,
        max_length=2,
        description="variable name -> its values (at most two variables; distinct values)",
    )
    setup_feature_store_db: str = Field(default="recostack", min_length=1, max_length=128)
    setup_feature_store_collection: str = Field(min_length=1, max_length=128)


class OfferRecord(BaseModel):
    model_config = _FORBID

    offer_id: str = Field(alias="offerId", min_length=1, max_length=255)
    fields: dict[str, Any] = Field(default_factory=dict)


class ArmPrior(BaseModel):
    model_config = _FORBID

    offer: str = Field(min_length=1, max_length=255)
    segment: str = Field(default="", max_length=255)
    alpha_zero: float = Field(alias="alphaZero", gt=0, le=1e9)
    beta_zero: float = Field(alias="betaZero", gt=0, le=1e9)


class HistoricalInteraction(BaseModel):
    model_config = _FORBID

    offer: str = Field(min_length=1, max_length=255)
    segment: str = Field(default="", max_length=255)
    take_up: bool = Field(alias="takeUp")


_CANDIDATE_FIELDS: dict[str, Any] = {
    name: (spec[0], Field(default=None, **_constraints(spec[1])))
    for name, spec in _FIELDS.items()
    if name.startswith("randomisation_") and name != "randomisation_calendar"
}


class EvaluatePolicy(BaseModel):
    """A candidate: another configuration and/or ``randomisation_*`` overrides and priors, or a
    model-backed deployment (``candidateDeploymentId``); the window of answers read."""

    model_config = _FORBID

    config_id: str | None = Field(default=None, alias="configId", max_length=128)
    candidate_deployment_id: str | None = Field(
        default=None,
        alias="candidateDeploymentId",
        max_length=128,
        description="a model-backed deployment whose top-k is the candidate",
    )
    candidate_version: str | None = Field(default=None, alias="candidateVersion", max_length=64)
    alpha_zero: float | None = Field(
        default=None, alias="alphaZero", gt=0, le=1e9, allow_inf_nan=False
    )
    beta_zero: float | None = Field(
        default=None, alias="betaZero", gt=0, le=1e9, allow_inf_nan=False
    )
    start: IsoDateTime | None = None
    end: IsoDateTime | None = None
    max_answers: Annotated[int, Field(ge=1, le=10_000_000), BeforeValidator(_whole)] | None = Field(
        default=None,
        alias="maxAnswers",
        description="read the newest this many answers of the range (default: the server's "
        "RECOSTACK_ONLINE_EVALUATION_MAX_ANSWERS, 20,000)",
    )

    def candidate(self) -> dict[str, Any]:
        overrides = {
            name: value
            for name in _CANDIDATE_FIELDS
            if (value := getattr(self, name, None)) is not None
        }
        return {
            **overrides,
            "configId": self.config_id,
            "candidateDeploymentId": self.candidate_deployment_id,
            "candidateVersion": self.candidate_version,
            "alpha_zero": self.alpha_zero,
            "beta_zero": self.beta_zero,
        }


if TYPE_CHECKING:
    EvaluatePolicyBody = EvaluatePolicy
else:
    EvaluatePolicyBody = create_model(
        "EvaluatePolicyBody", __base__=EvaluatePolicy, **_CANDIDATE_FIELDS
    )
