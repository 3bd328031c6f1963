"""Scoring with rules: filters before the cut, reranking, rated items, whitelists; and with
no rule, the plain path's answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.algorithms.item_item import ScoredItems
from recostack.data.catalog import Catalog
from recostack.data.ids import Vocabulary
from recostack.data.usage import UsageData
from recostack.errors import Invalid
from recostack.rules import RuleSet
from recostack.serving.scoring import RuledScorer
from recostack.training.fitting import fit_model
from recostack.training.parameters import parse_training_parameters
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


def score(
    model: TrainedModel,
    rules: RuleSet,
    count: int,
    *,
    item_id: str | None = None,
    events: list[UsageEvent] | tuple[()] = (),
    user_id: str | None = None,
    allowed: np.ndarray | None = None,
) -> ScoredItems:
    scorer = RuledScorer(model, rules)
    if item_id is not None:
        return scorer.item(item_id, count, user_id=user_id, events=events, allowed=allowed)
    return scorer.history(events, count, user_id=user_id, allowed=allowed)


def rules(
    filters: tuple[str, ...] = (), reranking: tuple[str, ...] = (), exclude: bool = False
) -> RuleSet:
    return RuleSet(filters, reranking, exclude)


def ids(model: TrainedModel, scored: ScoredItems) -> list[str]:
    return [r.item_id for r in model.to_recommendations(scored)]


def test_filters_apply_before_the_cut(model: TrainedModel) -> None:
    plain = ids(model, score(model, rules(), 10, item_id="i0"))
    odd = ids(model, score(model, rules(("category:eq:odd",)), 10, item_id="i0"))
    assert len(odd) == 10  # still full: filtering happens before the top-10 cut
    assert all(int(i[1:]) % 2 == 1 for i in odd)
    assert odd != plain
    cheap = score(model, rules(("price:lt:10", "category:eq:even")), 10, item_id="i1")
    assert {int(i[1:]) for i in ids(model, cheap)} <= {0, 2, 4, 6, 8}


def test_reranking_interleaves_categories(model: TrainedModel) -> None:
    answer = ids(model, score(model, rules(reranking=("category:diversity:2",)), 6, item_id="i0"))
    cats = [int(i[1:]) % 2 for i in answer]
    assert all(cats[j] != cats[j + 1] for j in range(len(cats) - 1))


def test_exclude_rated_items_removes_history_and_events(model: TrainedModel) -> None:
    known, _ = model.user_history("u1")
    known_ids = set(model.items.lookup_ids(known))
    answer = score(
        model, rules(exclude=True), 10, item_id="i0", user_id="u1", events=[UsageEvent("i5")]
    )
    assert not set(ids(model, answer)) & (known_ids | {"i5"})


def test_unknown_property_is_invalid(model: TrainedModel) -> None:
    with pytest.raises(Invalid) as err:
        RuledScorer(model, rules(("colour:eq:red",)))
    assert err.value.field == "filters"


def test_a_whitelist_is_anded_with_the_filters(model: TrainedModel) -> None:
    allowed = np.zeros(N_ITEMS, dtype=np.bool_)
    allowed[[1, 2, 3, 4, 5, 6]] = True
    answer = ids(
        model, score(model, rules(("category:eq:even",)), 10, item_id="i0", allowed=allowed)
    )
    assert set(answer) <= {"i2", "i4", "i6"}


@pytest.mark.parametrize(
    "rule_set",
    [
        rules(),
        rules(("category:eq:odd",)),
        rules(("price:lt:30",), ("category:diversity:1",)),
        rules(reranking=("category:diversity:0.5",), exclude=True),
    ],
)
def test_an_all_true_whitelist_changes_nothing(model: TrainedModel, rule_set: RuleSet) -> None:
    """The plan's packed mask and a boolean mask ANDed with an all-true whitelist give the
    same answers, item and history alike."""
    everything = np.ones(N_ITEMS, dtype=np.bool_)
    for item_id in ("i0", "i3", "i17", "unknown"):
        kept = score(model, rule_set, 6, item_id=item_id, user_id="u2")
        fresh = score(model, rule_set, 6, item_id=item_id, user_id="u2", allowed=everything)
        assert kept.items.tolist() == fresh.items.tolist()
        assert np.allclose(kept.scores, fresh.scores)
    events = [UsageEvent("i1"), UsageEvent("i4")]
    kept = score(model, rule_set, 6, events=events, user_id="u2")
    fresh = score(model, rule_set, 6, events=events, user_id="u2", allowed=everything)
    assert kept.items.tolist() == fresh.items.tolist()
    assert len(kept.items) == 6


ITEM_IDS = st.sampled_from([*(f"i{i}" for i in range(N_ITEMS)), "unknown"])


@settings(max_examples=100, deadline=None)
@given(
    item_id=ITEM_IDS,
    events=st.lists(ITEM_IDS, max_size=6),
    user=st.sampled_from(["u1", "u7", "nobody", None]),
    count=st.integers(1, 30),
)
def test_no_rule_answers_as_the_plain_path(
    model: TrainedModel, item_id: str, events: list[str], user: str | None, count: int
) -> None:
    """With no rule, the served path gives the plain (offline) path's items and scores."""
    scorer = RuledScorer(model, rules())
    served = scorer.item(item_id, count)
    plain = model.score_item(model.items.index(item_id), count)
    assert served.items.tolist() == plain.items.tolist()
    assert np.allclose(served.scores, plain.scores)
    history = [UsageEvent(e) for e in events]
    served = scorer.history(history, count, user_id=user)
    plain = model.score_history(*model.event_affinities(history, user), count)
    assert served.items.tolist() == plain.items.tolist()
    assert np.allclose(served.scores, plain.scores, rtol=1e-5)
