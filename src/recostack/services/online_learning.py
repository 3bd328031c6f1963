"""Online learning as use cases: offers, feature stores, configurations, arms, reports.

Each call is one transaction. Off-policy evaluation and the exploration
report read a deployment's logged answers (prediction logs, with each shown
offer's propensity) and the responses to them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from recostack.algorithms.bandits import EcosystemRewardsConfig, rank_probabilities
from recostack.errors import Conflict, Invalid, NotFound
from recostack.evaluation.off_policy import PolicyEvaluation, evaluate_policy
from recostack.serving import Serving
from recostack.serving.online.configuration import bandit_config, normalise
from recostack.store import online_repository as repo
from recostack.store import options_store
from recostack.store.customer_repository import parse_customer_csv
from recostack.store.deployment_tables import PredictionLogRow, ResponseLogRow
from recostack.store.engine import Database
from recostack.store.online_tables import OnlineLearningRow

__all__ = ["OnlineLearningService", "configuration_view"]

#: at most this many logged answers are read (the newest first would need an index; the
#: first in time are read)
MAX_LOGGED = 20_000


def configuration_view(row: OnlineLearningRow) -> dict[str, Any]:
    """A configuration as the API shows it: its id, name and every parameter."""
    return {
        "id": row.id,
        "uuid": row.id,
        "name": row.name,
        "description": row.description,
        **row.parameters,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
    }


class OnlineLearningService:
    def __init__(self, db: Database, serving: Serving) -> None:
        self.db = db
        self.serving = serving

    def _changed(self) -> None:
        if self.serving.online is not None:
            self.serving.online.state.reload()

    # --- offers and feature stores ------------------------------------------------------
    def upload_offers(self, collection: str, text: str, key: str | None) -> int:
        with self.db.transaction() as session:
            records = parse_customer_csv(text, key)
            header = text.splitlines()[0].split(",") if text else []
            key_column = key or (header[0].strip() if header else "offer")
            written = repo.upsert_offers(
                session, collection, [(k, {key_column: k, **f}) for k, f in records]
            )
        self._changed()
        return written

    def add_offers(self, collection: str, records: Sequence[tuple[str, Mapping[str, Any]]]) -> int:
        with self.db.transaction() as session:
            written = repo.upsert_offers(session, collection, records)
        self._changed()
        return written

    def list_offers(self, collection: str) -> dict[str, dict[str, Any]]:
        with self.db.transaction() as session:
            found = repo.list_offers(session, collection)
        if not found:
            raise NotFound(f"offer collection {collection!r} has no offers", field="collection")
        return found

    def setup_feature_store(self, **arguments: Any) -> dict[str, Any]:
        with self.db.transaction() as session:
            summary = repo.build_feature_store(session, **arguments)
        self._changed()
        return summary

    # --- configurations -------------------------------------------------------------------
    def create(
        self, parameters: Mapping[str, Any], *, replace: bool, require_policy_evaluation: bool
    ) -> tuple[dict[str, Any], bool]:
        """Create (or replace) a configuration; returns its view and whether it is new."""
        values = normalise(parameters)
        evaluation = None
        if replace and require_policy_evaluation:
            evaluation = self._compare_with_live(values)
        with self.db.transaction() as session:
            row, replaced = repo.create_configuration(session, values, replace=replace)
            entries = repo.feature_store_entries(
                session, row.feature_store_database, row.feature_store_collection
            )
            connection = session.connection()
            options_store.ensure_arms(connection, row.id, entries)
            if replaced:
                options_store.recompute_arms(
                    connection, row.id, bandit_config(values), int(time.time() * 1000)
                )
            view = configuration_view(row)
        self._changed()
        if evaluation is not None:
            view["policyEvaluation"] = evaluation
        return view, not replaced

    def get(self, config_id: str) -> dict[str, Any]:
        with self.db.transaction() as session:
            return configuration_view(repo.get_configuration(session, config_id))

    def list_all(self) -> list[dict[str, Any]]:
        with self.db.transaction() as session:
            return [configuration_view(r) for r in repo.list_configurations(session)]

    def delete(self, config_id: str) -> None:
        with self.db.transaction() as session:
            repo.delete_configuration(session, config_id)
        self._changed()

    # --- the options store ----------------------------------------------------------------
    def arms(self, config_id: str, segment: str | None = None) -> list[dict[str, Any]]:
        with self.db.transaction() as session:
            row = repo.get_configuration(session, config_id)
            return options_store.list_arms(session.connection(), row.id, segment)

    def set_priors(self, config_id: str, priors: Sequence[Mapping[str, Any]]) -> int:
        with self.db.transaction() as session:
            row = repo.get_configuration(session, config_id)
            return options_store.set_priors(
                session.connection(),
                row.id,
                [(p["offer"], p["segment"], p["alpha_zero"], p["beta_zero"]) for p in priors],
            )

    def warm_start(self, config_id: str, history: Sequence[Mapping[str, Any]]) -> int:
        """Warm the priors from historical interactions ``{offer, segment, take_up}``."""
        counts: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for record in history:
            entry = counts[(str(record["offer"]), str(record["segment"]))]
            entry[0 if record["take_up"] else 1] += 1
        with self.db.transaction() as session:
            row = repo.get_configuration(session, config_id)
            params = repo.configuration_of(session, row).params
            return options_store.warm_start(
                session.connection(),
                row.id,
                params,
                [(o, s, t, n) for (o, s), (t, n) in sorted(counts.items())],
            )

    # --- logged answers -------------------------------------------------------------------
    def _logged(
        self, deployment_id: str, start: datetime | None, end: datetime | None
    ) -> tuple[list[Any], dict[tuple[str, str], float]]:
        """Online answers of the deployment in [start, end) and the take-ups of their offers."""
        query = select(
            PredictionLogRow.request_id, PredictionLogRow.items, PredictionLogRow.context
        ).where(PredictionLogRow.deployment_id == deployment_id)
        if start is not None:
            query = query.where(PredictionLogRow.created_at >= start)
        if end is not None:
            query = query.where(PredictionLogRow.created_at < end)
        with self.db.transaction() as session:
            answers = [
                r
                for r in session.execute(query.limit(MAX_LOGGED))
                if isinstance(r.context, dict) and r.context.get("onlineLearning")
            ]
            taken: dict[tuple[str, str], float] = {}
            ids = [r.request_id for r in answers]
            for chunk in range(0, len(ids), 1000):
                rows = session.execute(
                    select(
                        ResponseLogRow.request_id,
                        ResponseLogRow.item_id,
                        ResponseLogRow.take_up,
                        ResponseLogRow.reward,
                    ).where(ResponseLogRow.request_id.in_(ids[chunk : chunk + 1000]))
                )
                for request_id, item_id, take_up, reward in rows:
                    positive = take_up is None and reward is not None and reward > 0
                    if item_id is not None and (take_up or positive):
                        taken.setdefault((request_id, str(item_id)), 1.0)
        return answers, taken

    def exploration_report(
        self, deployment_id: str, start: datetime | None, end: datetime | None
    ) -> dict[str, Any]:
        answers, _ = self._logged(deployment_id, start, end)
        top_not_best = 0
        probabilities: list[float] = []
        explored = 0
        for answer in answers:
            info = answer.context["onlineLearning"]
            items = answer.items or []
            if items and info.get("bestOffer") is not None:
                top_not_best += items[0]["itemId"] != info["bestOffer"]
            explored += bool(info.get("explored"))
            probabilities += [float(i.get("explorationProbability", 0.0)) for i in items]
        n = len(answers)
        return {
            "deploymentId": deployment_id,
            "answers": n,
            "topNotHighestPropensityShare": top_not_best / n if n else 0.0,
            "meanExplorationProbability": float(np.mean(probabilities)) if probabilities else 0.0,
            "exploredAnswerShare": explored / n if n else 0.0,
            "shownOffers": len(probabilities),
        }

    def evaluate_policy(
        self,
        deployment_id: str,
        candidate: Mapping[str, Any],
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> dict[str, Any]:
        """IPW, SNIPW and DR of a candidate configuration on the deployment's logged answers.

        ``candidate``: ``{"configId": ...}`` (another configuration) and/or
        ``randomisation_*`` parameters overriding the live configuration's (epsilon,
        priors, window, ...), and optionally ``alpha_zero`` / ``beta_zero`` for every arm.
        """
        answers, taken = self._logged(deployment_id, start, end)
        if not answers:
            raise Conflict(
                f"deployment {deployment_id!r} has no logged online answers in that range",
                field="deploymentId",
            )
        live_id = answers[-1].context["onlineLearning"]["configId"]
        params, arms_of = self._candidate(live_id, candidate)
        return _evaluate(answers, taken, params, arms_of, candidate).to_dict()

    def _candidate(
        self, live_id: str, candidate: Mapping[str, Any]
    ) -> tuple[EcosystemRewardsConfig, dict[tuple[str, str], tuple[float, float]]]:
        with self.db.transaction() as session:
            base = repo.get_configuration(session, candidate.get("configId") or live_id)
            values = {**base.parameters, "name": base.name, "description": base.description}
            overrides = {k: v for k, v in candidate.items() if k.startswith("randomisation_")}
            params = bandit_config(normalise({**values, **overrides}))
            arms = options_store.list_arms(session.connection(), base.id)
        a0 = candidate.get("alpha_zero")
        b0 = candidate.get("beta_zero")
        evidence = {}
        for arm in arms:
            prior_a = float(a0) if a0 is not None else arm["alpha_zero"]
            prior_b = float(b0) if b0 is not None else arm["beta_zero"]
            taken, shown = arm["taken_up"], arm["shown"]
            evidence[(arm["offer"], arm["segment"])] = (
                prior_a + params.success_part() * taken,
                prior_b + params.fail_part * (shown - taken),
            )
        return params, evidence

    def _compare_with_live(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Refuse a replacement whose DR lower bound is below the live configuration's."""
        with self.db.transaction() as session:
            live = session.scalar(
                select(OnlineLearningRow).where(OnlineLearningRow.name == values["name"])
            )
            if live is None:
                raise Invalid(
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
        candidate = {k: v for k, v in values.items() if k.startswith("randomisation_")}
        new = self.evaluate_policy(deployment_id, candidate)
        old = self.evaluate_policy(deployment_id, {})
        figures = {"candidate": new["dr"], "live": old["dr"], "deploymentId": deployment_id}
        if new["dr"]["lower"] < old["dr"]["lower"]:
            raise Conflict(
                f"the candidate's DR lower bound {new['dr']['lower']:.6f} is below the live "
                f"configuration's {old['dr']['lower']:.6f}",
                field="require_policy_evaluation",
                detail=figures,
            )
        return figures


def _evaluate(
    answers: Sequence[Any],
    taken: Mapping[tuple[str, str], float],
    params: EcosystemRewardsConfig,
    arms_of: Mapping[tuple[str, str], tuple[float, float]],
    candidate: Mapping[str, Any],
) -> PolicyEvaluation:
    offers = sorted({i["itemId"] for a in answers for i in a.items or []})
    index = {o: n for n, o in enumerate(offers)}
    positions = max(len(a.items or []) for a in answers)
    rounds: list[tuple[int, int, float, float, str]] = []
    for answer in answers:
        segment = answer.context["onlineLearning"]["segment"]
        for item in answer.items or []:
            rounds.append(
                (
                    index[item["itemId"]],
                    int(item["rank"]) - 1,
                    float(item["propensity"]),
                    taken.get((answer.request_id, item["itemId"]), 0.0),
                    segment,
                )
            )
    segments = sorted({r[4] for r in rounds})
    rng = np.random.default_rng(7)
    policy: dict[str, np.ndarray] = {}
    q: dict[str, np.ndarray] = {}
    for segment in segments:
        shown_here = sorted({offers[r[0]] for r in rounds if r[4] == segment})
        alpha = np.array([arms_of.get((o, segment), (1.0, 1.0))[0] for o in shown_here])
        beta = np.array([arms_of.get((o, segment), (1.0, 1.0))[1] for o in shown_here])
        p = rank_probabilities(
            alpha,
            beta,
            positions,
            rng,
            epsilon=params.epsilon,
            random_action=params.random_action,
            n_draws=4000,
        )
        dist = np.zeros((len(offers), positions))
        for n, offer in enumerate(shown_here):
            dist[index[offer], : p.shape[1]] = p[n]
        policy[segment] = dist
        hits = np.zeros((len(offers), positions))
        seen = np.zeros((len(offers), positions))
        for a, _pos, _, hit, s in rounds:
            if s == segment:
                hits[a, :] += hit
                seen[a, :] += 1
        q[segment] = np.divide(hits, seen, out=np.zeros_like(hits), where=seen > 0)
    action = np.array([r[0] for r in rounds])
    position = np.array([r[1] for r in rounds])
    pscore = np.array([r[2] for r in rounds])
    reward = np.array([r[3] for r in rounds])
    action_dist = np.stack([policy[r[4]] for r in rounds])
    q_hat = np.stack([q[r[4]] for r in rounds])
    return evaluate_policy(reward, action, pscore, action_dist, q_hat, position, n_bootstrap=500)
