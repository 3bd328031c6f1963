"""Rules compiled against a catalog: the mask, the active reranking rules as arrays."""

from __future__ import annotations

import numpy as np
import pytest

from recostack.errors import Invalid
from recostack.rules import ItemProperties, rule_plan

PROPS = {
    "colour": np.array(["red", "", "blue", "red"]),
    "size": np.array(["1", "2", "3", ""]),
}


def test_a_plan_by_hand() -> None:
    props = ItemProperties(PROPS)
    plan = rule_plan(
        ["size:gte:2"], ["colour:diversity:0.5", "size:diversity:0", "size:diversity:2"], props
    )
    assert plan.allowed is not None and plan.allowed.tolist() == [False, True, True, False]
    # uniques sorted: colour "", blue, red -> 0, 1, 2 ; size "", 1, 2, 3 -> 0..3
    assert plan.codes.tolist() == [[2, 0, 1, 2], [1, 2, 3, 0]]  # the zero-weight rule dropped
    assert plan.codes.dtype == np.int16 and plan.codes.flags.c_contiguous  # few values
    assert plan.empties.tolist() == [0, 0]
    assert plan.weights.tolist() == [0.5, 2.0]
    assert plan.n_reranking == 3  # every rule given counts for the pool size


def test_a_plan_without_rules() -> None:
    empty = rule_plan((), (), ItemProperties(PROPS))
    assert empty.allowed is None and empty.codes.shape == (0, 0)


@pytest.mark.parametrize(
    ("filters", "reranking", "field"),
    [
        (["shape:eq:round"], [], "filters"),
        (["colour:like:red"], [], "filters"),
        ([], ["shape:diversity:1"], "reranking"),
        ([], ["colour:diversity:-1"], "reranking"),
    ],
)
def test_a_wrong_rule_names_its_field(filters: list[str], reranking: list[str], field: str) -> None:
    with pytest.raises(Invalid) as err:
        rule_plan(filters, reranking, ItemProperties(PROPS))
    assert err.value.field == field


def test_plans_share_the_catalogs_arrays() -> None:
    # a plan per distinct rule texts must not copy n_items-sized arrays: catalogs are big
    props = ItemProperties(PROPS)
    one = rule_plan(["colour:eq:red"], ["colour:diversity:1"], props)
    other = rule_plan(["colour:eq:red"], ["colour:diversity:2"], props)
    assert one.codes is other.codes is props.rule_codes("colour")
    assert one.allowed is not None and not one.allowed.flags.writeable
    assert props.rule_codes("colour").shape == (1, 4)


def test_codes_are_int16_unless_a_property_has_too_many_values() -> None:
    n = 40_000  # more distinct names than int16 holds
    props = ItemProperties(
        {"name": np.array([f"n{i}" for i in range(n)]), "colour": np.array(["a", "b"] * (n // 2))}
    )
    assert props.rule_codes("colour").dtype == np.int16
    assert props.rule_codes("name").dtype == np.int32
    plan = rule_plan([], ["colour:diversity:1", "name:diversity:1"], props)
    assert plan.codes.dtype == np.int32  # stacked rows take the wider type
    assert plan.codes[0].tolist() == props.column("colour").codes.tolist()
    assert plan.codes[1].tolist() == props.column("name").codes.tolist()
    assert props.rule_code_types() == {np.int16, np.int32}
    assert ItemProperties(PROPS).rule_code_types() == {np.int16}
