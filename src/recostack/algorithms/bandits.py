"""``ecosystem_rewards``: Thompson sampling over Beta(alpha, beta) per offer per segment.

Pure numpy, randomness only through the ``rng`` given. The parameters are
:class:`EcosystemRewardsConfig` (the reference's ``randomisation_*`` names,
without the prefix); the state of one arm (offer × segment) is its priors
and the contributions of the interactions that still count.

What an interaction (an offer shown to a customer in a segment) adds:

- taken up: ``alpha += learning_rate · min(reward, max_reward)``, the reward
  being the response's own (capped at ``max_reward``) or ``success_reward``;
- not taken up (declined, or no take-up yet): ``beta += learning_rate ·
  fail_reward``. A shown offer counts as not taken up from the moment it is
  shown until a take-up converts it.

Which interactions count (:func:`arm_contributions`, the one definition the
store's sweeps and the in-memory :class:`OnlineBandit` both apply): those
shown within ``processing_window`` ms back from now, of them the latest
``processing_count`` of the arm; one customer's repeated interactions on an
arm weigh 1 (the latest), 1/decay_gamma, 1/decay_gamma², ... and at most
``interaction_count`` of them count (0: all).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import defaultdict, deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, fields
from types import ModuleType
from typing import NamedTuple

import numpy as np
from scipy import special

from recostack.errors import Invalid

__all__ = [
    "ArmEvidence",
    "EcosystemRewardsConfig",
    "OnlineBandit",
    "RankedOffers",
    "arm_contributions",
    "exploration_probabilities",
    "prob_below",
    "rank_offers",
    "rank_probabilities",
    "simulated_decisions",
]


def _check(
    name: str, value: float, low: float, high: float = math.inf, *, open_low: bool = False
) -> None:
    inside = value > low if open_low else value >= low
    if not (math.isfinite(value) and inside and value <= high):
        bound = f"({low}" if open_low else f"[{low}"
        upper = "∞)" if high == math.inf else f"{high}]"
        raise Invalid(
            f"randomisation_{name} must be in {bound}, {upper}, got {value!r}",
            field=f"randomisation_{name}",
        )


@dataclass(frozen=True)
class EcosystemRewardsConfig:
    """The randomisation parameters of ``ecosystem_rewards``, validated (the reference's
    defaults). ``processing_window`` and ``cache_duration`` are milliseconds."""

    epsilon: float = 0.0
    cross_segment_epsilon: float = 0.0
    random_action: float = 0.2
    success_reward: float = 1.0
    fail_reward: float = 0.1
    max_reward: float = 10.0
    prior_success_reward: float = 1.0
    prior_fail_reward: float = 0.1
    processing_window: float = 86_400_000.0
    processing_count: int = 1000
    decay_gamma: float = 1.0
    interaction_count: int = 0
    learning_rate: float = 0.25
    discount_factor: float = 0.75
    cache_duration: float = 0.0
    test_options_across_segment: bool = False

    def __post_init__(self) -> None:
        for name in ("epsilon", "cross_segment_epsilon", "random_action", "discount_factor"):
            _check(name, getattr(self, name), 0.0, 1.0)
        for name in ("success_reward", "fail_reward", "prior_success_reward", "prior_fail_reward"):
            _check(name, getattr(self, name), 0.0)
        _check("max_reward", self.max_reward, 0.0, open_low=True)
        _check("processing_window", self.processing_window, 0.0, open_low=True)
        _check("processing_count", self.processing_count, 1)
        _check("decay_gamma", self.decay_gamma, 1.0)
        _check("interaction_count", self.interaction_count, 0)
        _check("learning_rate", self.learning_rate, 0.0, 100.0, open_low=True)
        _check("cache_duration", self.cache_duration, 0.0)
        if self.processing_count != int(self.processing_count):
            raise Invalid(
                "randomisation_processing_count must be an integer",
                field="randomisation_processing_count",
            )

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @property
    def decays(self) -> bool:
        """Whether one customer's interactions weigh differently (decay or a cap)."""
        return self.decay_gamma != 1.0 or self.interaction_count > 0

    def success_part(self, reward: float | None = None) -> float:
        """What a take-up adds to alpha (``reward`` capped at ``max_reward``)."""
        value = self.success_reward if reward is None else min(float(reward), self.max_reward)
        return self.learning_rate * max(value, 0.0)

    @property
    def fail_part(self) -> float:
        """What a shown offer not taken up adds to beta."""
        return self.learning_rate * self.fail_reward

    def warm_start(self, taken_up: float, not_taken_up: float) -> tuple[float, float]:
        """What historical interactions add to the priors (alpha, beta): each take-up
        ``prior_success_reward``, each other ``prior_fail_reward``, discounted by
        ``discount_factor`` (history counts less than what is learned live)."""
        return (
            self.discount_factor * self.prior_success_reward * taken_up,
            self.discount_factor * self.prior_fail_reward * not_taken_up,
        )


