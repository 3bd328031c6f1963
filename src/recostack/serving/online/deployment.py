"""A deployment's answer through online learning, and its prediction log record.

:class:`OnlineDeployments` is what :class:`~recostack.serving.deployments.recommend.
DeploymentRecommender` calls when the deployment links a configuration: the
customer lookup has run; this scores the offers (:class:`OnlineScorer`) with
the deployment's whitelist and filters and logs the answer with what
off-policy evaluation needs (each shown offer's draw, propensity and
exploration, the segment).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson

from recostack.algorithms.bandits import rank_offers, simulated_decisions
from recostack.serving.deployments.config import DeploymentConfig
from recostack.serving.deployments.records import DeploymentRecord
from recostack.serving.online.learner import MAX_BACKLOG, OnlineLearner
from recostack.serving.online.link import OnlineLink
from recostack.serving.online.scoring import OnlineRequest, OnlineScorer, whitelist_of
from recostack.serving.online.state import OnlineSource, OnlineState
from recostack.serving.prediction_logger import PredictionLogger, PredictionRecord

__all__ = ["OnlineDeployments", "warm_up"]

DEFAULT_COUNT = 10


def warm_up() -> None:
    """Compile (or load from numba's cache) the decision and simulation kernels now, at
    start-up, rather than on the first online answer (compiling takes seconds)."""
    rng = np.random.default_rng(0)
    rank_offers(np.ones(2), np.ones(2), 1, rng, random_action=0.5)
    simulated_decisions(np.ones(2), np.ones(2), 1, rng, random_action=0.5, n_draws=2)


class OnlineDeployments:
    """Online learning in one API process: its state, its learner and its scorer."""

    def __init__(
        self,
        source: OnlineSource,
        *,
        arms_refresh_seconds: float = 0.5,
        seed: int | None = None,
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        self.state = OnlineState(source, arms_refresh_seconds=arms_refresh_seconds)
        self.learner = OnlineLearner(self.state, max_backlog=max_backlog)
        self.scorer = OnlineScorer(self.state, self.learner, seed=seed)

    async def answer(
        self,
        record: DeploymentRecord,
        config: DeploymentConfig,
        link: OnlineLink,
        *,
        request_id: str,
        lookup_id: str | None,
        customer: Mapping[str, Any] | None,
        fields: Mapping[str, Any],
        args: Mapping[str, Any],
        started: float,
        prediction_logger: PredictionLogger | None,
        log: Callable[[PredictionRecord], None] | None = None,
    ) -> dict[str, Any]:
        filters = (*tuple(args.get("filters") or ()), *config.filters)
        scored = await self.scorer.answer(
            link,
            OnlineRequest(
                record.deployment_id,
                record.version,
                request_id,
                lookup_id,
                int(args.get("count") or DEFAULT_COUNT),
                dict(args.get("context") or {}),
                fields,
                whitelist_of(fields, config.whitelist_field, config.whitelist_when_missing),
                filters,
            ),
        )
        body: dict[str, Any] = {
            # a cached answer is the customer's earlier one, under its own request id
            "requestId": scored.get("requestId", request_id),
            "deploymentId": record.deployment_id,
            "version": record.version,
            "modelId": record.model_ids[0] if record.model_ids else None,
            "items": scored["items"],
            "customerFound": customer is not None,
            "onlineLearning": scored["onlineLearning"],
        }
        if scored.get("cached"):
            body["cached"] = True
            return body  # logged when it was first given
        if prediction_logger is not None:
            # an answer of a deployment that does not log is still counted (observe)
            context = dict(args.get("context") or {})
            if args.get("channel") is not None:
                context["channel"] = args["channel"]
            context["onlineLearning"] = scored["onlineLearning"]
            (log or (prediction_logger.log if config.logging else prediction_logger.observe))(
                PredictionRecord(
                    request_id,
                    record.deployment_id,
                    record.version,
                    body["modelId"] or "",
                    lookup_id,
                    orjson.dumps(scored["items"]).decode(),
                    orjson.dumps(context).decode(),
                    datetime.now(UTC),
                    (time.perf_counter() - started) * 1000.0,
                )
            )
        return body

    def start(self) -> None:
        warm_up()
        self.learner.start()

    def stop(self) -> None:
        self.learner.stop()
        self.state.stop()
        self.scorer.propensities.stop()
