from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.errors import Invalid
from recostack.rules import (
    ItemProperties,
    apply_filters,
    filter_mask,
    parse_filter,
    parse_number,
)

PROPS = ItemProperties(
    {
        #          0        1        2        3        4       5
        "category": np.array(["comedy", "drama", "comedy", "", "Comedy", "horror"]),
        "price": np.array(["10", "2.5", "10.0", "", "abc", "-1"]),
        "date": np.array(["2024-01-01", "2023-06-30", "2024-12-31", "", "2025-02-01", "x"]),
    }
)


def passing(*filters: str) -> list[int]:
    return np.flatnonzero(filter_mask(filters, PROPS)).tolist()


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("category:eq:comedy", [0, 2]),  # case-sensitive: "Comedy" is another value
        ("category:neq:comedy", [1, 3, 4, 5]),  # missing passes neq
        ("category:eq:western", []),
        ("category:neq:western", [0, 1, 2, 3, 4, 5]),
        ("category:in:comedy,horror", [0, 2, 5]),
        ("category:in:comedy,drama,horror,Comedy,a,b,c,d,e,f", [0, 1, 2, 4, 5]),
        ("category:notin:comedy,horror", [1, 3, 4]),
        ("category:empty", [3]),
        ("category:empty:", [3]),
        ("category:notempty", [0, 1, 2, 4, 5]),
        ("category:notempty:", [0, 1, 2, 4, 5]),
        ("category:gt:comedy", [1, 5]),  # by code point
        ("category:gte:comedy", [0, 1, 2, 5]),
        ("category:lt:drama", [0, 2, 4]),  # "Comedy" < "comedy" by code point; missing fails
        ("category:lte:drama", [0, 1, 2, 4]),
    ],
)
def test_string_ops(flt: str, expected: list[int]) -> None:
    assert passing(flt) == expected


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("price:eq:10", [0, 2]),  # "10" and "10.0" are equal numbers
        ("price:eq:1e1", [0, 2]),
        ("price:neq:10", [1, 3, 4, 5]),
        ("price:gt:2.5", [0, 2]),  # "abc" and missing fail numeric comparisons
        ("price:gte:2.5", [0, 1, 2]),
        ("price:lt:2.5", [5]),
        ("price:lte:2.5", [1, 5]),
        ("price:in:10,-1", [0, 2, 5]),
        ("price:in:10,-1,2.5,99,7", [0, 1, 2, 5]),  # many numbers: matched through uniques
        ("price:notin:10,-1", [1, 3, 4]),
        ("price:in:abc,2.5", [1, 4]),  # a list may mix text and numbers
        ("price:eq:abc", [4]),
        ("price:empty", [3]),
    ],
)
def test_numeric_ops(flt: str, expected: list[int]) -> None:
    assert passing(flt) == expected


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("date:gte:2024-01-01", [0, 2, 4, 5]),  # "x" > "2..." by code point
        ("date:lt:2024-01-01", [1]),
        ("date:lte:2024-12-31", [0, 1, 2]),
    ],
)
def test_lexicographic_comparison_of_non_numeric_values(flt: str, expected: list[int]) -> None:
    assert passing(flt) == expected


def test_filters_combine_with_and() -> None:
    assert passing("category:eq:comedy", "price:gt:5") == [0, 2]
    assert passing("category:notempty", "price:lt:5") == [1, 5]
    assert passing() == [0, 1, 2, 3, 4, 5]


def test_value_may_contain_colons() -> None:
    props = ItemProperties({"time": np.array(["12:30", "13:00"])})
    assert parse_filter("time:eq:12:30").values == ("12:30",)
    assert np.flatnonzero(filter_mask(["time:eq:12:30"], props)).tolist() == [0]


def test_parse_filter_fields() -> None:
    flt = parse_filter("genres:in:a,b")
    assert (flt.property, flt.op, flt.values) == ("genres", "in", ("a", "b"))
    assert parse_filter("genres:empty").values == ()


@pytest.mark.parametrize(
    ("flt", "problem"),
    [
        ("category", "expected property:op:value"),
        (":eq:comedy", "property name is missing"),
        ("category:like:comedy", "unknown op 'like'"),
        ("category:EQ:comedy", "unknown op 'EQ'"),
        ("category:eq", "needs a value"),
        ("category:eq:", "needs a value"),
        ("category:in:", "needs a value"),
        ("category:in:a,,b", "empty value"),
        ("category:empty:x", "takes no value"),
    ],
)
def test_malformed_filters_are_invalid(flt: str, problem: str) -> None:
    with pytest.raises(Invalid, match=problem) as raised:
        filter_mask([flt], PROPS)
    assert raised.value.field == "filters"
    assert repr(flt) in raised.value.message
    assert raised.value.to_dict()["field"] == "filters"