# --- learning: which interactions count, and how much ------------------------------


@dataclass(frozen=True)
class ArmEvidence:
    """What the interactions that count add to one arm, and which of them count."""

    alpha: float
    beta: float
    #: per interaction (in the order given): its weight (0: does not count)
    weights: np.ndarray


def arm_contributions(
    shown_at: Sequence[float],
    customers: Sequence[Hashable | None],
    taken_up: Sequence[bool],
    rewards: Sequence[float | None],
    now: float,
    config: EcosystemRewardsConfig,
) -> ArmEvidence:
    """The evidence of one arm's interactions at time ``now`` (ms).

    An interaction counts when shown within ``processing_window`` and among
    the arm's latest ``processing_count``; a customer's k-th newest (k = 0,
    1, ...) counted interaction weighs ``decay_gamma**-k`` and none past
    ``interaction_count`` (when > 0). ``customers[i]`` ``None`` is an
    anonymous interaction (weight 1). Ties in time keep the given order
    (later given = newer).
    """
    n = len(shown_at)
    times = np.asarray(shown_at, dtype=np.float64)
    weights = np.zeros(n, dtype=np.float64)
    order = sorted(range(n), key=lambda i: (-times[i], -i))  # newest first
    counted = 0
    seen: dict[Hashable, int] = defaultdict(int)
    for i in order:
        if times[i] < now - config.processing_window or counted >= config.processing_count:
            continue
        counted += 1
        customer = customers[i]
        if customer is None:
            weights[i] = 1.0
            continue
        k = seen[customer]
        seen[customer] = k + 1
        if config.interaction_count and k >= config.interaction_count:
            continue
        weights[i] = config.decay_gamma ** (-k)
    alpha = beta = 0.0
    for i in range(n):
        if weights[i]:
            if taken_up[i]:
                alpha += weights[i] * config.success_part(rewards[i])
            else:
                beta += weights[i] * config.fail_part
    return ArmEvidence(alpha, beta, weights)


# --- choosing: Thompson draws, exploration, rank probabilities ----------------------


@dataclass(frozen=True)
class RankedOffers:
    """One decision: offers (indices into the candidates) best first, their scores."""

    order: np.ndarray
    #: the score each ranked offer got (its Thompson draw; a uniform number when explored)
    draws: np.ndarray
    #: per ranked offer: was it placed by exploration (a random call or a random action)
    explored: np.ndarray
    #: the whole call ranked at random (probability epsilon)
    explored_call: bool


def rank_offers(
    alpha: np.ndarray,
    beta: np.ndarray,
    k: int,
    rng: np.random.Generator,
    *,
    epsilon: float = 0.0,
    random_action: float = 0.0,
    alpha_zero: np.ndarray | None = None,
    beta_zero: np.ndarray | None = None,
    state: np.ndarray | None = None,
) -> RankedOffers:
    """Rank candidate arms: with probability ``epsilon`` a uniform random order (explored);
    otherwise each arm draws from Beta(alpha, beta), except that with probability
    ``random_action`` an arm draws from its prior Beta(alpha_zero, beta_zero) instead
    (scored as if nothing had been learned: explored), and arms rank by their draws.

    The draws come from the compiled kernel's own generator, seeded from ``rng`` per call,
    or ``state`` (:func:`~recostack.algorithms.bandit_kernels.seed_words` of a generator,
    advanced in place) kept by a caller that decides often: seeding costs 3-4 µs of a
    15 µs call on the online request path (bench/bandit.py's HTTP ratio, not met)."""
    n = len(alpha)
    k = min(k, n)
    if n == 0:
        empty = np.zeros(0)
        return RankedOffers(empty.astype(np.intp), empty, empty.astype(bool), False)
    if epsilon > 0 and rng.random() < epsilon:
        draws = rng.random(n)
        order = np.argsort(-draws, kind="stable")[:k]
        return RankedOffers(order, draws[order], np.ones(k, dtype=bool), True)
    kernels = _kernels()
    order, draws, random_arms = kernels.decide(
        kernels.seed_words(rng) if state is None else state,
        _floats(alpha),
        _floats(beta),
        np.ones(n) if alpha_zero is None else _floats(alpha_zero),
        np.ones(n) if beta_zero is None else _floats(beta_zero),
        k,
        float(random_action),
    )
    return RankedOffers(order, draws, random_arms, False)


@functools.cache
def _kernels() -> ModuleType:
    """The compiled kernels' module, imported on first use (numba is slow to import, and the
    options store and the configurations import this module for its parameters)."""
    from recostack.algorithms import bandit_kernels

    return bandit_kernels


