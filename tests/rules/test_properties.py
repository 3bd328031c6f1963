from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.rules import ItemProperties, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12", 12.0), ("-3.5", -3.5), ("+2", 2.0), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0)],
)
def test_parse_number_reads_decimal_numbers(text: str, expected: float) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["", "abc", " 12", "12 ", "1_000", "nan", "inf", "1e999", "1,5"])
def test_parse_number_refuses_the_rest(text: str) -> None:
    assert parse_number(text) is None


def test_columns_are_factorised_and_grouped() -> None:
    props = ItemProperties({"category": np.array(["b", "", "a", "b"])})
    column = props.column("category")
    assert column.uniques.tolist() == ["", "a", "b"]
    assert column.codes.tolist() == [2, 0, 1, 2]
    assert column.empty_code == 0
    assert column.code_of("b") == 2
    assert column.code_of("zzz") == -1
    items_b = column.order[column.bounds[2] : column.bounds[3]]
    assert sorted(items_b.tolist()) == [0, 3]
    assert props.column("category") is column  # cached


def test_numbers_are_nan_where_not_numeric() -> None:
    props = ItemProperties({"price": np.array(["10", "x", "", "2.5"])})
    numbers = props.numbers("price")
    assert numbers[0] == 10.0 and numbers[3] == 2.5
    assert np.isnan(numbers[1]) and np.isnan(numbers[2])
    assert not numbers.flags.writeable


def test_object_columns_map_none_and_nan_to_missing() -> None:
    props = ItemProperties({"color": np.array(["red", None, float("nan"), 3], dtype=object)})
    assert props["color"].tolist() == ["red", "", "", "3"]


def test_columns_must_have_one_length() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        ItemProperties({"a": np.array(["x"]), "b": np.array(["x", "y"])})
    with pytest.raises(ValueError, match="different lengths"):
        ItemProperties({"a": np.array(["x"])}, n_items=2)


def test_from_catalog_exposes_every_catalog_column() -> None:
    class Catalog:
        def __init__(self) -> None:
            self.names = np.array(["n0", "n1"])
            self.categories = np.array(["c0", "c1"])
            self.descriptions = np.array(["", "d1"])
            self.features = {"color": np.array(["red", ""])}

    props = ItemProperties.from_catalog(Catalog())
    assert props.names == ("name", "category", "description", "color")
    assert props.n_items == 2
    assert "color" in props and "price" not in props


def test_empty_catalog() -> None:
    props = ItemProperties({"category": np.array([], dtype=str)})
    assert props.n_items == 0
    assert props.column("category").uniques.tolist() == []
    assert len(props.all_items) == 0


@settings(max_examples=150, deadline=None)
@given(
    n_codes=st.integers(1, 300),
    n_items=st.integers(1, 2000),
    data=st.data(),
)
def test_codes_mask_matches_isin_on_every_path(
    n_codes: int, n_items: int, data: st.DataObject
) -> None:
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values = np.array([f"v{i:03d}" for i in range(n_codes)])[rng.integers(0, n_codes, n_items)]
    column = ItemProperties({"p": values}).column("p")
    n_unique = len(column.uniques)
    selected = np.array(
        sorted(data.draw(st.sets(st.integers(0, n_unique - 1), max_size=n_unique))), dtype=np.intp
    )
    expected = np.isin(column.codes, selected)
    assert (column.codes_mask(selected) == expected).all()
    lo = data.draw(st.integers(0, n_unique))
    hi = data.draw(st.integers(lo, n_unique))
    assert (column.code_range_mask(lo, hi) == ((column.codes >= lo) & (column.codes < hi))).all()
