from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.errors import Invalid
from recostack.rules import ItemProperties, candidate_pool_size, parse_reranking, rerank

PROPS = ItemProperties(
    {
        "category": np.array(["a", "a", "a", "b", "b", "c"]),
        "color": np.array(["r", "g", "r", "g", "", ""]),
    }
)
ITEMS = np.arange(6)
SCORES = np.array([10.0, 9.0, 8.0, 7.0, 6.0, 5.0])  # spread 5


def order(rules: list[str], items: np.ndarray = ITEMS, scores: np.ndarray = SCORES) -> list[int]:
    return rerank(items, scores, rules, PROPS)[0].tolist()


def test_no_rule_and_weight_zero_change_nothing() -> None:
    assert order([]) == [0, 1, 2, 3, 4, 5]
    assert order(["category:diversity:0"]) == [0, 1, 2, 3, 4, 5]
    unsorted = np.array([1.0, 5.0, 3.0, 2.0, 0.0, 4.0])
    assert order(["category:diversity:0.0"], scores=unsorted) == [0, 1, 2, 3, 4, 5]


def test_weight_one_interleaves_values_round_robin() -> None:
    assert order(["category:diversity:1"]) == [0, 3, 5, 1, 4, 2]
    assert order(["category:diversity:25"]) == [0, 3, 5, 1, 4, 2]


def test_small_weight_lets_strong_scores_repeat_a_value() -> None:
    # weight 0.2 × spread 5 = 1 point per already-shown item of the same category:
    # 0 (a); 1 (a, 9-1=8 beats b 7); 3 (b 7 beats a 8-2=6); 2 (a 6 beats b 6-1=5 and c 5);
    # then 4 (b, 6-1=5) and 5 (c, 5) tie: the less penalised candidate wins.
    assert order(["category:diversity:0.2"]) == [0, 1, 3, 2, 5, 4]
    # An exact tie between equally penalised candidates goes to the earlier one.
    props = ItemProperties({"p": np.array(["a", "b", "c"])})
    tied = rerank(np.arange(3), np.array([2.0, 1.0, 1.0]), ["p:diversity:0.5"], props)
    assert tied[0].tolist() == [0, 1, 2]


def test_rules_compose_and_their_penalties_add_up() -> None:
    items = np.array([0, 1, 3, 2])  # categories a, a, b, a; colors r, g, g, r
    scores = np.array([4.0, 3.0, 2.0, 1.0])  # spread 3
    assert order(["category:diversity:1"], items, scores) == [0, 3, 1, 2]
    # with color too: after 0 (a, r), 1 (a, g) has 3-3=0, 3 (b, g) has 2, 2 (a, r) has 1-6=-5
    # -> 3; then 1 is a and g: 0-3=-3 ... and 2: -5 -> 1 before 2.
    assert order(["category:diversity:1", "color:diversity:1"], items, scores) == [0, 3, 1, 2]
    assert order(["color:diversity:1"], items, scores) == [0, 1, 3, 2]


def test_missing_values_are_never_shared() -> None:
    props = ItemProperties({"category": np.array(["", "", "a"])})
    items, _ = rerank(np.arange(3), np.array([3.0, 2.0, 1.0]), ["category:diversity:5"], props)
    assert items.tolist() == [0, 1, 2]


def test_scores_follow_their_items_and_k_cuts() -> None:
    items, scores = rerank(ITEMS, SCORES, ["category:diversity:1"], PROPS, k=3)
    assert items.tolist() == [0, 3, 5]
    assert scores.tolist() == [10.0, 7.0, 5.0]
    assert rerank(ITEMS, SCORES, [], PROPS, k=2)[0].tolist() == [0, 1]
    assert len(rerank(ITEMS, SCORES, ["category:diversity:1"], PROPS, k=0)[0]) == 0


def test_equal_and_non_finite_scores() -> None:
    flat = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert order(["category:diversity:0.1"], scores=flat) == [0, 3, 5, 1, 4, 2]
    items = np.array([0, 1, 3])
    assert order(["category:diversity:1"], items, np.array([3.0, -np.inf, 2.0])) == [0, 3, 1]
    assert order(["category:diversity:1"], items, np.array([-np.inf, np.nan, -np.inf])) == [
        0,
        1,
        3,
    ]


def test_infinite_scores_rank_first_and_keep_order() -> None:
    items = np.array([0, 1, 3, 5])  # a, a, b, c
    # +inf outranks any penalty; the finite scores set the spread.
    assert order(["category:diversity:1"], items, np.array([np.inf, np.inf, 1.0, 0.0])) == [
        0,
        1,
        3,
        5,
    ]
    assert order(["category:diversity:1"], items[:2], np.array([np.inf, np.inf])) == [0, 1]


def test_empty_and_single_candidate_lists() -> None:
    empty = rerank(np.array([], dtype=int), np.array([]), ["category:diversity:1"], PROPS)
    assert len(empty[0]) == 0 and len(empty[1]) == 0
    assert order(["category:diversity:1"], np.array([4]), np.array([1.0])) == [4]


