"""Filters ``property:op:value``: parsing, and compiling to a mask over all items.

=========  ===============================================================
op         an item passes when its value ...
=========  ===============================================================
eq         equals the value; numerically when the value is a number
           (``price:eq:10`` matches ``10``, ``10.0``, ``1e1``)
neq        does not pass ``eq`` (items missing the property pass)
gt gte     compares above / below the value: numerically when the value
lt lte     is a number (items whose value is not a number fail), else by
           Unicode code point (``date:gte:2024-01-01``); missing fails
in         passes ``eq`` for one of the ``,``-separated values
notin      passes ``eq`` for none of them (missing passes)
empty      is missing (``""``); written ``category:empty`` or ``category:empty:``
notempty   is not missing
=========  ===============================================================

"Is a number" is :func:`~recostack.rules.properties.parse_number`. Values are
case-sensitive and taken exactly as written, after the second ``:`` (so a
value may itself contain ``:``). A malformed filter raises
:class:`~recostack.errors.Invalid`, one on a
property the catalog does not have :class:`~recostack.errors.Unprocessable`
(a well-formed rule this model cannot use), both with ``field="filters"``
and a message naming the filter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, cast, get_args

import numpy as np

from recostack.errors import Invalid, Unprocessable
from recostack.rules.properties import ItemProperties, PropertyColumn, parse_number

__all__ = [
    "FILTER_OPS",
    "Filter",
    "FilterOp",
    "apply_filters",
    "compile_filter",
    "filter_mask",
    "parse_filter",
]

FilterOp = Literal["eq", "neq", "gt", "gte", "lt", "lte", "in", "notin", "empty", "notempty"]
FILTER_OPS: tuple[str, ...] = get_args(FilterOp)
_NO_VALUE_OPS = frozenset({"empty", "notempty"})
_LIST_OPS = frozenset({"in", "notin"})
#: Numeric values of an in-list compared item by item up to this many; beyond, via uniques.
_MAX_NUMERIC_SCANS = 3


@dataclass(frozen=True, slots=True)
class Filter:
    """One parsed filter; ``values`` has one entry except for in / notin, none for (not)empty."""

    text: str
    property: str
    op: FilterOp
    values: tuple[str, ...]


def _invalid(text: str, problem: str, error: type[Invalid] = Invalid) -> Invalid:
    return error(f"filter {text!r}: {problem}", field="filters", detail={"filter": text})


@lru_cache(maxsize=4096)
def parse_filter(text: str) -> Filter:
    """Parse ``property:op:value``; raise :class:`Invalid` (``field="filters"``) if malformed."""
    if not isinstance(text, str):
        raise Invalid(f"filter {text!r}: must be a string", field="filters")
    parts = text.split(":", 2)
    if len(parts) < 2:
        raise _invalid(text, "expected property:op:value")
    prop, op = parts[0], parts[1]
    value = parts[2] if len(parts) == 3 else None
    if not prop:
        raise _invalid(text, "the property name is missing")
    if op not in FILTER_OPS:
        raise _invalid(text, f"unknown op {op!r} (ops: {', '.join(FILTER_OPS)})")
    filter_op = cast(FilterOp, op)
    if op in _NO_VALUE_OPS:
        if value:
            raise _invalid(text, f"op {op!r} takes no value")
        return Filter(text, prop, filter_op, ())
    if not value:
        raise _invalid(text, f"op {op!r} needs a value")
    if op in _LIST_OPS:
        values = tuple(value.split(","))
        if "" in values:
            raise _invalid(text, "empty value in the ,-separated list")
        return Filter(text, prop, filter_op, values)
    return Filter(text, prop, filter_op, (value,))


def _eq_mask(
    props: ItemProperties, column: PropertyColumn, prop: str, values: Sequence[str]
) -> np.ndarray:
    """Items equal to any of ``values``: numerically for a numeric value, else as text.

    (An item whose text equals a numeric value is a number itself, so the
    numeric test covers it.)
    """
    numbers: list[float] = []
    texts: list[str] = []
    for value in values:
        number = parse_number(value)
        if number is None:
            texts.append(value)
        else:
            numbers.append(number)
    codes = column.codes_of(texts)
    if len(numbers) > _MAX_NUMERIC_SCANS:
        in_list = np.isin(props.unique_numbers(prop), numbers)
        codes = np.union1d(codes, np.flatnonzero(in_list))
        numbers = []
    if not numbers:
        return column.codes_mask(codes)
    item_numbers = props.numbers(prop)
    mask = item_numbers == numbers[0]
    for number in numbers[1:]:
        mask |= item_numbers == number
    if len(codes):
        mask |= column.codes_mask(codes)
    return mask


def _compare_mask(
    props: ItemProperties, column: PropertyColumn, prop: str, op: str, value: str
) -> np.ndarray:
    number = parse_number(value)
    if number is not None:
        numbers = props.numbers(prop)
        if op == "gt":
            return numbers > number
        if op == "gte":
            return numbers >= number
        if op == "lt":
            return numbers < number
        return numbers <= number
    # Lexicographic: the matching values are a range of the sorted codes.
    side: Literal["left", "right"] = "right" if op in ("gt", "lte") else "left"
    cut = int(np.searchsorted(column.uniques, value, side=side))
    first = 1 if column.empty_code == 0 else 0  # "" sorts first and never passes
    n_codes = len(column.uniques)
    lo, hi = (cut, n_codes) if op in ("gt", "gte") else (first, max(cut, first))
    return column.code_range_mask(lo, hi)


def compile_filter(flt: Filter, props: ItemProperties) -> np.ndarray:
    """Boolean mask over all items of those passing ``flt`` (a new, writable array)."""
    if flt.property not in props:
        known = ", ".join(sorted(props.names)) or "none"
        problem = f"unknown property {flt.property!r} (properties: {known})"
        raise _invalid(flt.text, problem, Unprocessable)
    column = props.column(flt.property)
    op = flt.op
    if op in ("empty", "notempty"):
        if column.empty_code < 0:
            mask = np.zeros(props.n_items, dtype=bool)
        else:
            mask = column.code_range_mask(column.empty_code, column.empty_code + 1)
        return mask if op == "empty" else ~mask
    if op in ("eq", "neq", "in", "notin"):
        mask = _eq_mask(props, column, flt.property, flt.values)
        return mask if op in ("eq", "in") else ~mask
    return _compare_mask(props, column, flt.property, op, flt.values[0])


def filter_mask(filters: Iterable[str], props: ItemProperties) -> np.ndarray:
    """Mask over all items of those passing every filter (AND).

    The result is **read-only** (it may be ``props.all_items`` when there is
    no filter): copy it before modifying it in place.
    """
    texts = tuple(filters)
    if not texts:
        return props.all_items
    mask = compile_filter(parse_filter(texts[0]), props)
    for text in texts[1:]:
        mask &= compile_filter(parse_filter(text), props)
    mask.flags.writeable = False
    return mask


def apply_filters(items: np.ndarray, filters: Iterable[str], props: ItemProperties) -> np.ndarray:
    """The entries of a candidate list ``items`` (item indices) that pass every filter, in order."""
    items = np.asarray(items, dtype=np.intp)
    filters = list(filters)
    if not filters:
        return items
    return items[filter_mask(filters, props)[items]]
