"""Item exploration (algorithms/exploration.py): which items, how often, with what propensity."""

from __future__ import annotations

import numpy as np
import pytest

from recostack.algorithms.exploration import (
    ExplorationCandidates,
    ItemExploration,
    explore,
)
from recostack.errors import Invalid

DAY = 86_400.0


def test_config_reads_the_reference_strings_and_refuses_out_of_range() -> None:
    config = ItemExploration.from_wire(
        {"explorationWeight": "0.9", "explorationItemAgeCutOff": "7"}
    )
    assert config == ItemExploration(0.9, 7.0)
    assert ItemExploration.from_wire({}) == ItemExploration(0.3, 30.0)
    assert ItemExploration.from_wire(None) is None
    assert config is not None and config.to_wire() == {
        "explorationWeight": "0.9",
        "explorationItemAgeCutOff": "7",
    }
    for bad in ({"explorationWeight": "1.5"}, {"explorationItemAgeCutOff": "0"}, {"x": "1"}):
        with pytest.raises(Invalid) as caught:
            ItemExploration.from_wire(bad)
        assert caught.value.field == "itemExplorationConfig"


def test_candidates_are_young_items_with_little_data() -> None:
    now = 100 * DAY
    # items: 0 old & rare, 1 young & rare, 2 young & popular, 3 never used (age 0), 4 young, rare
    created = np.array([now - 90 * DAY, now - 5 * DAY, now - 2 * DAY, -1, now - 29 * DAY])
    users = np.array([1, 1, 50, 0, 2])
    found = ExplorationCandidates.build(created, users, now, 30.0)
    # median of the used items' users (1, 1, 50, 2) is 1.5: "little" is < 1.5 users
    assert found.items.tolist() == [1, 3]
    assert found.weights.tolist() == pytest.approx([1 / 2, 1 / 1])
    assert ExplorationCandidates.build(None, users, now, 30.0).items.size == 0


def test_propensity_is_the_slot_probability_times_the_item_share() -> None:
    candidates = ExplorationCandidates(np.array([7, 8]), np.array([1.0, 3.0]))
    config = ItemExploration(1.0, 30.0)  # every slot explored with probability 1/2
    rng = np.random.default_rng(3)
    found = None
    for _ in range(50):
        found = explore(
            np.array([0, 1, 2]),
            np.array([3.0, 2.0, 1.0], dtype=np.float32),
            3,
            candidates,
            config,
            rng,
        )
        if found.explored[0]:
            break
    assert found is not None and found.explored[0]
    item = int(found.items[0])
    share = {7: 0.25, 8: 0.75}[item]
    assert found.propensities[0] == pytest.approx(0.5 * share)
    assert found.scores[0] == pytest.approx(3.0)  # the score of the slot it fills
    assert np.all(np.diff(found.scores) <= 0)


def test_share_grows_with_the_weight_and_weight_zero_never_explores() -> None:
    candidates = ExplorationCandidates(np.arange(10, 20), np.ones(10))
    items = np.arange(10)
    scores = np.linspace(1, 0.1, 10).astype(np.float32)
    shares = []
    for weight in (0.0, 0.3, 0.9):
        rng = np.random.default_rng(42)
        explored = sum(
            int(explore(items, scores, 10, candidates, ItemExploration(weight), rng).explored.sum())
            for _ in range(400)
        )
        shares.append(explored / 4000)
    assert shares[0] == 0.0
    assert 0 < shares[1] < shares[2]
    assert shares[1] == pytest.approx(0.15, abs=0.03)
    assert shares[2] == pytest.approx(0.45, abs=0.03)


def test_only_eligible_candidates_and_no_duplicates() -> None:
    candidates = ExplorationCandidates(np.array([1, 5, 6]), np.ones(3))
    eligible = np.ones(10, dtype=bool)
    eligible[6] = False
    rng = np.random.default_rng(0)
    for _ in range(100):
        found = explore(
            np.array([1, 2, 3]),
            np.ones(3, dtype=np.float32),
            3,
            candidates,
            ItemExploration(1.0),
            rng,
            eligible=eligible,
        )
        assert 6 not in found.items.tolist()
        assert len(set(found.items.tolist())) == found.items.size
