"""Bodies and answers of webhooks, refresh policies, alerts and the realtime monitor.

Request bodies take the reference's names in camelCase or snake_case
(``webhookEventType`` or ``webhook_event_type``); every rule a body must
follow is declared here, so a body that breaks one is a 400 naming the
field and nothing is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic.alias_generators import to_camel

from recostack.api.cron_pattern import CRON_PATTERN
from recostack.services.alert_conditions import CONDITION_TYPES, MONITOR_METRICS
from recostack.store.webhook_repository import WEBHOOK_EVENTS

__all__ = [
    "AlertActionConfig",
    "AlertConditionConfig",
    "AlertCreate",
    "Number",
    "RealtimeMonitorCreate",
    "RefreshPolicyCreate",
    "WebhookCreate",
    "WholeNumber",
]

#: a statistic an alert condition may name: a model metric, or a realtime monitor figure
METRIC_PATTERN = (
    r"^((ndcg|precision|recall|map)@([1-9][0-9]?|100)|" + "|".join(MONITOR_METRICS) + ")$"
)

WebhookEvent = Literal[WEBHOOK_EVENTS]  # type: ignore[valid-type]
ConditionType = Literal[CONDITION_TYPES]  # type: ignore[valid-type]
MonitorMetric = Literal[MONITOR_METRICS]  # type: ignore[valid-type]


def _whole(value: Any) -> Any:
    """JSON Schema's integer: a whole number (``3`` or ``3.0``), never a boolean or text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("an integer")
        return int(value)
    return value


#: an integer as JSON Schema has it (pydantic alone would take ``true`` or ``"3"``)
WholeNumber = Annotated[int, BeforeValidator(_whole), Strict()]
#: a JSON number (pydantic alone would take ``false`` or ``"1.5"``)
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]


def _optional_integer(low: int, high: int) -> dict[str, Any]:
    """The schema of an optional bounded :data:`WholeNumber` (pydantic would name its bounds
    ``ge``/``le``, which JSON Schema does not know)."""
    return {"anyOf": [{"type": "integer", "minimum": low, "maximum": high}, {"type": "null"}]}


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class _Public(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


def wire_time(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- webhooks ----------------------------------------------------------------------------


class WebhookCreate(_Body):
    endpoint: AnyHttpUrl = Field(description="an http(s) URL the events are POSTed to")
    webhook_event_type: WebhookEvent
    payload_template: dict[str, Any] | None = Field(
        default=None,
        description="a JSON object whose strings may hold {{placeholders}} (eventType, "
        "deploymentId, timestamp, modelVersion, reason, alertName, state, value, ...)",
    )


class WebhookPublic(_Public):
    webhook_id: str
    deployment_id: str
    endpoint: str
    webhook_event_type: str
    payload_template: dict[str, Any] | None
    created_at: str | None
    #: only in the answer to create: the signing secret, shown once
    secret: str | None = None


class WebhookDeliveryPublic(_Public):
    delivery_id: str
    webhook_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: str | None
    created_at: str | None
    delivered_at: str | None


# --- refresh policies ----------------------------------------------------------------------


class RefreshPolicyCreate(_Body):
    cron: str = Field(
        max_length=128,
        pattern=CRON_PATTERN,
        description="minute hour day month weekday (UTC), optionally a sixth field of seconds",
    )
    name: str | None = Field(default=None, min_length=1, max_length=256)


class RefreshPolicyPublic(_Public):
    refresh_policy_id: str
    name: str
    cron: str
    refresh_type: str
    deployment_ids: list[str]
    model_ids: list[str]
    project_id: str | None
    paused: bool
    next_run_time: str | None
    created_at: str | None
    last_run_time: str | None
    last_model_id: str | None
    error: str | None


# --- alerts ------------------------------------------------------------------------------


class AlertConditionConfig(_Body):
    type: ConditionType
    threshold: Number
    window_minutes: WholeNumber = Field(default=5, ge=1, le=10_080)
    occurrences: WholeNumber = Field(default=1, ge=1, le=1000, description="N breaches ...")
    period_minutes: Annotated[WholeNumber, Field(ge=1, le=10_080)] | None = Field(
        default=None,
        description="... in T minutes (default: windowMinutes)",
        json_schema_extra=_optional_integer(1, 10_080),
    )
    metric: str | None = Field(
        default=None,
        pattern=METRIC_PATTERN,
        description="MODEL_METRIC_DROP (required): ndcg@k, precision@k, recall@k or map@k; "
        "MONITOR_METRIC (required): " + ", ".join(MONITOR_METRICS) + "; no other type has one "
        "(a metric that does not fit the type is a 422)",
    )
    operator: Literal["above", "below"] = "above"


class AlertActionConfig(_Body):
    type: Literal["WEBHOOK", "LOG"] = "WEBHOOK"
    webhook_id: str | None = Field(
        default=None,
        max_length=36,
        description="one webhook of the deployment (default: its ALERT_FIRING/ALERT_RESOLVED "
        "webhooks)",
    )


class AlertCreate(_Body):
    alert_name: str = Field(min_length=1, max_length=256)
    condition_config: AlertConditionConfig
    action_config: AlertActionConfig = Field(default_factory=AlertActionConfig)


class AlertEventPublic(_Public):
    state: str
    value: float | None
    message: str
    at: str | None


class AlertPublic(_Public):
    alert_id: str
    name: str
    deployment_id: str
    condition_config: dict[str, Any]
    action_config: dict[str, Any]
    condition_description: str
    state: str
    state_since: str | None
    last_value: float | None
    last_evaluated_at: str | None
    created_at: str | None
    history: list[AlertEventPublic] = Field(default_factory=list)


# --- the realtime monitor ------------------------------------------------------------------


class RealtimeMonitorCreate(_Body):
    realtime_monitor_schedule: str | None = Field(
        default=None, max_length=128, pattern=CRON_PATTERN, description="cron; default hourly"
    )
    lookback_time: Annotated[WholeNumber, Field(ge=60, le=90 * 86_400)] | None = Field(
        default=None,
        description="seconds of answers; default a day",
        json_schema_extra=_optional_integer(60, 90 * 86_400),
    )


class MonitorResultPublic(_Public):
    computed_at: str | None
    window_start: str | None
    window_end: str | None
    model_id: str | None
    metrics: dict[str, Any]


class RealtimeMonitorPublic(_Public):
    realtime_monitor_id: str
    deployment_id: str
    realtime_monitor_schedule: str
    lookback_time: int
    next_run_time: str | None
    last_run_time: str | None
    error: str | None
    created_at: str | None
    results: list[MonitorResultPublic] = Field(default_factory=list)
