"""Cumulative regret in a simulated population whose take-up rates change halfway.

Segments with known take-up rates per offer (seeded); halfway every segment's
rates are permuted. Policies, one decision (top 1) at a time, each seeing the
same customers: ecosystem_rewards (epsilon 0 and 0.1; success 1, fail 1,
learning rate 1, random_action 0, processing_count 2,000 per arm: the window
at work), epsilon-greedy (0.1), uniform random, and MABWiser's Thompson
sampling (one model per segment, in the bench environment). Prints a table
of regret on each half and writes a PNG plot (``--plot``).

Each seed is one population run: its customers (which segment comes when) and
the take-up draws (decision t is taken up when u[t] < the offer's rate) are the
seed's and the same for every policy (common random numbers), so that two
policies differ only by their choices; a policy's own draws are its own. The
table gives the mean over the seeds with its standard error, and the paired
difference ecosystem_rewards − MABWiser per seed with its standard error.
Seeds run in parallel, one process per core.

    .venv-bench/bin/python bench/bandit_sim.py [--decisions 100000] [--seeds 10] [--json]
        [--plot out.png]
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from _common import emit, machine_info, parser, progress, table, verdict
from recostack.algorithms.bandits import EcosystemRewardsConfig, OnlineBandit


def population(rng: np.random.Generator, segments: int, offers: int) -> np.ndarray:
    return rng.uniform(0.01, 0.15, size=(segments, offers))


def run(policy: str, decisions: int, segments: int, offers: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rates = population(np.random.default_rng(1), segments, offers)
    changed = rates[:, np.random.default_rng(2).permutation(offers)]
    world = np.random.default_rng(10_000 + seed)  # the same for every policy
    who = world.integers(0, segments, decisions)
    uniforms = world.random(decisions)
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
        taken = uniforms[t] < now[s, offer]
        regret[t] = now[s].max() - now[s, offer]
        counts[s, offer] += 1
        wins[s, offer] += taken
        if policy.startswith("ecosystem") and taken:
            bandit.learn(s, offer, float(t))
        elif policy == "mabwiser_ts":
            models[s].partial_fit([offer], [int(taken)])
    return np.cumsum(regret)


def halves(curve: np.ndarray) -> tuple[float, float]:
    """Cumulative regret on the first half, and added on the second."""
    half = len(curve) // 2
    return float(curve[half - 1]), float(curve[-1] - curve[half - 1])


def mean_and_error(values: list[float]) -> tuple[float, float]:
    """The mean and its standard error (0 for a single value)."""
    array = np.asarray(values)
    error = float(array.std(ddof=1) / np.sqrt(len(array))) if len(array) > 1 else 0.0
    return float(array.mean()), error


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--decisions", type=int, default=100_000)
    p.add_argument("--segments", type=int, default=10)
    p.add_argument("--offers", type=int, default=10)
    p.add_argument("--plot", default="")
    p.add_argument("--seeds", type=int, default=10, help="population runs per policy")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = p.parse_args()
    policies = [
        "ecosystem_rewards eps 0",
        "ecosystem_rewards eps 0.1",
        "epsilon_greedy",
        "uniform",
        "mabwiser_ts",
    ]
    seeds = [11 + n for n in range(args.seeds)]
    curves: dict[str, list[np.ndarray]] = {}
    figures: dict = {"machine": machine_info(), "seeds": seeds, "policies": {}}
    with ProcessPoolExecutor(args.processes) as pool:
        for policy in policies:
            progress(args, f"simulating {policy} ({len(seeds)} seeds)")
            started = time.perf_counter()
            try:
                runs = list(
                    pool.map(
                        run,
                        [policy] * len(seeds),
                        [args.decisions] * len(seeds),
                        [args.segments] * len(seeds),
                        [args.offers] * len(seeds),
                        seeds,
                    )
                )
            except ImportError as exc:
                progress(args, f"{policy}: not importable ({exc}); run in the bench environment")
                continue
            curves[policy] = runs
            (first, first_error), (second, second_error) = (
                mean_and_error(list(values)) for values in zip(*map(halves, runs), strict=True)
            )
            figures["policies"][policy] = {
                "first_half": first,
                "first_half_error": first_error,
                "second_half": second,
                "second_half_error": second_error,
                "per_seed": [halves(curve) for curve in runs],
                "seconds": time.perf_counter() - started,
            }
    rows = [
        [
            policy,
            f"{f['first_half']:.1f} ± {f['first_half_error']:.1f}",
            f"{f['second_half']:.1f} ± {f['second_half_error']:.1f}",
        ]
        for policy, f in figures["policies"].items()
    ]
    tables = [
        table(
            "cumulative regret, mean ± standard error over the seeds",
            ["policy", "first half", "second half"],
            rows,
        )
    ]
    mab = figures["policies"].get("mabwiser_ts")
    eco = figures["policies"].get("ecosystem_rewards eps 0")
    if mab and eco:
        paired = [
            [e - m for e, m in zip(eco_halves, mab_halves, strict=True)]
            for eco_halves, mab_halves in zip(eco["per_seed"], mab["per_seed"], strict=True)
        ]
        (first_diff, first_diff_error), (second_diff, second_diff_error) = (
            mean_and_error(list(values)) for values in zip(*paired, strict=True)
        )
        figures["paired_difference"] = {
            "first_half": first_diff,
            "first_half_error": first_diff_error,
            "second_half": second_diff,
            "second_half_error": second_diff_error,
        }
        figures["target_first_half_met"] = eco["first_half"] <= mab["first_half"]
        figures["target_recovers_faster"] = eco["second_half"] < mab["second_half"]
        tables.append(
            table(
                "ecosystem_rewards eps 0 − MABWiser, paired by seed (same customers and take-ups)",
                ["half", "mean difference ± standard error", "target"],
                [
                    [
                        "first",
                        f"{first_diff:.1f} ± {first_diff_error:.1f}",
                        verdict(figures["target_first_half_met"]),
                    ],
                    [
                        "second",
                        f"{second_diff:.1f} ± {second_diff_error:.1f}",
                        verdict(figures["target_recovers_faster"]),
                    ],
                ],
            )
        )
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        for policy, runs in curves.items():
            plt.plot(np.mean(runs, axis=0), label=policy)
        plt.axvline(args.decisions // 2, color="grey", linestyle=":")
        plt.xlabel("decisions")
        plt.ylabel(f"cumulative regret (mean of {len(seeds)} runs)")
        plt.legend()
        plt.savefig(args.plot, dpi=100)
    emit(args, figures, tables)


if __name__ == "__main__":
    main()