def _floats(values: np.ndarray) -> np.ndarray:
    """A contiguous float64 array (what the compiled kernels take), copied only if need be."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64 and values.flags.c_contiguous:
        return values
    return np.ascontiguousarray(values, dtype=np.float64)


def rank_probabilities(
    alpha: np.ndarray,
    beta: np.ndarray,
    k: int,
    rng: np.random.Generator,
    *,
    epsilon: float = 0.0,
    random_action: float = 0.0,
    alpha_zero: np.ndarray | None = None,
    beta_zero: np.ndarray | None = None,
    n_draws: int = 2000,
) -> np.ndarray:
    """``P[i, r]``: the probability that :func:`rank_offers` puts arm ``i`` at rank ``r``.

    The random call's part is exact (``epsilon / n`` at every rank); the
    Thompson part is exact for a single arm and estimated from ``n_draws``
    simulated decisions otherwise (no closed form for a ranking of Betas).
    """
    return simulated_decisions(
        alpha,
        beta,
        k,
        rng,
        epsilon=epsilon,
        random_action=random_action,
        alpha_zero=alpha_zero,
        beta_zero=beta_zero,
        n_draws=n_draws,
    )[0]


def simulated_decisions(
    alpha: np.ndarray,
    beta: np.ndarray,
    k: int,
    rng: np.random.Generator,
    *,
    epsilon: float = 0.0,
    random_action: float = 0.0,
    alpha_zero: np.ndarray | None = None,
    beta_zero: np.ndarray | None = None,
    n_draws: int = 2000,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rank_probabilities`, and per arm the probability that its posterior draw is
    below that of the arm with the highest posterior mean (the Beta overlap of
    :func:`exploration_probabilities`, estimated from the same draws; 0 for that arm)."""
    n = len(alpha)
    k = min(k, n)
    if n == 0:
        return np.zeros((0, k)), np.zeros(0)
    if n == 1:
        return np.ones((1, min(k, 1))), np.zeros(1)
    kernels = _kernels()
    ones = np.ones(n)
    probabilities, below = kernels.simulate_ranks(
        kernels.seed_words(rng),
        _floats(alpha),
        _floats(beta),
        ones if alpha_zero is None else _floats(alpha_zero),
        ones if beta_zero is None else _floats(beta_zero),
        k,
        n_draws,
        float(random_action),
    )
    return (1.0 - epsilon) * probabilities + epsilon / n, below


# --- exploration: Beta overlap ------------------------------------------------------


def prob_below(a1: float, b1: float, a2: float, b2: float, grid: int = 2001) -> float:
    """P(X < Y) for X ~ Beta(a1, b1), Y ~ Beta(a2, b2), independent:
    ∫ f_X(x) (1 − F_Y(x)) dx on a midpoint grid of ``grid`` cells (1e-4 or better for
    parameters up to a few thousand; exact 0.5 for identical Betas by symmetry)."""
    if (a1, b1) == (a2, b2):
        return 0.5
    edges = np.linspace(0.0, 1.0, grid + 1)
    cdf_x = special.betainc(a1, b1, edges)
    mass_x = np.diff(cdf_x)  # P(X in cell), exact per cell
    mid = (edges[:-1] + edges[1:]) / 2
    survive_y = 1.0 - special.betainc(a2, b2, mid)
    return float(np.clip(np.sum(mass_x * survive_y), 0.0, 1.0))


