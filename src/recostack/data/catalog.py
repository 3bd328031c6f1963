"""Catalog files: ``<itemId>,<name>,<category>[,<description>][,<features>]``.

Rows look like the reference's samples::

    AAA04294,Office Language Pack Online DwnLd,Office
    AAA04303,Minecraft Download Game,Games,A block game, softwaretype=gaming
    C9F00168,Kiruna Flip Cover,Accessories, compatibility=lumia,, hardwaretype=mobile

Line semantics (what the parsing report counts):

* a record is one *physical* line (split on ``\\n``; a trailing ``\\r`` and
  whitespace around fields are ignored); fields may be quoted (CSV, with
  ``""`` for a quote), but a quoted field cannot span lines: a line with an
  unbalanced quote is a ``MalformedLine``;
* blank (empty or whitespace-only) lines are ignored: not counted in
  ``totalLinesCount`` and not errors, but they count for line numbers;
* the 4th field is the description, unless it is itself a feature (see
  below), in which case the item has no description and the features start
  there. Empty fields after the description are ignored;
* a feature is ``name=value``: the name is one or more word characters,
  ``.`` or ``-`` (no whitespace), the value is non-empty and has no ``=``;
  whitespace around ``=`` is ignored. ``name``, ``category`` and
  ``description`` are reserved (they are the columns' property names);
* every other line is either successful or has exactly one error, the first
  that applies in this order: ``MalformedLine`` (invalid CSV, not UTF-8) →
  ``MissingFields`` (fewer than 3 fields, empty item id) → ``ItemIdTooLong``
  (> 450) → ``IllegalCharactersInItemId`` (outside ``[A-Za-z0-9_-]``) →
  ``MalformedLine`` (name or category > 255, description > 4000
  characters) → ``MalformedCatalogItemFeature`` (a field after the
  description that is not a feature, a reserved name, more than 20
  features, the same feature twice, features longer than 4000 characters
  in all, a creation time that does not parse) → ``DuplicateItemId`` (the
  first valid line of an id is kept, the later ones are skipped).

Recostack's extension: an optional **creation time** per item, written as
the feature ``CREATION_TIMESTAMP=<time>`` (the managed service's column
name), the time as epoch seconds or ISO 8601 (``2024-05-01`` or
``2024-05-01T12:00:00``, UTC unless it says otherwise). It is not a
feature (neither a rule property nor a cold-item feature, and not counted
among the 20): it gives the item's age for item exploration
(:mod:`recostack.algorithms.exploration`); items without one are aged from
their first interaction.
"""

from __future__ import annotations

import csv
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from recostack.data.ids import MAX_ITEM_ID_LENGTH, Vocabulary
from recostack.data.line_blocks import iter_line_blocks
from recostack.data.report import ParsingReport
from recostack.errors import Invalid, NotFound, ParsingFailed

__all__ = [
    "CREATION_TIME_FEATURE",
    "MAX_FEATURES",
    "RESERVED_PROPERTY_NAMES",
    "Catalog",
    "parse_catalog_file",
]

MAX_NAME_LENGTH = 255
MAX_CATEGORY_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 4000
MAX_FEATURES_LENGTH = 4000
MAX_FEATURES = 20
#: Property names of the fixed columns; a feature may not use them.
RESERVED_PROPERTY_NAMES = ("name", "category", "description")
#: The feature name that gives an item's creation time (not a feature: see the docstring).
CREATION_TIME_FEATURE = "CREATION_TIMESTAMP"

_BLOCK_BYTES = 4 << 20
_ID_RE = re.compile(r"[A-Za-z0-9_-]+")
_FEATURE_RE = re.compile(r"([\w.-]+)\s*=\s*([^=]+)")


@dataclass(frozen=True)
class Catalog:
    """Catalog items as columns; row ``i`` describes ``items.ids[i]``.

    ``features`` maps each feature name to a unicode array over the items
    (``""`` where an item does not have that feature).
    """

    items: Vocabulary
    names: np.ndarray
    categories: np.ndarray
    descriptions: np.ndarray
    features: dict[str, np.ndarray] = field(default_factory=dict)
    #: epoch seconds of each item's ``CREATION_TIMESTAMP`` (NaN where not given); ``None``
    #: when no line gives one
    creation_times: np.ndarray | None = None

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def feature_names(self) -> list[str]:
        """Feature names in first-seen order."""
        return list(self.features)

    def properties(self) -> dict[str, np.ndarray]:
        """Every item property usable by business rules, as arrays over the items.

        ``"name"``, ``"category"``, ``"description"`` and each feature name
        (``""`` where an item does not have the feature).
        """
        props: dict[str, np.ndarray] = {
            "name": self.names,
            "category": self.categories,
            "description": self.descriptions,
        }
        props.update(self.features)
        return props


class _LineError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _split_line(text: str) -> list[str]:
    if '"' not in text:
        return [f.strip() for f in text.split(",")]
    try:
        fields = next(csv.reader([text], strict=True, skipinitialspace=True))
    except (csv.Error, StopIteration):
        raise _LineError("MalformedLine") from None
    return [f.strip() for f in fields]


def _creation_time(text: str) -> float:
    """Epoch seconds of a ``CREATION_TIMESTAMP`` value (:class:`_LineError` if it does not
    parse)."""
    try:
        return float(text) if re.fullmatch(r"-?\d+(\.\d+)?", text) else _iso_seconds(text)
    except ValueError:
        raise _LineError("MalformedCatalogItemFeature") from None


