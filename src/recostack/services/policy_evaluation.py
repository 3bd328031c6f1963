"""Off-policy evaluation on a deployment's logged online answers, and the replacement check.

The logged data are the deployment's online answers (prediction log
records whose context holds ``onlineLearning``: each shown offer with its
rank and the propensity the live policy had of showing it there) and the
first take-up of each (answer, offer) in the response log. A *window*
bounds what is read: the newest ``maxAnswers`` answers of the time range
(default ``RECOSTACK_ONLINE_EVALUATION_MAX_ANSWERS``, 20,000), in time
order; the result says how many were read and whether the range held more.

A candidate is one of:

- a configuration: another one (``configId``) and/or ``randomisation_*``
  overrides and priors (``alpha_zero``/``beta_zero``) of the live one; its
  policy is Thompson sampling over the arms the candidate would hold at the
  end of the range (now when it has none): the live configuration's
  interactions (the logged data) counted as the candidate's window, count,
  decay and rewards count them (:func:`recostack.store.options_store.
  arms_under`, the sweep's definition), on the priors given or the arms'
  own; its rank probabilities estimated by simulation per segment. With
  ``test_options_across_segment`` and a ``cross_segment_epsilon`` the
  candidate is the mixture serving applies: ``(1 - c) ·`` the policy over the
  segment's own offers ``+ c ·`` the policy over its own and every other
  offer. The offers a candidate can show in a segment are those logged (the
  eligible ones); its own are those of the feature store's segment.
  The parameters of a warm start (``prior_success_reward``,
  ``prior_fail_reward``, ``discount_factor``: already folded into the arms'
  priors), ``cache_duration`` and ``batch`` do not change the rank
  probabilities evaluated: a value other than the configuration's is a 400
  naming it;
- a model-backed deployment (``candidateDeploymentId``): its top-k, as its
  model and business rules rank the offers of each logged answer's segment
  for that answer's customer (deterministic: probability 1 at the rank it
  gives, 0 elsewhere). Offers the model does not know are never shown by it.

IPW, SNIPW and DR (direct model: take-up rate per offer and segment) with
95 % bootstrap intervals and the effective sample size
(:func:`recostack.evaluation.off_policy.evaluate_policy`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from recostack.algorithms.bandits import EcosystemRewardsConfig, rank_probabilities
from recostack.errors import Conflict, Invalid, NotFound, Unprocessable
from recostack.evaluation.off_policy import PolicyEvaluation, evaluate_policy
from recostack.rules import RuleOptions, RuntimeRules
from recostack.serving import Serving
from recostack.serving.online.configuration import bandit_config, normalise
from recostack.serving.recommend import RecommendRequest
from recostack.store import online_repository as repo
from recostack.store import options_store
from recostack.store.deployment_tables import PredictionLogRow, ResponseLogRow
from recostack.store.engine import Database
from recostack.store.online_tables import OnlineLearningRow

__all__ = ["DEFAULT_MAX_ANSWERS", "LoggedAnswers", "PolicyEvaluator"]

DEFAULT_MAX_ANSWERS = 20_000
#: a policy: per logged answer, its segment's own offers and the other offers, the
#: (own + other offers, positions) probabilities of showing each offer there
Policy = Callable[[Any, Sequence[str], Sequence[str], int], np.ndarray]
#: candidate parameters that do not change the rank probabilities evaluated, and why
_NOT_EVALUATED = {
    "randomisation_prior_success_reward": "a warm start's weight, already in the arms' priors "
    "(set a candidate's priors with alphaZero / betaZero)",
    "randomisation_prior_fail_reward": "a warm start's weight, already in the arms' priors "
    "(set a candidate's priors with alphaZero / betaZero)",
    "randomisation_discount_factor": "a warm start's discount, already in the arms' priors "
    "(set a candidate's priors with alphaZero / betaZero)",
    "randomisation_cache_duration": "a cached answer repeats one drawn by the policy, so "
    "it does not change the probabilities evaluated",
    "randomisation_batch": "batch jobs' setting, not the policy's",
}


class LoggedAnswers:
    """A window of a deployment's online answers and the take-ups of their offers."""

    def __init__(
        self, answers: list[Any], taken: dict[tuple[str, str], float], max_answers: int, more: bool
    ) -> None:
        self.answers = answers
        self.taken = taken
        self.max_answers = max_answers
        #: the range held more answers than the window read (the oldest were left out)
        self.truncated = more

    def window(self) -> dict[str, Any]:
        return {
            "maxAnswers": self.max_answers,
            "answers": len(self.answers),
            "truncated": self.truncated,
            "from": self.answers[0].created_at if self.answers else None,
            "to": self.answers[-1].created_at if self.answers else None,
        }


