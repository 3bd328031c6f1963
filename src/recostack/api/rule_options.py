"""The business-rules options of every recommendation endpoint, and how they are read.

Query parameters, the same on the model API's recommend endpoints and on
``/api/recommendation/...``:

``filters``, ``reranking``
    repeatable: ``?filters=category:eq:books&filters=price:lt:10``
``exclude_rated_items``, ``skip_default_scenario``
    booleans
``scenario``
    a saved scenario of the endpoint's recommendation type
``session_id``
    puts an anonymous request in an A/B group

Two ways in, giving the same :class:`RuleParams`: the dependency
:data:`RuleParamsDep` (FastAPI's validation, its errors, the OpenAPI
entries) and :func:`plain_rule_params`, which reads a plainly valid query by
hand for the fast path of :mod:`recostack.api.fast_route` (``UNBOUND`` when
FastAPI should look at it instead).

:class:`ModelRules` is the model API's side: ``None`` on its fast path when no
rule can apply (:func:`bind_model_rules`), so that path stays untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Annotated, Final, NamedTuple

from fastapi import Depends, Query, Request
from starlette.datastructures import QueryParams

from recostack.api.rules_deps import scenario_cache
from recostack.rules import RecoType, RuntimeRules
from recostack.serving.ruled_recommendations import ruled_scorer
from recostack.serving.rules_request import (
    NO_RUNTIME_RULES,
    RulesRequest,
    RulesResolver,
    rules_resolver,
)
from recostack.serving.scenario_cache import ScenarioCache
from recostack.store.scenario_repository import ScenarioSnapshot
from recostack.training.trained_model import Recommendation, TrainedModel, UsageEvent

__all__ = [
    "ITEM_RULE_QUERY",
    "PERSONALIZED_RULE_QUERY",
    "UNBOUND",
    "ItemRulesDep",
    "ModelRules",
    "PersonalizedRulesDep",
    "RuleParams",
    "RuleParamsDep",
    "Unbound",
    "bind_model_rules",
    "plain_rule_params",
    "rule_params_given",
]

MAX_SCENARIO_NAME = 256
MAX_ID = 255
#: the parameters that ask for rules (``session_id`` alone does not)
RULE_PARAMETERS: Final = (
    "filters",
    "reranking",
    "exclude_rated_items",
    "scenario",
    "skip_default_scenario",
)
#: the rule options' query parameters on the model API's GET and POST recommend endpoints
ITEM_RULE_QUERY: Final = frozenset({*RULE_PARAMETERS, "session_id", "userId"})
PERSONALIZED_RULE_QUERY: Final = frozenset({*RULE_PARAMETERS, "session_id"})
_TRUE = {"true": True, "1": True, "false": False, "0": False}


class Unbound(Enum):
    """A query the fast path leaves to FastAPI (to validate, or to refuse)."""

    UNBOUND = "unbound"


UNBOUND: Final = Unbound.UNBOUND


class RuleParams:
    """The rule options of a request, as read from its query.

    Read-only. The options of a plainly valid query are kept and shared by
    every request with the same rule parameters (:func:`plain_rule_params`),
    so each remembers its :class:`RulesResolver` per recommendation type for
    the current scenario snapshot: the requests after the first one resolve
    their rules without building anything.
    """

    __slots__ = ("_resolvers", "runtime", "scenario", "session_id", "skip_default_scenario")

    def __init__(
        self,
        runtime: RuntimeRules = NO_RUNTIME_RULES,
        scenario: str | None = None,
        skip_default_scenario: bool = False,
        session_id: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.scenario = scenario or None
        self.skip_default_scenario = skip_default_scenario
        self.session_id = session_id or None
        self._resolvers: dict[RecoType, RulesResolver] = {}

    def __repr__(self) -> str:
        return (
            f"RuleParams({self.runtime!r}, scenario={self.scenario!r}, "
            f"skip_default_scenario={self.skip_default_scenario!r}, "
            f"session_id={self.session_id!r})"
        )

    def request(self, reco_type: RecoType, user_id: str | None) -> RulesRequest:
        return RulesRequest(
            reco_type,
            self.runtime,
            self.scenario,
            self.skip_default_scenario,
            user_id or None,
            self.session_id,
        )

    def resolver(self, snapshot: ScenarioSnapshot, reco_type: RecoType) -> RulesResolver:
        """How these options resolve against ``snapshot`` (remembered until it changes)."""
        found = self._resolvers.get(reco_type)
        if found is None or found.snapshot is not snapshot:
            found = rules_resolver(
                snapshot, reco_type, self.runtime, self.scenario, self.skip_default_scenario
            )
            self._resolvers[reco_type] = found
        return found


NO_RULE_PARAMS: Final = RuleParams()


# --- FastAPI's way in ------------------------------------------------------------------


async def _rule_params(
    filters: Annotated[
        list[str] | None,
        Query(description="filters `property:op:value`, repeatable; all must pass"),
    ] = None,
    reranking: Annotated[
        list[str] | None,
        Query(description="reranking rules `property:diversity:weight`, repeatable, in order"),
    ] = None,
    exclude_rated_items: Annotated[
        bool | None, Query(description="remove the items the user is known to have used")
    ] = None,
    scenario: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_SCENARIO_NAME,
            description="apply this saved scenario (of the endpoint's recommendation type)",
        ),
    ] = None,
    skip_default_scenario: Annotated[
        bool, Query(description="do not apply the default scenario")
    ] = False,
    session_id: Annotated[
        str | None,
        Query(max_length=MAX_ID, description="A/B group of an anonymous request (no user id)"),
    ] = None,
) -> RuleParams:
    return RuleParams(
        runtime_rules(tuple(filters or ()), tuple(reranking or ()), exclude_rated_items),
        scenario,
        skip_default_scenario,
        session_id,
    )


RuleParamsDep = Annotated[RuleParams, Depends(_rule_params)]


# --- the fast path's way in --------------------------------------------------------------


def _plain_bool(raw: str | None, absent: bool | None) -> bool | Unbound | None:
    if raw is None:
        return absent
    value = _TRUE.get(raw)
    return UNBOUND if value is None else value


_RULE_PARAMETER_SET: Final = frozenset(RULE_PARAMETERS)


def rule_params_given(query: QueryParams) -> bool:
    return not _RULE_PARAMETER_SET.isdisjoint(query.keys())


_RULE_PAIRS: Final = frozenset({*RULE_PARAMETERS, "session_id"})
#: the options of the rule pairs seen lately (the same few sets come on most requests)
_PLAIN_PARAMS: dict[tuple[tuple[str, str], ...], RuleParams | Unbound] = {}
_MAX_PLAIN_PARAMS = 1024


def plain_rule_params(query: QueryParams) -> RuleParams | Unbound:
    """The options of a plainly valid query, as :data:`RuleParamsDep` would give them.

    Read from the query's rule parameters (in order), and remembered by them
    unless they hold a ``session_id`` (one per anonymous visitor).
    """
    pairs = tuple([pair for pair in query.multi_items() if pair[0] in _RULE_PAIRS])
    found = _PLAIN_PARAMS.get(pairs)
    if found is None:
        found = _read_rule_params(pairs)
        if not any(name == "session_id" for name, _ in pairs):
            if len(_PLAIN_PARAMS) >= _MAX_PLAIN_PARAMS:
                _PLAIN_PARAMS.clear()
            _PLAIN_PARAMS[pairs] = found
    return found


def _read_rule_params(pairs: Sequence[tuple[str, str]]) -> RuleParams | Unbound:
    """One pass over the rule pairs (a repeated single-valued parameter keeps its last
    value, as FastAPI reads it)."""
    filters: list[str] = []
    reranking: list[str] = []
    scenario = session_id = exclude_raw = skip_raw = None
    for name, value in pairs:
        if name == "filters":
            filters.append(value)
        elif name == "reranking":
            reranking.append(value)
        elif name == "scenario":
            scenario = value
        elif name == "session_id":
            session_id = value
        elif name == "exclude_rated_items":
            exclude_raw = value
        elif name == "skip_default_scenario":
            skip_raw = value
    if scenario is not None and not 1 <= len(scenario) <= MAX_SCENARIO_NAME:
        return UNBOUND
    if session_id is not None and len(session_id) > MAX_ID:
        return UNBOUND
    exclude = _plain_bool(exclude_raw, None)
    skip = _plain_bool(skip_raw, False)
    if exclude is UNBOUND or skip is UNBOUND or skip is None:
        return UNBOUND
    if not (filters or reranking or exclude is not None or scenario or skip or session_id):
        return NO_RULE_PARAMS
    return RuleParams(
        runtime_rules(tuple(filters), tuple(reranking), exclude), scenario, skip, session_id
    )


_RUNTIME_RULES: dict[tuple[tuple[str, ...], tuple[str, ...], bool | None], RuntimeRules] = {}
_MAX_RUNTIME_RULES = 1024


def runtime_rules(
    filters: tuple[str, ...], reranking: tuple[str, ...], exclude_rated_items: bool | None
) -> RuntimeRules:
    """The :class:`RuntimeRules` of these options, one object per distinct set seen lately."""
    key = (filters, reranking, exclude_rated_items)
    found = _RUNTIME_RULES.get(key)
    if found is None:
        if len(_RUNTIME_RULES) >= _MAX_RUNTIME_RULES:
            _RUNTIME_RULES.clear()
        found = _RUNTIME_RULES[key] = RuntimeRules(filters, reranking, exclude_rated_items)
    return found


# --- the model API ----------------------------------------------------------------------


class ModelRules(NamedTuple):
    """The rule options of one model API request; plain model answers when none applies."""

    params: RuleParams
    cache: ScenarioCache
    #: GET (item-to-item) only: ``userId`` for the A/B group and rated items
    user_id: str | None = None

    def recommend_item(self, model: TrainedModel, item_id: str, count: int) -> list[Recommendation]:
        params = self.params
        resolver = params.resolver(self.cache.current(), "item_to_items")
        if not resolver.wants_rules:
            return model.recommend_item(item_id, count)
        user_id = self.user_id or None
        rules = resolver.rules(model, user_id, params.session_id)
        scored = ruled_scorer(model, rules).item(model, item_id, count, user_id)
        return model.to_recommendations(scored)

    def recommend_events(
        self,
        model: TrainedModel,
        events: Sequence[UsageEvent],
        count: int,
        user_id: str | None,
    ) -> list[Recommendation]:
        reco_type: RecoType = "session_to_items" if events else "profile_to_items"
        params = self.params
        resolver = params.resolver(self.cache.current(), reco_type)
        if not resolver.wants_rules:
            return model.recommend_events(events, count, user_id=user_id)
        user_id = user_id or None
        rules = resolver.rules(model, user_id, params.session_id, events)
        scored = ruled_scorer(model, rules).history(model, events, count, user_id)
        return model.to_recommendations(scored)


_TYPES_OF_METHOD: dict[str, tuple[RecoType, ...]] = {
    "GET": ("item_to_items",),
    "POST": ("session_to_items", "profile_to_items"),
}


def bind_model_rules(request: Request) -> ModelRules | Unbound | None:
    """For the model API's fast binder: ``None`` when no rule can apply to ``request``."""
    query = request.query_params
    cache = scenario_cache(request.app)
    if not rule_params_given(query):
        defaults = cache.current().defaults
        if not defaults or not any(t in defaults for t in _TYPES_OF_METHOD.get(request.method, ())):
            return None
    params = plain_rule_params(query)
    if params is UNBOUND:
        return UNBOUND
    user_id = None
    if request.method == "GET":
        user_id = query.get("userId")
        if user_id is not None and len(user_id) > MAX_ID:
            return UNBOUND
    return ModelRules(params, cache, user_id)


async def _item_rules(
    request: Request,
    params: RuleParamsDep,
    user_id: Annotated[
        str | None,
        Query(
            alias="userId",
            max_length=MAX_ID,
            description="with rules: the user's A/B group and rated items",
        ),
    ] = None,
) -> ModelRules:
    return ModelRules(params, scenario_cache(request.app), user_id)


async def _personalized_rules(request: Request, params: RuleParamsDep) -> ModelRules:
    return ModelRules(params, scenario_cache(request.app))


#: the model API's item-to-item endpoints' rule options (``None`` on the fast path: no rules)
ItemRulesDep = Annotated[ModelRules | None, Depends(_item_rules)]
#: the model API's personalized endpoints' rule options (``None`` on the fast path: no rules)
PersonalizedRulesDep = Annotated[ModelRules | None, Depends(_personalized_rules)]
