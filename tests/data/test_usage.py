"""Tests of the usage events parser (``recostack.data.usage``)."""

from __future__ import annotations

import calendar
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recostack.data import usage as usage_mod
from recostack.data.ids import Vocabulary
from recostack.data.report import ParsingReport
from recostack.data.usage import UsageData, list_usage_files, parse_usage_path
from recostack.errors import NotFound, ParsingFailed

GOOD = "u1,i1,2015-08-14T11:02:52"
T0 = calendar.timegm((2015, 8, 14, 11, 2, 52))

# --------------------------------------------------------------------------
# Helpers


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def parse_text(
    folder: Path, text: str | bytes, name: str = "usage.csv", **kwargs: Any
) -> tuple[UsageData, ParsingReport]:
    return parse_usage_path(write(folder, name, text), **kwargs)


def errors_of(report: ParsingReport) -> dict[str, tuple[int, str, int]]:
    """``code -> (count, sample file, sample line)``."""
    return {e.error: (e.count, e.sample.file, e.sample.line) for e in report.errors}


def events_of(data: UsageData) -> list[tuple[str, str, int, float]]:
    """The parsed events as ``(user, item, timestamp, weight)`` tuples."""
    users = data.users.ids[data.user_index].tolist()
    items = data.items.ids[data.item_index].tolist()
    return list(zip(users, items, data.timestamp.tolist(), data.weight.tolist(), strict=True))


