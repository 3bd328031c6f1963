"""Usage events files: ``<userId>,<itemId>,<time>[,<eventType> | ,,<weight>]``.

Parsing is vectorised and streams the input in blocks of whole lines, so it is
fast and its memory does not grow with the file (only the parsed output does):

* a block of bytes is cut into physical lines with numpy and wrapped, without
  copying, as an Arrow string array; fields are split, trimmed and validated
  with Arrow compute kernels (RE2 regexes, lengths, set lookups);
* timestamps in the common exact ``yyyy-MM-ddTHH:mm:ss`` form are decoded
  from the raw bytes with numpy; other ISO 8601 forms (fractional seconds,
  ``Z`` or an offset, ``HH:mm``, a date only, a space for ``T``) go through
  ``pandas.to_datetime``;
* user and item ids are dictionary-encoded per block; the block dictionaries
  are merged into global first-seen codes once at the end.

Only the rare lines that contain a double quote are parsed one by one (with
the :mod:`csv` module), and only blocks that are not valid UTF-8 are scanned
line by line to find the offending lines.

Line semantics (what the parsing report counts):

* a record is one *physical* line (split on ``\\n``; a trailing ``\\r`` and
  spaces around fields are ignored). A quoted field cannot span lines: a
  line with an unbalanced quote is a ``MalformedLine`` and the next line is
  parsed on its own, so line numbers never drift;
* blank (empty or whitespace-only) lines are ignored: they are not counted
  in ``totalLinesCount`` and are not errors, but they do count for the line
  numbers of the lines after them;
* every other line is either successful or has exactly one error, the first
  that applies in this order: ``MalformedLine`` (invalid CSV, not UTF-8, more
  than 5 fields) → ``MissingFields`` (fewer than 3 fields, or an empty user,
  item or time) → ``UserIdTooLong`` → ``IllegalCharactersInUserId`` →
  ``ItemIdTooLong`` → ``IllegalCharactersInItemId`` → ``BadTimestampFormat``
  → ``BadWeightFormat`` (a 5th field that is not a finite number) or
  ``MalformedLine`` (no weight and an unknown event type) → ``UnknownItemId``
  (only with ``known_items``).
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recostack.data.events import DEFAULT_EVENT_TYPE, EVENT_TYPE_WEIGHTS
from recostack.data.ids import MAX_ITEM_ID_LENGTH, MAX_USER_ID_LENGTH, Vocabulary
from recostack.data.line_blocks import iter_line_blocks
from recostack.data.report import ERROR_CODES, ParsingReport
from recostack.errors import Invalid, NotFound, ParsingFailed

__all__ = [
    "UsageData",
    "list_usage_files",
    "parse_usage_path",
]

MAX_FIELDS = 5

#: Bytes read per block (a block is then cut at its last newline).
BLOCK_BYTES = 16 << 20
#: A line longer than this (in bytes, without its newline) is a
#: ``MalformedLine``, and is not held in memory if it spans blocks (a valid
#: line is well under 1 KiB).
MAX_LINE_BYTES = 1 << 20

_ID_RE = r"^[A-Za-z0-9_-]+$"
_FLOAT_RE = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_ISO_RE = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$"
)

# Line codes: 0 = good, -1 = blank (ignored), k > 0 = ERROR_CODES[k - 1].
_OK = 0
_BLANK = -1
_CODE = {name: i + 1 for i, name in enumerate(ERROR_CODES)}

_EVENT_NAMES_LOWER = pa.array([name.lower() for name in EVENT_TYPE_WEIGHTS])
_EVENT_WEIGHTS = np.array(list(EVENT_TYPE_WEIGHTS.values()), dtype=np.float32)
_DEFAULT_WEIGHT = np.float32(EVENT_TYPE_WEIGHTS[DEFAULT_EVENT_TYPE])

# Fixed timestamp form ``yyyy-MM-ddTHH:mm:ss``: digit columns and separators.
_TS_LEN = 19
_TS_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
_TS_SEPARATORS = ((4, ord("-")), (7, ord("-")), (10, ord("T")), (13, ord(":")), (16, ord(":")))
_MIN_TIME = np.datetime64("0001-01-01T00:00:00", "s")
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


@dataclass(frozen=True)
class UsageData:
    """Parsed usage events as parallel arrays (one entry per valid line).

    ``user_index`` / ``item_index`` index ``users`` / ``items``;
    ``timestamp`` is seconds since the Unix epoch (UTC); ``weight`` is the
    custom weight if the line gave one, else the event type's weight.
    """

    users: Vocabulary
    items: Vocabulary
    user_index: np.ndarray  # int32
    item_index: np.ndarray  # int32
    timestamp: np.ndarray  # int64
    weight: np.ndarray  # float32

    @property
    def n_events(self) -> int:
        return int(self.user_index.shape[0])

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)


# --------------------------------------------------------------------------
# Public entry point


def parse_usage_path(
    path: Path, *, known_items: Vocabulary | None = None
) -> tuple[UsageData, ParsingReport]:
    """Parse a usage file, or every usage file of a folder.

    ``path`` is a file or a folder; a folder means every regular, non-hidden
    file under it, recursively, in the order of their relative paths (see
    :func:`list_usage_files`). Error samples name the file relative to the
    folder (for a single file: its name) and the 1-based line in that file.

    With ``known_items`` (a catalog), lines whose item is not in it are
    ``UnknownItemId`` errors and the result's ``items`` *is* ``known_items``;
    without it, items are numbered in first-seen order. Users are always in
    first-seen order (over the valid lines, files in order).

    Raises :class:`~recostack.errors.NotFound` if ``path`` does not exist and
    :class:`~recostack.errors.ParsingFailed` (``detail`` = the report as a
    dict) if there is no valid line at all. See the module docstring for the
    line semantics and the order of the checks.
    """
    started = time.perf_counter()
    path = Path(path)
    files = list_usage_files(path)
    parser = _UsageParser(known_items)
    for file_path, display_name in files:
        with open(file_path, "rb") as fh:
            parser.parse_stream(fh, display_name)
    data = parser.finish()
    report = parser.report
    report.duration = time.perf_counter() - started
    if data.n_events == 0:
        read = report.summary() if files else "the folder has no usage file"
        raise ParsingFailed(
            f"usage path '{path}' has no valid usage event ({read})",
            detail=report.to_dict(),
        )
    return data, report


def list_usage_files(path: Path) -> list[tuple[Path, str]]:
    """The usage files of ``path`` as ``(file, name in reports)`` pairs.

    A file is itself (named by its file name); a folder gives every regular
    file under it whose relative path has no hidden (``.``-prefixed) part,
    sorted by relative path (``/``-separated, which is also its name).
    """
    path = Path(path)
    if path.is_file():
        return [(path, path.name)]
    if not path.exists():
        raise NotFound(f"usage path '{path}' does not exist")
    if not path.is_dir():
        raise Invalid(f"usage path '{path}' is neither a file nor a folder")
    found: list[tuple[str, Path]] = []
    for root, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            full = Path(root) / name
            if full.is_file():
                found.append((full.relative_to(path).as_posix(), full))
    found.sort(key=lambda pair: pair[0])
    return [(full, rel) for rel, full in found]


# --------------------------------------------------------------------------
# Vectorised helpers


def _np_bool(arr: Any) -> np.ndarray:
    """A boolean Arrow array (nulls = False) as a numpy array."""
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _np_int(arr: Any, null: int = 0) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, null).to_numpy(zero_copy_only=False))


def _string_offsets(arr: Any) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (``len + 1``) and data bytes of a string / large_string array."""
    n = len(arr)
    bufs = arr.buffers()
    dtype = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(
        bufs[1], dtype=dtype, count=n + 1, offset=arr.offset * dtype(0).itemsize
    )
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.empty(0, np.uint8)
    return offsets.astype(np.int64), data


