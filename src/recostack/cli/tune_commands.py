"""``recostack tune``: search algorithms and parameters on local usage, write a training body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from recostack.cli import app
from recostack.cli.model_commands import _parse_params
from recostack.data.catalog import parse_catalog_file
from recostack.data.usage import parse_usage_path
from recostack.errors import Invalid, NotFound
from recostack.training.parameters import TrainingParameters, parse_training_parameters
from recostack.training.tuning import SearchResult, TrialRecord, search_parameters

console = Console(soft_wrap=True)


def _format_parameters(parameters: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in parameters.items()
        if k != "algorithm"
    )


def _trials_table(result: SearchResult) -> Table:
    best = result.best
    table = Table(title=f"{len(result.trials)} trials, {result.search.metric} on validation")
    table.add_column("#", justify="right")
    table.add_column("algorithm")
    table.add_column("parameters")
    table.add_column(result.search.metric, justify="right")
    table.add_column("s", justify="right")
    for t in result.trials:
        value = "[red]failed[/red]" if t.value is None else f"{t.value:.4f}"
        style = "bold green" if best is not None and t.number == best.number else None
        table.add_row(
            str(t.number),
            t.algorithm,
            _format_parameters(t.parameters) + (f" ({t.error})" if t.error else ""),
            value,
            f"{t.seconds:.2f}",
            style=style,
        )
    return table


def training_body(
    result: SearchResult, base: TrainingParameters, catalog: Path | None, usage: Path
) -> dict[str, Any]:
    """A ``POST /api/models`` body: the parameters given, with the best trial's choices."""
    best = result.best
    assert best is not None
    body = base.model_dump(
        by_alias=True, mode="json", exclude_defaults=True, exclude={"hyperparameter_search"}
    )
    body.update(best.parameters)
    body["usageRelativePath"] = usage.name
    if catalog is not None:
        body["catalogFileRelativePath"] = catalog.name
    body.setdefault(
        "description", f"tuned: {best.algorithm}, {result.search.metric} {best.value:.4f}"
    )
    parse_training_parameters(body)  # the API will accept it
    return body


@app.command()
def tune(
    usage: Annotated[Path, typer.Option(help="usage file or folder of usage files")],
    catalog: Annotated[Path | None, typer.Option(help="catalog file")] = None,
    algorithms: Annotated[
        str, typer.Option(help="comma-separated: sar, itemknn, ease, popularity")
    ] = "sar,itemknn,ease",
    metric: Annotated[str, typer.Option(help="ndcg@k, precision@k, recall@k or map@k")] = (
        "ndcg@10"
    ),
    trials: Annotated[int, typer.Option(help="number of trials")] = 30,
    validation: Annotated[
        str, typer.Option(help="chronological (each user's latest events) or stratified")
    ] = "chronological",
    validation_ratio: Annotated[
        float, typer.Option(help="share of each user's events the trials train on")
    ] = 0.8,
    seed: Annotated[
        int, typer.Option(help="seed of the TPE sampler (and a stratified split)")
    ] = 42,
    time_budget: Annotated[
        float, typer.Option(help="seconds; no trial starts after this")
    ] = 1800.0,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="fixed training parameter, name=value"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="write the POST /api/models body of the best model here")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the search as JSON")] = False,
) -> None:
    """Search algorithms and parameters (Optuna TPE) on a validation split of the usage."""
    for path, flag in ((usage, "--usage"), (catalog, "--catalog")):
        if path is not None and not path.exists():
            raise NotFound(f"{flag} {path} does not exist", field=flag)
    search_body = {
        "algorithms": [a.strip() for a in algorithms.split(",") if a.strip()],
        "metric": metric,
        "trials": trials,
        "validation": validation,
        "validationRatio": validation_ratio,
        "seed": seed,
        "timeBudgetSeconds": time_budget,
    }
    base = parse_training_parameters(
        {
            "usageRelativePath": usage.name,
            **_parse_params(param or []),
            "hyperparameterSearch": search_body,
        }
    )
    assert base.hyperparameter_search is not None
    parsed_catalog = parse_catalog_file(catalog)[0] if catalog is not None else None
    usage_data, _ = parse_usage_path(
        usage, known_items=parsed_catalog.items if parsed_catalog is not None else None
    )

    def report(trial: TrialRecord) -> None:
        if not as_json:
            value = "failed" if trial.value is None else f"{trial.value:.4f}"
            console.print(
                f"trial {trial.number:>3}  {trial.algorithm:<10} {value:>8}  "
                f"{_format_parameters(trial.parameters)}",
                highlight=False,
            )

    result = search_parameters(
        base, usage_data, base.hyperparameter_search, catalog=parsed_catalog, on_trial=report
    )
    best = result.best
    if best is None:
        raise Invalid(f"all {len(result.trials)} trials failed", field="--trials")
    body = training_body(result, base, catalog, usage)
    if out is not None:
        out.write_text(json.dumps(body, indent=2) + "\n")
    if as_json:
        typer.echo(json.dumps({"search": result.to_wire(), "trainingBody": body}, indent=2))
        return
    console.print(_trials_table(result))
    console.print(
        f"best: trial {best.number}, {best.algorithm} ({_format_parameters(best.parameters)}), "
        f"{result.search.metric} {best.value:.4f}; stopped by {result.stopped_by}",
        highlight=False,
    )
    if out is not None:
        console.print(f"training body written to {out} (POST /api/models)")
    else:
        console.print_json(json.dumps(body))
