"""The training pipeline end to end on small files: statistics in the reference's schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from recostack.errors import NotFound, TrainingFailed
from recostack.training.parameters import parse_training_parameters
from recostack.training.pipeline import train_model
from recostack.training.trained_model import TrainedModel

CATALOG = """\
b1,Book One,Fiction,,genre=scifi,format=paper
b2,Book Two,Fiction,,genre=scifi,format=ebook
b3,Book Three,Fiction,,genre=fantasy,format=paper
b4,Book Four,History,,genre=history,format=paper
b5,New Book,Fiction,,genre=scifi,format=paper
b2,Duplicate,Fiction
"""


def write_usage(path: Path) -> None:
    lines = []
    for u in range(30):
        items = ["b1", "b2"] if u % 2 == 0 else ["b3", "b4"]
        if u % 3 == 0:
            items.append("b3")
        for j, item in enumerate(items):
            lines.append(f"user{u},{item},2026-01-{1 + j:02d}T10:00:00,Purchase")
    lines.append("bad user!,b1,2026-01-01T00:00:00")
    lines.append("user1,zz9,2026-01-01T00:00:00")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def container(tmp_path: Path) -> Path:
    root = tmp_path / "input-files"
    (root / "train").mkdir(parents=True)
    (root / "catalog.csv").write_text(CATALOG)
    write_usage(root / "train" / "part1.csv")
    (root / "test.csv").write_text(
        "user0,b3,2026-02-01T00:00:00\nuser1,b1,2026-02-01T00:00:00\nghost,b1,2026-02-01T00:00:00\n"
    )
    return root


def params(**extra: object):  # type: ignore[no-untyped-def]
    return parse_training_parameters(
        {
            "blobContainerName": "input-files",
            "usageRelativePath": "train",
            "catalogFileRelativePath": "catalog.csv",
            "evaluationUsageRelativePath": "test.csv",
            "supportThreshold": 3,
            "enableColdItemPlacement": True,
            **extra,
        }
    )


def test_statistics_follow_the_reference_schema(container: Path, tmp_path: Path) -> None:
    result = train_model(params(), container_dir=container, out_dir=tmp_path / "model")
    s = result.statistics
    for key in (
        "totalDuration",
        "trainingDuration",
        "catalogParsing",
        "usageEventsParsing",
        "numberOfCatalogItems",
        "numberOfUsers",
        "numberOfUsageItems",
        "catalogCoverage",
        "evaluation",
        "catalogFeatureWeights",
    ):
        assert key in s, key
    assert s["numberOfCatalogItems"] == 5
    assert s["numberOfUsageItems"] == 4
    assert s["catalogCoverage"] == pytest.approx(4 / 5)
    catalog_errors = {e["error"]: e for e in s["catalogParsing"]["errors"]}
    assert catalog_errors["DuplicateItemId"]["sample"] == {"file": "catalog.csv", "line": 6}
    usage = s["usageEventsParsing"]
    codes = {e["error"]: e["count"] for e in usage["errors"]}
    assert codes == {"IllegalCharactersInUserId": 1, "UnknownItemId": 1}
    assert usage["totalLinesCount"] == usage["successfulLinesCount"] + 2
    assert set(s["catalogFeatureWeights"]) == {"genre", "format"}
    metrics = s["evaluation"]["metrics"]
    assert [m["k"] for m in metrics["precisionMetrics"]] == list(range(1, 11))
    assert metrics["precisionMetrics"][0]["usersInTest"] == 2  # "ghost" has no history
    buckets = metrics["diversityMetrics"]["percentileBuckets"]
    assert [(b["min"], b["max"]) for b in buckets] == [(0, 90), (90, 99), (99, 100)]
    # the artifacts load and serve
    model = TrainedModel.load(tmp_path / "model")
    assert model.statistics == s
    assert "b2" in [r.item_id for r in model.recommend_item("b1", 2)]


def test_cold_item_with_known_features_is_placed(container: Path, tmp_path: Path) -> None:
    result = train_model(params(), container_dir=container, out_dir=tmp_path / "m")
    recs = [r.item_id for r in result.model.recommend_item("b5", 3)]
    assert recs  # b5 has no usage but shares genre/format with b1
    assert result.statistics["coldItemsPlaced"] == 1


def test_no_valid_usage_fails_with_the_parsing_report(container: Path, tmp_path: Path) -> None:
    (container / "bad.csv").write_text("x\n,,\nu1,b1,yesterday\n")
    with pytest.raises(TrainingFailed) as err:
        train_model(
            params(usageRelativePath="bad.csv"), container_dir=container, out_dir=tmp_path / "m"
        )
    report = err.value.detail["usageEventsParsing"]
    assert report["successfulLinesCount"] == 0
    assert {e["error"] for e in report["errors"]} == {"MissingFields", "BadTimestampFormat"}
    assert "catalogParsing" in err.value.detail
    assert not (tmp_path / "m").exists()


def test_missing_files_name_the_parameter(container: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFound) as err:
        train_model(params(usageRelativePath="nope"), container_dir=container, out_dir=tmp_path)
    assert err.value.field == "usageRelativePath"
    with pytest.raises(NotFound) as err:
        train_model(
            params(catalogFileRelativePath="nope.csv"), container_dir=container, out_dir=tmp_path
        )
    assert err.value.field == "catalogFileRelativePath"