class PolicyEvaluator:
    def __init__(self, db: Database, serving: Serving, max_answers: int = DEFAULT_MAX_ANSWERS):
        self.db = db
        self.serving = serving
        self.max_answers = max_answers

    # --- the logged data ----------------------------------------------------------------
    def logged(
        self,
        deployment_id: str,
        start: datetime | None,
        end: datetime | None,
        max_answers: int | None = None,
    ) -> LoggedAnswers:
        """The newest ``max_answers`` online answers of the deployment in [start, end), in
        time order, and the take-ups of their offers."""
        limit = max_answers or self.max_answers
        if limit < 1:
            raise Invalid(f"maxAnswers must be at least 1, got {limit}", field="maxAnswers")
        query = select(
            PredictionLogRow.request_id,
            PredictionLogRow.user_id,
            PredictionLogRow.items,
            PredictionLogRow.context,
            PredictionLogRow.created_at,
        ).where(PredictionLogRow.deployment_id == deployment_id)
        if start is not None:
            query = query.where(PredictionLogRow.created_at >= start)
        if end is not None:
            query = query.where(PredictionLogRow.created_at < end)
        query = query.order_by(
            PredictionLogRow.created_at.desc(), PredictionLogRow.request_id.desc()
        ).limit(limit + 1)
        with self.db.transaction() as session:
            rows = list(session.execute(query))
            more = len(rows) > limit
            answers = [
                r
                for r in reversed(rows[:limit])
                if isinstance(r.context, dict) and r.context.get("onlineLearning")
            ]
            taken: dict[tuple[str, str], float] = {}
            ids = [r.request_id for r in answers]
            for chunk in range(0, len(ids), 1000):
                found = session.execute(
                    select(
                        ResponseLogRow.request_id,
                        ResponseLogRow.item_id,
                        ResponseLogRow.take_up,
                        ResponseLogRow.reward,
                    ).where(ResponseLogRow.request_id.in_(ids[chunk : chunk + 1000]))
                )
                for request_id, item_id, take_up, reward in found:
                    positive = take_up is None and reward is not None and reward > 0
                    if item_id is not None and (take_up or positive):
                        taken.setdefault((request_id, str(item_id)), 1.0)
        return LoggedAnswers(answers, taken, limit, more)

    # --- evaluation -----------------------------------------------------------------------
    def evaluate(
        self,
        deployment_id: str,
        candidate: Mapping[str, Any],
        start: datetime | None = None,
        end: datetime | None = None,
        max_answers: int | None = None,
    ) -> dict[str, Any]:
        """IPW, SNIPW and DR of ``candidate`` on the deployment's logged answers."""
        logged = self.logged(deployment_id, start, end, max_answers)
        if not logged.answers:
            raise Conflict(
                f"deployment {deployment_id!r} has no logged online answers in that range",
                field="deploymentId",
            )
        live_id = logged.answers[-1].context["onlineLearning"]["configId"]
        if candidate.get("candidateDeploymentId"):
            if any(k.startswith("randomisation_") for k in candidate) or candidate.get("configId"):
                raise Unprocessable(
                    "candidateDeploymentId: a candidate is a deployment or a configuration, "
                    "not both",
                    field="candidateDeploymentId",
                )
            policy = self._model_policy(
                live_id,
                str(candidate["candidateDeploymentId"]),
                candidate.get("candidateVersion"),
            )
        else:
            params, arms = self._candidate_arms(live_id, candidate, logged, end)
            policy = _thompson_policy(params, arms)
        result = _evaluate(logged, policy, self._own_offers(live_id)).to_dict()
        result["window"] = logged.window()
        return result

    def _candidate_arms(
        self,
        live_id: str,
        candidate: Mapping[str, Any],
        logged: LoggedAnswers,
        end: datetime | None,
    ) -> tuple[EcosystemRewardsConfig, Callable[[str, str], tuple[float, float]]]:
        """The candidate's parameters and its arms: (offer, segment) -> (alpha, beta)."""
        now_ms = int(time.time() * 1000)
        if end is not None:
            now_ms = min(now_ms, int(end.timestamp() * 1000))
        segments = {str(a.context["onlineLearning"]["segment"]) for a in logged.answers}
        with self.db.transaction() as session:
            base = repo.get_configuration(session, candidate.get("configId") or live_id)
            values = {**base.parameters, "name": base.name, "description": base.description}
            overrides = {k: v for k, v in candidate.items() if k.startswith("randomisation_")}
            merged = normalise({**values, **overrides})
            for name in _NOT_EVALUATED:
                if name in overrides and merged[name] != normalise(values)[name]:
                    raise Invalid(
                        f"{name}: {_NOT_EVALUATED[name]}; a candidate cannot change it",
                        field=name,
                    )
            params = bandit_config(merged)
            connection = session.connection()
            priors = {
                (arm["offer"], arm["segment"]): (arm["alpha_zero"], arm["beta_zero"])
                for arm in options_store.list_arms(connection, base.id)
                if arm["segment"] in segments
            }
            evidence = options_store.arms_under(connection, live_id, params, now_ms, segments)
        a0 = candidate.get("alpha_zero")
        b0 = candidate.get("beta_zero")

        def arm(offer: str, segment: str) -> tuple[float, float]:
            prior_a, prior_b = priors.get((offer, segment), (1.0, 1.0))
            add_a, add_b = evidence.get((offer, segment), (0.0, 0.0))
            return (
                (float(a0) if a0 is not None else prior_a) + add_a,
                (float(b0) if b0 is not None else prior_b) + add_b,
            )

        return params, arm

    def _own_offers(self, live_id: str) -> Callable[[str], frozenset[str]]:
        """A segment's own offers in the live configuration's feature store."""
        with self.db.transaction() as session:
            configuration = repo.configuration_of(session, repo.get_configuration(session, live_id))
        store = configuration.feature_store
        if configuration.per_customer:
            every = frozenset(store.segments.get("", ()))
            return lambda segment: every
        return lambda segment: frozenset(store.segments.get(segment, ()))

    def _model_policy(self, live_id: str, candidate_id: str, version: str | None) -> Policy:
        """The candidate deployment's top-k among each answer's segment offers."""
        live = self.serving.deployments.live.get(candidate_id, version)
        if live.config.online is not None or not live.models:
            raise Unprocessable(
                f"candidateDeploymentId: deployment {candidate_id!r} is not model-backed (it "
                "answers with online learning)",
                field="candidateDeploymentId",
            )
        configuration = (
            self.serving.online.state.configuration(live_id)
            if (self.serving.online is not None)
            else None
        )
        if configuration is None:
            raise NotFound("online learning is not available", field="deploymentId")
        model, model_id = live.models[0], live.record.model_ids[0]
        config = live.config
        options = RuleOptions(
            "profile_to_items",
            RuntimeRules(
                filters=config.filters,
                reranking=config.reranking,
                exclude_rated_items=config.exclude_rated_items,
            ),
            default_scenario=config.default_scenario,
        )
        store = configuration.feature_store
        lookup = model.items.lookup
        cache: dict[tuple[str | None, str], list[str]] = {}

        def ranked(
            answer: Any, offers: Sequence[str], cross: Sequence[str], positions: int
        ) -> np.ndarray:
            segment = str(answer.context["onlineLearning"]["segment"])
            key = (answer.user_id, segment)
            top = cache.get(key)
            if top is None:
                own = store.segments.get("" if configuration.per_customer else segment, ())
                mask = np.zeros(model.n_items, dtype=bool)
                mask[[lookup[o] for o in own if o in lookup]] = True
                got = self.serving.recommender.answer(
                    model_id,
                    model,
                    RecommendRequest(options, positions, user_id=answer.user_id),
                    allowed=mask,
                )
                top = cache[key] = [i for i in got.item_ids if i in set(own)][:positions]
            index = {o: n for n, o in enumerate(offers)}
            dist = np.zeros((len(offers) + len(cross), positions))
            for rank, offer in enumerate(top):
                if offer in index:
                    dist[index[offer], rank] = 1.0
            return dist

        return ranked

    # --- require_policy_evaluation ----------------------------------------------------------
    def compare_with_live(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Refuse a replacement whose DR lower bound is below the live configuration's (a
        :class:`Conflict` with both figures); both figures otherwise."""
        with self.db.transaction() as session:
            live = session.scalar(
                select(OnlineLearningRow).where(OnlineLearningRow.name == values["name"])
            )
            if live is None:
                raise Conflict(
                    "require_policy_evaluation: there is no live configuration to compare with",
                    field="require_policy_evaluation",
                )
            deployments = repo.deployments_using(session, live.id)
        if not deployments:
            raise Conflict(
                "require_policy_evaluation: no deployment uses the live configuration, so no "
                "logged answers to evaluate on",
                field="require_policy_evaluation",
            )
        deployment_id = deployments[0].split(":")[0]
        # the warm start's, the cache's and batch parameters leave the arms and their rank
        # probabilities as they are (a replacement keeps the priors)
        candidate = {
            k: v
            for k, v in values.items()
            if k.startswith("randomisation_") and k not in _NOT_EVALUATED
        }
        new = self.evaluate(deployment_id, candidate)
        old = self.evaluate(deployment_id, {})
        figures = {"candidate": new["dr"], "live": old["dr"], "deploymentId": deployment_id}
        if new["dr"]["lower"] < old["dr"]["lower"]:
            raise Conflict(
                f"the candidate's DR lower bound {new['dr']['lower']:.6f} is below the live "
                f"configuration's {old['dr']['lower']:.6f}",
                field="require_policy_evaluation",
                detail=figures,
            )
        return figures


def _thompson_policy(
    params: EcosystemRewardsConfig, arm: Callable[[str, str], tuple[float, float]]
) -> Policy:
    """Thompson sampling over the candidate's arms: rank probabilities per segment (4,000
    simulated decisions, seeded) over the segment's own offers, mixed as serving mixes them
    with those over its own and the other offers when it tries offers across segments."""
    rng = np.random.default_rng(7)
    by_segment: dict[tuple[str, tuple[str, ...], tuple[str, ...], int], np.ndarray] = {}
    across = params.cross_segment_epsilon if params.test_options_across_segment else 0.0

    def over(segment: str, offers: Sequence[str], positions: int) -> np.ndarray:
        found = np.zeros((len(offers), positions))
        if offers:
            alpha, beta = np.array([arm(o, segment) for o in offers], dtype=np.float64).T
            p = rank_probabilities(
                alpha.copy(),
                beta.copy(),
                positions,
                rng,
                epsilon=params.epsilon,
                random_action=params.random_action,
                n_draws=4000,
            )
            found[:, : p.shape[1]] = p
        return found

    def probabilities(
        answer: Any, own: Sequence[str], cross: Sequence[str], positions: int
    ) -> np.ndarray:
        segment = str(answer.context["onlineLearning"]["segment"])
        key = (segment, tuple(own), tuple(cross), positions)
        found = by_segment.get(key)
        if found is None:
            found = np.zeros((len(own) + len(cross), positions))
            found[: len(own)] = over(segment, own, positions)
            if across > 0 and cross:
                found = (1.0 - across) * found + across * over(segment, [*own, *cross], positions)
            by_segment[key] = found
        return found

    return probabilities


def _evaluate(
    logged: LoggedAnswers, policy: Policy, own_offers: Callable[[str], frozenset[str]]
) -> PolicyEvaluation:
    answers, taken = logged.answers, logged.taken
    offers = sorted({i["itemId"] for a in answers for i in a.items or []})
    index = {o: n for n, o in enumerate(offers)}
    positions = max(len(a.items or []) for a in answers)
    # the candidate's offers of a segment are those logged in it that are its own in the
    # feature store (what the rounds can show); every other logged offer is a cross try
    logged_in: dict[str, set[str]] = {}
    for answer in answers:
        segment = str(answer.context["onlineLearning"]["segment"])
        logged_in.setdefault(segment, set()).update(i["itemId"] for i in answer.items or [])
    action, position, pscore, reward, dists, segments = [], [], [], [], [], []
    for answer in answers:
        segment = str(answer.context["onlineLearning"]["segment"])
        own_here = own_offers(segment)
        own = sorted(logged_in[segment] & own_here)
        cross = sorted(set(offers) - own_here)
        local = policy(answer, own, cross, positions)
        dist = np.zeros((len(offers), positions))
        dist[[index[o] for o in [*own, *cross]], :] = local
        for item in answer.items or []:
            action.append(index[item["itemId"]])
            position.append(int(item["rank"]) - 1)
            pscore.append(float(item["propensity"]))
            reward.append(taken.get((answer.request_id, item["itemId"]), 0.0))
            dists.append(dist)
            segments.append(segment)
    # the direct model: the observed take-up rate per offer and segment (every position)
    q_of: dict[str, np.ndarray] = {}
    for segment in set(segments):
        hits = np.zeros(len(offers))
        seen = np.zeros(len(offers))
        for a, r, s in zip(action, reward, segments, strict=True):
            if s == segment:
                hits[a] += r
                seen[a] += 1
        rate = np.divide(hits, seen, out=np.zeros_like(hits), where=seen > 0)
        q_of[segment] = np.repeat(rate[:, None], positions, axis=1)
    return evaluate_policy(
        np.array(reward),
        np.array(action),
        np.array(pscore),
        np.stack(dists),
        np.stack([q_of[s] for s in segments]),
        np.array(position),
        n_bootstrap=500,
    )
