"""``recostack tune``: trials table, best parameters, a training body the API accepts."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import recostack.cli.tune_commands  # noqa: F401  (registers the command)
from conftest import write_catalog, write_usage
from recostack.cli import app
from recostack.training.parameters import parse_training_parameters


def test_tune_prints_trials_and_writes_a_training_body(tmp_path: Path) -> None:
    usage = write_usage(tmp_path / "usage.csv", users=40, items=12, per_user=6)
    catalog = write_catalog(tmp_path / "catalog.csv")
    out = tmp_path / "body.json"
    result = CliRunner().invoke(
        app,
        [
            "tune",
            "--usage",
            str(usage),
            "--catalog",
            str(catalog),
            "--algorithms",
            "itemknn,ease",
            "--trials",
            "4",
            "--out",
            str(out),
            "-p",
            "enableBackfilling=false",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("trial ") >= 4
    assert "best: trial" in result.output
    body = json.loads(out.read_text())
    params = parse_training_parameters(body)  # what POST /api/models validates
    assert params.algorithm.value in ("itemknn", "ease")
    assert body["usageRelativePath"] == "usage.csv"
    assert body["catalogFileRelativePath"] == "catalog.csv"
    assert body["enableBackfilling"] is False  # fixed parameters are kept
    assert "hyperparameterSearch" not in body


def test_tune_json_reports_the_search(tmp_path: Path) -> None:
    usage = write_usage(tmp_path / "usage.csv", users=30, items=10, per_user=5)
    result = CliRunner().invoke(
        app,
        [
            "tune",
            "--usage",
            str(usage),
            "--algorithms",
            "popularity",
            "--trials",
            "2",
            "--validation",
            "stratified",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["search"]["trialsRun"] == 2
    assert report["search"]["validation"] == "stratified"
    assert report["trainingBody"]["algorithm"] == "popularity"


def test_tune_rejects_an_unknown_metric(tmp_path: Path) -> None:
    usage = write_usage(tmp_path / "usage.csv")
    result = CliRunner().invoke(
        app, ["tune", "--usage", str(usage), "--metric", "auc", "--trials", "1"]
    )
    assert result.exit_code != 0
    assert "metric" in str(result.exception)