def exploration_probabilities(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Per arm: the probability that showing it was exploration, i.e. that its value is
    below that of the arm with the highest posterior mean (0 for that arm itself)."""
    n = len(alpha)
    out = np.zeros(n)
    if n < 2:
        return out
    best = int(np.argmax(alpha / (alpha + beta)))
    for i in range(n):
        if i != best:
            out[i] = prob_below(
                float(alpha[i]), float(beta[i]), float(alpha[best]), float(beta[best])
            )
    return out


# --- an in-memory learner (simulations, benchmarks) ---------------------------------


class _Shown(NamedTuple):
    """One interaction of an arm (a tuple of plain values: the garbage collector stops
    visiting it, where millions of small objects would make every full collection slow)."""

    id: int
    shown_at: float
    customer: Hashable | None
    taken_up: bool = False
    reward: float | None = None


class OnlineBandit:
    """``ecosystem_rewards`` in memory: arms per (segment, offer), one decision and one
    response at a time (River's ``predict_one`` / ``learn_one``), the same definitions
    as the store (:func:`arm_contributions`).

    ``n_segments`` × ``n_offers`` arms with priors 1, 1 unless given; ``select``
    shows ``k`` offers and records them as interactions at time ``now`` (ms);
    ``learn`` converts one shown offer into a take-up. Times only move forward:
    each segment keeps its interactions in the order shown, so the window drops
    the oldest first without visiting every arm.
    """

    def __init__(
        self,
        n_segments: int,
        n_offers: int,
        config: EcosystemRewardsConfig,
        rng: np.random.Generator,
        *,
        alpha_zero: np.ndarray | None = None,
        beta_zero: np.ndarray | None = None,
    ) -> None:
        self.config = config
        self.rng = rng
        shape = (n_segments, n_offers)
        self.alpha_zero = np.ones(shape) if alpha_zero is None else np.array(alpha_zero, float)
        self.beta_zero = np.ones(shape) if beta_zero is None else np.array(beta_zero, float)
        self.alpha = self.alpha_zero.copy()
        self.beta = self.beta_zero.copy()
        self.shown = np.zeros(shape, dtype=np.int64)
        self.taken_up = np.zeros(shape, dtype=np.int64)
        #: per arm, its counted interactions, newest last
        self._log: dict[tuple[int, int], deque[_Shown]] = defaultdict(deque)
        #: per segment, (shown_at, offer, id) of its interactions in the order shown
        self._by_time: dict[int, deque[tuple[float, int, int]]] = defaultdict(deque)
        self._ids = itertools.count()
        self._simple = not config.decays
        self._fail_part = config.fail_part

    def select(
        self, segment: int, k: int = 1, now: float = 0.0, customer: Hashable | None = None
    ) -> RankedOffers:
        c = self.config
        self._expire(segment, now)
        ranked = rank_offers(
            self.alpha[segment],
            self.beta[segment],
            k,
            self.rng,
            epsilon=c.epsilon,
            random_action=c.random_action,
            alpha_zero=self.alpha_zero[segment],
            beta_zero=self.beta_zero[segment],
        )
        by_time = self._by_time[segment]
        # the segment's rows, updated offer by offer (two fancy-indexed += on the 2-D arrays
        # took 3 of a decision's 30 µs)
        shown, beta = self.shown[segment], self.beta[segment]
        for offer in ranked.order.tolist():
            shown[offer] += 1
            if self._simple:
                beta[offer] += self._fail_part
            arm = (segment, offer)
            entry = _Shown(next(self._ids), now, customer)
            log = self._log[arm]
            log.append(entry)
            by_time.append((now, offer, entry.id))
            if self._simple:
                if len(log) > c.processing_count:
                    self._drop(arm, log.popleft())
            else:
                while len(log) > c.processing_count:
                    log.popleft()
                self._recompute(arm, now)
        return ranked

    def learn(self, segment: int, offer: int, now: float, reward: float | None = None) -> bool:
        """A take-up of the latest not-yet-taken interaction of the arm; ``False`` if there
        is none (nothing shown, or it has left the window)."""
        arm = (segment, offer)
        log = self._log[arm]
        for index in range(len(log) - 1, -1, -1):
            entry = log[index]
            if not entry.taken_up:
                log[index] = entry._replace(taken_up=True, reward=reward)
                self.taken_up[arm] += 1
                if self._simple:
                    self.alpha[arm] += self.config.success_part(reward)
                    self.beta[arm] -= self.config.fail_part
                else:
                    self._recompute(arm, now)
                return True
        return False

    def _expire(self, segment: int, now: float) -> None:
        """Drop the segment's interactions that left the window, oldest first (an arm's
        counted interactions are in time order: one still counted is its arm's oldest)."""
        limit = now - self.config.processing_window
        shown = self._by_time[segment]
        if not shown or shown[0][0] >= limit:
            return
        changed: set[tuple[int, int]] = set()
        while shown and shown[0][0] < limit:
            _, offer, entry_id = shown.popleft()
            arm = (segment, offer)
            log = self._log[arm]
            if log and log[0].id == entry_id:  # else the count dropped it already
                self._drop(arm, log.popleft())
                changed.add(arm)
        if not self._simple:
            for arm in changed:
                self._recompute(arm, now)

    def _drop(self, arm: tuple[int, int], entry: _Shown) -> None:
        """An interaction stops counting (simple mode: subtract what it added)."""
        if self._simple:
            c = self.config
            if entry.taken_up:
                self.alpha[arm] -= c.success_part(entry.reward)
            else:
                self.beta[arm] -= c.fail_part

    def _recompute(self, arm: tuple[int, int], now: float) -> None:
        log = self._log[arm]
        evidence = arm_contributions(
            [e.shown_at for e in log],
            [e.customer for e in log],
            [e.taken_up for e in log],
            [e.reward for e in log],
            now,
            self.config,
        )
        self.alpha[arm] = self.alpha_zero[arm] + evidence.alpha
        self.beta[arm] = self.beta_zero[arm] + evidence.beta
