"""``recostack online-learning ...`` and ``recostack evaluate-policy``: over a running server.

``online-learning offers load``, ``feature-store`` and ``create`` set a
configuration up (:mod:`recostack.cli.online_learning_setup`);
``online-learning list``, ``show CONFIG``, ``arms CONFIG [--segment S]``
(a rich table of arms per segment), ``delete CONFIG``, ``report DEPLOYMENT``
(the exploration report); ``evaluate-policy DEPLOYMENT [--config ID]
[--epsilon E] [-p randomisation_x=value] [--candidate-deployment D]
[--max-answers N]`` (IPW, SNIPW, DR with 95 % intervals, effective sample
size, the window of answers read).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from recostack.cli import app, online_learning_setup
from recostack.cli.deployment_commands import DEFAULT_URL, ApiKey, Url
from recostack.client import Client
from recostack.errors import Invalid

__all__ = ["online_app"]

online_app = typer.Typer(
    help="Online learning configurations on a running server.", no_args_is_help=True
)
app.add_typer(online_app, name="online-learning")
offers_app = typer.Typer(help="Offer collections.", no_args_is_help=True)
online_app.add_typer(offers_app, name="offers")
online_app.command("create")(online_learning_setup.create)
online_app.command("feature-store")(online_learning_setup.feature_store)
offers_app.command("load")(online_learning_setup.load_offers)
console = Console()


@online_app.command("list")
def list_configurations(url: Url = DEFAULT_URL, api_key: ApiKey = "") -> None:
    """Every configuration: id, name, algorithm, feature store."""
    with Client(url, api_key) as client:
        table = Table("id", "name", "algorithm", "feature store")
        for c in client.list_online_learning():
            table.add_row(
                c.id,
                c.name,
                c.algorithm,
                f"{c.feature_store_database}.{c.feature_store_collection}",
            )
        console.print(table)


@online_app.command("show")
def show(config_id: str, url: Url = DEFAULT_URL, api_key: ApiKey = "") -> None:
    """Every parameter of a configuration, as JSON."""
    with Client(url, api_key) as client:
        console.print_json(json.dumps(client.get_online_learning(config_id).to_dict()))


@online_app.command("arms")
def arms(
    config_id: str,
    segment: Annotated[str | None, typer.Option(help="one segment only")] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """The options store: one table per segment, offers by posterior mean."""
    with Client(url, api_key) as client:
        rows = client.get_options_store(config_id, segment)
    by_segment: dict[str, list[Any]] = {}
    for arm in rows:
        by_segment.setdefault(arm.segment, []).append(arm)
    for name, arms_here in sorted(by_segment.items()):
        table = Table(
            "offer",
            "alpha",
            "beta",
            "mean",
            "propensity",
            "shown",
            "taken up",
            "declined",
            "last draw",
            title=f"segment {name or '(all)'}",
        )
        for arm in sorted(arms_here, key=lambda a: -a.alpha / (a.alpha + a.beta)):
            table.add_row(
                arm.offer,
                f"{arm.alpha:.3f}",
                f"{arm.beta:.3f}",
                f"{arm.alpha / (arm.alpha + arm.beta):.4f}",
                f"{arm.propensity:.4f}",
                str(arm.shown),
                str(arm.taken_up),
                str(arm.declined),
                "—" if arm.arm_reward is None else f"{arm.arm_reward:.4f}",
            )
        console.print(table)


@online_app.command("delete")
def delete(config_id: str, url: Url = DEFAULT_URL, api_key: ApiKey = "") -> None:
    with Client(url, api_key) as client:
        client.delete_online_learning(config_id)
    console.print(f"deleted {config_id}")


@online_app.command("report")
def report(deployment_id: str, url: Url = DEFAULT_URL, api_key: ApiKey = "") -> None:
    """The exploration report of a deployment."""
    with Client(url, api_key) as client:
        console.print_json(json.dumps(client.get_exploration_report(deployment_id)))


@app.command("evaluate-policy")
def evaluate_policy(
    deployment_id: str,
    config: Annotated[str | None, typer.Option(help="another configuration (id or name)")] = None,
    epsilon: Annotated[float | None, typer.Option(help="randomisation_epsilon")] = None,
    parameter: Annotated[
        list[str] | None, typer.Option("-p", help="randomisation_name=value (repeatable)")
    ] = None,
    candidate_deployment: Annotated[
        str | None,
        typer.Option(help="a model-backed deployment whose top-k is the candidate"),
    ] = None,
    max_answers: Annotated[
        int | None,
        typer.Option(min=1, help="read the newest this many answers (the server's default)"),
    ] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """Estimate a candidate's take-up rate on the deployment's logged answers."""
    overrides: dict[str, Any] = {}
    for item in parameter or []:
        name, sep, value = item.partition("=")
        if not sep or not name.startswith("randomisation_"):
            raise Invalid(f"-p {item!r}: write randomisation_name=value", field="parameter")
        overrides[name] = float(value)
    if epsilon is not None:
        overrides["randomisation_epsilon"] = epsilon
    with Client(url, api_key) as client:
        result = client.evaluate_policy(
            deployment_id,
            config_id=config,
            candidate_deployment_id=candidate_deployment,
            max_answers=max_answers,
            **overrides,
        )
    table = Table(
        "estimator",
        "take-up rate",
        "95 % interval",
        title=f"{result['rounds']} logged rounds; logged rate {result['loggedValue']:.4f}",
    )
    for name in ("ipw", "snipw", "dr"):
        e = result[name]
        table.add_row(name.upper(), f"{e['value']:.4f}", f"[{e['lower']:.4f}, {e['upper']:.4f}]")
    console.print(table)
    console.print(f"effective sample size: {result['effectiveSampleSize']:.1f}")
    window = result.get("window") or {}
    if window:
        more = " (the range held more: the newest were read)" if window["truncated"] else ""
        console.print(f"answers read: {window['answers']} of at most {window['maxAnswers']}{more}")
