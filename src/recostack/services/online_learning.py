"""Online learning as use cases: offers, feature stores, configurations, arms, reports.

Each call is one transaction. Off-policy evaluation and the exploration
report read a window of a deployment's logged answers (prediction logs,
with each shown offer's propensity) and the responses to them
(:mod:`recostack.services.policy_evaluation`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from recostack.errors import NotFound
from recostack.services.policy_evaluation import DEFAULT_MAX_ANSWERS, PolicyEvaluator
from recostack.serving import Serving
from recostack.serving.online.configuration import bandit_config, normalise
from recostack.store import online_repository as repo
from recostack.store import options_store
from recostack.store.customer_repository import parse_customer_csv
from recostack.store.engine import Database
from recostack.store.online_tables import OnlineLearningRow

__all__ = ["OnlineLearningService", "configuration_view"]


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
    def __init__(
        self, db: Database, serving: Serving, max_answers: int = DEFAULT_MAX_ANSWERS
    ) -> None:
        self.db = db
        self.serving = serving
        self.evaluator = PolicyEvaluator(db, serving, max_answers)

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
            evaluation = self.evaluator.compare_with_live(values)
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

    # --- reports on logged answers ----------------------------------------------------
    def exploration_report(
        self, deployment_id: str, start: datetime | None, end: datetime | None
    ) -> dict[str, Any]:
        logged = self.evaluator.logged(deployment_id, start, end)
        top_not_best = 0
        probabilities: list[float] = []
        explored = 0
        for answer in logged.answers:
            info = answer.context["onlineLearning"]
            items = answer.items or []
            if items and info.get("bestOffer") is not None:
                top_not_best += items[0]["itemId"] != info["bestOffer"]
            explored += bool(info.get("explored"))
            probabilities += [float(i.get("explorationProbability", 0.0)) for i in items]
        n = len(logged.answers)
        return {
            "deploymentId": deployment_id,
            "answers": n,
            "topNotHighestPropensityShare": top_not_best / n if n else 0.0,
            "meanExplorationProbability": float(np.mean(probabilities)) if probabilities else 0.0,
            "exploredAnswerShare": explored / n if n else 0.0,
            "shownOffers": len(probabilities),
            "window": logged.window(),
        }

    def evaluate_policy(
        self,
        deployment_id: str,
        candidate: Mapping[str, Any],
        start: datetime | None = None,
        end: datetime | None = None,
        max_answers: int | None = None,
    ) -> dict[str, Any]:
        """IPW, SNIPW and DR of a candidate on the deployment's logged answers
        (:mod:`recostack.services.policy_evaluation`): another configuration and/or
        ``randomisation_*`` overrides and priors, or a model-backed deployment's top-k
        (``candidateDeploymentId``)."""
        return self.evaluator.evaluate(deployment_id, candidate, start, end, max_answers)
