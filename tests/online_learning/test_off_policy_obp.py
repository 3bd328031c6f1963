"""IPW, SNIPW and DR equal obp's on the Open Bandit Dataset sample of the obp wheel.

obp 0.4.1 is a test dependency only (installed by .ci/run with --no-deps, torch
pinned); the data is read from the same wheel, downloaded once into the cache
outside the repository (as recostack.data.datasets does for recbole).
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from obp.ope import (
    DoublyRobust,
    InverseProbabilityWeighting,
    SelfNormalizedInverseProbabilityWeighting,
)

from recostack.algorithms.bandits import rank_probabilities
from recostack.data.datasets import _wheel
from recostack.evaluation.off_policy import doubly_robust, evaluate_policy, ipw, snipw

OBD = "obp/dataset/obd/{policy}/all/all.csv"


def _open_bandit(policy: str) -> pd.DataFrame:
    with zipfile.ZipFile(_wheel("obp", "0.4.1")) as wheel:
        return pd.read_csv(io.BytesIO(wheel.read(OBD.format(policy=policy))), index_col=0)


@pytest.fixture(scope="module", params=["random", "bts"])
def logged(request: pytest.FixtureRequest) -> dict[str, np.ndarray]:
    data = _open_bandit(request.param)
    n_actions, positions = 80, 3
    action = data["item_id"].to_numpy()
    position = data["position"].to_numpy() - data["position"].min()
    reward = data["click"].to_numpy().astype(float)
    # the candidate: ecosystem_rewards' rank probabilities from the clicks of the first half
    half = len(data) // 2
    clicks = np.bincount(action[:half], weights=reward[:half], minlength=n_actions)
    shown = np.bincount(action[:half], minlength=n_actions)
    p = rank_probabilities(
        1 + clicks, 1 + shown - clicks, positions, np.random.default_rng(0), epsilon=0.1
    )
    action_dist = np.broadcast_to(p, (len(data), n_actions, positions)).copy()
    # the direct model: the click rate per item and position
    q = np.zeros((n_actions, positions))
    for pos in range(positions):
        at = position == pos
        c = np.bincount(action[at], weights=reward[at], minlength=n_actions)
        s = np.bincount(action[at], minlength=n_actions)
        q[:, pos] = np.divide(c, s, out=np.zeros(n_actions), where=s > 0)
    return {
        "reward": reward,
        "action": action,
        "position": position,
        "pscore": data["propensity_score"].to_numpy(),
        "action_dist": action_dist,
        "q_hat": np.broadcast_to(q, (len(data), n_actions, positions)).copy(),
    }


def test_estimators_equal_obps(logged: dict[str, np.ndarray]) -> None:
    base = {k: logged[k] for k in ("reward", "action", "pscore", "action_dist", "position")}
    assert len(logged["reward"]) == 10_000
    ours = ipw(**base), snipw(**base), doubly_robust(**base, q_hat=logged["q_hat"])
    theirs = (
        InverseProbabilityWeighting().estimate_policy_value(**base),
        SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(**base),
        DoublyRobust().estimate_policy_value(
            **base, estimated_rewards_by_reg_model=logged["q_hat"]
        ),
    )
    assert ours == pytest.approx(theirs, abs=1e-6, rel=0)
    assert all(0.0 < v < 0.05 for v in ours)  # click rates of a few per mille


def test_evaluation_intervals_and_effective_sample_size(logged: dict[str, np.ndarray]) -> None:
    report = evaluate_policy(**logged, n_bootstrap=200)
    for estimate in (report.ipw, report.snipw, report.dr):
        assert estimate.lower <= estimate.value <= estimate.upper
    weights = (
        logged["action_dist"][np.arange(10_000), logged["action"], logged["position"]]
        / logged["pscore"]
    )
    assert report.effective_sample_size == pytest.approx(weights.sum() ** 2 / (weights**2).sum())
    assert 0 < report.effective_sample_size <= report.rounds == 10_000
    again = evaluate_policy(**logged, n_bootstrap=200)
    assert again.dr == report.dr  # seeded


def test_a_candidate_equal_to_the_logger_gets_the_logged_rate() -> None:
    reward = np.array([1.0, 0.0, 0.0, 1.0])
    action = np.array([0, 1, 0, 1])
    pscore = np.full(4, 0.5)
    same = np.full((4, 2, 1), 0.5)
    assert ipw(reward, action, pscore, same) == pytest.approx(0.5)
    assert snipw(reward, action, pscore, same) == pytest.approx(0.5)
    # always offer 0: the rounds that showed 0 weigh 2, the others 0
    always0 = np.zeros((4, 2, 1))
    always0[:, 0, 0] = 1.0
    assert ipw(reward, action, pscore, always0) == pytest.approx((1 * 2 + 0 * 2) / 4)
    assert snipw(reward, action, pscore, always0) == pytest.approx(0.5)
    q = np.zeros((4, 2, 1))
    q[:, 0, 0] = 0.5
    assert doubly_robust(reward, action, pscore, always0, q) == pytest.approx(
        np.mean([0.5 + 2 * 0.5, 0.5, 0.5 - 2 * 0.5, 0.5])
    )
