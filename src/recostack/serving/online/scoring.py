"""Scoring a deployment linked to an online learning configuration (``ecosystem_rewards``).

Per request: the segment (each contextual variable from the request's
``context``, or from the customer lookup when ``*_from_data_source``) → the
segment's offers in the feature store (with ``test_options_across_segment``,
now and then — probability ``cross_segment_epsilon`` — every other offer
too) → the customer's whitelist and the filters (runtime, then the
deployment's business rules) on the offers' attributes → Thompson draws
(:func:`~recostack.algorithms.bandits.rank_offers`; ``epsilon`` from the
deployment's ``multi_armed_bandit`` or else the configuration) → the answer,
each offer with its draw (``armReward``), the probability that the policy
shows it at that rank (``propensity``, estimated by simulation once per
arms snapshot and candidate set) and whether it was explored. The shown
offers are queued for the options store as interactions.

A contextual value that is missing, or not a value of the feature store,
is a 400 naming the variable (from a customer lookup too: the lookup's
defaults can supply it).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recostack.algorithms.bandits import (
    exploration_probabilities,
    rank_offers,
    rank_probabilities,
)
from recostack.errors import Invalid
from recostack.rules import filter_mask
from recostack.serving.online.learner import OnlineLearner, ShownAnswer
from recostack.serving.online.link import OnlineLink
from recostack.serving.online.records import Impression, OnlineConfiguration, segment_key
from recostack.serving.online.state import OnlineState, SegmentArms

__all__ = ["OnlineRequest", "OnlineScorer", "whitelist_of"]

#: simulated decisions per rank-probability estimate
RANK_DRAWS = 1000


@dataclass(frozen=True)
class OnlineRequest:
    deployment_id: str
    version: str
    request_id: str
    customer_id: str | None
    count: int
    context: Mapping[str, Any]
    customer: Mapping[str, Any]
    #: the customer's whitelist of offers (``None``: no restriction)
    whitelist: frozenset[str] | None
    filters: tuple[str, ...]


class _Cache:
    """A small LRU of computed arrays."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            found = self._data.get(key)
            if found is not None:
                self._data.move_to_end(key)
            return found

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class OnlineScorer:
    def __init__(self, state: OnlineState, learner: OnlineLearner, *, seed: int | None = None):
        self.state = state
        self.learner = learner
        self._rng = np.random.default_rng(seed)
        self._rng_lock = threading.Lock()
        self._derived = _Cache()
        self._answers = _Cache(100_000)

    def segment(self, configuration: OnlineConfiguration, request: OnlineRequest) -> str:
        values = []
        known = configuration.feature_store.variables
        for variable in configuration.variables:
            where = "the customer lookup" if variable.from_data_source else "context"
            source = request.customer if variable.from_data_source else request.context
            name = variable.lookup_field if variable.from_data_source else variable.name
            value = source.get(name)
            field = f"context.{name}" if not variable.from_data_source else name
            if value is None or value == "":
                raise Invalid(
                    f"contextual variable {variable.name!r}: {where} gives no {name!r}",
                    field=field,
                )
            text = str(value)
            if text not in known.get(variable.name, ()):
                raise Invalid(
                    f"contextual variable {variable.name!r}: {text!r} (from {where}) is not "
                    f"a value of the feature store ({', '.join(known.get(variable.name, ()))})",
                    field=field,
                )
            values.append(text)
        return segment_key(tuple(values))

    def answer(self, link: OnlineLink, request: OnlineRequest) -> dict[str, Any]:
        """The offers for ``request`` and what the log keeps of them."""
        if link.duration_ms > 0 and request.customer_id is not None:
            key = (request.deployment_id, request.version, request.customer_id)
            cached = self._answers.get(key)
            if cached is not None and cached[0] > time.monotonic():
                return {**cached[1], "cached": True}
        configuration = self.state.configuration(link.config_id)
        params = configuration.params
        segment = self.segment(configuration, request)
        store = configuration.feature_store
        with self._rng_lock:
            across = (
                params.test_options_across_segment
                and params.cross_segment_epsilon > 0
                and self._rng.random() < params.cross_segment_epsilon
            )
        own = store.segments.get(segment, ())
        offers = list(own)
        if across:
            offers += [o for o in sorted(store.offers) if o not in set(own)]
        offers = self._eligible(configuration, offers, request)
        snapshot = self.state.snapshot(configuration.id)
        arms = snapshot.arms(offers, segment)
        epsilon = params.epsilon if link.epsilon is None else link.epsilon
        with self._rng_lock:
            ranked = rank_offers(
                arms.alpha,
                arms.beta,
                request.count,
                self._rng,
                epsilon=epsilon,
                random_action=params.random_action,
                alpha_zero=arms.alpha_zero,
                beta_zero=arms.beta_zero,
            )
        k = len(ranked.order)
        derived_key = (configuration.id, snapshot.version, segment, tuple(offers), k, epsilon)
        derived = self._derived.get(derived_key)
        if derived is None:
            derived = self._derive(arms, k, epsilon, params.random_action)
            self._derived.put(derived_key, derived)
        propensities, explore_probability, best = derived
        cross = set(offers) - set(own)
        items = []
        shown_ms = int(time.time() * 1000)
        impressions = []
        for rank, (index, draw, explored) in enumerate(
            zip(ranked.order, ranked.draws, ranked.explored, strict=True), start=1
        ):
            offer = offers[int(index)]
            explored = bool(explored) or offer in cross
            items.append(
                {
                    "itemId": offer,
                    "score": float(draw),
                    "rank": rank,
                    "armReward": float(draw),
                    "propensity": float(propensities[int(index), rank - 1]),
                    "explored": explored,
                    "explorationProbability": float(explore_probability[int(index)]),
                }
            )
            impressions.append(
                Impression(
                    request.request_id,
                    offer,
                    configuration.id,
                    request.deployment_id,
                    segment,
                    request.customer_id,
                    rank,
                    shown_ms,
                    float(draw),
                    float(propensities[int(index), rank - 1]),
                    explored,
                    params.fail_part,
                )
            )
        self.learner.shown(
            impressions,
            ShownAnswer(
                request.deployment_id,
                configuration.id,
                segment,
                tuple(i.offer for i in impressions),
            ),
        )
        body = {
            "items": items,
            "onlineLearning": {
                "configId": configuration.id,
                "segment": segment,
                "explored": ranked.explored_call or any(i["explored"] for i in items),
                "epsilon": epsilon,
                "bestOffer": offers[best] if best >= 0 else None,
            },
        }
        if link.duration_ms > 0 and request.customer_id is not None:
            expires = time.monotonic() + link.duration_ms / 1000.0
            self._answers.put(
                (request.deployment_id, request.version, request.customer_id),
                (expires, {**body, "requestId": request.request_id}),
            )
        return body

    def _eligible(
        self, configuration: OnlineConfiguration, offers: list[str], request: OnlineRequest
    ) -> list[str]:
        if request.whitelist is not None:
            offers = [o for o in offers if o in request.whitelist]
        if request.filters and offers:
            names, properties = self.state.properties(configuration)
            mask = filter_mask(request.filters, properties)
            allowed = {names[i] for i in np.flatnonzero(mask)}
            offers = [o for o in offers if o in allowed]
        return offers

    def _derive(
        self, arms: SegmentArms, k: int, epsilon: float, random_action: float
    ) -> tuple[np.ndarray, np.ndarray, int]:
        with self._rng_lock:
            propensities = rank_probabilities(
                arms.alpha,
                arms.beta,
                k,
                self._rng,
                epsilon=epsilon,
                random_action=random_action,
                alpha_zero=arms.alpha_zero,
                beta_zero=arms.beta_zero,
                n_draws=RANK_DRAWS,
            )
        explore = exploration_probabilities(arms.alpha, arms.beta)
        best = int(np.argmax(arms.propensity)) if len(arms.offers) else -1
        return propensities, explore, best


def whitelist_of(
    record: Mapping[str, Any], field: str | None, when_missing: str
) -> frozenset[str] | None:
    """The offers a customer may receive (``None``: any), as the deployment's whitelist says."""
    if field is None:
        return None
    listed = record.get(field)
    if listed is None or listed == "":
        return None if when_missing == "all" else frozenset()
    items: Sequence[Any] = listed.split(";") if isinstance(listed, str) else listed
    return frozenset(str(i).strip() for i in items)
