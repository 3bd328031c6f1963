"""``create_online_learning``'s parameters: names, defaults, validation, and what they mean.

:data:`DEFAULTS` holds every parameter of the reference with its default
(the required ones are ``name``, ``description``, the feature store's and
the options store's database and collection, and
``contextual_variables_offer_key``). :func:`normalise` checks a parameter
set and returns it complete, values in their types; :func:`bandit_config`
and :func:`context_variables` read what scoring and learning need.

Recostack's own parameter ``per_customer_arms`` (default false) makes each
customer a segment: arms per offer and customer (SPEC §6's "single
entity"). ``contextual_variables_tracking_key`` and
``contextual_variables_take_up`` have no use here (the customer is the
request's id, the take-up the response's): a value is a 400 naming them.
``contextual_variables_offer_key`` must be the field that names the offers
of the feature store (checked when the configuration is stored).

Parameters that name connections or databases (``*_connection``,
``*_database``, ``score_*``) name places in Recostack's own store: they are
kept as given; the feature store is found by (database, collection). The
``batch_*`` parameters are validated and kept for batch jobs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from recostack.algorithms.bandits import EcosystemRewardsConfig
from recostack.errors import Invalid, Unprocessable
from recostack.serving.online.records import ContextVariable

__all__ = [
    "ALGORITHMS",
    "DEFAULTS",
    "RECOSTACK_DEFAULTS",
    "REQUIRED",
    "UNSUPPORTED",
    "bandit_config",
    "context_variables",
    "normalise",
]

ALGORITHMS = ("ecosystem_rewards",)
REQUIRED = (
    "name",
    "description",
    "feature_store_collection",
    "feature_store_database",
    "options_store_database",
    "options_store_collection",
    "contextual_variables_offer_key",
)
_CV = "contextual_variables_contextual_variable_"
DEFAULTS: dict[str, Any] = {
    "score_connection": "http://ecosystem-runtime:8091",
    "score_database": "ecosystem_meta",
    "score_collection": "dynamic_engagement",
    "algorithm": "ecosystem_rewards",
    "options_store_connection": "",
    "batch": "false",
    "feature_store_connection": "",
    f"{_CV}one_from_data_source": False,
    f"{_CV}one_lookup": "",
    f"{_CV}one_name": "",
    f"{_CV}two_from_data_source": False,
    f"{_CV}two_name": "",
    f"{_CV}two_lookup": "",
    "contextual_variables_tracking_key": "",
    "contextual_variables_take_up": "",
    "batch_database_out": "",
    "batch_collection_out": "",
    "batch_threads": 1,
    "batch_collection": "",
    "batch_userid": "",
    "batch_contextual_variables": "",
    "batch_number_of_offers": 1,
    "batch_database": "",
    "batch_pulse_responder_list": "",
    "batch_find": "{}",
    "batch_options": "",
    "batch_campaign": "",
    "batch_execution_type": "",
    "randomisation_calendar": "None",
    "randomisation_test_options_across_segment": "",
    "randomisation_processing_count": 1000,
    "randomisation_discount_factor": 0.75,
    "randomisation_batch": "false",
    "randomisation_prior_fail_reward": 0.1,
    "randomisation_cross_segment_epsilon": 0,
    "randomisation_success_reward": 1,
    "randomisation_interaction_count": "0",
    "randomisation_epsilon": 0,
    "randomisation_prior_success_reward": 1,
    "randomisation_fail_reward": 0.1,
    "randomisation_max_reward": 10,
    "randomisation_cache_duration": 0,
    "randomisation_processing_window": 86400000,
    "randomisation_random_action": 0.2,
    "randomisation_decay_gamma": "1",
    "randomisation_learning_rate": 0.25,
}
#: Recostack's own parameters (not the reference's), with their defaults
RECOSTACK_DEFAULTS: dict[str, Any] = {
    # a segment is one customer (SPEC §6: "or a single entity"), not contextual variables
    "per_customer_arms": False,
}
#: the reference's parameters Recostack has no use for: any value but the default is a 400
UNSUPPORTED = {
    "contextual_variables_tracking_key": "Recostack tracks a customer by the request's "
    "customerId / userId (and per-customer arms by per_customer_arms)",
    "contextual_variables_take_up": "Recostack reads a take-up from the response's takeUp "
    "or reward",
}
_NUMBERS = {f"randomisation_{n}" for n in EcosystemRewardsConfig.names()} - {
    "randomisation_test_options_across_segment"
}
_FLAGS = (
    f"{_CV}one_from_data_source",
    f"{_CV}two_from_data_source",
    "randomisation_test_options_across_segment",
    "batch",
    "randomisation_batch",
    "per_customer_arms",
)


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("", "false", "true"):
        return value.strip().lower() == "true"
    raise Invalid(f"{name} must be true or false, got {value!r}", field=name)


def _number(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Invalid(f"{name} must be a number, got {value!r}", field=name) from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise Invalid(f"{name} must be a finite number, got {value!r}", field=name)
    return number


def _int(name: str, value: Any, low: int) -> int:
    number = _number(name, value)
    if number != int(number) or number < low:
        raise Invalid(f"{name} must be an integer of at least {low}, got {value!r}", field=name)
    return int(number)


def normalise(given: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter, defaults filled in, values typed; :class:`Invalid` names a bad one."""
    unknown = set(given) - set(DEFAULTS) - set(RECOSTACK_DEFAULTS) - set(REQUIRED)
    if unknown:
        name = sorted(unknown)[0]
        problem = (
            "a configuration has at most two contextual variables (one, two)"
            if name.startswith(_CV)
            else "not a parameter of create_online_learning"
        )
        raise Invalid(f"{name}: {problem}", field=name)
    for name in REQUIRED:
        if given.get(name) is None or (name != "description" and given.get(name) == ""):
            raise Invalid(f"{name} is required", field=name)
    values = {
        **DEFAULTS,
        **RECOSTACK_DEFAULTS,
        **{k: v for k, v in given.items() if v is not None},
    }
    for name, why in UNSUPPORTED.items():
        if values[name] not in ("", None):
            raise Invalid(f"{name}: not supported ({why}); leave it empty", field=name)
    if values["algorithm"] not in ALGORITHMS:
        raise Invalid(
            f"algorithm must be one of {list(ALGORITHMS)}, got {values['algorithm']!r}",
            field="algorithm",
        )
    if str(values["randomisation_calendar"]) not in ("None", ""):
        raise Invalid(
            "randomisation_calendar: calendars are not supported; leave it 'None'",
            field="randomisation_calendar",
        )
    for name in _FLAGS:
        values[name] = _flag(name, values[name])
    for name in _NUMBERS:
        values[name] = _number(name, values[name])
    values["randomisation_processing_count"] = _int(
        "randomisation_processing_count", values["randomisation_processing_count"], 1
    )
    values["randomisation_interaction_count"] = _int(
        "randomisation_interaction_count", values["randomisation_interaction_count"], 0
    )
    values["batch_threads"] = _int("batch_threads", values["batch_threads"], 1)
    values["batch_number_of_offers"] = _int(
        "batch_number_of_offers", values["batch_number_of_offers"], 1
    )
    if values["batch_execution_type"] not in ("", "internal", "external"):
        raise Invalid(
            "batch_execution_type must be internal or external", field="batch_execution_type"
        )
    try:
        find = json.loads(values["batch_find"] or "{}")
    except (TypeError, ValueError):
        find = None
    if not isinstance(find, dict):
        raise Unprocessable("batch_find must be the text of a JSON object", field="batch_find")
    for name, value in values.items():
        if isinstance(value, str) and len(value) > 10_000:
            raise Invalid(f"{name} is too long", field=name)
    if values[f"{_CV}two_name"] and not values[f"{_CV}one_name"]:
        raise Unprocessable(f"{_CV}two_name needs {_CV}one_name", field=f"{_CV}two_name")
    if values["per_customer_arms"] and values[f"{_CV}one_name"]:
        raise Unprocessable(
            "per_customer_arms: a segment is either one customer or contextual variables; "
            f"leave {_CV}one_name empty",
            field="per_customer_arms",
        )
    bandit_config(values)  # every randomisation_* in range
    return values


def bandit_config(values: Mapping[str, Any]) -> EcosystemRewardsConfig:
    """The ``randomisation_*`` parameters as the algorithm's config."""
    kwargs = {n: values[f"randomisation_{n}"] for n in EcosystemRewardsConfig.names()}
    kwargs["processing_count"] = int(kwargs["processing_count"])
    kwargs["interaction_count"] = int(kwargs["interaction_count"])
    kwargs["test_options_across_segment"] = bool(kwargs["test_options_across_segment"])
    return EcosystemRewardsConfig(**kwargs)


def context_variables(values: Mapping[str, Any]) -> tuple[ContextVariable, ...]:
    """The configuration's contextual variables (none, one or two), in order."""
    variables = []
    for which in ("one", "two"):
        name = str(values.get(f"{_CV}{which}_name") or "")
        if name:
            variables.append(
                ContextVariable(
                    name,
                    bool(values.get(f"{_CV}{which}_from_data_source")),
                    str(values.get(f"{_CV}{which}_lookup") or ""),
                )
            )
    return tuple(variables)
