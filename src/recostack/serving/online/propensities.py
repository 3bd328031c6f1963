"""What the log keeps of each shown offer: its rank propensity and exploration probability.

For a segment and its candidate offers, :func:`~recostack.algorithms.bandits.
simulated_decisions` simulates ``RANK_DRAWS`` decisions from the arms (4-6 ms
for 50 offers): the probability that the policy shows each offer at each
rank, and the probability that showing it was exploration (its draw below
the best-mean offer's). :class:`Propensities` keeps one estimate per
(configuration, segment, candidates, k, epsilon): the first is computed on
the request that needs it; when the arms have changed and the estimate is
older than ``max_age`` seconds, a background thread estimates again from
the arms of the request that noticed (the simulation releases the GIL, so
it runs beside the event loop) and requests go on with the older estimate
meanwhile. A logged propensity is thus estimated from arms read at most
``max_age`` seconds (plus one estimate's time) before the answer.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import NamedTuple

import numpy as np

from recostack.algorithms.bandits import simulated_decisions
from recostack.serving.online.state import SegmentArms

__all__ = ["MAX_AGE_SECONDS", "RANK_DRAWS", "Estimate", "Propensities"]

logger = logging.getLogger(__name__)

#: simulated decisions per estimate
RANK_DRAWS = 1000
#: an estimate is made again from newer arms at most this often
MAX_AGE_SECONDS = 30.0


class Estimate(NamedTuple):
    #: the arms snapshot it was made from
    version: int
    made_at: float
    #: P[offer, rank] of the policy's showing the offer at the rank
    propensities: np.ndarray
    #: per offer, the probability that showing it was exploration
    exploration: np.ndarray
    #: the offer with the highest observed take-up rate (-1: none)
    best: int


class _Job(NamedTuple):
    key: Hashable
    version: int
    arms: SegmentArms
    k: int
    epsilon: float
    random_action: float


class Propensities:
    def __init__(
        self, seed: int | None = None, *, max_age: float = MAX_AGE_SECONDS, size: int = 4096
    ) -> None:
        self.max_age = max_age
        self.size = size
        self._estimates: OrderedDict[Hashable, Estimate] = OrderedDict()
        self._lock = threading.Lock()
        self._rng = np.random.default_rng(seed)
        self._background_rng = np.random.default_rng(None if seed is None else seed + 1)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._pending: set[Hashable] = set()
        self._thread: threading.Thread | None = None
        #: estimates made on the request path / in the background (for tests and benchmarks)
        self.made_now = 0
        self.made_later = 0

    def get(
        self,
        key: Hashable,
        version: int,
        arms: SegmentArms,
        k: int,
        epsilon: float,
        random_action: float,
    ) -> Estimate:
        with self._lock:
            found = self._estimates.get(key)
            if found is not None:
                self._estimates.move_to_end(key)
        if found is None:
            with self._lock:
                rng_seed = self._rng.bit_generator.random_raw()
            found = _estimate(
                version, arms, k, epsilon, random_action, np.random.default_rng(rng_seed)
            )
            self.made_now += 1
            self._put(key, found)
        elif found.version != version and time.monotonic() - found.made_at >= self.max_age:
            self._later(_Job(key, version, arms, k, epsilon, random_action))
        return found

    def _put(self, key: Hashable, estimate: Estimate) -> None:
        with self._lock:
            self._estimates[key] = estimate
            self._estimates.move_to_end(key)
            while len(self._estimates) > self.size:
                self._estimates.popitem(last=False)

    def _later(self, job: _Job) -> None:
        with self._lock:
            if job.key in self._pending:
                return
            self._pending.add(job.key)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="online-propensities", daemon=True
                )
                self._thread.start()
        self._jobs.put(job)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                estimate = _estimate(
                    job.version,
                    job.arms,
                    job.k,
                    job.epsilon,
                    job.random_action,
                    self._background_rng,
                )
                self.made_later += 1
                self._put(job.key, estimate)
            except Exception:
                logger.warning("could not estimate propensities", exc_info=True)
            finally:
                with self._lock:
                    self._pending.discard(job.key)

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            thread.join(timeout)


def _estimate(
    version: int,
    arms: SegmentArms,
    k: int,
    epsilon: float,
    random_action: float,
    rng: np.random.Generator,
) -> Estimate:
    propensities, exploration = simulated_decisions(
        arms.alpha,
        arms.beta,
        k,
        rng,
        epsilon=epsilon,
        random_action=random_action,
        alpha_zero=arms.alpha_zero,
        beta_zero=arms.beta_zero,
        n_draws=RANK_DRAWS,
    )
    best = int(np.argmax(arms.propensity)) if len(arms.offers) else -1
    return Estimate(version, time.monotonic(), propensities, exploration, best)
