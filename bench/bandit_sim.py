"""Cumulative regret in a simulated population whose take-up rates change halfway.

Segments with known take-up rates per offer (seeded); halfway every segment's
rates are permuted. Policies, one decision (top 1) at a time, each seeing the
same customers: ecosystem_rewards (epsilon 0 and 0.1; success 1, fail 1,
learning rate 1, random_action 0, processing_count 2,000 per arm: the window
at work), epsilon-greedy (0.1), uniform random, and MABWiser's Thompson
sampling (one model per segment, in the bench environment). Prints a table
of regret on each half and writes a PNG plot (``--plot``).

    .venv-bench/bin/python bench/bandit_sim.py [--decisions 100000] [--seeds 3] [--json]
        [--plot out.png]
"""

from __future__ import annotations

import time

import numpy as np

from _common import emit, machine_info, parser, progress, table
from recostack.algorithms.bandits import EcosystemRewardsConfig, OnlineBandit


def population(rng: np.random.Generator, segments: int, offers: int) -> np.ndarray:
    return rng.uniform(0.01, 0.15, size=(segments, offers))


def run(policy: str, decisions: int, segments: int, offers: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rates = population(np.random.default_rng(1), segments, offers)
    changed = rates[:, np.random.default_rng(2).permutation(offers)]
    who = np.random.default_rng(3).integers(0, segments, decisions)
    regret = np.zeros(decisions)
    if policy.startswith("ecosystem"):
        epsilon = 0.1 if policy.endswith("0.1") else 0.0
        config = EcosystemRewardsConfig(
            epsilon=epsilon,
            random_action=0.0,
            fail_reward=1.0,
            learning_rate=1.0,
            processing_count=2000,
        )
        bandit = OnlineBandit(segments, offers, config, rng)
    elif policy == "mabwiser_ts":
        from mabwiser.mab import MAB, LearningPolicy

        models = [
            MAB(list(range(offers)), LearningPolicy.ThompsonSampling(), seed=seed + s)
            for s in range(segments)
        ]
        for s, model in enumerate(models):
            model.fit([s % offers], [0])
    counts = np.zeros((segments, offers))
    wins = np.zeros((segments, offers))
    for t in range(decisions):
        s = int(who[t])
        now = rates if t < decisions // 2 else changed
        if policy.startswith("ecosystem"):
            offer = int(bandit.select(s, 1, now=float(t)).order[0])
        elif policy == "mabwiser_ts":
            offer = int(models[s].predict())
        elif policy == "uniform":
            offer = int(rng.integers(offers))
        else:  # epsilon-greedy 0.1 on running means
            means = np.divide(wins[s], counts[s], out=np.full(offers, 1.0), where=counts[s] > 0)
            offer = int(rng.integers(offers)) if rng.random() < 0.1 else int(np.argmax(means))
        taken = rng.random() < now[s, offer]
        regret[t] = now[s].max() - now[s, offer]
        counts[s, offer] += 1
        wins[s, offer] += taken
        if policy.startswith("ecosystem") and taken:
            bandit.learn(s, offer, float(t))
        elif policy == "mabwiser_ts":
            models[s].partial_fit([offer], [int(taken)])
    return np.cumsum(regret)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--decisions", type=int, default=100_000)
    p.add_argument("--segments", type=int, default=10)
    p.add_argument("--offers", type=int, default=10)
    p.add_argument("--plot", default="")
    p.add_argument(
        "--seeds", type=int, default=3, help="runs per policy (the policy's and take-ups' draws)"
    )
    args = p.parse_args()
    policies = [
        "ecosystem_rewards eps 0",
        "ecosystem_rewards eps 0.1",
        "epsilon_greedy",
        "uniform",
        "mabwiser_ts",
    ]
    curves, rows, figures = {}, [], {"machine": machine_info(), "policies": {}}
    half = args.decisions // 2
    for policy in policies:
        progress(args, f"simulating {policy}")
        started = time.perf_counter()
        try:  # the mean curve over the seeds: one run's regret moves by about 10 %
            curve = np.mean(
                [
                    run(policy, args.decisions, args.segments, args.offers, seed=11 + n)
                    for n in range(args.seeds)
                ],
                axis=0,
            )
        except ImportError as exc:
            progress(args, f"{policy}: not importable ({exc}); run in the bench environment")
            continue
        curves[policy] = curve
        first, second = float(curve[half - 1]), float(curve[-1] - curve[half - 1])
        figures["policies"][policy] = {
            "first_half": first,
            "second_half": second,
            "seconds": time.perf_counter() - started,
        }
        rows.append([policy, first, second, float(curve[-1])])
    mab = figures["policies"].get("mabwiser_ts")
    eco = figures["policies"].get("ecosystem_rewards eps 0")
    if mab and eco:
        figures["target_first_half_met"] = eco["first_half"] <= mab["first_half"]
        figures["target_recovers_faster"] = eco["second_half"] < mab["second_half"]
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        for policy, curve in curves.items():
            plt.plot(curve, label=policy)
        plt.axvline(half, color="grey", linestyle=":")
        plt.xlabel("decisions")
        plt.ylabel("cumulative regret")
        plt.legend()
        plt.savefig(args.plot, dpi=100)
    emit(
        args,
        figures,
        [table("cumulative regret", ["policy", "first half", "second half", "total"], rows)],
    )


if __name__ == "__main__":
    main()
