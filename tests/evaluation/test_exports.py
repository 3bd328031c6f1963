from __future__ import annotations

import ast
import doctest
import importlib
import pathlib

import pytest

import recostack.evaluation as evaluation

MODULES = [
    "recostack.evaluation.precision",
    "recostack.evaluation.recall",
    "recostack.evaluation.ndcg",
    "recostack.evaluation.map",
    "recostack.evaluation.coverage",
    "recostack.evaluation.diversity",
    "recostack.evaluation.report",
    "recostack.evaluation.splits",
    "recostack.evaluation.metrics_check",
]


def test_public_api() -> None:
    assert sorted(evaluation.__all__) == [
        "DiversityMetrics",
        "EvaluationMetrics",
        "MetricsCheck",
        "PercentileBucket",
        "catalog_coverage",
        "check_metrics",
        "chronological_split",
        "diversity_metrics",
        "evaluation_metrics",
        "item_popularity",
        "leave_last_out",
        "map_at_k",
        "map_at_k_per_user",
        "map_legacy",
        "map_legacy_per_user",
        "ndcg_at_k",
        "ndcg_per_user",
        "precision_at_k",
        "precision_per_user",
        "recall_at_k",
        "recall_per_user",
        "stratified_split",
    ]
    for name in evaluation.__all__:
        assert getattr(evaluation, name) is not None


@pytest.mark.parametrize("name", MODULES)
def test_module_exports_exist_and_doctests_pass(name: str) -> None:
    module = importlib.import_module(name)
    for export in module.__all__:
        assert hasattr(module, export), export
    failures, _ = doctest.testmod(module)
    assert failures == 0


def test_one_metric_per_module_contract() -> None:
    for name in ("precision", "recall", "ndcg", "map"):
        module = importlib.import_module(f"recostack.evaluation.{name}")
        assert callable(module.measure) and callable(module.per_user)


def test_only_numeric_imports() -> None:
    """Pure numpy/scipy: no I/O, web or storage modules are imported."""
    allowed = {"__future__", "collections", "dataclasses", "math", "typing", "numpy", "scipy"}
    src = pathlib.Path(evaluation.__file__).parent
    for path in src.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                ok = name.split(".")[0] in allowed or name == "recostack.errors"
                ok = ok or name.startswith("recostack.evaluation")
                assert ok, f"{path.name} imports {name}"