def test_unknown_property_is_invalid_and_named() -> None:
    with pytest.raises(Invalid, match="unknown property 'genre'") as raised:
        filter_mask(["category:eq:comedy", "genre:eq:comedy"], PROPS)
    assert raised.value.field == "filters"
    assert "'genre:eq:comedy'" in raised.value.message


def test_masks_are_read_only() -> None:
    props = ItemProperties({"category": np.array(["a", "b", "a"])})
    first = filter_mask(["category:eq:a"], props)
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0] = False
    both = filter_mask(["category:eq:a", "category:neq:b"], props)
    assert both.tolist() == [True, False, True] and not both.flags.writeable
    assert filter_mask([], props) is props.all_items


def test_apply_filters_keeps_candidate_order() -> None:
    candidates = np.array([5, 2, 1, 0])
    assert apply_filters(candidates, ["category:in:comedy,horror"], PROPS).tolist() == [5, 2, 0]
    assert apply_filters(candidates, [], PROPS).tolist() == [5, 2, 1, 0]


def test_large_property_uses_every_matching_path() -> None:
    rng = np.random.default_rng(7)
    values = np.array([f"v{i}" for i in range(50)])[rng.integers(0, 50, 5000)]
    props = ItemProperties({"p": values})
    wanted = [f"v{i}" for i in range(0, 50, 3)]  # > 8 codes: one gather
    expected = np.isin(values, wanted)
    assert (filter_mask([f"p:in:{','.join(wanted)}"], props) == expected).all()
    assert (filter_mask(["p:neq:v1"], props) == (values != "v1")).all()
    assert (filter_mask(["p:gte:v1"], props) == (values >= "v1")).all()  # > half: complement


# -- property: the mask never admits an item failing a filter (slow oracle) ------------------


def oracle(value: str, op: str, operands: tuple[str, ...]) -> bool:
    """One item against one filter, the obvious way."""

    def equal(x: str) -> bool:
        number = parse_number(x)
        if number is not None:
            mine = parse_number(value)
            return mine is not None and mine == number
        return value == x

    if op == "empty":
        return value == ""
    if op == "notempty":
        return value != ""
    if op in ("eq", "in"):
        return any(equal(x) for x in operands)
    if op in ("neq", "notin"):
        return not any(equal(x) for x in operands)
    (operand,) = operands
    number = parse_number(operand)
    if number is not None:
        mine = parse_number(value)
        left: float | str | None = mine
        right: float | str = number
    else:
        left, right = (value or None), operand
    if left is None:
        return False
    return {
        "gt": left > right,  # type: ignore[operator]
        "gte": left >= right,  # type: ignore[operator]
        "lt": left < right,  # type: ignore[operator]
        "lte": left <= right,  # type: ignore[operator]
    }[op]


ATOMS = ["", "a", "b", "ab", "B", "1", "2", "10", "10.0", "-3", "2.5", "x:y"]
values_st = st.sampled_from(ATOMS)
operand_st = st.sampled_from([a for a in ATOMS if a])
filter_st = st.one_of(
    st.tuples(st.sampled_from(["eq", "neq", "gt", "gte", "lt", "lte"]), st.tuples(operand_st)),
    st.tuples(
        st.sampled_from(["in", "notin"]),
        st.lists(operand_st.filter(lambda a: "," not in a), min_size=1, max_size=12).map(tuple),
    ),
    st.tuples(st.sampled_from(["empty", "notempty"]), st.just(())),
)


@settings(max_examples=150, deadline=None)
@given(
    columns=st.lists(st.lists(values_st, min_size=1, max_size=30), min_size=2, max_size=2),
    filters=st.lists(st.tuples(st.sampled_from(["p", "q"]), filter_st), min_size=1, max_size=3),
)
def test_mask_matches_a_per_item_oracle(
    columns: list[list[str]], filters: list[tuple[str, tuple[str, tuple[str, ...]]]]
) -> None:
    n = min(len(c) for c in columns)
    data = {"p": np.array(columns[0][:n]), "q": np.array(columns[1][:n])}
    props = ItemProperties(data)
    texts = [f"{prop}:{op}:{','.join(operands)}" for prop, (op, operands) in filters]
    mask = filter_mask(texts, props)
    for i in range(n):
        expected = all(oracle(str(data[prop][i]), op, operands) for prop, (op, operands) in filters)
        assert bool(mask[i]) == expected, (i, data, texts)