def _iso_seconds(text: str) -> float:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def _parse_row(fields: list[str]) -> tuple[str, str, str, str, dict[str, str]]:
    """Validate one row's fields; raises :class:`_LineError`."""
    if len(fields) < 3 or not fields[0]:
        raise _LineError("MissingFields")
    item_id, name, category = fields[0], fields[1], fields[2]
    if len(item_id) > MAX_ITEM_ID_LENGTH:
        raise _LineError("ItemIdTooLong")
    if not _ID_RE.fullmatch(item_id):
        raise _LineError("IllegalCharactersInItemId")
    if len(name) > MAX_NAME_LENGTH or len(category) > MAX_CATEGORY_LENGTH:
        raise _LineError("MalformedLine")
    rest = fields[3:]
    description = ""
    if rest and not _FEATURE_RE.fullmatch(rest[0]):
        description = rest[0]
        rest = rest[1:]
        if len(description) > MAX_DESCRIPTION_LENGTH:
            raise _LineError("MalformedLine")
    features: dict[str, str] = {}
    features_length = 0
    for text in rest:
        if not text:
            continue
        match = _FEATURE_RE.fullmatch(text)
        if match is None:
            raise _LineError("MalformedCatalogItemFeature")
        feature, value = match.groups()  # stripped: the field is, and `\s*` is greedy
        if feature in RESERVED_PROPERTY_NAMES or feature in features:
            raise _LineError("MalformedCatalogItemFeature")
        features[feature] = value
        if feature == CREATION_TIME_FEATURE:
            _creation_time(value)
            continue
        features_length += len(text)
    n_features = len(features) - (CREATION_TIME_FEATURE in features)
    if n_features > MAX_FEATURES or features_length > MAX_FEATURES_LENGTH:
        raise _LineError("MalformedCatalogItemFeature")
    return item_id, name, category, description, features


#: Stands for a line that is not valid UTF-8.
_UNDECODABLE = "\x00undecodable"


def _read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, stripped text)`` of each physical line (split on ``\\n``).

    A line that is not valid UTF-8 comes as :data:`_UNDECODABLE`. The file
    is decoded in blocks of whole lines (one decode per block, not per line).
    """
    line_no = 0
    with open(path, "rb") as fh:
        for block, _ in iter_line_blocks(fh, _BLOCK_BYTES, sys.maxsize):
            for item in _decode_lines(block, line_no):
                line_no = item[0]
                yield item


def _decode_lines(block: bytes, line_no: int) -> Iterator[tuple[int, str]]:
    try:
        lines = block.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        decoded = []
        for raw in block.split(b"\n"):
            try:
                decoded.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                decoded.append(_UNDECODABLE)
        lines = decoded
    if block.endswith(b"\n"):
        lines.pop()
    for k, text in enumerate(lines, start=line_no + 1):
        yield k, text if text is _UNDECODABLE else text.strip()


def _unicode(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=str) if values else np.array([], dtype="U1")


def parse_catalog_file(path: Path) -> tuple[Catalog, ParsingReport]:
    """Parse a catalog file into a :class:`Catalog` and its parsing report.

    A bad line is skipped and reported (see the module docstring for the
    line semantics and the order of the checks). Raises
    :class:`~recostack.errors.NotFound` if the file does not exist and
    :class:`~recostack.errors.ParsingFailed` (``detail`` = the report as a
    dict) if it has no valid line.
    """
    started = time.perf_counter()
    path = Path(path)
    if not path.exists():
        raise NotFound(f"catalog file '{path}' does not exist")
    if not path.is_file():
        raise Invalid(f"catalog path '{path}' is not a file")
    file_name = path.name
    report = ParsingReport()
    ids: list[str] = []
    names: list[str] = []
    categories: list[str] = []
    descriptions: list[str] = []
    feature_rows: dict[str, tuple[list[int], list[str]]] = {}
    created: dict[int, float] = {}
    seen: set[str] = set()
    for line_no, text in _read_lines(path):
        if not text:
            continue
        report.total_lines_count += 1
        try:
            if text is _UNDECODABLE:
                raise _LineError("MalformedLine")
            item_id, name, category, description, features = _parse_row(_split_line(text))
            if item_id in seen:
                raise _LineError("DuplicateItemId")
        except _LineError as err:
            report.add_error(err.code, 1, file_name, line_no)
            continue
        row = len(ids)
        seen.add(item_id)
        ids.append(item_id)
        names.append(name)
        categories.append(category)
        descriptions.append(description)
        for feature, value in features.items():
            if feature == CREATION_TIME_FEATURE:
                created[row] = _creation_time(value)
                continue
            columns = feature_rows.get(feature)
            if columns is None:
                columns = feature_rows[feature] = ([], [])
            columns[0].append(row)
            columns[1].append(value)
    report.successful_lines_count = len(ids)
    report.duration = time.perf_counter() - started
    if not ids:
        raise ParsingFailed(
            f"catalog file '{path}' has no valid item ({report.summary()})",
            detail=report.to_dict(),
        )
    n = len(ids)
    feature_arrays: dict[str, np.ndarray] = {}
    for feature, (rows, values) in feature_rows.items():
        width = max(1, max(len(v) for v in values))
        column = np.full(n, "", dtype=f"U{width}")
        column[np.array(rows, dtype=np.int64)] = values
        feature_arrays[feature] = column
    catalog = Catalog(
        items=Vocabulary(_unicode(ids)),
        names=_unicode(names),
        categories=_unicode(categories),
        descriptions=_unicode(descriptions),
        features=feature_arrays,
        creation_times=_creation_array(created, n),
    )
    report.duration = time.perf_counter() - started
    return catalog, report


def _creation_array(created: dict[int, float], n: int) -> np.ndarray | None:
    if not created:
        return None
    times = np.full(n, np.nan)
    times[np.fromiter(created, dtype=np.int64)] = np.fromiter(created.values(), dtype=np.float64)
    return times
