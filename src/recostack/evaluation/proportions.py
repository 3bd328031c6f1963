"""A proportion's confidence interval: the Wilson score interval.

For ``k`` successes in ``n`` trials and the normal quantile ``z`` (1.96 for
95 %), the interval is ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``
with ``p = k/n``. Unlike the normal approximation it stays inside [0, 1]
and is sensible for small ``n`` or ``p`` near 0 or 1 (a take-up rate).
"""

from __future__ import annotations

import math

__all__ = ["wilson_interval"]


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The interval of ``successes / trials``; ``(0.0, 1.0)`` when there is no trial."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and trials, got {successes} of {trials}")
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    denominator = 1 + z2 / trials
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)
