"""Customer files: CSV with a header row, any line endings, errors naming the body."""

from __future__ import annotations

import pytest

from recostack.errors import Invalid
from recostack.store.customer_repository import parse_customer_csv


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_rows_with_any_line_ending(newline: str) -> None:
    text = newline.join(["id,segment,age,score", "c1,gold,42,0.5", "c2,,7,-1", ""])
    assert parse_customer_csv(text) == [
        ("c1", {"segment": "gold", "age": 42, "score": 0.5}),
        ("c2", {"segment": "", "age": 7, "score": -1}),
    ]


def test_the_key_column_may_be_any_column() -> None:
    text = 'segment,customer\ngold,"c,1"\n'
    assert parse_customer_csv(text, "customer") == [("c,1", {"segment": "gold"})]


@pytest.mark.parametrize(
    ("text", "key", "field", "message"),
    [
        ("", None, "body", "empty"),
        ("\r0", None, "body", "empty"),  # a lone CR ends an empty header row
        ("id,a\nc1\n", None, "body", "line 2 has 1 fields"),
        ('id,a\nc1,"open\n', None, "body", "not valid CSV"),
        ("id,a\nc1,2\n", "customer", "key", "no key column"),
    ],
)
def test_bad_files_are_invalid(text: str, key: str | None, field: str, message: str) -> None:
    with pytest.raises(Invalid) as err:
        parse_customer_csv(text, key)
    assert err.value.field == field
    assert message in str(err.value)
