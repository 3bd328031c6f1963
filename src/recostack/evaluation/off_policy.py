"""Off-policy evaluation: what a candidate policy's take-up rate would have been on logged data.

A *round* is one offer shown at one position of a logged answer: the
offer (``action``), the position, whether it was taken up (``reward``) and
the probability that the logging policy shows that offer at that position
(``pscore``). ``action_dist[i, a, p]`` is the candidate's probability of
showing offer ``a`` at position ``p`` in round ``i``'s context;
``q_hat[i, a, p]`` is the direct model's expected reward (Recostack's: the
observed take-up rate per offer and segment). The estimators are those of
the Open Bandit Pipeline (obp 0.4.1), on the same inputs:

- IPW: ``mean(w · r)``, ``w = action_dist[i, a_i, p_i] / pscore_i``;
- SNIPW: ``Σ w · r / Σ w``;
- DR: ``mean(Σ_a π(a) q̂(a) / Σ_a π(a) + w · (r − q̂(a_i)))``, at each round's position.

:func:`evaluate_policy` adds 95 % bootstrap intervals (rounds resampled with
a seeded generator, each estimator recomputed per resample) and the
effective sample size ``(Σ w)² / Σ w²``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Estimate",
    "PolicyEvaluation",
    "doubly_robust",
    "evaluate_policy",
    "importance_weights",
    "ipw",
    "snipw",
]


def _position(action_dist: np.ndarray, position: np.ndarray | None) -> np.ndarray:
    if position is None:
        return np.zeros(action_dist.shape[0], dtype=np.intp)
    return np.asarray(position, dtype=np.intp)


def importance_weights(
    action: np.ndarray, pscore: np.ndarray, action_dist: np.ndarray, position: np.ndarray | None
) -> np.ndarray:
    """``w_i = action_dist[i, a_i, p_i] / pscore_i``."""
    rounds = np.arange(len(action))
    return action_dist[rounds, action, _position(action_dist, position)] / pscore


def ipw(
    reward: np.ndarray,
    action: np.ndarray,
    pscore: np.ndarray,
    action_dist: np.ndarray,
    position: np.ndarray | None = None,
) -> float:
    """Inverse probability weighting (obp's ``InverseProbabilityWeighting``)."""
    if len(reward) == 0:
        return float("nan")
    return float(np.mean(reward * importance_weights(action, pscore, action_dist, position)))


def snipw(
    reward: np.ndarray,
    action: np.ndarray,
    pscore: np.ndarray,
    action_dist: np.ndarray,
    position: np.ndarray | None = None,
) -> float:
    """Self-normalised IPW (obp's ``SelfNormalizedInverseProbabilityWeighting``)."""
    w = importance_weights(action, pscore, action_dist, position)
    total = w.sum()
    return float(np.sum(reward * w) / total) if total > 0 else float("nan")


def _dr_rounds(
    reward: np.ndarray,
    action: np.ndarray,
    pscore: np.ndarray,
    action_dist: np.ndarray,
    q_hat: np.ndarray,
    position: np.ndarray | None,
) -> np.ndarray:
    pos = _position(action_dist, position)
    rounds = np.arange(len(action))
    w = action_dist[rounds, action, pos] / pscore
    pi_at = action_dist[rounds, :, pos]
    q_at = q_hat[rounds, :, pos]
    total = pi_at.sum(axis=1)
    direct = np.divide(
        (q_at * pi_at).sum(axis=1), total, out=np.zeros(len(rounds)), where=total > 0
    )
    return direct + w * (reward - q_hat[rounds, action, pos])


def doubly_robust(
    reward: np.ndarray,
    action: np.ndarray,
    pscore: np.ndarray,
    action_dist: np.ndarray,
    q_hat: np.ndarray,
    position: np.ndarray | None = None,
) -> float:
    """Doubly robust (obp's ``DoublyRobust``): the direct model plus weighted residuals."""
    if len(reward) == 0:
        return float("nan")
    return float(np.mean(_dr_rounds(reward, action, pscore, action_dist, q_hat, position)))


@dataclass(frozen=True)
class Estimate:
    """One estimator's value and its 95 % bootstrap interval."""

    value: float
    lower: float
    upper: float

    def to_dict(self) -> dict[str, float]:
        return {"value": self.value, "lower": self.lower, "upper": self.upper}


@dataclass(frozen=True)
class PolicyEvaluation:
    ipw: Estimate
    snipw: Estimate
    dr: Estimate
    #: (Σ w)² / Σ w²: how many logged rounds the estimate is worth
    effective_sample_size: float
    rounds: int
    #: the logging policy's own take-up rate on the same rounds
    logged_value: float

    def to_dict(self) -> dict[str, object]:
        return {
            "ipw": self.ipw.to_dict(),
            "snipw": self.snipw.to_dict(),
            "dr": self.dr.to_dict(),
            "effectiveSampleSize": self.effective_sample_size,
            "rounds": self.rounds,
            "loggedValue": self.logged_value,
        }


def evaluate_policy(
    reward: np.ndarray,
    action: np.ndarray,
    pscore: np.ndarray,
    action_dist: np.ndarray,
    q_hat: np.ndarray,
    position: np.ndarray | None = None,
    *,
    n_bootstrap: int = 1000,
    seed: int = 12345,
) -> PolicyEvaluation:
    """IPW, SNIPW and DR with 95 % bootstrap intervals, and the effective sample size."""
    reward = np.asarray(reward, dtype=np.float64)
    action = np.asarray(action, dtype=np.intp)
    pscore = np.asarray(pscore, dtype=np.float64)
    pos = _position(action_dist, position)
    n = len(reward)
    w = importance_weights(action, pscore, action_dist, pos)
    dr_rounds = _dr_rounds(reward, action, pscore, action_dist, q_hat, pos)
    values = {
        "ipw": ipw(reward, action, pscore, action_dist, pos),
        "snipw": snipw(reward, action, pscore, action_dist, pos),
        "dr": float(np.mean(dr_rounds)) if n else float("nan"),
    }
    boot: dict[str, list[float]] = {name: [] for name in values}
    if n:
        rng = np.random.default_rng(seed)
        wr = w * reward
        for _ in range(n_bootstrap):
            pick = rng.integers(0, n, n)
            boot["ipw"].append(float(wr[pick].mean()))
            total = w[pick].sum()
            boot["snipw"].append(float(wr[pick].sum() / total) if total > 0 else float("nan"))
            boot["dr"].append(float(dr_rounds[pick].mean()))

    def estimate(name: str) -> Estimate:
        samples = np.asarray(boot[name])
        samples = samples[np.isfinite(samples)]
        if not len(samples):
            return Estimate(values[name], float("nan"), float("nan"))
        low, high = np.percentile(samples, [2.5, 97.5])
        return Estimate(values[name], float(low), float(high))

    square = float(np.sum(w**2))
    return PolicyEvaluation(
        ipw=estimate("ipw"),
        snipw=estimate("snipw"),
        dr=estimate("dr"),
        effective_sample_size=float(w.sum() ** 2 / square) if square > 0 else 0.0,
        rounds=n,
        logged_value=float(reward.mean()) if n else float("nan"),
    )
