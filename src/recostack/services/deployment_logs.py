"""A deployment's logs: responses recorded against its answers, and the pages of both logs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from recostack.errors import NotFound, Unavailable
from recostack.serving.log_ids import log_id
from recostack.serving.online.learner import OnlineLearner
from recostack.serving.prediction_logger import PredictionLogger
from recostack.serving.statistics import DeploymentStatistics
from recostack.store import deployment_repository as repo
from recostack.store.engine import Database
from recostack.store.prediction_log_repository import (
    LogKind,
    insert_response,
    list_log,
    logged_answer,
)
from recostack.store.tables import utcnow

__all__ = ["AnswerNotLearnable", "AnswerNotStored", "DeploymentLogs"]

#: an online answer's shown offers are stored with its process's next flush, or its retries
#: while the database is away; an older online answer without them (its configuration
#: deleted since) takes a response the plain way
ONLINE_ANSWER_STORED_WITHIN = timedelta(minutes=1)


class AnswerNotStored(NotFound):
    """The request id names no answer of the deployment that its log holds."""


class AnswerNotLearnable(Unavailable):
    """An answer of online learning whose shown offers are not stored yet."""


class DeploymentLogs:
    def __init__(
        self,
        db: Database,
        prediction_logger: PredictionLogger | None,
        statistics: DeploymentStatistics | None = None,
        default_version: Callable[[str], str | None] = lambda _d: None,
        learner: OnlineLearner | None = None,
    ) -> None:
        self.db = db
        self.prediction_logger = prediction_logger
        #: stores the response log records of responses to online answers
        self.learner = learner
        #: counts responses and take-ups in the deployment's statistics over time
        self.statistics = statistics
        self.default_version = default_version

    def record_logged_response(
        self, deployment_id: str, response: Mapping[str, Any], *, online_learns: bool = False
    ) -> dict[str, Any]:
        """A response to an answer of the prediction log (not an online answer):
        :class:`AnswerNotStored` for a request id the deployment's log does not hold (yet);
        with ``online_learns``, :class:`AnswerNotLearnable` for a recent answer online
        learning chose (its shown offers are not stored yet: the response must wait for them,
        it is not learned from otherwise)."""
        request_id = response["request_id"]
        with self.db.transaction() as session:
            repo.get_deployment(session, deployment_id)
            connection = session.connection()
            logger = self.prediction_logger
            logged = logged_answer(connection, deployment_id, request_id)
            if logged is None and not (
                logger is not None and logger.is_pending(deployment_id, request_id)
            ):
                raise AnswerNotStored(
                    f"deployment {deployment_id!r} gave no answer with requestId {request_id!r}",
                    field="requestId",
                )
            if (
                online_learns
                and logged is not None
                and logged.online
                and utcnow() - logged.created_at < ONLINE_ANSWER_STORED_WITHIN
            ):
                raise AnswerNotLearnable(
                    f"the offers answer {request_id!r} showed are not stored yet: retry",
                    field="requestId",
                )
            record = {
                "response_id": log_id(),
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
            version = None if logged is None else logged.version
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
        the record that ended the previous page. What this process has queued is written
        first (its writers write once a second), so an answer or a response given a moment
        ago is in its log."""
        for writer in (self.prediction_logger, self.learner):
            if writer is not None:
                writer.flush()
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
