"""``recostack train | recommend | evaluate | demo``: models on local files, no server."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from recostack.cli import app
from recostack.data.datasets import cache_dir, movielens_100k_files
from recostack.data.usage import parse_usage_path
from recostack.errors import Invalid, NotFound
from recostack.training.fitting import evaluate_model
from recostack.training.parameters import parse_training_parameters
from recostack.training.pipeline import TrainingResult, train_from_paths
from recostack.training.trained_model import TrainedModel, UsageEvent

console = Console(soft_wrap=True)  # long paths and URLs stay on one line


def _parse_params(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise Invalid(f"--param takes name=value, got {pair!r}", field="param")
        low = value.strip().lower()
        parsed: Any = value
        if low in ("true", "false"):
            parsed = low == "true"
        else:
            try:
                parsed = int(value)
            except ValueError:
                try:
                    parsed = float(value)
                except ValueError:
                    parsed = value
        out[name.strip()] = parsed
    return out


def _train_with_progress(
    params: dict[str, Any],
    usage: Path,
    catalog: Path | None,
    evaluation: Path | None,
    out: Path,
) -> TrainingResult:
    parameters = parse_training_parameters({"usageRelativePath": usage.name, **params})
    for path, flag in ((usage, "--usage"), (catalog, "--catalog"), (evaluation, "--eval")):
        if path is not None and not path.exists():
            raise NotFound(f"{flag} {path} does not exist", field=flag)
    with Progress(
        TextColumn("[bold]{task.description:<18}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=1.0)

        def progress(stage: str, fraction: float) -> None:
            bar.update(task, description=stage, completed=fraction)

        return train_from_paths(
            parameters,
            usage_path=usage,
            catalog_path=catalog,
            evaluation_path=evaluation,
            out_dir=out,
            progress=progress,
        )


def _metric(metrics: dict[str, Any], key: str, k: int = 10) -> str:
    for entry in metrics.get(key, []):
        if entry.get("k") == k:
            value = entry.get("value", entry.get("percentage"))
            return f"{value:.4f}" if isinstance(value, float) else str(value)
    return "-"


def _summary(stats: dict[str, Any], title: str) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("statistic", style="bold")
    table.add_column("value")
    for key in (
        "algorithm",
        "numberOfUsers",
        "numberOfUsageItems",
        "numberOfUsageEvents",
        "numberOfCatalogItems",
        "catalogCoverage",
        "similarityNonZeros",
        "trainingDuration",
        "totalDuration",
    ):
        if stats.get(key) is not None:
            table.add_row(key, str(stats[key]))
    for key in ("catalogParsing", "usageEventsParsing"):
        report = stats.get(key)
        if report:
            errors = ", ".join(f"{e['error']}×{e['count']}" for e in report["errors"]) or "none"
            lines = f"{report['successfulLinesCount']}/{report['totalLinesCount']} lines"
            table.add_row(key, f"{lines}; errors: {errors}")
    if stats.get("catalogFeatureWeights"):
        weights = sorted(stats["catalogFeatureWeights"].items(), key=lambda kv: -abs(kv[1]))[:5]
        table.add_row("catalogFeatureWeights", ", ".join(f"{k}={v:.4f}" for k, v in weights))
    evaluation = stats.get("evaluation") or {}
    metrics = evaluation.get("metrics")
    if metrics:
        table.add_row("usersInTest", str(metrics["precisionMetrics"][0]["usersInTest"]))
        table.add_row("precision@10 (%)", _metric(metrics, "precisionMetrics"))
        table.add_row("recall@10", _metric(metrics, "recallMetrics"))
        table.add_row("nDCG@10", _metric(metrics, "ndcgMetrics"))
        table.add_row("MAP@10", _metric(metrics, "mapMetrics"))
        table.add_row("catalogCoverage (recs)", f"{metrics.get('catalogCoverage', 0):.4f}")
        buckets = metrics["diversityMetrics"]["percentileBuckets"]
        table.add_row(
            "diversity buckets",
            ", ".join(f"{b['min']}-{b['max']}: {b['percentage']:.1f}%" for b in buckets),
        )
    return table


@app.command()
def train(
    usage: Annotated[Path, typer.Option(help="usage file or folder of usage files")],
    out: Annotated[Path, typer.Option(help="directory to write the model to")],
    catalog: Annotated[Path | None, typer.Option(help="catalog file")] = None,
    eval_usage: Annotated[
        Path | None, typer.Option("--eval", help="evaluation usage file or folder")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="training parameter, name=value (reference names)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print statistics as JSON")] = False,
    engine: Annotated[
        str, typer.Option(help="local, or spark (SAR's co-occurrences on Apache Spark)")
    ] = "local",
    master: Annotated[
        str | None,
        typer.Option(
            help="the Spark master (local[*], spark://host:7077, ...) [env RECOSTACK_SPARK_MASTER]"
        ),
    ] = None,
) -> None:
    """Train a model from local files and save it to a directory."""
    if master is not None:
        os.environ["RECOSTACK_SPARK_MASTER"] = master
    params = {**_parse_params(param or []), "engine": engine}
    result = _train_with_progress(params, usage, catalog, eval_usage, out)
    if as_json:
        typer.echo(json.dumps(result.statistics, indent=2))
    else:
        console.print(_summary(result.statistics, f"model saved to {out}"))


def _load(model: Path) -> TrainedModel:
    if not (model / "model.json").exists():
        raise NotFound(f"{model} is not a model directory (no model.json)", field="--model")
    return TrainedModel.load(model)


def _print_recommendations(title: str, recs: list[Any]) -> None:
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("recommendedItemId")
    table.add_column("score", justify="right")
    for i, rec in enumerate(recs, 1):
        table.add_row(str(i), rec.item_id, f"{rec.score:.6f}")
    console.print(table)


@app.command()
def recommend(
    model: Annotated[Path, typer.Option(help="model directory")],
    item: Annotated[str | None, typer.Option(help="seed item id (item-to-item)")] = None,
    user: Annotated[str | None, typer.Option(help="user id (personalized)")] = None,
    event: Annotated[
        list[str] | None, typer.Option("--event", help="recent item id of the user (repeatable)")
    ] = None,
    count: Annotated[int, typer.Option(help="recommendationCount, 1..100")] = 10,
) -> None:
    """Print recommendations of a saved model."""
    if (item is None) == (user is None and not event):
        raise Invalid("give either --item, or --user and/or --event", field="--item")
    loaded = _load(model)
    if item is not None:
        _print_recommendations(f"items like {item}", loaded.recommend_item(item, count))
        return
    if user is not None and not loaded.options.enable_user_to_item and not event:
        raise Invalid(
            "this model was trained without enableUserToItemRecommendations; pass --event",
            field="--user",
        )
    events = [UsageEvent(item_id=e) for e in (event or [])]
    _print_recommendations(
        f"for user {user or '(anonymous)'}", loaded.recommend_events(events, count, user)
    )


@app.command()
def evaluate(
    model: Annotated[Path, typer.Option(help="model directory")],
    usage: Annotated[Path, typer.Option(help="test usage file or folder")],
    train_usage: Annotated[
        Path | None,
        typer.Option("--train", help="training usage (needed unless the model stores histories)"),
    ] = None,
) -> None:
    """Evaluate a saved model on test usage: precision/recall/nDCG/MAP@k and diversity."""
    loaded = _load(model)
    test, report = parse_usage_path(usage, known_items=loaded.items)
    if train_usage is not None:
        from recostack.algorithms.interactions import Interactions, affinity_matrix

        train_data, _ = parse_usage_path(train_usage, known_items=loaded.items)
        inter = Interactions(
            len(train_data.users),
            len(train_data.items),
            train_data.user_index,
            train_data.item_index,
            train_data.timestamp,
            train_data.weight,
        )
        history = affinity_matrix(
            inter,
            weighted=loaded.options.enable_user_affinity,
            half_life_days=loaded.options.half_life_days
            if loaded.options.enable_user_affinity
            else None,
        )
        users = train_data.users
    elif loaded.history is not None and loaded.users is not None:
        history, users = loaded.history, loaded.users
    else:
        raise Invalid(
            "the model stores no user histories (trained without "
            "enableUserToItemRecommendations): pass --train with the training usage",
            field="--train",
        )
    metrics = evaluate_model(loaded, history, users, test)
    console.print(
        _summary(
            {"usageEventsParsing": report.to_dict(), "evaluation": {"metrics": metrics}},
            f"evaluation of {model}",
        )
    )


#: the candidates of ``recostack demo``: name, training parameters beside the shared ones
DEMO_CANDIDATES: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "SAR Jaccard",
        {
            "algorithm": "sar",
            "similarityFunction": "Jaccard",
            "supportThreshold": 3,
            "enableUserAffinity": True,
        },
    ),
    ("BM25 ItemKNN", {"algorithm": "itemknn"}),
    ("EASE", {"algorithm": "ease"}),
)


def _comparison(results: dict[str, TrainingResult], best: str) -> Table:
    table = Table(title="MovieLens 100K: the candidates on the held-out test events")
    for column in ("model", "P@10 (%)", "R@10", "nDCG@10", "MAP@10", "training"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, result in results.items():
        metrics = result.statistics["evaluation"]["metrics"]
        table.add_row(
            name + (" (best)" if name == best else ""),
            _metric(metrics, "precisionMetrics"),
            _metric(metrics, "recallMetrics"),
            _metric(metrics, "ndcgMetrics"),
            _metric(metrics, "mapMetrics"),
            str(result.statistics["trainingDuration"]),
            style="bold green" if name == best else None,
        )
    return table


def _ndcg_at_10(result: TrainingResult) -> float:
    for entry in result.statistics["evaluation"]["metrics"]["ndcgMetrics"]:
        if entry["k"] == 10:
            return float(entry["value"])
    return 0.0


@app.command()
def demo(
    out: Annotated[
        Path | None, typer.Option(help="where to save the models (default: a temp dir)")
    ] = None,
) -> None:
    """Train SAR, BM25 ItemKNN and EASE on MovieLens 100K, compare them, show the best's answers."""
    data_dir = cache_dir() / "movielens-100k"
    console.print(f"[bold]MovieLens 100K[/bold] from the recbole wheel → {data_dir}")
    files = movielens_100k_files(data_dir)
    target = out or Path(tempfile.mkdtemp(prefix="recostack-demo-"))
    shared = {
        "enableUserToItemRecommendations": True,
        "enableColdItemPlacement": True,
        "decayPeriodInDays": 30,
    }
    results: dict[str, TrainingResult] = {}
    for name, params in DEMO_CANDIDATES:
        console.print(f"training {name} ...")
        folder = target / params["algorithm"]
        results[name] = _train_with_progress(
            {**shared, **params}, files["train"], files["catalog"], files["test"], folder
        )
    best = max(results, key=lambda name: _ndcg_at_10(results[name]))
    console.print(_comparison(results, best))
    result = results[best]
    console.print(_summary(result.statistics, f"{best} on MovieLens 100K → {result.model_dir}"))
    model = result.model
    titles = model.properties.get("name")
    names: dict[str, str] = (
        dict(zip(model.items.ids.tolist(), titles.tolist(), strict=False))
        if titles is not None
        else {}
    )
    seed = "m50"
    recs = model.recommend_item(seed, 10)
    table = Table(title=f"{best}, item-to-item: like {names.get(seed, seed)}")
    table.add_column("item")
    table.add_column("title")
    table.add_column("score", justify="right")
    for r in recs:
        table.add_row(r.item_id, names.get(r.item_id, ""), f"{r.score:.4f}")
    console.print(table)
    user = "u1"
    recs = model.recommend_events([], 10, user)
    table = Table(title=f"{best}, personalized: user {user} (stored history)")
    table.add_column("item")
    table.add_column("title")
    table.add_column("score", justify="right")
    for r in recs:
        table.add_row(r.item_id, names.get(r.item_id, ""), f"{r.score:.4f}")
    console.print(table)