def write_usage_file(
    path: Path, n_lines: int, *, n_users: int = 1_000_000, n_items: int = 100_000, seed: int = 0
) -> None:
    """Write a clean synthetic usage file of ``n_lines`` lines (for benchmarks).

    Users ``U<hex>``, items ``<9 digits>``, times ``yyyy-MM-ddTHH:mm:ss`` over a
    year; 10 % custom weights, else an event type (or an empty one).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)
    event_choices = pa.array(["Click", "Purchase", "AddShopCart", "", "RecommendationClick"])
    block = 1_000_000
    with open(path, "wb") as fh:
        for start in range(0, n_lines, block):
            m = min(block, n_lines - start)
            users = np.char.add("U", np.char.mod("%012X", rng.integers(0, n_users, m)))
            items = np.char.mod("%09d", 100_000_000 + rng.integers(0, n_items, m))
            secs = 1_420_070_400 + rng.integers(0, 365 * 86400, m)
            times = pc.strftime(pa.array(secs, pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%S")
            events = pc.take(event_choices, pa.array(rng.integers(0, 5, m)))
            weighted = pa.array(rng.random(m) < 0.1)
            weights = pa.array(np.char.mod(",,%.2f", rng.random(m) * 5))
            tail = pc.if_else(weighted, weights, pc.binary_join_element_wise(",", events, ""))
            lines = pc.binary_join_element_wise(pa.array(users), pa.array(items), times, ",")
            lines = pc.binary_join_element_wise(lines, tail, "\n", "")
            offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=m + 1)
            data = lines.buffers()[2]
            fh.write(memoryview(data)[int(offsets[0]) : int(offsets[-1])])


# --------------------------------------------------------------------------
# The reference's sample and basic shapes

REFERENCE_SAMPLE = (
    "00037FFEA61FCA16,288186200,2015-08-14T11:02:52,Click \n"
    "0003BFFDD4C2148C,297833400,2015-08-14T11:02:50,Purchase \n"
    "0003BFFDD4C2118D,297833300,2015-08-14T11:02:40,,5.2 \n"
    "00030000D16C4237,297833300,2015-08-14T11:02:37,Purchase \n"
    "0003BFFDD4C20B63,297833400,2015-08-14T11:02:12,Click \n"
    "00037FFEC8567FB8,297833400,2015-08-14T11:02:04\n"
)


def test_reference_sample(tmp_path: Path) -> None:
    data, report = parse_text(tmp_path, REFERENCE_SAMPLE)
    assert report.errors == []
    assert report.successful_lines_count == report.total_lines_count == 6
    assert data.users.ids.tolist() == [
        "00037FFEA61FCA16",
        "0003BFFDD4C2148C",
        "0003BFFDD4C2118D",
        "00030000D16C4237",
        "0003BFFDD4C20B63",
        "00037FFEC8567FB8",
    ]
    assert data.items.ids.tolist() == ["288186200", "297833400", "297833300"]
    assert data.user_index.tolist() == [0, 1, 2, 3, 4, 5]
    assert data.item_index.tolist() == [0, 1, 2, 2, 1, 1]
    base = calendar.timegm((2015, 8, 14, 11, 2, 0))
    assert data.timestamp.tolist() == [base + s for s in (52, 50, 40, 37, 12, 4)]
    assert data.weight.tolist() == pytest.approx([1, 4, 5.2, 4, 1, 1])
    assert data.user_index.dtype == np.int32
    assert data.item_index.dtype == np.int32
    assert data.timestamp.dtype == np.int64
    assert data.weight.dtype == np.float32
    assert (data.n_events, data.n_users, data.n_items) == (6, 6, 3)
    assert report.to_dict()["totalLinesCount"] == 6


def test_first_seen_order_and_codes(tmp_path: Path) -> None:
    text = "b,y,2015-01-01\nbad user,x,2015-01-01\na,x,2015-01-01\nb,x,2015-01-02\nc,z,2015-01-03\n"
    data, _ = parse_text(tmp_path, text)
    assert data.users.ids.tolist() == ["b", "a", "c"]
    assert data.items.ids.tolist() == ["y", "x", "z"]
    assert data.user_index.tolist() == [0, 1, 0, 2]
    assert data.item_index.tolist() == [0, 1, 1, 2]


def test_whitespace_crlf_bom_no_trailing_newline(tmp_path: Path) -> None:
    text = b"\xef\xbb\xbf u1 , i1 ,2015-08-14T11:02:52 , purchase \r\nu2,i2,2015-08-14T11:02:52"
    data, report = parse_text(tmp_path, text)
    assert report.errors == []
    assert events_of(data) == [("u1", "i1", T0, 4.0), ("u2", "i2", T0, 1.0)]


def test_quoted_fields(tmp_path: Path) -> None:
    text = '"u1","i1","2015-08-14T11:02:52","Purchase"\n "u2", "i2" ,2015-08-14T11:02:52,,"2.5"\n'
    data, report = parse_text(tmp_path, text)
    assert errors_of(report) == {"MalformedLine": (1, "usage.csv", 2)}  # `"i2" ,` is not CSV
    assert events_of(data) == [("u1", "i1", T0, 4.0)]
    # A quoted comma stays inside the field (which then is an illegal id).
    _, report = parse_text(tmp_path, f'{GOOD}\n"u,1",i1,2015-08-14T11:02:52\n')
    assert errors_of(report) == {"IllegalCharactersInUserId": (1, "usage.csv", 2)}


# --------------------------------------------------------------------------
# Every error code

ERROR_LINES = [
    ('"u1,i1,2015-08-14T11:02:52', "MalformedLine"),  # unbalanced quote
    ('"u1"x,i1,2015-08-14T11:02:52', "MalformedLine"),  # text after a closing quote
    ("u1,i1,2015-08-14T11:02:52,Click,1,extra", "MalformedLine"),  # 6 fields
    ("u1,i1,2015-08-14T11:02:52,,,", "MalformedLine"),  # 6 fields, empty
    ("u1,i1,2015-08-14T11:02:52,Bought", "MalformedLine"),  # unknown event type
    ("u1,i1,2015-08-14T11:02:52,5.2", "MalformedLine"),  # weight in the event column
    ("u1,i1", "MissingFields"),
    ("u1", "MissingFields"),
    (",i1,2015-08-14T11:02:52", "MissingFields"),
    ("u1,,2015-08-14T11:02:52", "MissingFields"),
    ("u1,i1,", "MissingFields"),
    ("u1,i1, ,Click", "MissingFields"),
    (",,", "MissingFields"),
    ('""', "MissingFields"),
    ("u1,i1,2015-08-14X11:02:52", "BadTimestampFormat"),
    ("u1,i1,2015-02-30T11:02:52", "BadTimestampFormat"),
    ("u1,i1,2015-13-01T00:00:00", "BadTimestampFormat"),
    ("u1,i1,2015-08-14T24:00:00", "BadTimestampFormat"),
    ("u1,i1,2015-08-14T11:60:00", "BadTimestampFormat"),
    ("u1,i1,2015-08-14T11:02:60", "BadTimestampFormat"),
    ("u1,i1,2015-8-14T11:02:52", "BadTimestampFormat"),
    ("u1,i1,2015", "BadTimestampFormat"),
    ("u1,i1,1439550172", "BadTimestampFormat"),
    ("u1,i1,yesterday", "BadTimestampFormat"),
    ("u1,i1,0000-01-01T00:00:00", "BadTimestampFormat"),
    ("u1,i1,2015-08-14T11:02:52,,abc", "BadWeightFormat"),
    ("u1,i1,2015-08-14T11:02:52,,nan", "BadWeightFormat"),
    ("u1,i1,2015-08-14T11:02:52,Click,inf", "BadWeightFormat"),
    ("u1,i1,2015-08-14T11:02:52,,1e39", "BadWeightFormat"),  # overflows float32
    ("u1,i1,2015-08-14T11:02:52,,1,5", "MalformedLine"),  # 6 fields
    ("u1,i1,2015-08-14T11:02:52,,0x10", "BadWeightFormat"),
    ("u" * 256 + ",i1,2015-08-14T11:02:52", "UserIdTooLong"),
    ("u 1,i1,2015-08-14T11:02:52", "IllegalCharactersInUserId"),
    ("u.1,i1,2015-08-14T11:02:52", "IllegalCharactersInUserId"),
    ("usér,i1,2015-08-14T11:02:52", "IllegalCharactersInUserId"),
    ("u1," + "i" * 451 + ",2015-08-14T11:02:52", "ItemIdTooLong"),
    ("u1,i/1,2015-08-14T11:02:52", "IllegalCharactersInItemId"),
    ("u1,i[1],2015-08-14T11:02:52", "IllegalCharactersInItemId"),
]


@pytest.mark.parametrize(("line", "code"), ERROR_LINES)
def test_each_error_code(tmp_path: Path, line: str, code: str) -> None:
    data, report = parse_text(tmp_path, f"{GOOD}\n{line}\n{GOOD}\n")
    assert errors_of(report) == {code: (1, "usage.csv", 2)}
    assert report.total_lines_count == 3
    assert report.successful_lines_count == 2
    assert data.n_events == 2


def test_id_length_limits_are_inclusive(tmp_path: Path) -> None:
    user, item = "u" * 255, "i" * 450
    data, report = parse_text(tmp_path, f"{user},{item},2015-08-14T11:02:52\n")
    assert report.errors == []
    assert events_of(data) == [(user, item, T0, 1.0)]


def test_invalid_utf8_is_malformed(tmp_path: Path) -> None:
    text = GOOD.encode() + b"\n\xff\xfeu,i1,2015-08-14T11:02:52\n" + "ü1,i1,2015-08-14\n".encode()
    _, report = parse_text(tmp_path, text + GOOD.encode())
    assert errors_of(report) == {
        "MalformedLine": (1, "usage.csv", 2),
        "IllegalCharactersInUserId": (1, "usage.csv", 3),
    }
    assert report.successful_lines_count == 2


def test_unknown_item_id_with_known_items(tmp_path: Path) -> None:
    known = Vocabulary(["i9", "i1", "i2"])
    text = "u1,i1,2015-08-14T11:02:52\nu1,i3,2015-08-14T11:02:52\nu2,i2,2015-08-14\nu3,i4,x\n"
    data, report = parse_text(tmp_path, text, known_items=known)
    # The bad timestamp is found before the unknown item (fixed order).
    assert errors_of(report) == {
        "UnknownItemId": (1, "usage.csv", 2),
        "BadTimestampFormat": (1, "usage.csv", 4),
    }
    assert data.items is known
    assert data.item_index.tolist() == [1, 2]
    assert data.users.ids.tolist() == ["u1", "u2"]


def test_without_known_items_no_unknown_item_error(tmp_path: Path) -> None:
    data, report = parse_text(tmp_path, "u1,i3,2015-08-14T11:02:52\n")
    assert report.errors == []
    assert data.items.ids.tolist() == ["i3"]


def test_one_error_per_line_in_fixed_order(tmp_path: Path) -> None:
    lines = [
        GOOD,
        "u 1,i/1,bad,Nope,x,6",  # too many fields wins
        "u 1,,bad",  # missing item before illegal user
        "u 1,i/1,bad,,x",  # user before item
        "u1,i/1,bad,,x",  # item before timestamp
        "u1,i1,bad,,x",  # timestamp before weight
        "u1,i1,2015-08-14,Nope,x",  # weight given: event type ignored, bad weight
        "u1,i1,2015-08-14,Nope,2",  # weight given: valid line
    ]
    data, report = parse_text(tmp_path, "\n".join(lines))
    assert errors_of(report) == {
        "MalformedLine": (1, "usage.csv", 2),
        "MissingFields": (1, "usage.csv", 3),
        "IllegalCharactersInUserId": (1, "usage.csv", 4),
        "IllegalCharactersInItemId": (1, "usage.csv", 5),
        "BadTimestampFormat": (1, "usage.csv", 6),
        "BadWeightFormat": (1, "usage.csv", 7),
    }
    assert data.weight.tolist() == [1.0, 2.0]


def test_counts_samples_and_blank_lines(tmp_path: Path) -> None:
    text = (
        f"{GOOD}\n"  # 1
        "\n"  # 2 blank, ignored
        "u1,i1\n"  # 3 MissingFields
        '"u1,i1,2015-08-14T11:02:52\n'  # 4 MalformedLine (quote does not swallow lines)
        f"{GOOD}\n"  # 5
        "   \t \n"  # 6 blank
        "u1,i1\n"  # 7 MissingFields
        "u1,i1,nope\n"  # 8 BadTimestampFormat
        '"u2",i2,2015-08-14T11:02:52,""\n'  # 9 good (quoted, empty event type = Click)
        "u1\n"  # 10 MissingFields
    )
    data, report = parse_text(tmp_path, text)
    assert errors_of(report) == {
        "MissingFields": (3, "usage.csv", 3),
        "MalformedLine": (1, "usage.csv", 4),
        "BadTimestampFormat": (1, "usage.csv", 8),
    }
    assert [e.error for e in report.errors] == [
        "MissingFields",
        "MalformedLine",
        "BadTimestampFormat",
    ]
    assert report.total_lines_count == 8
    assert report.successful_lines_count == 3
    assert report.successful_lines_count + sum(e.count for e in report.errors) == 8
    assert events_of(data)[-1] == ("u2", "i2", T0, 1.0)
    assert report.to_dict()["errors"][0] == {
        "error": "MissingFields",
        "count": 3,
        "sample": {"file": "usage.csv", "line": 3},
    }


# --------------------------------------------------------------------------
# Weights


def test_event_type_weights_case_insensitive(tmp_path: Path) -> None:
    types = ["Click", "click", "RECOMMENDATIONCLICK", "AddShopCart", "removeshopcart", "Purchase"]
    text = "".join(f"u1,i1,2015-08-14T11:02:52,{t}\n" for t in types)
    text += "u1,i1,2015-08-14T11:02:52,\nu1,i1,2015-08-14T11:02:52,,\n"
    data, report = parse_text(tmp_path, text)
    assert report.errors == []
    assert data.weight.tolist() == [1, 1, 2, 3, -1, 4, 1, 1]


def test_custom_weights(tmp_path: Path) -> None:
    values = ["5.2", "-1", "+3", "0", ".5", "2.", "1e3", "-2.5E-1", " 7 "]
    text = "".join(f"u1,i1,2015-08-14T11:02:52,Purchase,{v}\n" for v in values)
    data, report = parse_text(tmp_path, text)
    assert report.errors == []
    assert data.weight.tolist() == pytest.approx([5.2, -1, 3, 0, 0.5, 2, 1000, -0.25, 7])


# --------------------------------------------------------------------------
# Timestamps


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2015-08-14T11:02:52", T0),
        ("1970-01-01T00:00:00", 0),
        ("1969-12-31T23:59:59", -1),
        ("2016-02-29T12:00:00", calendar.timegm((2016, 2, 29, 12, 0, 0))),
        ("2000-02-29T00:00:00", calendar.timegm((2000, 2, 29, 0, 0, 0))),
        ("9999-12-31T23:59:59", calendar.timegm((9999, 12, 31, 23, 59, 59))),
        ("0001-01-01T00:00:00", calendar.timegm((1, 1, 1, 0, 0, 0))),
        ("2015-08-14T11:02:52.999", T0),
        ("2015-08-14T11:02:52.1234567", T0),
        ("2015-08-14T11:02:52Z", T0),
        ("2015-08-14T13:02:52+02:00", T0),
        ("2015-08-14T10:02:52-0100", T0),
        ("2015-08-14T11:02", T0 - 52),
        ("2015-08-14 11:02:52", T0),
        ("2015-08-14", calendar.timegm((2015, 8, 14, 0, 0, 0))),
    ],
)
def test_timestamp_forms(tmp_path: Path, value: str, expected: int) -> None:
    data, report = parse_text(tmp_path, f"u1,i1,{value}\n")
    assert report.errors == []
    assert data.timestamp.tolist() == [expected]


@pytest.mark.parametrize("value", ["1900-02-29T00:00:00", "2015-02-29T00:00:00", "2015-04-31"])
def test_bad_calendar_dates(tmp_path: Path, value: str) -> None:
    _, report = parse_text(tmp_path, f"{GOOD}\nu1,i1,{value}\n")
    assert errors_of(report) == {"BadTimestampFormat": (1, "usage.csv", 2)}


def test_fixed_format_fast_path_matches_calendar() -> None:
    rng = np.random.default_rng(1)
    seconds = rng.integers(-62_135_596_800, 253_402_300_799, 2000)
    texts = [
        dt.datetime.fromtimestamp(int(s), dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") for s in seconds
    ]
    texts = [t.rjust(19, "0") for t in texts]  # years < 1000 print without padding
    mat = np.frombuffer("".join(texts).encode(), dtype=np.uint8).reshape(-1, 19)
    ok, parsed = usage_mod._parse_fixed_timestamps(mat)
    assert ok.all()
    assert parsed.tolist() == seconds.tolist()


# --------------------------------------------------------------------------
# Folders, missing paths, failures


def test_folder_of_files(tmp_path: Path) -> None:
    root = tmp_path / "usage"
    write(root, "b.csv", "u2,i2,2015-08-14T11:02:52\nu2,i2\n")
    write(root, "a.csv", "u1,i1,2015-08-14T11:02:52\n")
    write(root, "sub/c.txt", "\nu3,i1,2015-08-14T11:02:52\nu3,i1,zz\n")
    write(root, ".hidden.csv", "garbage\n")
    write(root, ".git/d.csv", "garbage\n")
    write(root, "sub/.e.csv", "garbage\n")
    assert [name for _, name in list_usage_files(root)] == ["a.csv", "b.csv", "sub/c.txt"]
    data, report = parse_usage_path(root)
    assert data.users.ids.tolist() == ["u1", "u2", "u3"]
    assert errors_of(report) == {
        "MissingFields": (1, "b.csv", 2),
        "BadTimestampFormat": (1, "sub/c.txt", 3),
    }
    assert (report.successful_lines_count, report.total_lines_count) == (3, 5)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"nope\.csv"):
        parse_usage_path(tmp_path / "nope.csv")


def test_empty_folder_fails(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParsingFailed, match="no usage file"):
        parse_usage_path(tmp_path / "empty")


def test_all_bad_file_fails(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "a\nb\n\nc,d\n")
    with pytest.raises(ParsingFailed) as info:
        parse_usage_path(path)
    err = info.value
    assert "has no valid usage event (3 lines, 3 errors: MissingFields x3)" in err.message
    assert str(path) in err.message
    assert err.detail["successfulLinesCount"] == 0
    assert err.detail["totalLinesCount"] == 3
    assert err.detail["errors"] == [
        {"error": "MissingFields", "count": 3, "sample": {"file": "x.csv", "line": 1}}
    ]


def test_empty_file_fails(tmp_path: Path) -> None:
    with pytest.raises(ParsingFailed, match="no non-blank line"):
        parse_text(tmp_path, "\n\n")


def test_all_unknown_items_fails(tmp_path: Path) -> None:
    with pytest.raises(ParsingFailed, match="UnknownItemId x1"):
        parse_text(tmp_path, GOOD + "\n", known_items=Vocabulary(["other"]))


# --------------------------------------------------------------------------
# Blocks: results do not depend on where blocks are cut


def test_tiny_blocks_give_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    lines = []
    for k in range(300):
        r = rng.random()
        if r < 0.1:
            lines.append("")
        elif r < 0.2:
            lines.append(f'"u{k},i1,2015-08-14')
        elif r < 0.3:
            lines.append(f"u{k % 7},i{k % 5}")
        else:
            lines.append(f"u{k % 17},i{k % 11},2015-08-14T11:02:{k % 60:02d},,{k}")
    text = "\ufeff" + "\n".join(lines) + "\n"
    expected_data, expected_report = parse_text(tmp_path, text)
    assert expected_report.error_count("IllegalCharactersInUserId") == 0
    for size in (1, 7, 64):
        monkeypatch.setattr(usage_mod, "BLOCK_BYTES", size)
        data, report = parse_text(tmp_path, text)
        assert events_of(data) == events_of(expected_data)
        assert data.users == expected_data.users
        assert data.items == expected_data.items
        assert errors_of(report) == errors_of(expected_report)
        assert report.total_lines_count == expected_report.total_lines_count


def test_overlong_line_is_malformed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(usage_mod, "BLOCK_BYTES", 16)
    monkeypatch.setattr(usage_mod, "MAX_LINE_BYTES", 100)
    long_line = "u1,i1,2015-08-14T11:02:52,Click" + " " * 69  # 100 bytes: allowed
    text = f"{GOOD}\nu2,{'x' * 500},2015-08-14\n{long_line}\nu3,{'y' * 300}\n{long_line} "
    data, report = parse_text(tmp_path, text)
    assert errors_of(report) == {"MalformedLine": (3, "usage.csv", 2)}
    assert report.total_lines_count == 5
    assert data.n_events == 2
    # The same limit when the long lines fit in one block.
    monkeypatch.setattr(usage_mod, "BLOCK_BYTES", 1 << 16)
    _, report_one_block = parse_text(tmp_path, text)
    assert errors_of(report_one_block) == errors_of(report)


# --------------------------------------------------------------------------
# Property: random mixes of good and bad lines

_ID = st.text("abcXYZ019_-", min_size=1, max_size=6)
_BAD = {
    "": None,
    "   ": None,
    "u1,i1": "MissingFields",
    "u 1,i1,2015-01-01": "IllegalCharactersInUserId",
    "u1,i/1,2015-01-01": "IllegalCharactersInItemId",
    "u1,i1,2015-02-30": "BadTimestampFormat",
    "u1,i1,2015-01-01,Nope": "MalformedLine",
    "u1,i1,2015-01-01,,w": "BadWeightFormat",
    "u1,i1,2015-01-01,Click,1,2": "MalformedLine",
    '"u1,i1,2015-01-01': "MalformedLine",
    "u1," + "i" * 451 + ",2015-01-01": "ItemIdTooLong",
}
_BAD_LINES = st.sampled_from(sorted(_BAD))


@st.composite
def _good_line(draw: st.DrawFn) -> tuple[str, tuple[str, str, int, float]]:
    user, item = draw(_ID), draw(_ID)
    seconds = draw(st.integers(0, 4_102_444_799))
    stamp = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    kind = draw(st.sampled_from(["none", "event", "weight", "quoted"]))
    if kind == "none":
        return f"{user},{item},{stamp}", (user, item, seconds, 1.0)
    if kind == "event":
        event = draw(st.sampled_from(["Click", "purchase", "AddShopCart", "RemoveShopCart"]))
        weight = {"click": 1.0, "purchase": 4.0, "addshopcart": 3.0, "removeshopcart": -1.0}
        return f"{user},{item},{stamp},{event} ", (user, item, seconds, weight[event.lower()])
    if kind == "weight":
        w = draw(st.integers(-1000, 1000)) / 4
        return f"{user},{item},{stamp},,{w}", (user, item, seconds, w)
    return f'"{user}", {item} ,"{stamp}"', (user, item, seconds, 1.0)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.one_of(_good_line(), _BAD_LINES.map(lambda s: (s, None))), min_size=1, max_size=40),
    st.booleans(),
)
def test_property_good_lines_come_back(
    lines: list[tuple[str, tuple[str, str, int, float] | None]], crlf: bool
) -> None:
    text = ("\r\n" if crlf else "\n").join(line for line, _ in lines)
    expected = [event for _, event in lines if event is not None]
    non_blank = sum(1 for line, _ in lines if line.strip())
    expected_errors: dict[str, tuple[int, str, int]] = {}
    for number, (line, event) in enumerate(lines, start=1):
        code = _BAD.get(line) if event is None else None
        if code is not None:
            count, file, first = expected_errors.get(code, (0, "usage.csv", number))
            expected_errors[code] = (count + 1, file, first)
    with tempfile.TemporaryDirectory() as folder:
        try:
            data, report = parse_text(Path(folder), text)
        except ParsingFailed as err:
            assert not expected
            detail = err.detail
            assert detail["totalLinesCount"] == non_blank
            assert {
                e["error"]: (e["count"], e["sample"]["file"], e["sample"]["line"])
                for e in detail["errors"]
            } == expected_errors
            return
    assert events_of(data) == expected
    assert errors_of(report) == expected_errors
    assert report.successful_lines_count == len(expected)
    assert report.total_lines_count == non_blank
    assert report.successful_lines_count + sum(e.count for e in report.errors) == non_blank
