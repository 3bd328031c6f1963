"""ecosystem_rewards' pure math, with numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from recostack.algorithms.bandits import (
    EcosystemRewardsConfig,
    OnlineBandit,
    arm_contributions,
    exploration_probabilities,
    prob_below,
    rank_offers,
    rank_probabilities,
)
from recostack.errors import Invalid

HAND = EcosystemRewardsConfig(
    learning_rate=1.0,
    success_reward=1.0,
    fail_reward=0.5,
    decay_gamma=2.0,
    processing_window=100.0,
    processing_count=10,
    random_action=0.0,
)
# shown at 0, 10, 20, 30 to a, a, b, a; taken up, not, taken up, not
TIMES, WHO, TAKEN = [0.0, 10.0, 20.0, 30.0], ["a", "a", "b", "a"], [True, False, True, False]
NO_REWARD: list[float | None] = [None] * 4


def test_decay_weighs_a_customers_older_interactions_down() -> None:
    # newest first: a@30 k=0 w=1 fail .5; b@20 w=1 take 1; a@10 k=1 w=.5 fail .25;
    # a@0 k=2 w=.25 take .25
    got = arm_contributions(TIMES, WHO, TAKEN, NO_REWARD, 50.0, HAND)
    assert got.alpha == pytest.approx(1.25) and got.beta == pytest.approx(0.75)
    assert got.weights.tolist() == [0.25, 0.5, 1.0, 1.0]


def test_window_count_and_interaction_cap() -> None:
    window = EcosystemRewardsConfig(**{**HAND.__dict__, "processing_window": 35.0})
    got = arm_contributions(TIMES, WHO, TAKEN, NO_REWARD, 50.0, window)  # 0 and 10 too old
    assert (got.alpha, got.beta) == (1.0, 0.5)
    count = EcosystemRewardsConfig(**{**HAND.__dict__, "processing_count": 2})
    got = arm_contributions(TIMES, WHO, TAKEN, NO_REWARD, 50.0, count)  # the latest two
    assert (got.alpha, got.beta) == (1.0, 0.5)
    capped = EcosystemRewardsConfig(**{**HAND.__dict__, "interaction_count": 2})
    got = arm_contributions(TIMES, WHO, TAKEN, NO_REWARD, 50.0, capped)  # a's third is out
    assert (got.alpha, got.beta) == (1.0, 0.75)
    anonymous = arm_contributions(TIMES, [None] * 4, TAKEN, NO_REWARD, 50.0, HAND)
    assert (anonymous.alpha, anonymous.beta) == (2.0, 1.0)


def test_rewards_are_capped_and_scaled_by_the_learning_rate() -> None:
    config = EcosystemRewardsConfig(learning_rate=0.25, max_reward=10.0, fail_reward=0.1)
    assert config.success_part(20.0) == 2.5
    assert config.success_part() == 0.25
    assert config.fail_part == pytest.approx(0.025)
    # history: 4 take-ups, 6 others at prior rewards 1 / 0.1, discounted by 0.75
    assert config.warm_start(4, 6) == pytest.approx((3.0, 0.45))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("epsilon", 1.5),
        ("random_action", -0.1),
        ("processing_window", 0.0),
        ("processing_count", 0),
        ("decay_gamma", 0.5),
        ("learning_rate", float("nan")),
        ("max_reward", 0.0),
    ],
)
def test_out_of_range_names_the_parameter(name: str, value: float) -> None:
    with pytest.raises(Invalid) as caught:
        EcosystemRewardsConfig(**{name: value})  # type: ignore[arg-type]
    assert caught.value.field == f"randomisation_{name}"


def test_beta_overlap_by_hand() -> None:
    # X uniform, Y with density 2y: P(X < Y) = ∫ y · 2y dy = 2/3; density 2(1-y): 1/3
    assert prob_below(1, 1, 2, 1) == pytest.approx(2 / 3, abs=1e-4)
    assert prob_below(1, 1, 1, 2) == pytest.approx(1 / 3, abs=1e-4)
    assert prob_below(3, 4, 3, 4) == 0.5
    explore = exploration_probabilities(np.array([2.0, 1.0]), np.array([1.0, 1.0]))
    assert explore[0] == 0.0 and explore[1] == pytest.approx(2 / 3, abs=1e-4)


def test_rank_probabilities_by_hand(rng: np.random.Generator) -> None:
    alpha, beta = np.array([2.0, 1.0]), np.array([1.0, 1.0])
    p = rank_probabilities(alpha, beta, 2, rng, n_draws=40_000)
    assert p[0, 0] == pytest.approx(2 / 3, abs=0.01) and p[1, 0] == pytest.approx(1 / 3, abs=0.01)
    assert p.sum(axis=0) == pytest.approx([1.0, 1.0])
    # half the calls at random: each rank gets epsilon / n from them
    mixed = rank_probabilities(alpha, beta, 1, rng, epsilon=0.5, n_draws=40_000)
    assert mixed[0, 0] == pytest.approx(0.5 * 2 / 3 + 0.25, abs=0.01)
    assert rank_probabilities(alpha, beta, 1, rng, epsilon=1.0)[:, 0].tolist() == [0.5, 0.5]
    assert rank_probabilities(alpha[:1], beta[:1], 3, rng).tolist() == [[1.0]]


def test_rank_offers_explores_and_repeats_with_a_seed() -> None:
    alpha, beta = np.array([50.0, 1.0, 1.0]), np.array([1.0, 50.0, 50.0])
    first = rank_offers(alpha, beta, 2, np.random.default_rng(3))
    again = rank_offers(alpha, beta, 2, np.random.default_rng(3))
    assert first.order.tolist() == again.order.tolist() and first.order[0] == 0
    assert not first.explored.any() and not first.explored_call
    random_call = rank_offers(alpha, beta, 3, np.random.default_rng(3), epsilon=1.0)
    assert random_call.explored_call and random_call.explored.all()
    assert sorted(random_call.order.tolist()) == [0, 1, 2]
    everything_random = rank_offers(alpha, beta, 3, np.random.default_rng(3), random_action=1.0)
    assert everything_random.explored.all() and not everything_random.explored_call
    assert rank_offers(alpha[:0], beta[:0], 3, np.random.default_rng(3)).order.size == 0


def test_online_bandit_learns_the_better_offer(rng: np.random.Generator) -> None:
    config = EcosystemRewardsConfig(
        learning_rate=1.0, fail_reward=1.0, random_action=0.0, processing_count=100_000
    )
    bandit = OnlineBandit(1, 3, config, rng)
    rates = [0.05, 0.3, 0.1]
    picks = []
    for t in range(3000):
        offer = int(bandit.select(0, 1, now=float(t)).order[0])
        picks.append(offer)
        if rng.random() < rates[offer]:
            assert bandit.learn(0, offer, now=float(t))
    assert np.mean(np.array(picks[-1000:]) == 1) > 0.8
    # shown offers not taken up are fails: beta - 1 = shown - taken up
    assert bandit.beta[0] - 1 == pytest.approx(bandit.shown[0] - bandit.taken_up[0])
    assert bandit.alpha[0] - 1 == pytest.approx(bandit.taken_up[0])


def test_incremental_path_equals_the_definition(rng: np.random.Generator) -> None:
    config = EcosystemRewardsConfig(
        learning_rate=1.0, fail_reward=0.5, processing_window=50.0, processing_count=7
    )
    fast = OnlineBandit(2, 4, config, np.random.default_rng(1))
    exact = OnlineBandit(2, 4, config, np.random.default_rng(1))
    exact._simple = False  # every change recomputed from arm_contributions
    for t in range(400):
        segment = int(rng.integers(2))
        a = fast.select(segment, 2, now=float(t))
        b = exact.select(segment, 2, now=float(t))
        assert a.order.tolist() == b.order.tolist()
        offer = int(a.order[0])
        if rng.random() < 0.3:
            fast.learn(segment, offer, float(t))
            exact.learn(segment, offer, float(t))
        np.testing.assert_allclose(fast.alpha, exact.alpha, atol=1e-9)
        np.testing.assert_allclose(fast.beta, exact.beta, atol=1e-9)