def test_items_and_scores_must_match() -> None:
    with pytest.raises(ValueError):
        rerank(np.arange(3), np.zeros(2), [], PROPS)


def test_parse_reranking() -> None:
    rule = parse_reranking("price:diversity:2")
    assert (rule.property, rule.op, rule.weight) == ("price", "diversity", 2.0)


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("category:similarity:1", "unknown op 'similarity'"),
        ("category:diversity", "expected property:diversity:weight"),
        ("category:diversity:1:2", "expected property:diversity:weight"),
        (":diversity:1", "property name is missing"),
        ("category:diversity:much", "not a number"),
        ("category:diversity:-0.5", "≥ 0"),
        ("category:diversity:nan", "≥ 0"),
        ("category:diversity:inf", "≥ 0"),
        ("genre:diversity:1", "unknown property 'genre'"),
    ],
)
def test_bad_rules_are_invalid_and_named(rule: str, problem: str) -> None:
    with pytest.raises(Invalid, match=problem) as raised:
        rerank(ITEMS, SCORES, [rule], PROPS)
    assert raised.value.field == "reranking"
    assert repr(rule) in raised.value.message


def test_candidate_pool_size() -> None:
    assert candidate_pool_size(10, 0) == 10
    assert candidate_pool_size(10, 1) == 50
    assert candidate_pool_size(2, 1) == 20
    assert candidate_pool_size(50, 2) == 250
    assert candidate_pool_size(100, 1) == 500
    assert candidate_pool_size(800, 1) == 800


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.sampled_from("abcd"), min_size=1, max_size=40),
    weight=st.floats(min_value=1.0, max_value=1e6),
    data=st.data(),
)
def test_weight_one_or_more_always_picks_a_least_shown_value(
    values: list[str], weight: float, data: st.DataObject
) -> None:
    n = len(values)
    scores = np.array(
        sorted(data.draw(st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n)), reverse=True)
    )
    props = ItemProperties({"p": np.array(values)})
    items, _ = rerank(np.arange(n), scores, [f"p:diversity:{weight}"], props)
    assert sorted(items.tolist()) == list(range(n))
    shown: Counter[str] = Counter()
    left = Counter(values)
    for item in items.tolist():
        value = values[item]
        least = min(shown[v] for v in left if left[v] > 0)
        assert shown[value] == least
        shown[value] += 1
        left[value] -= 1


def greedy_oracle(
    scores: list[float], values: list[list[str]], weights: list[float], k: int
) -> list[int]:
    """The module docstring's objective, one plain pass over the candidates per pick.

    Adjusted scores lose ``weight`` per shared pick, rule by rule, as in the
    implementation, so exact float ties agree too.
    """
    finite = [s for s in scores if np.isfinite(s)]
    low = min(finite) if finite else 0.0
    spread = (max(finite) - low) if finite else 0.0
    spread = spread if spread > 0 and np.isfinite(spread) else 1.0
    relevance = [(s - low) / spread for s in scores]
    adjusted = list(relevance)
    left = [i for i, s in enumerate(scores) if not (np.isnan(s) or s == -np.inf)]
    bottom = [i for i, s in enumerate(scores) if np.isnan(s) or s == -np.inf]
    picks: list[int] = []
    while left and len(picks) < k:
        best = min(left, key=lambda i: (-adjusted[i], relevance[i], i))
        left.remove(best)
        picks.append(best)
        for rule, weight in enumerate(weights):
            value = values[rule][best]
            if value != "":
                for i in range(len(scores)):
                    if values[rule][i] == value:
                        adjusted[i] -= weight
    return picks + bottom[: k - len(picks)]


@settings(max_examples=120, deadline=None)
@given(
    n=st.integers(1, 30),
    weights=st.lists(st.sampled_from([0.25, 0.5, 1.0, 2.0, 0.3]), min_size=1, max_size=3),
    data=st.data(),
)
def test_rerank_matches_a_per_step_oracle(
    n: int, weights: list[float], data: st.DataObject
) -> None:
    score_st = st.one_of(
        st.sampled_from([0.0, 0.25, 0.5, 1.0, -np.inf, np.nan, np.inf]), st.floats(-10, 10)
    )
    scores = data.draw(st.lists(score_st, min_size=n, max_size=n))
    values = [
        data.draw(st.lists(st.sampled_from(["", "a", "b", "c"]), min_size=n, max_size=n))
        for _ in weights
    ]
    k = data.draw(st.integers(0, n))
    props = ItemProperties({f"p{r}": np.array(v) for r, v in enumerate(values)})
    rules = [f"p{r}:diversity:{w}" for r, w in enumerate(weights)]
    items, out_scores = rerank(np.arange(n), np.array(scores), rules, props, k=k)
    assert items.tolist() == greedy_oracle(scores, values, weights, k)
    assert np.array_equal(out_scores, np.array(scores)[items], equal_nan=True)