def _ascii_to_unicode(arr: Any) -> np.ndarray:
    """An Arrow array of ASCII strings as a numpy unicode array, vectorised."""
    n = len(arr)
    if n == 0:
        return np.array([], dtype="U1")
    offsets, data = _string_offsets(arr)
    lengths = np.diff(offsets)
    width = max(1, int(lengths.max()))
    mat = np.zeros((n, width), dtype=np.uint8)
    starts = offsets[:-1]
    rows = np.arange(n)
    for j in range(width):
        rows = rows[lengths[rows] > j]
        mat[rows, j] = data[starts[rows] + j]
    return mat.view(f"S{width}").ravel().astype(f"U{width}")


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (``y >= 0``)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _parse_fixed_timestamps(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(ok, seconds)`` of an ``(n, 19)`` byte matrix of ``yyyy-MM-ddTHH:mm:ss``."""
    d = mat - np.uint8(48)  # a non-digit wraps around to > 9
    ok = (d[:, _TS_DIGITS] <= 9).all(axis=1)
    for col, char in _TS_SEPARATORS:
        ok &= mat[:, col] == char

    def number(*cols: int) -> np.ndarray:
        value = d[:, cols[0]].astype(np.int32)
        for col in cols[1:]:
            value *= 10
            value += d[:, col]
        return value

    year = number(0, 1, 2, 3)
    month = number(5, 6)
    day = number(8, 9)
    hour = number(11, 12)
    minute = number(14, 15)
    second = number(17, 18)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    month = np.where(month_ok, month, 1)
    days_in_month = _DAYS_IN_MONTH[month] + ((month == 2) & leap)
    ok &= (year >= 1) & month_ok & (day >= 1) & (day <= days_in_month)
    ok &= (hour < 24) & (minute < 60) & (second < 60)
    days = _days_from_civil(year, month, day).astype(np.int64)
    seconds = days * 86400 + (hour * 3600 + minute * 60 + second)
    return ok, seconds


def _parse_timestamps(field: Any, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(ok, seconds)`` for the time field of the lines in ``need``."""
    n = len(field)
    ok = np.zeros(n, dtype=bool)
    seconds = np.zeros(n, dtype=np.int64)
    fast = need & (_np_int(pc.binary_length(field)) == _TS_LEN)
    if fast.any():
        sub = pc.filter(field, pa.array(fast))
        offsets, data = _string_offsets(sub)
        m = len(sub)
        start = int(offsets[0])
        if int(offsets[-1]) - start == _TS_LEN * m:
            mat = data[start : start + _TS_LEN * m].reshape(m, _TS_LEN)
        else:  # pragma: no cover - filter output is always contiguous
            mat = data[offsets[:-1, None] + np.arange(_TS_LEN)]
        sub_ok, sub_seconds = _parse_fixed_timestamps(mat)
        idx = np.flatnonzero(fast)
        ok[idx] = sub_ok
        seconds[idx] = sub_seconds
    slow = need & ~ok
    if slow.any():
        idx = np.flatnonzero(slow)
        sub = pc.filter(field, pa.array(slow))
        iso = _np_bool(pc.match_substring_regex(sub, _ISO_RE))
        if iso.any():
            idx = idx[iso]
            values = pc.filter(sub, pa.array(iso)).to_numpy(zero_copy_only=False)
            parsed = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
            naive = np.asarray(parsed.tz_convert(None).to_numpy())
            valid = ~np.isnat(naive) & (naive >= _MIN_TIME)
            ok[idx[valid]] = True
            seconds[idx[valid]] = naive[valid].astype("datetime64[s]").astype(np.int64)
    return ok, seconds


def _parse_weights(field: Any, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(has_weight, ok, weight)`` of the custom weight field."""
    n = len(field)
    has = lengths > 0
    ok = np.zeros(n, dtype=bool)
    weight = np.zeros(n, dtype=np.float32)
    if has.any():
        idx = np.flatnonzero(has)
        sub = pc.filter(field, pa.array(has))
        numeric = _np_bool(pc.match_substring_regex(sub, _FLOAT_RE))
        if numeric.any():
            idx = idx[numeric]
            values = pc.cast(pc.filter(sub, pa.array(numeric)), pa.float64())
            w = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
            with np.errstate(over="ignore", invalid="ignore"):
                w32 = w.astype(np.float32)
            finite = np.isfinite(w32)
            ok[idx[finite]] = True
            weight[idx[finite]] = w32[finite]
    return has, ok, weight


def _event_weights(field: Any) -> np.ndarray:
    """Weight of each event type (empty/missing = Click); NaN if unknown."""
    encoded = pc.dictionary_encode(field)
    dictionary = encoded.dictionary
    pos = _np_int(pc.index_in(pc.utf8_lower(dictionary), value_set=_EVENT_NAMES_LOWER), -1)
    dict_weight = np.where(pos >= 0, _EVENT_WEIGHTS[np.maximum(pos, 0)], np.float32(np.nan))
    empty = _np_int(pc.binary_length(dictionary)) == 0
    dict_weight[empty] = _DEFAULT_WEIGHT
    codes = _np_int(encoded.indices, -1)
    if dict_weight.size == 0:
        return np.full(len(field), _DEFAULT_WEIGHT, dtype=np.float32)
    return np.where(codes >= 0, dict_weight[np.maximum(codes, 0)], _DEFAULT_WEIGHT).astype(
        np.float32
    )


def _split_quoted(lines: Any, rows: np.ndarray) -> tuple[list[list[str] | None], np.ndarray]:
    """Parse lines that contain a quote with the csv module (one by one)."""
    parsed: list[list[str] | None] = []
    counts = np.zeros(len(rows), dtype=np.int64)
    for k, row in enumerate(rows.tolist()):
        text = lines[row].as_py().strip()
        try:
            fields = next(csv.reader([text], strict=True, skipinitialspace=True))
        except (csv.Error, StopIteration):
            parsed.append(None)
            continue
        fields = [f.strip() for f in fields]
        parsed.append(fields)
        counts[k] = len(fields)
    return parsed, counts


def _invalid_utf8_lines(block: bytes, offsets: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    bad = []
    for row in candidates.tolist():
        try:
            block[offsets[row] : offsets[row + 1]].decode("utf-8")
        except UnicodeDecodeError:
            bad.append(row)
    return np.array(bad, dtype=np.int64)


# --------------------------------------------------------------------------
# The parser


class _UsageParser:
    """Accumulates blocks of parsed lines and the report over many files."""

    def __init__(self, known_items: Vocabulary | None) -> None:
        self.known_items = known_items
        self._known_set = (
            pa.array(known_items.ids, type=pa.string()) if known_items is not None else None
        )
        self.report = ParsingReport()
        self._user_dicts: list[Any] = []
        self._user_codes: list[np.ndarray] = []
        self._item_dicts: list[Any] = []
        self._item_codes: list[np.ndarray] = []
        self._timestamps: list[np.ndarray] = []
        self._weights: list[np.ndarray] = []

    def parse_stream(self, fh: BinaryIO, file_name: str) -> None:
        line_no = 1
        for block, overlong in iter_line_blocks(fh, BLOCK_BYTES, MAX_LINE_BYTES):
            line_no += self._parse_block(block, overlong, file_name, line_no)

    # -- one block ---------------------------------------------------------

    def _parse_block(self, block: bytes, overlong: bool, file_name: str, first_line: int) -> int:
        """Parse one block of whole lines; returns its number of lines."""
        raw = np.frombuffer(block, dtype=np.uint8)
        newlines = np.flatnonzero(raw == 10)
        ends = newlines + 1
        if not block.endswith(b"\n"):
            ends = np.append(ends, len(block))
        n = len(ends)
        offsets = np.zeros(n + 1, dtype=np.int64)
        offsets[1:] = ends

        code = np.zeros(n, dtype=np.int8)
        forced_malformed = np.zeros(n, dtype=bool)
        if overlong:
            forced_malformed[:] = True
        else:  # the same limit for long lines that happen to fit in a block
            content_lengths = np.diff(offsets)
            content_lengths[: len(newlines)] -= 1
            forced_malformed |= content_lengths > MAX_LINE_BYTES

        # Lines that are not valid UTF-8 are blanked (and reported malformed).
        high = np.flatnonzero(raw >= 0x80)
        if high.size:
            candidates = np.unique(np.searchsorted(offsets, high, side="right") - 1)
            bad_rows = _invalid_utf8_lines(block, offsets, candidates)
            if bad_rows.size:
                patched = bytearray(block)
                for row in bad_rows.tolist():
                    start, end = int(offsets[row]), int(offsets[row + 1])
                    keep_nl = block[end - 1 : end] == b"\n"
                    patched[start : end - keep_nl] = b" " * (end - keep_nl - start)
                block = bytes(patched)
                raw = np.frombuffer(block, dtype=np.uint8)
                forced_malformed[bad_rows] = True

        lines = pa.Array.from_buffers(
            pa.string(), n, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(block)]
        )
        parts = pc.split_pattern(lines, pattern=",")
        list_offsets = np.asarray(parts.offsets.to_numpy(), dtype=np.int64)
        n_fields = np.diff(list_offsets)
        values = pc.utf8_trim_whitespace(parts.values)
        fields = []
        for k in range(MAX_FIELDS):
            present = n_fields > k
            if present.any():
                idx = pa.array(list_offsets[:-1] + k, mask=~present)
                fields.append(pc.take(values, idx))
            else:
                fields.append(pa.nulls(n, pa.string()))

        quoted = np.unique(np.searchsorted(offsets, np.flatnonzero(raw == 34), side="right") - 1)
        quoted = quoted[~forced_malformed[quoted]]
        if quoted.size:
            parsed, counts = _split_quoted(lines, quoted)
            bad_csv = np.array([p is None for p in parsed], dtype=bool)
            forced_malformed[quoted[bad_csv]] = True
            n_fields[quoted] = counts
            mask = np.zeros(n, dtype=bool)
            mask[quoted] = True
            mask_arr = pa.array(mask)
            for k in range(MAX_FIELDS):
                replacement = pa.array(
                    [p[k] if p is not None and len(p) > k else None for p in parsed],
                    type=pa.string(),
                )
                fields[k] = pc.replace_with_mask(fields[k], mask_arr, replacement)

        lengths = [_np_int(pc.utf8_length(f)) for f in fields]

        def flag(condition: np.ndarray, value: int) -> None:
            code[(code == _OK) & condition] = value

        flag(forced_malformed, _CODE["MalformedLine"])
        blank = (n_fields == 1) & (lengths[0] == 0)
        blank[quoted] = False
        flag(blank, _BLANK)
        flag(n_fields > MAX_FIELDS, _CODE["MalformedLine"])
        flag(
            (n_fields < 3) | (lengths[0] == 0) | (lengths[1] == 0) | (lengths[2] == 0),
            _CODE["MissingFields"],
        )
        flag(lengths[0] > MAX_USER_ID_LENGTH, _CODE["UserIdTooLong"])
        flag(
            ~_np_bool(pc.match_substring_regex(fields[0], _ID_RE)),
            _CODE["IllegalCharactersInUserId"],
        )
        flag(lengths[1] > MAX_ITEM_ID_LENGTH, _CODE["ItemIdTooLong"])
        flag(
            ~_np_bool(pc.match_substring_regex(fields[1], _ID_RE)),
            _CODE["IllegalCharactersInItemId"],
        )

        ts_ok, timestamps = _parse_timestamps(fields[2], code == _OK)
        flag(~ts_ok, _CODE["BadTimestampFormat"])

        has_weight, weight_ok, custom_weight = _parse_weights(fields[4], lengths[4])
        flag(has_weight & ~weight_ok, _CODE["BadWeightFormat"])
        event_weight = _event_weights(fields[3])
        flag(~has_weight & np.isnan(event_weight), _CODE["MalformedLine"])
        weights = np.where(has_weight, custom_weight, event_weight).astype(np.float32)

        known_codes = None
        if self._known_set is not None:
            known_codes = _np_int(pc.index_in(fields[1], value_set=self._known_set), -1)
            flag(known_codes < 0, _CODE["UnknownItemId"])

        good = code == _OK
        self._record(code, file_name, first_line)
        if good.any():
            good_arr = pa.array(good)
            users = pc.dictionary_encode(pc.filter(fields[0], good_arr))
            self._user_dicts.append(users.dictionary)
            self._user_codes.append(_np_int(users.indices).astype(np.int32))
            if known_codes is not None:
                self._item_codes.append(known_codes[good].astype(np.int32))
            else:
                items = pc.dictionary_encode(pc.filter(fields[1], good_arr))
                self._item_dicts.append(items.dictionary)
                self._item_codes.append(_np_int(items.indices).astype(np.int32))
            self._timestamps.append(timestamps[good])
            self._weights.append(weights[good])
        return n

    def _record(self, code: np.ndarray, file_name: str, first_line: int) -> None:
        report = self.report
        report.total_lines_count += int(np.count_nonzero(code != _BLANK))
        report.successful_lines_count += int(np.count_nonzero(code == _OK))
        bad = np.flatnonzero(code > 0)
        if not bad.size:
            return
        bad_codes = code[bad]
        uniques, first = np.unique(bad_codes, return_index=True)
        counts = np.bincount(bad_codes, minlength=len(ERROR_CODES) + 1)
        for pos in np.argsort(first, kind="stable").tolist():
            value = int(uniques[pos])
            report.add_error(
                ERROR_CODES[value - 1],
                int(counts[value]),
                file_name,
                first_line + int(bad[first[pos]]),
            )

    # -- the end -------------------------------------------------------------

    def finish(self) -> UsageData:
        users, user_index = _merge_codes(self._user_dicts, self._user_codes)
        if self.known_items is not None:
            items = self.known_items
            item_index = _concat(self._item_codes, np.int32)
        else:
            items, item_index = _merge_codes(self._item_dicts, self._item_codes)
        return UsageData(
            users=users,
            items=items,
            user_index=user_index,
            item_index=item_index,
            timestamp=_concat(self._timestamps, np.int64),
            weight=_concat(self._weights, np.float32),
        )


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    if not parts:
        return np.empty(0, dtype=dtype)
    return np.concatenate(parts).astype(dtype, copy=False)


def _merge_codes(dicts: list[Any], codes: list[np.ndarray]) -> tuple[Vocabulary, np.ndarray]:
    """Merge per-block dictionaries and codes into first-seen global codes."""
    if not dicts:
        return Vocabulary(np.array([], dtype="U1")), np.empty(0, dtype=np.int32)
    total_bytes = sum(int(d.nbytes) for d in dicts)
    if total_bytes >= (1 << 31) - 1:
        dicts = [d.cast(pa.large_string()) for d in dicts]
    encoded = pc.dictionary_encode(pa.chunked_array(dicts))
    remap = np.concatenate([_np_int(chunk.indices) for chunk in encoded.chunks]).astype(np.int32)
    dictionary = encoded.chunks[0].dictionary
    starts = np.cumsum([0] + [len(d) for d in dicts[:-1]])
    index = np.concatenate(
        [remap[start + local] for start, local in zip(starts.tolist(), codes, strict=True)]
    )
    return Vocabulary(_ascii_to_unicode(dictionary)), index.astype(np.int32, copy=False)
