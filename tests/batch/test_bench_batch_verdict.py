"""``bench/batch.py`` fails (exit 1, ``lines_mismatch`` in its JSON) when an engine's output
has not one line per input line. The benchmark itself is not run: its data and model are
the test's small trained model, and each engine's job result is given."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from recostack.settings import Settings

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _bench_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH))  # the script imports _common and _data
    spec = importlib.util.spec_from_file_location("bench_batch_under_test", BENCH / "batch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _result(lines_in: int, lines_out: int) -> dict[str, Any]:
    return {
        "status": "ACTIVE",
        "failure": None,
        "seconds": 1.0,
        "lines_in": lines_in,
        "lines_out": lines_out,
        "lines_failed": 0,
        "users_per_second": lines_in,
        "peak_rss_gb": 0.5,
    }


@pytest.mark.parametrize(
    ("spark_lines_out", "exit_code", "mismatch"), [(24, 0, []), (23, 1, ["spark"])]
)
def test_a_line_count_mismatch_fails_the_benchmark(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    settings: Settings,
    trained_model: dict[str, Any],
    spark_lines_out: int,
    exit_code: int,
    mismatch: list[str],
) -> None:
    bench = _bench_module(monkeypatch)
    results = {"local": _result(24, 24), "spark": _result(24, spark_lines_out)}
    monkeypatch.setenv("RECOSTACK_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(bench, "trained_model", lambda _: settings.models_dir / trained_model["id"])
    monkeypatch.setattr(bench, "run_job", lambda _model, _source, engine: dict(results[engine]))
    monkeypatch.setattr(sys, "argv", ["batch.py", "--json", "--users", "24"])
    assert bench.main() == exit_code
    captured = capsys.readouterr()
    figures = json.loads(captured.out)
    assert figures["lines_mismatch"] == mismatch
    assert figures["local"]["lines_match"] is True
    assert figures["spark"]["lines_match"] is (not mismatch)
    assert ("MISMATCH" in captured.err) is bool(mismatch)
