"""Bodies of the online learning endpoints, with the reference's parameter names.

``OnlineLearningCreate`` has every parameter of ``create_online_learning``
(generated from :data:`recostack.serving.online.configuration.DEFAULTS`, so
the document and the defaults cannot drift apart); a name the reference does
not have (a third contextual variable) is a 400.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from recostack.serving.online.configuration import DEFAULTS, REQUIRED

__all__ = [
    "ArmPrior",
    "EvaluatePolicyBody",
    "FeatureStoreSetup",
    "HistoricalInteraction",
    "OfferRecord",
    "OnlineLearningCreate",
]

_FORBID = ConfigDict(extra="forbid", populate_by_name=True)


def _field(name: str, default: Any) -> tuple[Any, Any]:
    if isinstance(default, bool):
        return (bool | str | None, Field(default=default))
    if isinstance(default, int | float):
        return (int | float | str | None, Field(default=default))
    return (str | None, Field(default=default, max_length=10_000))


_FIELDS: dict[str, Any] = {
    name: (str, Field(max_length=128 if name != "description" else 10_000)) for name in REQUIRED
}
_FIELDS.update({name: _field(name, default) for name, default in DEFAULTS.items()})
_FIELDS["replace"] = (bool, Field(default=False))
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


class FeatureStoreSetup(BaseModel):
    """online_learning_ecosystem_rewards_setup_feature_store's parameters."""

    model_config = _FORBID

    offer_db: str = Field(default="recostack", max_length=128)
    offer_collection: str = Field(min_length=1, max_length=128)
    offer_name_column: str = Field(default="", max_length=128)
    contextual_variables: dict[str, list[str | int | float]] = Field(
        default_factory=dict, description="variable name -> its values (at most two variables)"
    )
    setup_feature_store_db: str = Field(default="recostack", min_length=1, max_length=128)
    setup_feature_store_collection: str = Field(min_length=1, max_length=128)


class OfferRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    offer_id: str = Field(alias="offerId", min_length=1, max_length=255)
    fields: dict[str, Any] = Field(default_factory=dict)


class ArmPrior(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    offer: str = Field(min_length=1, max_length=255)
    segment: str = Field(default="", max_length=255)
    alpha_zero: float = Field(alias="alphaZero", gt=0, le=1e9)
    beta_zero: float = Field(alias="betaZero", gt=0, le=1e9)


class HistoricalInteraction(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    offer: str = Field(min_length=1, max_length=255)
    segment: str = Field(default="", max_length=255)
    take_up: bool = Field(alias="takeUp")


class EvaluatePolicyBody(BaseModel):
    """A candidate: another configuration and/or ``randomisation_*`` overrides, priors."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    config_id: str | None = Field(default=None, alias="configId", max_length=128)
    alpha_zero: float | None = Field(default=None, alias="alphaZero", gt=0)
    beta_zero: float | None = Field(default=None, alias="betaZero", gt=0)
    start: datetime | None = None
    end: datetime | None = None

    def candidate(self) -> dict[str, Any]:
        extra = {k: v for k, v in (self.model_extra or {}).items()}
        unknown = [k for k in extra if not k.startswith("randomisation_")]
        if unknown:
            from recostack.errors import Invalid

            raise Invalid(f"{unknown[0]}: not a candidate parameter", field=unknown[0])
        return {
            **extra,
            "configId": self.config_id,
            "alpha_zero": self.alpha_zero,
            "beta_zero": self.beta_zero,
        }
