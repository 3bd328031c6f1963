"""A deployment's logs: responses recorded against its answers, and the pages of both logs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from recostack.errors import NotFound
from recostack.serving.online.learner import OnlineLearner
from recostack.serving.prediction_logger import PredictionLogger
from recostack.serving.statistics import DeploymentStatistics
from recostack.store import deployment_repository as repo
from recostack.store.engine import Database
from recostack.store.prediction_log_repository import (
    LogKind,
    insert_response,
    list_log,
    prediction_exists,
    prediction_version,
)
from recostack.store.tables import utcnow

__all__ = ["DeploymentLogs"]


class DeploymentLogs:
    #: online learning's learner (set by the app): responses to its answers update the arms
    online: OnlineLearner | None = None

    def __init__(
        self,
        db: Database,
        prediction_logger: PredictionLogger | None,
        statistics: DeploymentStatistics | None = None,
        default_version: Callable[[str], str | None] = lambda _d: None,
    ) -> None:
        self.db = db
        self.prediction_logger = prediction_logger
        #: counts responses and take-ups in the deployment's statistics over time
        self.statistics = statistics
        self.default_version = default_version

    def record_response(self, deployment_id: str, response: Mapping[str, Any]) -> dict[str, Any]:
        """Store a response (``request_id``, ``item_id``, ``event``, ``reward``, ``take_up``)
        to an answer the deployment gave; :class:`NotFound` for an unknown request id."""
        if self.online is not None:
            # an answer of online learning: checked, queued, learned from (one batch per
            # transaction, the response log record with it)
            learned = self.online.respond(deployment_id, response)
            if learned is not None:
                record, answer = learned
                self.count_response(deployment_id, answer.version, record)
                return record
        return self.record_logged_response(deployment_id, response)

    def record_logged_response(
        self, deployment_id: str, response: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A response to an answer of the prediction log (not an online answer)."""
        request_id = response["request_id"]
        with self.db.transaction() as session:
            repo.get_deployment(session, deployment_id)
            connection = session.connection()
            logger = self.prediction_logger
            known = (logger is not None and logger.is_pending(deployment_id, request_id)) or (
                prediction_exists(connection, deployment_id, request_id)
            )
            if not known:
                raise NotFound(
                    f"deployment {deployment_id!r} gave no answer with requestId {request_id!r}",
                    field="requestId",
                )
            record = {
                "response_id": str(uuid.uuid4()),
                "request_id": request_id,
                "deployment_id": deployment_id,
                "item_id": response.get("item_id"),
                "event": response.get("event"),
                "reward": response.get("reward"),
                "take_up": response.get("take_up"),
                "created_at": utcnow(),
            }
            insert_response(connection, record)
            # an answer still queued in the logger was given by the version serving now
            version = prediction_version(connection, deployment_id, request_id)
        self.count_response(deployment_id, version, record)
        return record

    def count_response(
        self, deployment_id: str, version: str | None, record: Mapping[str, Any]
    ) -> None:
        """Count a recorded response in the deployment's statistics over time."""
        if self.statistics is not None:
            version = version or self.default_version(deployment_id) or ""
            self.statistics.add_response(
                deployment_id, version, record.get("take_up"), record["created_at"]
            )

    def page(
        self,
        log: LogKind,
        deployment_id: str,
        *,
        limit: int,
        last_id: str | None,
        last_time: datetime | None,
    ) -> list[dict[str, Any]]:
        """A page of the deployment's ``predictions`` or ``responses``, newest first, after
        the record that ended the previous page."""
        with self.db.transaction() as session:
            repo.get_deployment(session, deployment_id)
            return list_log(
                session.connection(),
                log,
                deployment_id,
                limit=limit,
                last_id=last_id,
                last_time=last_time,
            )
