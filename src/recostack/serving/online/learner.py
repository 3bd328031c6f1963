"""Learning from responses: shown offers and responses written off the request path.

:meth:`OnlineLearner.shown` and :meth:`OnlineLearner.respond` only append
to an in-memory queue; one thread writes what is queued in batches, each
batch in one transaction (shown offers first, then responses: a response
always follows the answer it responds to), once a second unless a batch is
full (its :class:`~recostack.serving.batch_queue.Pace`; :meth:`flush` and
:meth:`stop` hurry it), and retries a batch that failed, so nothing is lost
while the store comes back; :meth:`stop` writes everything still queued.
The same thread keeps the options store's window and count (a sweep per
configuration every ``sweep_seconds``; with decay it recomputes the arms
shown since this process's last sweep that ran, a round skipped because
another process held the configuration's lock moving nothing, and those of
every interaction this process wrote since, however old its shown time) and
re-reads the arms after its writes (``OnlineState.refresh_due``).

A response is checked before it is queued: the answer must exist (given by
this process a moment ago, or stored by any process) and have shown the
offer it names. Learning from it:

- ``take_up: true`` (or a ``reward`` > 0 without ``take_up``): a take-up,
  worth the reward (capped at ``max_reward``) or ``success_reward``;
- ``take_up: false``: declined; the shown offer already counts as not taken
  up (from the moment it was shown), so only the declined count moves;
- neither: a response without an outcome (an event), logged only.

The first outcome for a (request, offer) is the one learned; a response
posted again is logged and learns nothing.

The queue is bounded: while more than ``max_backlog`` shown offers and
responses wait to be written (a load the store cannot take for long, or a
slow store), an online answer waits for room (:meth:`OnlineLearner.room`),
and after ``BACKLOG_WAIT_SECONDS`` it is a 503 to retry. Measured on two
cores (``bench/bandit.py``): at full load the learner wrote a few hundred
answers a second while the server gave 2,500, so without a bound the queue,
and the process's memory, would grow for as long as the load lasted.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from recostack.errors import Unavailable, Unprocessable
from recostack.serving.batch_queue import WRITE_SECONDS, Pace, take_batch, wait_until_written
from recostack.serving.log_ids import log_id
from recostack.serving.online.bulk_reader import BulkReader
from recostack.serving.online.records import Impression, ResponseEvent
from recostack.serving.online.state import OnlineState

__all__ = ["BACKLOG_WAIT_SECONDS", "MAX_BACKLOG", "OnlineLearner", "ShownAnswer"]

logger = logging.getLogger(__name__)

#: shown offers and responses queued and not yet written past which online answers wait
MAX_BACKLOG = 500_000
#: how long an online answer waits for room before it is a 503
BACKLOG_WAIT_SECONDS = 2.0
#: at most this many shown offers and responses go in one transaction. Under load the learner
#: takes full batches; a commit writes every page the batch dirtied, most of them leaves of
#: the per-arm index (rows in random order), so larger batches cost less per answer. Measured
#: (bench/README.md, bandit.py, 2026-12-07 from 18:50 UTC): 1,000 answers a transaction cost
#: 191-198 µs of the writer's CPU per answer, 5,000 answers 115-127 µs; in the server the
#: catch-up after 4 s of online load fell from 0.5-1.3 s to 0.2-0.8 s with 10,000 instead of
#: 5,000 (no better with 25,000, whose transactions hold SQLite's write lock 0.5 s or more)
BATCH_SIZE = 10_000


class ShownAnswer(NamedTuple):
    deployment_id: str
    version: str
    config_id: str
    segment: str
    offers: tuple[str, ...]


class OnlineLearner:
    def __init__(
        self,
        state: OnlineState,
        *,
        batch_size: int = BATCH_SIZE,
        flush_seconds: float = 0.05,
        write_seconds: float = WRITE_SECONDS,
        sweep_seconds: float = 1.0,
        retry_seconds: float = 0.5,
        remember: int = 200_000,
        max_backlog: int = MAX_BACKLOG,
    ) -> None:
        self.state = state
        self.max_backlog = max_backlog
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.pace = Pace(write_seconds)
        self.sweep_seconds = sweep_seconds
        self.retry_seconds = retry_seconds
        self._queue: queue.SimpleQueue[Impression | ResponseEvent | None] = queue.SimpleQueue()
        self._answers: OrderedDict[str, ShownAnswer] = OrderedDict()
        self._remember = remember
        self._lock = threading.Lock()
        self._written_cond = threading.Condition(self._lock)
        self.queued = 0
        self.written = 0
        self.failures = 0
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        #: per configuration: the time of its last sweep that ran (not skipped)
        self._swept_ms: dict[str, int] = {}
        #: per configuration: the oldest shown time this process wrote since then
        self._unswept_ms: dict[str, int] = {}
        self._next_sweep = 0.0
        #: answers given by other processes, read from the store in bulk
        self.stored_answers: BulkReader[str, ShownAnswer] = BulkReader(
            self._read_answers, name="online-answers"
        )

    # --- the request path ----------------------------------------------------------
    async def room(self) -> None:
        """Return at once while at most ``max_backlog`` items wait to be written; else wait
        until the writer has made room, and after ``BACKLOG_WAIT_SECONDS`` refuse (503)."""
        deadline = time.monotonic() + BACKLOG_WAIT_SECONDS
        while (backlog := self.queued - self.written) > self.max_backlog:
            if time.monotonic() >= deadline:
                raise Unavailable(
                    f"online learning is behind: {backlog:,} shown offers and responses wait "
                    f"to be stored (at most {self.max_backlog:,}); retry in a moment"
                )
            await asyncio.sleep(0.01)

    def shown(self, impressions: Sequence[Impression], answer: ShownAnswer) -> None:
        if not impressions:
            return
        with self._lock:
            self.queued += len(impressions)
            self._answers[impressions[0].request_id] = answer
            while len(self._answers) > self._remember:
                self._answers.popitem(last=False)
        for impression in impressions:
            self._queue.put(impression)

    def _read_answers(self, request_ids: Sequence[str]) -> dict[str, ShownAnswer]:
        found = {}
        for request_id, rows in self.state.source.shown_offers(request_ids).items():
            _, config_id, deployment_id, version, segment = rows[0]
            found[request_id] = ShownAnswer(
                str(deployment_id),
                str(version),
                str(config_id),
                str(segment),
                tuple(str(r[0]) for r in rows),
            )
        return found

    def _mine(self, deployment_id: str, found: ShownAnswer | None) -> ShownAnswer | None:
        return found if found is not None and found.deployment_id == deployment_id else None

    def local_answer(self, deployment_id: str, request_id: str) -> ShownAnswer | None:
        """The answer if this process gave it (memory only)."""
        with self._lock:
            return self._mine(deployment_id, self._answers.get(request_id))

    async def answer_of(self, deployment_id: str, request_id: str) -> ShownAnswer | None:
        """The answer ``request_id`` of the deployment: this process's, or read from the store
        in bulk with the other requests waiting (the event loop never blocks)."""
        found = self.local_answer(deployment_id, request_id)
        if found is None:
            found = self._mine(deployment_id, await self.stored_answers.get(request_id))
        return found

    def accept(
        self, deployment_id: str, answer: ShownAnswer, response: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Check a response to ``answer`` and queue it (no I/O); the response log record."""
        request_id = str(response["request_id"])
        offer = response.get("item_id")
        if offer is None:
            if len(answer.offers) != 1:
                raise Unprocessable(
                    f"answer {request_id!r} showed {len(answer.offers)} offers: name the one "
                    "responded to (itemId)",
                    field="itemId",
                )
            offer = answer.offers[0]
        if offer not in answer.offers:
            raise Unprocessable(
                f"answer {request_id!r} did not show offer {offer!r} (it showed "
                f"{', '.join(answer.offers)})",
                field="itemId",
            )
        record = {
            "response_id": log_id(),
            "request_id": request_id,
            "deployment_id": deployment_id,
            "item_id": offer,
            "event": response.get("event"),
            "reward": response.get("reward"),
            "take_up": response.get("take_up"),
            "created_at": datetime.now(UTC),
        }
        take_up = response.get("take_up")
        reward = response.get("reward")
        if take_up is None and reward is not None and reward > 0:
            take_up = True
        if take_up is None:
            self._queue_log_only(record)
            return record
        params = self.state.configuration(answer.config_id).params
        event = ResponseEvent(
            request_id,
            str(offer),
            answer.config_id,
            bool(take_up),
            None if reward is None else float(reward),
            params.success_part(reward),
            params.fail_part,
            record,
        )
        with self._lock:
            self.queued += 1
        self._queue.put(event)
        return record

    def _queue_log_only(self, record: dict[str, Any]) -> None:
        event = ResponseEvent(
            record["request_id"], record["item_id"], "", False, None, 0.0, 0.0, record
        )
        with self._lock:
            self.queued += 1
        self._queue.put(event)

    # --- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="online-learner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self.stored_answers.stop()
        if self._thread is not None:
            self._stopping.set()
            self.pace.hurry()
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None
        self._drain()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued so far is written (``False`` on timeout)."""
        if self._thread is None:
            self._drain()
        self.pace.hurry()
        return wait_until_written(self, self._written_cond, timeout)

    # --- the writing thread ----------------------------------------------------------
    def _take(self, block: bool) -> tuple[list[Impression | ResponseEvent], bool]:
        return take_batch(self._queue, block, self.flush_seconds, self.batch_size)

    def _store(self, batch: list[Impression | ResponseEvent]) -> None:
        impressions = [e for e in batch if isinstance(e, Impression)]
        responses = [e for e in batch if isinstance(e, ResponseEvent)]
        attempts = 0
        while True:
            try:
                self.state.source.write(impressions, responses)
                with self._lock:
                    unswept = self._unswept_ms
                    for i in impressions:
                        if i.shown_ms < unswept.get(i.config_id, i.shown_ms + 1):
                            unswept[i.config_id] = i.shown_ms
                break
            except Exception:
                attempts += 1
                self.failures += 1
                logger.warning("could not write %d learning events", len(batch), exc_info=True)
                if self._stopping.is_set() and attempts >= 5:
                    logger.error("dropping %d learning events at shutdown", len(batch))
                    break
                time.sleep(self.retry_seconds)
        with self._lock:
            self.written += len(batch)
            self._written_cond.notify_all()

    def _maintain(self) -> None:
        try:
            self.state.refresh_due()
        except Exception:
            logger.warning("could not re-read the options store", exc_info=True)
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.sweep_seconds
        now_ms = int(time.time() * 1000)
        for configuration in self.state.in_use():
            # decay recomputes the arms shown since the last sweep that ran (a round another
            # process held the lock for moves nothing) and those of what this process wrote
            # since, however long it waited in the queue (its shown time is older)
            with self._lock:
                # before this process's first sweep that ran: the last minute, as of its first
                # round (a round skipped keeps it; it does not slide with the clock)
                swept = self._swept_ms.setdefault(configuration.id, now_ms - 60_000)
                since = min(swept, self._unswept_ms.get(configuration.id, now_ms))
            try:
                if self.state.source.sweep(configuration, now_ms, since):
                    with self._lock:
                        self._swept_ms[configuration.id] = now_ms
                        if self._unswept_ms.get(configuration.id, now_ms) >= since:
                            self._unswept_ms.pop(configuration.id, None)
            except Exception:
                logger.warning("could not sweep %s", configuration.id, exc_info=True)

    def _run(self) -> None:
        while True:
            began = time.monotonic()
            batch, stop = self._take(block=True)
            if batch:
                self._store(batch)
            if stop:
                return
            self._maintain()
            self.pace.rest(began, len(batch) >= self.batch_size)

    def _drain(self) -> None:
        while True:
            batch, _ = self._take(block=False)
            if not batch:
                return
            self._store(batch)
