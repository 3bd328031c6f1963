"""The online learning calls of :class:`~recostack.client.Client`, with the reference's names.

``online_learning_ecosystem_rewards_setup_feature_store(...)`` and
``create_online_learning(...)`` take the reference's parameters (every
``create_online_learning`` parameter by its name, as keyword arguments);
``create_online_learning`` returns the configuration's UUID, which a
deployment links with ``multi_armed_bandit={"pulse_responder_id": uuid, ...}``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from recostack.client._http import HttpSession, request_content
from recostack.client._online_learning_records import Arm, OnlineLearningConfiguration

__all__ = ["OnlineLearningCalls"]


def _time(value: str | datetime | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class OnlineLearningCalls(HttpSession):
    def upload_offers(
        self, collection: str, data: bytes | str | Path, offer_lookup_id: str = "offer"
    ) -> int:
        """Load an offer CSV (header row; ``offer_lookup_id`` names the id column)."""
        answer = self._call(
            "PUT",
            f"/api/offers/{collection}",
            content=request_content(data),
            params={"key": offer_lookup_id},
            headers={"content-type": "text/csv"},
        )
        return int(answer["written"])

    def add_offers(self, collection: str, records: dict[str, dict[str, Any]]) -> int:
        body = [{"offerId": k, "fields": v} for k, v in records.items()]
        return int(self._call("POST", f"/api/offers/{collection}", json=body)["written"])

    def online_learning_ecosystem_rewards_setup_feature_store(
        self,
        offer_db: str,
        offer_collection: str,
        offer_name_column: str,
        contextual_variables: dict[str, list[Any]],
        setup_feature_store_db: str,
        setup_feature_store_collection: str,
    ) -> dict[str, Any]:
        """Each offer × each combination of the contextual variables' values."""
        body = dict(locals(), self=None)
        del body["self"]
        answer: dict[str, Any] = self._call("POST", "/api/online-learning/feature-store", json=body)
        return answer

    def create_online_learning(
        self,
        name: str,
        description: str,
        feature_store_collection: str,
        feature_store_database: str,
        options_store_database: str,
        options_store_collection: str,
        contextual_variables_offer_key: str,
        replace: bool = False,
        **parameters: Any,
    ) -> str:
        """Create (or, with ``replace``, replace) a configuration; returns its UUID.

        ``parameters``: any other parameter of the reference by its name
        (``randomisation_epsilon=0.1``, ``contextual_variables_contextual_variable_one_name=
        "segment"``, ...), and ``require_policy_evaluation=True`` with ``replace``.
        """
        body = {
            k: v for k, v in dict(locals(), **parameters).items() if k not in ("self", "parameters")
        }
        answer = self._call("POST", "/api/online-learning", json=body)
        return str(answer["id"])

    def get_online_learning(self, config_id: str) -> OnlineLearningConfiguration:
        answer = self._call("GET", f"/api/online-learning/{config_id}")
        return OnlineLearningConfiguration.from_wire(answer)

    def list_online_learning(self) -> list[OnlineLearningConfiguration]:
        return OnlineLearningConfiguration.list_from_wire(self._call("GET", "/api/online-learning"))

    def delete_online_learning(self, config_id: str) -> None:
        self._call("DELETE", f"/api/online-learning/{config_id}")

    def get_options_store(self, config_id: str, segment: str | None = None) -> list[Arm]:
        """The arms: alpha, beta, priors, propensity, counts per offer and segment."""
        params = {"segment": segment} if segment is not None else None
        answer = self._call("GET", f"/api/online-learning/{config_id}/arms", params=params)
        return Arm.list_from_wire(answer)

    def set_online_learning_priors(self, config_id: str, priors: list[dict[str, Any]]) -> int:
        """``priors``: ``[{"offer", "segment", "alpha_zero", "beta_zero"}]``."""
        body = [
            {
                "offer": p["offer"],
                "segment": p.get("segment", ""),
                "alphaZero": p["alpha_zero"],
                "betaZero": p["beta_zero"],
            }
            for p in priors
        ]
        return int(
            self._call("PUT", f"/api/online-learning/{config_id}/priors", json=body)["updated"]
        )

    def warm_start_online_learning(self, config_id: str, history: list[dict[str, Any]]) -> int:
        """``history``: ``[{"offer", "segment", "take_up"}]`` historical interactions."""
        body = [
            {"offer": h["offer"], "segment": h.get("segment", ""), "takeUp": bool(h["take_up"])}
            for h in history
        ]
        answer = self._call("POST", f"/api/online-learning/{config_id}/warm-start", json=body)
        return int(answer["arms"])

    def get_exploration_report(
        self,
        deployment_id: str,
        start: str | datetime | None = None,
        end: str | datetime | None = None,
    ) -> dict[str, Any]:
        params = {k: v for k, v in {"start": _time(start), "end": _time(end)}.items() if v}
        answer: dict[str, Any] = self._call(
            "GET", f"/api/deployments/{deployment_id}/exploration-report", params=params
        )
        return answer

    def evaluate_policy(
        self,
        deployment_id: str,
        config_id: str | None = None,
        start: str | datetime | None = None,
        end: str | datetime | None = None,
        *,
        candidate_deployment_id: str | None = None,
        candidate_version: str | None = None,
        max_answers: int | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """IPW, SNIPW and DR (95 % intervals) of a candidate on the deployment's logged
        answers: another configuration and/or ``randomisation_*`` overrides, ``alpha_zero``,
        ``beta_zero``; or a model-backed deployment's top-k (``candidate_deployment_id``).
        ``max_answers``: read the newest this many answers (the server's default: 20,000);
        the answer's ``window`` says how many were read."""
        body: dict[str, Any] = {
            "configId": config_id,
            "candidateDeploymentId": candidate_deployment_id,
            "candidateVersion": candidate_version,
            "maxAnswers": max_answers,
            "start": _time(start),
            "end": _time(end),
        }
        for name, value in overrides.items():
            body[{"alpha_zero": "alphaZero", "beta_zero": "betaZero"}.get(name, name)] = value
        answer: dict[str, Any] = self._call(
            "POST",
            f"/api/deployments/{deployment_id}/evaluate-policy",
            json={k: v for k, v in body.items() if v is not None},
        )
        return answer
