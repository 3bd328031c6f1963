"""Responses to a deployment's answers, taken on the event loop.

A response to an online answer (``multi_armed_bandit``) is checked against
the answer and queued for the batching learner without blocking the event
loop: the answer is this process's (memory), or another process's, read
from the store in bulk with every other response waiting at that moment
(:class:`~recostack.serving.online.bulk_reader.BulkReader`). It is counted
in the deployment's statistics over time at once; the learner stores it
(its response log record with it) within a batch. A response to any other
answer takes the prediction log's path (one transaction) on a worker
thread.

An answer another process gave reaches the store with that process's next
write (its writers write once a second, :class:`~recostack.serving.
batch_queue.Pace`) or, while the database is away, its retries: a response
that comes sooner (a client that posts it to another replica at once) waits
for it, up to 3.15 s in all (:data:`WAITS`). After that an unknown request id is a 404,
and an online answer whose shown offers are still not stored a 503 to retry
(storing the response the plain way would keep it out of the arms for good).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from recostack.services.deployment_logs import (
    AnswerNotLearnable,
    AnswerNotStored,
    DeploymentLogs,
)
from recostack.serving.online.learner import OnlineLearner

__all__ = ["WAITS", "ResponseIntake"]

#: the pauses (seconds) before each new look for an answer not found yet: together more than
#: the answering process's writer waits between two writes, plus a slow write
WAITS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)


class ResponseIntake:
    def __init__(self, logs: DeploymentLogs, learner: OnlineLearner | None) -> None:
        self.logs = logs
        self.learner = learner

    async def record(self, deployment_id: str, response: Mapping[str, Any]) -> dict[str, Any]:
        """Record ``response`` (``request_id``, ``item_id``, ``event``, ``reward``,
        ``take_up``) to an answer of ``deployment_id``; the response log record.
        :class:`~recostack.errors.NotFound` for an unknown request id,
        :class:`~recostack.errors.Unprocessable` for an offer the answer did not show,
        :class:`~recostack.errors.Unavailable` for an online answer not stored yet."""
        request_id = str(response["request_id"])
        waits = iter(WAITS)
        while True:
            if self.learner is not None:
                answer = await self.learner.answer_of(deployment_id, request_id)
                if answer is not None:
                    record = self.learner.accept(deployment_id, answer, response)
                    self.logs.count_response(deployment_id, answer.version, record)
                    return record
            try:
                return await asyncio.to_thread(
                    self.logs.record_logged_response,
                    deployment_id,
                    response,
                    online_learns=self.learner is not None,
                )
            except (AnswerNotStored, AnswerNotLearnable):
                pause = next(waits, None)
                if pause is None:
                    raise
            await asyncio.sleep(pause)
