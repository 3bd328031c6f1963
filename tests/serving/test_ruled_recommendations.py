"""Rules on the recommend path: filters before the cut, reranking, rated items."""

from __future__ import annotations

import numpy as np
import pytest

from recostack.data.catalog import Catalog
from recostack.data.ids import Vocabulary
from recostack.data.usage import UsageData
from recostack.errors import Invalid
from recostack.rules import ResolvedRules
from recostack.serving.ruled_recommendations import (
    recommend_with_rules,
    ruled_scorer,
    score_with_rules,
)
from recostack.training.parameters import parse_training_parameters
from recostack.training.pipeline import fit_model
from recostack.training.trained_model import TrainedModel, UsageEvent

N_ITEMS = 40


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    rng = np.random.default_rng(3)
    n_users, n = 200, 4000
    users = rng.integers(0, n_users, n).astype(np.int32)
    items = np.minimum(rng.zipf(1.2, n) - 1, N_ITEMS - 1).astype(np.int32)
    ids = [f"i{i}" for i in range(N_ITEMS)]
    usage = UsageData(
        users=Vocabulary([f"u{i}" for i in range(n_users)]),
        items=Vocabulary(ids),
        user_index=users,
        item_index=items,
        timestamp=np.full(n, 1_700_000_000, dtype=np.int64),
        weight=np.ones(n, dtype=np.float32),
    )
    catalog = Catalog(
        items=Vocabulary(ids),
        names=np.array([f"Item {i}" for i in range(N_ITEMS)]),
        categories=np.array(["even" if i % 2 == 0 else "odd" for i in range(N_ITEMS)]),
        descriptions=np.array([""] * N_ITEMS),
        features={"price": np.array([str(i) for i in range(N_ITEMS)])},
    )
    params = parse_training_parameters(
        {"usageRelativePath": "u", "supportThreshold": 3, "enableUserToItemRecommendations": True}
    )
    return fit_model(params, usage, catalog).model


def ids(answer) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.item_id for r in answer.recommendations]


def test_filters_apply_before_the_cut(model: TrainedModel) -> None:
    plain = recommend_with_rules(model, ResolvedRules(), 10, item_id="i0")
    odd = recommend_with_rules(model, ResolvedRules(filters=("category:eq:odd",)), 10, item_id="i0")
    assert len(ids(odd)) == 10  # still full: filtering happens before the top-10 cut
    assert all(int(i[1:]) % 2 == 1 for i in ids(odd))
    assert ids(odd) != ids(plain)
    cheap = recommend_with_rules(
        model, ResolvedRules(filters=("price:lt:10", "category:eq:even")), 10, item_id="i1"
    )
    assert {int(i[1:]) for i in ids(cheap)} <= {0, 2, 4, 6, 8}


def test_reranking_interleaves_categories(model: TrainedModel) -> None:
    answer = recommend_with_rules(
        model, ResolvedRules(reranking=("category:diversity:2",)), 6, item_id="i0"
    )
    cats = [int(i[1:]) % 2 for i in ids(answer)]
    assert all(cats[j] != cats[j + 1] for j in range(len(cats) - 1))


def test_exclude_rated_items_removes_history_and_events(model: TrainedModel) -> None:
    known, _ = model.user_history("u1")
    known_ids = set(model.items.lookup_ids(known))
    answer = recommend_with_rules(
        model,
        ResolvedRules(exclude_rated_items=True),
        10,
        item_id="i0",
        user_id="u1",
        events=[UsageEvent("i5")],
    )
    assert not set(ids(answer)) & (known_ids | {"i5"})


def test_unknown_property_is_invalid(model: TrainedModel) -> None:
    with pytest.raises(Invalid) as err:
        recommend_with_rules(model, ResolvedRules(filters=("colour:eq:red",)), 5, item_id="i0")
    assert err.value.field == "filters"


def test_scorer_is_kept_per_model_and_rules(model: TrainedModel) -> None:
    rules = ResolvedRules(filters=("category:eq:even",), reranking=("price:diversity:1",))
    scorer = ruled_scorer(model, rules)
    assert ruled_scorer(model, rules) is scorer
    # equal rules in another object: a scorer of their own (the memo goes by identity)
    twin = ResolvedRules(filters=("category:eq:even",), reranking=("price:diversity:1",))
    assert ruled_scorer(model, twin) is not scorer
    assert ruled_scorer(model, twin).rules is twin


@pytest.mark.parametrize(
    "rules",
    [
        ResolvedRules(),
        ResolvedRules(filters=("category:eq:odd",)),
        ResolvedRules(filters=("price:lt:30",), reranking=("category:diversity:1",)),
        ResolvedRules(reranking=("category:diversity:0.5",), exclude_rated_items=True),
    ],
)
def test_kept_scorer_answers_as_a_per_request_one(
    model: TrainedModel, rules: ResolvedRules
) -> None:
    """The memoized path (plan's packed mask) and the whitelist path (boolean mask ANDed
    with an all-true whitelist) give the same answers, item and history alike."""
    everything = np.ones(N_ITEMS, dtype=np.bool_)
    for item_id in ("i0", "i3", "i17", "unknown"):
        kept = score_with_rules(model, rules, 6, item_id=item_id, user_id="u2")
        fresh = score_with_rules(model, rules, 6, item_id=item_id, user_id="u2", allowed=everything)
        assert kept.items.tolist() == fresh.items.tolist()
        assert np.allclose(kept.scores, fresh.scores)
    events = [UsageEvent("i1"), UsageEvent("i4")]
    kept = score_with_rules(model, rules, 6, events=events, user_id="u2")
    fresh = score_with_rules(model, rules, 6, events=events, user_id="u2", allowed=everything)
    assert kept.items.tolist() == fresh.items.tolist()
    assert len(kept.items) == 6
