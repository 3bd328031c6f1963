"""Scoring a deployment linked to an online learning configuration (``ecosystem_rewards``).

Per request: the segment (each contextual variable from the request's
``context``, or from the customer lookup when ``*_from_data_source``) → the
segment's offers in the feature store (with ``test_options_across_segment``,
now and then — probability ``cross_segment_epsilon`` — every other offer
too) → the customer's whitelist and the filters (runtime, then the
deployment's business rules) on the offers' attributes (those of the
deployment's ``setup_offer_matrix`` collection, offers named by its
``offer_lookup_id`` field, else the feature store's offer records) → Thompson draws
(:func:`~recostack.algorithms.bandits.rank_offers`; ``epsilon`` from the
deployment's ``multi_armed_bandit`` or else the configuration) → the answer,
each offer with its draw (``armReward``), the probability that the policy
shows it at that rank (``propensity``, estimated by simulation:
:mod:`recostack.serving.online.propensities`; with cross-segment tries the
mixture ``(1 - cross_segment_epsilon) · P(offer at rank | own offers) +
cross_segment_epsilon · P(offer at rank | own and other offers)``, the two
rankings the call draws between, each with its ``epsilon`` and
``random_action``) and whether it was explored. The shown
offers are queued for the options store as interactions.

A contextual value that is missing, or not a value of the feature store,
is a 400 naming the variable (from a customer lookup too: the lookup's
defaults can supply it). With per-customer arms the segment is the
customer (the request's customerId or userId; none is a 400), every offer
of the feature store is a candidate, and the customer's arms are read from
the options store in bulk with other requests' (never blocking the event
loop). A customer's answer is cached ``multi_armed_bandit.duration`` ms, or
the configuration's ``randomisation_cache_duration`` when the deployment
gives none.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recostack.algorithms.bandit_kernels import seed_words
from recostack.algorithms.bandits import rank_offers
from recostack.errors import Invalid
from recostack.rules import filter_mask
from recostack.serving.online.learner import OnlineLearner, ShownAnswer
from recostack.serving.online.link import OnlineLink
from recostack.serving.online.propensities import Estimate, Propensities
from recostack.serving.online.records import Impression, OnlineConfiguration, segment_key
from recostack.serving.online.state import OnlineState, SegmentArms

__all__ = ["OnlineRequest", "OnlineScorer", "whitelist_of"]


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
    def __init__(
        self,
        state: OnlineState,
        learner: OnlineLearner,
        *,
        seed: int | None = None,
    ):
        self.state = state
        self.learner = learner
        self.propensities = Propensities(None if seed is None else seed + 7)
        self._rng = np.random.default_rng(seed)
        #: the decision kernel's generator, kept from call to call (see ``rank_offers``)
        self._state = seed_words(self._rng)
        self._rng_lock = threading.Lock()
        self._answers = _Cache(100_000)

    def segment(self, configuration: OnlineConfiguration, request: OnlineRequest) -> str:
        if configuration.per_customer:
            if not request.customer_id:
                raise Invalid(
                    f"online learning configuration {configuration.name!r} has per-customer "
                    "arms: name the customer (customerId or userId)",
                    field="customerId",
                )
            return request.customer_id
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

    async def answer(self, link: OnlineLink, request: OnlineRequest) -> dict[str, Any]:
        """The offers for ``request`` and what the log keeps of them."""
        configuration = self.state.configuration(link.config_id)
        params = configuration.params
        # the deployment's duration, else the configuration's randomisation_cache_duration
        duration_ms = link.duration_ms if link.duration_ms > 0 else params.cache_duration
        if duration_ms > 0 and request.customer_id is not None:
            key = (request.deployment_id, request.version, request.customer_id)
            cached = self._answers.get(key)
            if cached is not None and cached[0] > time.monotonic():
                return {**cached[1], "cached": True}
        await self.learner.room()  # an answer of its own queues the offers it shows
        segment = self.segment(configuration, request)
        store = configuration.feature_store
        # cross-segment tries: with probability cross_segment_epsilon the call ranks the
        # segment's own offers and every other offer, else its own only
        mix = params.cross_segment_epsilon if params.test_options_across_segment else 0.0
        with self._rng_lock:
            across = mix > 0 and self._rng.random() < mix
        # per-customer arms: every offer of the feature store is each customer's
        own = store.segments.get("" if configuration.per_customer else segment, ())
        own_offers = await self._eligible(configuration, link, list(own), request)
        every = own_offers
        if mix > 0:
            others = [o for o in sorted(store.offers) if o not in set(own)]
            every = own_offers + await self._eligible(configuration, link, others, request)
            if len(every) == len(own_offers):
                mix, across = 0.0, False  # nothing eligible across: the two rankings are one
        offers = every if across else own_offers
        if configuration.per_customer:
            snapshot = await self.state.customer_snapshot(configuration.id, segment)
        else:
            snapshot = await self.state.snapshot(configuration.id)
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
                state=self._state,
            )

        def estimate_of(candidates: SegmentArms) -> Estimate:
            k = min(request.count, len(candidates.offers))
            return self.propensities.get(
                (configuration.id, segment, candidates.offers, k, epsilon),
                snapshot.version,
                candidates,
                k,
                epsilon,
                params.random_action,
            )

        estimate = estimate_of(arms)
        explore_probability, best = estimate.exploration, estimate.best
        # the probability that the policy shows an offer at a rank: its own-offers ranking's
        # and, when it tries across segments, the mixture (1 - c) own + c every
        propensities = estimate.propensities
        if mix > 0:
            own_arms, every_arms = snapshot.arms(own_offers, segment), snapshot.arms(every, segment)
            in_own = _rank_table(estimate_of(own_arms).propensities, len(every), request.count)
            in_every = _rank_table(estimate_of(every_arms).propensities, len(every), request.count)
            mixed = (1.0 - mix) * in_own + mix * in_every
            # rows in the order of the offers ranked (own first in both)
            propensities = mixed[: len(offers)]
        cross = set(offers) - set(own) if across else set()
        shown_ms = int(time.time() * 1000)
        items = []
        impressions = []
        # Python numbers from the few arrays at once (not one numpy scalar per field)
        exploration = explore_probability.tolist()
        for rank, (index, draw, explored) in enumerate(
            zip(
                ranked.order.tolist(),
                ranked.draws.tolist(),
                ranked.explored.tolist(),
                strict=True,
            ),
            start=1,
        ):
            offer = offers[index]
            explored = explored or offer in cross
            propensity = float(propensities[index, rank - 1])
            items.append(
                {
                    "itemId": offer,
                    "score": draw,
                    "rank": rank,
                    "armReward": draw,
                    "propensity": propensity,
                    "explored": explored,
                    "explorationProbability": exploration[index],
                }
            )
            impressions.append(
                Impression(
                    request.request_id,
                    offer,
                    configuration.id,
                    request.deployment_id,
                    request.version,
                    segment,
                    request.customer_id,
                    rank,
                    shown_ms,
                    draw,
                    propensity,
                    explored,
                    params.fail_part,
                )
            )
        self.learner.shown(
            impressions,
            ShownAnswer(
                request.deployment_id,
                request.version,
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
        if duration_ms > 0 and request.customer_id is not None:
            expires = time.monotonic() + duration_ms / 1000.0
            self._answers.put(
                (request.deployment_id, request.version, request.customer_id),
                (expires, {**body, "requestId": request.request_id}),
            )
        return body

    async def _eligible(
        self,
        configuration: OnlineConfiguration,
        link: OnlineLink,
        offers: list[str],
        request: OnlineRequest,
    ) -> list[str]:
        if request.whitelist is not None:
            offers = [o for o in offers if o in request.whitelist]
        if request.filters and offers:
            names, properties = await self.state.properties(
                configuration, link.offer_collection, link.offer_lookup_id
            )
            mask = filter_mask(request.filters, properties)
            allowed = {names[i] for i in np.flatnonzero(mask)}
            offers = [o for o in offers if o in allowed]
        return offers


def _rank_table(probabilities: np.ndarray, rows: int, ranks: int) -> np.ndarray:
    """``probabilities`` (offers × ranks shown) padded with zeros to ``rows`` × ``ranks``."""
    table = np.zeros((rows, max(ranks, 1)))
    n, k = probabilities.shape
    table[:n, :k] = probabilities
    return table


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
