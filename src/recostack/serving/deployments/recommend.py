"""Recommending through a deployment: its own steps around the one pipeline.

A request goes, in this order: customer lookup (defaults for a missing
customer, virtual variables) → model selector → default prediction
arguments / overrides → whitelist (an allowed mask) → the
:class:`~recostack.serving.recommend.Recommender` (rules and scenarios,
scoring) → the answer, whose log record is queued
(:class:`~recostack.serving.prediction_logger.PredictionLogger`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from recostack.algorithms.exploration import ItemExploration
from recostack.rules import RecoType, RuleOptions, RuntimeRules
from recostack.serving.deployments.config import DeploymentConfig
from recostack.serving.deployments.customers import CustomerCache
from recostack.serving.deployments.live import LiveDeployments
from recostack.serving.log_ids import log_id
from recostack.serving.online.deployment import OnlineDeployments
from recostack.serving.prediction_logger import PredictionLogger, PredictionRecord
from recostack.serving.recommend import DEFAULT_COUNT, Answer, Recommender, RecommendRequest
from recostack.training.trained_model import UsageEventLike

__all__ = ["DeploymentRecommender", "DeploymentRequest"]


@dataclass(frozen=True)
class DeploymentRequest:
    """One recommend call: who, seeded by what, and the arguments it gave."""

    user_id: str | None = None
    customer_id: str | None = None
    item_id: str | None = None
    events: Sequence[UsageEventLike] = ()
    session_id: str | None = None
    #: only the prediction arguments the request set (see ``PREDICTION_ARGUMENTS``)
    arguments: Mapping[str, Any] = field(default_factory=dict)
    #: item exploration instead of the deployment's own (a batch job's or a campaign's)
    exploration: ItemExploration | None = None
    #: the seed of the exploration's draws (``None``: fresh randomness)
    seed: int | None = None

    @property
    def lookup_id(self) -> str | None:
        return self.customer_id or self.user_id

    @property
    def reco_type(self) -> RecoType:
        if self.item_id is not None:
            return "item_to_items"
        return "profile_to_items" if self.user_id else "session_to_items"


def ranked_items(answer: Answer) -> list[dict[str, Any]]:
    """The answer's items as a deployment answers them; an explored item says so, with its
    propensity (what the prediction log keeps)."""
    items: list[dict[str, Any]] = [
        {"itemId": item_id, "score": score, "rank": rank}
        for rank, (item_id, score) in enumerate(
            zip(answer.item_ids, answer.scores, strict=True), start=1
        )
    ]
    for item, propensity in zip(items, answer.propensities, strict=False):
        if propensity is not None:
            item["reason"] = "exploration"
            item["propensity"] = propensity
    return items


def _options(
    request: DeploymentRequest, config: DeploymentConfig, args: Mapping[str, Any]
) -> RuleOptions:
    """The request's arguments, then the deployment's rules (runtime params first)."""
    exclude = args.get("exclude_rated_items")
    runtime = RuntimeRules(
        filters=(*tuple(args.get("filters") or ()), *config.filters),
        reranking=(*tuple(args.get("reranking") or ()), *config.reranking),
        exclude_rated_items=config.exclude_rated_items if exclude is None else bool(exclude),
    )
    return RuleOptions(
        request.reco_type,
        runtime,
        args.get("scenario") or None,
        bool(args.get("skip_default_scenario")),
        config.default_scenario,
    )


class DeploymentRecommender:
    def __init__(
        self,
        live: LiveDeployments,
        customers: CustomerCache,
        recommender: Recommender,
        prediction_logger: PredictionLogger | None,
    ) -> None:
        self.live = live
        self.customers = customers
        self.recommender = recommender
        self.prediction_logger = prediction_logger
        #: online learning (``multi_armed_bandit``): set by ``Serving``
        self.online: OnlineDeployments | None = None

    async def _join_data_sets(
        self, config: DeploymentConfig, key: str, fields: dict[str, Any]
    ) -> None:
        """The reference's whitelist and model selector data sets, looked up by customer id:
        their list and selector column join the customer's record."""
        for collection, name in (
            (config.whitelist_collection, config.whitelist_field),
            (config.selector_collection, config.selector_field),
        ):
            if collection is not None and name is not None:
                found = await self.customers.lookup(collection, key)
                fields[name] = None if found is None else found.get(name)

    async def recommend(
        self,
        deployment_id: str,
        request: DeploymentRequest,
        version: str | None = None,
        *,
        started: float | None = None,
    ) -> dict[str, Any]:
        """Answer ``request`` through the deployment (``version``, or the newest ACTIVE)."""
        started = time.perf_counter() if started is None else started
        live = self.live.get(deployment_id, version)
        config, record = live.config, live.record
        # 1. customer lookup, with defaults and virtual variables
        customer = None
        key = None if request.lookup_id is None else config.customer_key(request.lookup_id)
        if config.collection is not None and key is not None:
            customer = await self.customers.lookup(config.collection, key)
        fields = config.customer_record(customer)
        if key is not None and (config.whitelist_collection or config.selector_collection):
            await self._join_data_sets(config, key, fields)
        if config.online is not None and self.online is not None:
            # a configuration is linked: its offers, by Thompson sampling per segment
            return await self.online.answer(
                record,
                config,
                config.online,
                request_id=log_id(),
                lookup_id=request.lookup_id,
                customer=customer,
                fields=fields,
                args=config.arguments(request.arguments),
                started=started,
                prediction_logger=self.prediction_logger,
            )
        # 2. model selector
        index = config.model_index(fields)
        model, model_id = live.models[index], record.model_ids[index]
        # 3. default prediction arguments / overrides
        args = config.arguments(request.arguments)
        # 4. whitelist
        allowed = config.whitelist_mask(model, fields, live.whitelists[index])
        # 5. rules, scenarios and scores: the one pipeline
        answer = self.recommender.answer(
            model_id,
            model,
            RecommendRequest(
                _options(request, config, args),
                int(args.get("count") or DEFAULT_COUNT),
                request.item_id,
                request.events,
                request.user_id,
                request.session_id,
                request.exploration or config.exploration,
                request.seed,
            ),
            allowed=allowed,
        )
        items = ranked_items(answer)
        request_id = log_id()
        body: dict[str, Any] = {
            "requestId": request_id,
            "deploymentId": record.deployment_id,
            "version": record.version,
            "modelId": model_id,
            "items": items,
            "customerFound": customer is not None,
        }
        if answer.rules.scenarios:
            body["scenario"] = answer.rules.trace()
        # 6. the log (an answer of a deployment that does not log is still counted)
        if self.prediction_logger is not None:
            context = dict(args.get("context") or {})
            if args.get("channel") is not None:
                context["channel"] = args["channel"]
            ab_test = answer.rules.ab_test
            if ab_test is not None:  # the dashboard's group sizes and take-up per group
                context["abTest"] = ab_test.to_dict()
            (self.prediction_logger.log if config.logging else self.prediction_logger.observe)(
                PredictionRecord(
                    request_id,
                    record.deployment_id,
                    record.version,
                    model_id,
                    request.lookup_id,
                    orjson.dumps(items).decode(),
                    orjson.dumps(context).decode(),
                    datetime.now(UTC),
                    (time.perf_counter() - started) * 1000.0,
                )
            )
        return body
