"""``recostack demo``: SAR, BM25 ItemKNN and EASE trained on MovieLens 100K and compared."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

import recostack.cli.model_commands  # noqa: F401  (registers the command)
from recostack.cli import app


def test_demo_compares_three_models_on_movielens_and_names_the_best(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = {
        name: line
        for line in result.output.splitlines()
        for name in ("SAR Jaccard", "BM25 ItemKNN", "EASE")
        if line.startswith("│") and line.lstrip("│ ").startswith(name)
    }
    assert set(rows) == {"SAR Jaccard", "BM25 ItemKNN", "EASE"}, result.output
    best = [name for name, line in rows.items() if "(best)" in line]
    assert len(best) == 1, result.output

    def ndcg_at_10(folder: Path) -> float:
        statistics = json.loads((folder / "model.json").read_text())["statistics"]
        metrics = statistics["evaluation"]["metrics"]["ndcgMetrics"]
        return float(next(m["value"] for m in metrics if m["k"] == 10))

    scores = {
        name: ndcg_at_10(tmp_path / algorithm)
        for name, algorithm in (
            ("SAR Jaccard", "sar"),
            ("BM25 ItemKNN", "itemknn"),
            ("EASE", "ease"),
        )
    }
    assert best[0] == max(scores, key=scores.__getitem__)
    assert all(0.05 < score < 1 for score in scores.values()), scores
    # the best model's answers: ten items like "m50" with their titles
    assert re.search(r"item-to-item: like .*Star Wars", result.output), result.output
    assert "personalized: user u1" in result.output
