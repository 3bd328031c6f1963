"""The patterns of :mod:`recostack.api.inputs` say exactly what the code behind them takes.

Each pattern is checked against the code whose rule it states (the files
store's path checks, Python's CSV reader), and pydantic's
regex engine, which validates requests, against Python's.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Annotated

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field, TypeAdapter, ValidationError

from recostack.api.inputs import (
    CSV_PATTERN,
    RELATIVE_PATH_PATTERN,
    RESERVED_PREFIX,
)
from recostack.errors import Invalid
from recostack.store.files import MAX_PATH_LENGTH, MAX_SEGMENT_LENGTH, resolve_path


def _pydantic_matches(pattern: str, text: str) -> bool:
    try:
        TypeAdapter(Annotated[str, Field(pattern=pattern)]).validate_python(text)
    except ValidationError:
        return False
    return True


def _store_takes(path: str) -> bool:
    try:
        resolve_path(Path("/nonexistent-root"), "c", path)
    except Invalid:
        return False
    return True


segments = st.one_of(
    st.sampled_from([".", "..", "...", ".u", ".upload", RESERVED_PREFIX, RESERVED_PREFIX + "x"]),
    st.text(alphabet="ab.-u\\\x00\né", min_size=0, max_size=8),
    st.integers(MAX_SEGMENT_LENGTH - 1, MAX_SEGMENT_LENGTH + 1).map(lambda n: "x" * n),
)
paths = st.lists(segments, min_size=1, max_size=4).map("/".join) | st.text(
    alphabet="a./\\u-", max_size=12
)


@settings(max_examples=500, deadline=None)
@given(paths)
def test_the_path_pattern_is_the_stores_rule(path: str) -> None:
    """A path the store takes matches, and the other way round (a line break aside: no
    ``{path:path}`` route reaches a path with one, so the pattern leaves it out)."""
    matches = re.fullmatch(RELATIVE_PATH_PATTERN, path) is not None
    if "\n" not in path:
        assert matches == (_store_takes(path) and len(path) <= MAX_PATH_LENGTH)
    else:
        assert not matches
    assert _pydantic_matches(RELATIVE_PATH_PATTERN, path) == matches


def _csv_reader_takes(text: str) -> bool:
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return False
    return bool(rows and rows[0])


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet='ab ",\r\n\x00', max_size=12))
def test_the_csv_pattern_is_what_the_csv_reader_takes(text: str) -> None:
    matches = re.fullmatch(CSV_PATTERN, text) is not None
    assert matches == _csv_reader_takes(text)
    assert _pydantic_matches(CSV_PATTERN, text) == matches
