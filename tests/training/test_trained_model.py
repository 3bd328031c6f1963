"""One contract for every algorithm: same serving path, same artifacts.

Run on SAR (each similarity), BM25 ItemKNN, EASE and popularity: save/load round
trip, unknown items, empty input, counts, determinism, seed handling and
the user history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from recostack.data.ids import Vocabulary
from recostack.data.usage import UsageData
from recostack.errors import Invalid
from recostack.training.fitting import fit_model
from recostack.training.parameters import parse_training_parameters
from recostack.training.trained_model import TrainedModel, UsageEvent

T0 = 1_700_000_000


def synthetic_usage(seed: int = 7, n_users: int = 60, n_items: int = 30) -> UsageData:
    rng = np.random.default_rng(seed)
    n = 900
    users = rng.integers(0, n_users, n).astype(np.int32)
    items = np.minimum(rng.zipf(1.3, n) - 1, n_items - 1).astype(np.int32)
    return UsageData(
        users=Vocabulary([f"u{i}" for i in range(n_users)]),
        items=Vocabulary([f"i{i}" for i in range(n_items)]),
        user_index=users,
        item_index=items,
        timestamp=(T0 + rng.integers(0, 90 * 86_400, n)).astype(np.int64),
        weight=rng.choice([1.0, 2.0, 4.0], n).astype(np.float32),
    )


ALGORITHMS = [
    {"algorithm": "sar", "similarityFunction": "Jaccard"},
    {"algorithm": "sar", "similarityFunction": "Lift", "enableUserAffinity": True},
    {"algorithm": "sar", "similarityFunction": "Cooccurrence", "cooccurrenceUnit": "Timestamp"},
    {"algorithm": "itemknn"},
    {"algorithm": "ease", "easeLambda": 10.0},
    {"algorithm": "ease", "easeWeighted": True, "maxNeighbors": 5},
    {"algorithm": "popularity"},
]


@pytest.fixture(params=ALGORITHMS, ids=lambda p: "-".join(str(v) for v in p.values()))
def trained(request: pytest.FixtureRequest) -> TrainedModel:
    params = parse_training_parameters(
        {
            "usageRelativePath": "usage.csv",
            "supportThreshold": 3,
            "enableUserToItemRecommendations": True,
            **request.param,
        }
    )
    return fit_model(params, synthetic_usage()).model


class TestModelContract:
    def test_round_trip(self, trained: TrainedModel, tmp_path: Path) -> None:
        trained.save(tmp_path)
        loaded = TrainedModel.load(tmp_path)
        assert loaded.algorithm == trained.algorithm
        for item in ("i0", "i3", "i17"):
            assert loaded.recommend_item(item, 7) == trained.recommend_item(item, 7)
        events = [UsageEvent("i1"), UsageEvent("i2", event_type="Purchase")]
        assert loaded.recommend_events(events, 5, "u3") == trained.recommend_events(events, 5, "u3")

    def test_unknown_item_gives_backfill_or_nothing(self, trained: TrainedModel) -> None:
        recs = trained.recommend_item("no-such-item", 5)
        if trained.options.enable_backfilling:
            assert [r.item_id for r in recs] == [
                trained.items.id(i) for i in trained.item_item.popular_order[:5]
            ]
        else:
            assert recs == []

    def test_empty_history(self, trained: TrainedModel) -> None:
        recs = trained.recommend_events([], 4)
        assert len(recs) == 4  # backfilling is on by default

    def test_scores_never_increase_and_ids_are_unique(self, trained: TrainedModel) -> None:
        for item in trained.items.ids[:10].tolist():
            recs = trained.recommend_item(item, 20)
            scores = [r.score for r in recs]
            assert scores == sorted(scores, reverse=True)
            assert len({r.item_id for r in recs}) == len(recs)
            assert item not in {r.item_id for r in recs}  # seed items not allowed by default

    def test_seen_items_are_removed(self, trained: TrainedModel) -> None:
        events = [UsageEvent(f"i{i}") for i in range(5)]
        recs = trained.recommend_events(events, 10)
        assert not {r.item_id for r in recs} & {f"i{i}" for i in range(5)}

    def test_count_limits(self, trained: TrainedModel) -> None:
        for bad in (0, 101):
            with pytest.raises(Invalid) as err:
                trained.recommend_item("i0", bad)
            assert err.value.field == "recommendationCount"

    def test_deterministic(self, trained: TrainedModel) -> None:
        again = TrainedModel(
            algorithm=trained.algorithm,
            items=trained.items,
            item_item=trained.item_item,
            options=trained.options,
        )
        assert again.recommend_item("i2", 10) == trained.recommend_item("i2", 10)


def sar_model(**extra: object) -> TrainedModel:
    params = parse_training_parameters({"usageRelativePath": "u", "supportThreshold": 3, **extra})
    return fit_model(params, synthetic_usage()).model


def test_allow_seed_items_returns_the_seed() -> None:
    model = sar_model(allowSeedItemsInRecommendations=True)
    recs = model.recommend_item("i0", 5)
    assert recs[0].item_id == "i0"  # Jaccard self-similarity is 1


def test_backfilling_off_gives_short_answers() -> None:
    model = sar_model(enableBackfilling=False)
    assert model.recommend_item("unknown", 5) == []


def test_user_history_only_with_user_to_item() -> None:
    without = sar_model()
    with_history = sar_model(enableUserToItemRecommendations=True)
    assert without.user_history("u1")[0].size == 0
    items, _ = with_history.user_history("u1")
    assert items.size > 0
    recs = with_history.recommend_events([], 5, "u1")
    assert not {r.item_id for r in recs} & set(with_history.items.lookup_ids(items))


def test_event_affinity_weights_and_decay() -> None:
    model = sar_model(enableUserAffinity=True, decayPeriodInDays=10)
    now = datetime(2026, 1, 31, tzinfo=UTC)
    ten_days_ago = datetime(2026, 1, 21, tzinfo=UTC)
    items, weights = model.event_affinities(
        [
            UsageEvent("i1", timestamp=now, event_type="Purchase"),  # 4
            UsageEvent("i2", timestamp=ten_days_ago, weight=3.0),  # 3 / 2
            UsageEvent("i1", timestamp=ten_days_ago),  # Click 1 / 2
            UsageEvent("missing", timestamp=now),  # ignored
        ]
    )
    got = dict(zip(model.items.lookup_ids(items), weights.tolist(), strict=True))
    assert got == pytest.approx({"i1": 4.5, "i2": 1.5})
    with pytest.raises(Invalid):
        model.event_affinities([UsageEvent("i1", event_type="Teleport")])
