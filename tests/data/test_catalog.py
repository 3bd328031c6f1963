"""Tests of the catalog parser (``recostack.data.catalog``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.data import catalog as catalog_mod
from recostack.data.catalog import Catalog, parse_catalog_file
from recostack.data.report import ParsingReport
from recostack.errors import Invalid, NotFound, ParsingFailed

GOOD = "G1,Good item,Things"

# --------------------------------------------------------------------------
# Helpers


def parse_text(
    folder: Path, text: str | bytes, name: str = "catalog.csv"
) -> tuple[Catalog, ParsingReport]:
    path = folder / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return parse_catalog_file(path)


def errors_of(report: ParsingReport) -> dict[str, tuple[int, str, int]]:
    """``code -> (count, sample file, sample line)``."""
    return {e.error: (e.count, e.sample.file, e.sample.line) for e in report.errors}


def rows_of(catalog: Catalog) -> list[tuple[str, str, str, str, dict[str, str]]]:
    """Each item as ``(id, name, category, description, features)``."""
    rows = []
    for i, item_id in enumerate(catalog.items.ids.tolist()):
        features = {k: str(v[i]) for k, v in catalog.features.items() if v[i] != ""}
        rows.append(
            (
                item_id,
                str(catalog.names[i]),
                str(catalog.categories[i]),
                str(catalog.descriptions[i]),
                features,
            )
        )
    return rows


# --------------------------------------------------------------------------
# The reference's samples

REFERENCE_WITHOUT_FEATURES = (
    "AAA04294,Office Language Pack Online DwnLd,Office\n"
    "AAA04303,Minecraft Download Game,Games\n"
    "C9F00168,Kiruna Flip Cover,Accessories\n"
)
REFERENCE_WITH_FEATURES = (
    "AAA04294,Office Language Pack Online DwnLd,Office,, softwaretype=productivity,"
    " compatibility=Windows\n"
    "BAB04303,Minecraft DwnLd,Games, softwaretype=gaming,, compatibility=iOS, agegroup=all\n"
    "C9F00168,Kiruna Flip Cover,Accessories, compatibility=lumia,, hardwaretype=mobile\n"
)


def test_reference_without_features(tmp_path: Path) -> None:
    catalog, report = parse_text(tmp_path, REFERENCE_WITHOUT_FEATURES)
    assert report.errors == []
    assert report.successful_lines_count == report.total_lines_count == 3
    assert rows_of(catalog) == [
        ("AAA04294", "Office Language Pack Online DwnLd", "Office", "", {}),
        ("AAA04303", "Minecraft Download Game", "Games", "", {}),
        ("C9F00168", "Kiruna Flip Cover", "Accessories", "", {}),
    ]
    assert catalog.features == {}
    assert catalog.n_items == 3
    assert catalog.names.dtype.kind == "U"


def test_reference_with_features(tmp_path: Path) -> None:
    catalog, report = parse_text(tmp_path, REFERENCE_WITH_FEATURES)
    assert report.errors == []
    assert rows_of(catalog) == [
        (
            "AAA04294",
            "Office Language Pack Online DwnLd",
            "Office",
            "",
            {"softwaretype": "productivity", "compatibility": "Windows"},
        ),
        (
            "BAB04303",
            "Minecraft DwnLd",
            "Games",
            "",
            {"softwaretype": "gaming", "compatibility": "iOS", "agegroup": "all"},
        ),
        (
            "C9F00168",
            "Kiruna Flip Cover",
            "Accessories",
            "",
            {"compatibility": "lumia", "hardwaretype": "mobile"},
        ),
    ]
    assert catalog.feature_names == ["softwaretype", "compatibility", "agegroup", "hardwaretype"]
    assert catalog.features["agegroup"].tolist() == ["", "all", ""]
    assert catalog.features["compatibility"].dtype.kind == "U"


def test_properties(tmp_path: Path) -> None:
    catalog, _ = parse_text(tmp_path, "A,Alpha,Cat1,Desc a, color=red\nB,Beta,Cat2\n")
    props = catalog.properties()
    assert list(props) == ["name", "category", "description", "color"]
    assert props["name"].tolist() == ["Alpha", "Beta"]
    assert props["category"].tolist() == ["Cat1", "Cat2"]
    assert props["description"].tolist() == ["Desc a", ""]
    assert props["color"].tolist() == ["red", ""]
    assert all(len(v) == catalog.n_items for v in props.values())


def test_descriptions_and_features(tmp_path: Path) -> None:
    text = (
        "A,n,c,A fine description\n"
        "B,n,c,A fine description, size = XL ,, color=dark blue\n"
        "C,n,c,,\n"
        "D,n,,\n"  # empty category is allowed
        'E,"Name, quoted",c,"He said ""hi"", twice",tag=x\n'
        "F,n,c,E=mc2 looks like a feature\n"  # so it is one (the reference's rule)
        "G,n,c,the ratio a = b is a description\n"
    )
    catalog, report = parse_text(tmp_path, text)
    assert report.errors == []
    assert rows_of(catalog) == [
        ("A", "n", "c", "A fine description", {}),
        ("B", "n", "c", "A fine description", {"size": "XL", "color": "dark blue"}),
        ("C", "n", "c", "", {}),
        ("D", "n", "", "", {}),
        ("E", "Name, quoted", "c", 'He said "hi", twice', {"tag": "x"}),
        ("F", "n", "c", "", {"E": "mc2 looks like a feature"}),
        ("G", "n", "c", "the ratio a = b is a description", {}),
    ]


def test_fourth_field_feature_means_no_description(tmp_path: Path) -> None:
    catalog, report = parse_text(tmp_path, "A,n,c,E=mc2\nB,n,c, k = v ,desc-like\n")
    assert rows_of(catalog) == [("A", "n", "c", "", {"E": "mc2"})]
    # After a 4th-field feature, every further field must be a feature.
    assert errors_of(report) == {"MalformedCatalogItemFeature": (1, "catalog.csv", 2)}


def test_twenty_features_allowed(tmp_path: Path) -> None:
    features = ",".join(f"f{k}=v{k}" for k in range(20))
    catalog, report = parse_text(tmp_path, f"A,n,c,,{features}\n")
    assert report.errors == []
    assert len(catalog.features) == 20


def test_whitespace_crlf_bom_and_blank_lines(tmp_path: Path) -> None:
    text = b"\xef\xbb\xbf A , n , c \r\n\r\n  \nB,n2,c2"
    catalog, report = parse_text(tmp_path, text)
    assert report.errors == []
    assert report.total_lines_count == 2
    assert rows_of(catalog) == [("A", "n", "c", "", {}), ("B", "n2", "c2", "", {})]


# --------------------------------------------------------------------------
# Every error code

ERROR_LINES = [
    ('"A,n,c', "MalformedLine"),  # unbalanced quote
    ('"A"x,n,c', "MalformedLine"),
    ("A,n," + "c" * 256, "MalformedLine"),  # category too long
    ("A," + "n" * 256 + ",c", "MalformedLine"),  # name too long
    ("A,n,c," + "d" * 4001, "MalformedLine"),  # description too long
    ("A,n", "MissingFields"),
    ("A", "MissingFields"),
    (",n,c", "MissingFields"),
    ('"",n,c', "MissingFields"),
    ("A" * 451 + ",n,c", "ItemIdTooLong"),
    ("A B,n,c", "IllegalCharactersInItemId"),
    ("A.1,n,c", "IllegalCharactersInItemId"),
    ("Ä1,n,c", "IllegalCharactersInItemId"),
    ("A,n,c,desc,notafeature", "MalformedCatalogItemFeature"),
    ("A,n,c,desc,=value", "MalformedCatalogItemFeature"),
    ("A,n,c,desc,name=", "MalformedCatalogItemFeature"),
    ("A,n,c,desc,k=v=w", "MalformedCatalogItemFeature"),
    ("A,n,c,desc,two words=v", "MalformedCatalogItemFeature"),
    ("A,n,c,desc,k=v,k=w", "MalformedCatalogItemFeature"),  # same feature twice
    ("A,n,c,desc,category=x", "MalformedCatalogItemFeature"),  # reserved name
    ("A,n,c,," + ",".join(f"f{k}=v" for k in range(21)), "MalformedCatalogItemFeature"),
    ("A,n,c,,f=" + "v" * 4001, "MalformedCatalogItemFeature"),
    ("G1,Other,Things", "DuplicateItemId"),
]


@pytest.mark.parametrize(("line", "code"), ERROR_LINES)
def test_each_error_code(tmp_path: Path, line: str, code: str) -> None:
    catalog, report = parse_text(tmp_path, f"{GOOD}\n{line}\nG2,n,c\n")
    assert errors_of(report) == {code: (1, "catalog.csv", 2)}
    assert report.total_lines_count == 3
    assert report.successful_lines_count == 2
    assert catalog.items.ids.tolist() == ["G1", "G2"]


def test_limits_are_inclusive(tmp_path: Path) -> None:
    item, name, desc = "A" * 450, "n" * 255, "d" * 4000
    catalog, report = parse_text(tmp_path, f"{item},{name},{'c' * 255},{desc}\n")
    assert report.errors == []
    assert catalog.items.ids.tolist() == [item]
    assert catalog.descriptions.tolist() == [desc]


def test_invalid_utf8_is_malformed(tmp_path: Path) -> None:
    catalog, report = parse_text(tmp_path, b"A,n,c\nB,\xff,c\nC,caf\xc3\xa9,c\n")
    assert errors_of(report) == {"MalformedLine": (1, "catalog.csv", 2)}
    assert catalog.names.tolist() == ["n", "café"]


def test_duplicates_keep_the_first_valid_line(tmp_path: Path) -> None:
    text = "A,bad,c,d,oops\nA,first,c\nB,n,c\nA,second,c\n\nA,third,c\n"
    catalog, report = parse_text(tmp_path, text)
    assert errors_of(report) == {
        "MalformedCatalogItemFeature": (1, "catalog.csv", 1),
        "DuplicateItemId": (2, "catalog.csv", 4),
    }
    assert catalog.items.ids.tolist() == ["A", "B"]
    assert catalog.names.tolist() == ["first", "n"]
    assert (report.successful_lines_count, report.total_lines_count) == (2, 5)


def test_counts_and_samples(tmp_path: Path) -> None:
    text = 'A,n\n\nB,n,c\nC\n"D,n,c\nE,n,c\nF F,n,c\nG,n\n'
    catalog, report = parse_text(tmp_path, text)
    assert errors_of(report) == {
        "MissingFields": (3, "catalog.csv", 1),
        "MalformedLine": (1, "catalog.csv", 5),
        "IllegalCharactersInItemId": (1, "catalog.csv", 7),
    }
    assert catalog.items.ids.tolist() == ["B", "E"]
    assert report.total_lines_count == 7
    assert report.to_dict()["successfulLinesCount"] == 2


def test_tiny_blocks_give_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        b"\xef\xbb\xbfA,n,c,d,k=v\n\nB,\xff,c\nA,dup,c\nC,n\xc3\xa9,c, k=w\r\n"
        b'"D,n,c\nE,"x,y",c\nF,n,c'
    )
    expected_catalog, expected_report = parse_text(tmp_path, text)
    assert expected_catalog.items.ids.tolist() == ["A", "C", "E", "F"]
    assert errors_of(expected_report) == {
        "MalformedLine": (2, "catalog.csv", 3),
        "DuplicateItemId": (1, "catalog.csv", 4),
    }
    for size in (1, 2, 3, 10):
        monkeypatch.setattr(catalog_mod, "_BLOCK_BYTES", size)
        catalog, report = parse_text(tmp_path, text)
        assert rows_of(catalog) == rows_of(expected_catalog)
        assert errors_of(report) == errors_of(expected_report)
        assert report.total_lines_count == expected_report.total_lines_count == 7


# --------------------------------------------------------------------------
# Failures


def test_all_bad_file_fails(tmp_path: Path) -> None:
    with pytest.raises(ParsingFailed) as info:
        parse_text(tmp_path, "a\nb\n\nc,d\n", name="items.csv")
    err = info.value
    assert "has no valid item (3 lines, 3 errors: MissingFields x3)" in err.message
    assert err.detail["errors"] == [
        {"error": "MissingFields", "count": 3, "sample": {"file": "items.csv", "line": 1}}
    ]
    assert err.detail["totalLinesCount"] == 3
    assert err.detail["successfulLinesCount"] == 0


def test_empty_file_fails(tmp_path: Path) -> None:
    with pytest.raises(ParsingFailed, match="no non-blank line"):
        parse_text(tmp_path, "")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"nope\.csv"):
        parse_catalog_file(tmp_path / "nope.csv")


def test_folder_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="not a file"):
        parse_catalog_file(tmp_path)


# --------------------------------------------------------------------------
# Property: random mixes of good and bad lines

_BAD = {
    "": None,
    "  ": None,
    "X,n": "MissingFields",
    "X Y,n,c": "IllegalCharactersInItemId",
    "X,n,c,d,junk": "MalformedCatalogItemFeature",
    '"X,n,c': "MalformedLine",
}
_TEXT = st.text("abc XYZ-.!?", max_size=8).map(str.strip)
_FEATURE_NAMES = st.sampled_from(["color", "size", "kind", "brand"])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(
                _TEXT,
                _TEXT,
                st.one_of(st.just(""), _TEXT.map(lambda s: s.replace("=", ""))),
                st.dictionaries(_FEATURE_NAMES, st.text("abc123", min_size=1, max_size=4)),
            ),
            st.sampled_from(sorted(_BAD)),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_property_good_lines_come_back(rows: list[object]) -> None:
    lines: list[str] = []
    expected = []
    expected_errors: dict[str, tuple[int, str, int]] = {}
    for number, row in enumerate(rows, start=1):
        if isinstance(row, str):
            lines.append(row)
            code = _BAD[row]
            if code is not None:
                count, file, first = expected_errors.get(code, (0, "catalog.csv", number))
                expected_errors[code] = (count + 1, file, first)
            continue
        assert isinstance(row, tuple)
        name, category, description, features = row
        item_id = f"item{number}"
        feats = "".join(f", {k}={v}" for k, v in features.items())
        lines.append(f'{item_id},"{name}",{category},{description}{feats}')
        expected.append((item_id, name, category, description, features))
    non_blank = sum(1 for line in lines if line.strip())
    with tempfile.TemporaryDirectory() as folder:
        try:
            catalog, report = parse_text(Path(folder), "\n".join(lines) + "\n")
        except ParsingFailed as err:
            assert not expected
            assert err.detail["totalLinesCount"] == non_blank
            return
    assert rows_of(catalog) == expected
    assert errors_of(report) == expected_errors
    assert report.successful_lines_count + sum(e.count for e in report.errors) == non_blank
    assert report.total_lines_count == non_blank
    for values in catalog.features.values():
        assert values.shape == (catalog.n_items,)
    assert np.array_equal(catalog.properties()["name"], catalog.names)
