"""Train a model from files: parse, search, fit, place cold items, evaluate, save.

This is what ``POST /api/models`` runs in a worker and what ``recostack
train`` runs in the terminal. It touches only the files it is given and the
output directory; statistics come back in the reference's schema.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recostack.data.catalog import Catalog, parse_catalog_file
from recostack.data.report import format_timespan
from recostack.data.usage import UsageData, parse_usage_path
from recostack.errors import NotFound, ParsingFailed, TrainingFailed
from recostack.training.fitting import Progress, evaluate_model, fit_model
from recostack.training.parameters import TrainingParameters
from recostack.training.trained_model import TrainedModel
from recostack.training.tuning import search_parameters

__all__ = ["TrainingResult", "train_from_paths", "train_model"]


@dataclass(frozen=True)
class TrainingResult:
    model: TrainedModel
    statistics: dict[str, Any]
    model_dir: Path


def _resolve(container_dir: Path, relative: str, field: str) -> Path:
    path = (container_dir / relative).resolve()
    root = container_dir.resolve()
    if root != path and root not in path.parents:
        raise NotFound(f"{field} {relative!r} is outside the container", field=field)
    if not path.exists():
        raise NotFound(f"{field} {relative!r} was not found in the container", field=field)
    return path


def _searched_parameters(
    params: TrainingParameters,
    usage: UsageData,
    catalog: Catalog | None,
    stats: dict[str, Any],
    progress: Progress | None,
) -> TrainingParameters:
    """The best parameters of ``params.hyperparameter_search``; the search goes in ``stats``."""
    assert params.hyperparameter_search is not None
    result = search_parameters(
        params, usage, params.hyperparameter_search, catalog=catalog, progress=progress
    )
    stats["hyperparameterSearch"] = result.to_wire()
    if result.best is None:
        raise TrainingFailed(
            f"hyperparameter search: all {len(result.trials)} trials failed "
            f"(first: {result.trials[0].error if result.trials else 'none run'})",
            detail=stats,
        )
    return result.best_parameters(params)


def train_model(
    params: TrainingParameters,
    *,
    container_dir: Path,
    out_dir: Path,
    progress: Progress | None = None,
) -> TrainingResult:
    """Train on the files ``params`` names relative to ``container_dir``; save to ``out_dir``."""
    return train_from_paths(
        params,
        usage_path=_resolve(container_dir, params.usage_relative_path, "usageRelativePath"),
        catalog_path=(
            _resolve(container_dir, params.catalog_file_relative_path, "catalogFileRelativePath")
            if params.catalog_file_relative_path
            else None
        ),
        evaluation_path=(
            _resolve(
                container_dir, params.evaluation_usage_relative_path, "evaluationUsageRelativePath"
            )
            if params.evaluation_usage_relative_path
            else None
        ),
        out_dir=out_dir,
        progress=progress,
    )


def train_from_paths(
    params: TrainingParameters,
    *,
    usage_path: Path,
    out_dir: Path,
    catalog_path: Path | None = None,
    evaluation_path: Path | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """Parse, fit, evaluate and save; statistics in the reference's schema.

    A file without any valid line raises :class:`TrainingFailed` whose
    ``detail`` holds the statistics so far (with the parsing reports).
    """
    started = time.perf_counter()
    stats: dict[str, Any] = {}

    def step(name: str, fraction: float) -> None:
        if progress is not None:
            progress(name, fraction)

    def failed(message: str, exc: Exception) -> TrainingFailed:
        stats["totalDuration"] = format_timespan(time.perf_counter() - started)
        return TrainingFailed(message, detail=stats)

    catalog: Catalog | None = None
    if catalog_path is not None:
        step("parsing catalog", 0.0)
        try:
            catalog, report = parse_catalog_file(catalog_path)
        except ParsingFailed as exc:
            stats["catalogParsing"] = exc.detail
            raise failed(f"catalog: {exc.message}", exc) from exc
        stats["catalogParsing"] = report.to_dict()
    step("parsing usage", 0.0)
    try:
        usage, usage_report = parse_usage_path(
            usage_path, known_items=catalog.items if catalog is not None else None
        )
    except ParsingFailed as exc:
        stats["usageEventsParsing"] = exc.detail
        raise failed(f"usage: {exc.message}", exc) from exc
    stats["usageEventsParsing"] = usage_report.to_dict()

    if params.hyperparameter_search is not None:
        params = _searched_parameters(params, usage, catalog, stats, progress)
    step("training", 0.0)
    fit_started = time.perf_counter()
    fitted = fit_model(params, usage, catalog, progress)
    model = fitted.model
    training_seconds = time.perf_counter() - fit_started
    n_usage_items = int(np.unique(usage.item_index).size)
    stats.update(
        {
            "trainingDuration": format_timespan(training_seconds),
            "numberOfCatalogItems": catalog.n_items if catalog is not None else None,
            "numberOfUsers": len(usage.users),
            "numberOfUsageItems": n_usage_items,
            "numberOfUsageEvents": usage.n_events,
            "catalogCoverage": (
                round(n_usage_items / catalog.n_items, 6) if catalog and catalog.n_items else None
            ),
            "algorithm": params.algorithm.value,
            "similarityNonZeros": model.item_item.nnz,
        }
    )
    stats.update(fitted.extra_statistics)
    if evaluation_path is not None:
        step("evaluating", 0.0)
        eval_started = time.perf_counter()
        try:
            test, test_report = parse_usage_path(evaluation_path, known_items=model.items)
        except ParsingFailed as exc:
            stats["evaluation"] = {"usageEventsParsing": exc.detail}
            raise failed(f"evaluation usage: {exc.message}", exc) from exc
        metrics = evaluate_model(model, fitted.train_history, fitted.train_users, test)
        stats["evaluation"] = {
            "duration": format_timespan(time.perf_counter() - eval_started),
            "usageEventsParsing": test_report.to_dict(),
            "metrics": metrics,
        }
    step("saving", 0.0)
    stats["totalDuration"] = format_timespan(time.perf_counter() - started)
    model.statistics = stats
    model.save(out_dir)
    step("done", 1.0)
    return TrainingResult(model=model, statistics=stats, model_dir=out_dir)
