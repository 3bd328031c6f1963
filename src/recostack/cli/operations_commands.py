"""``recostack deployments stats ID --since 1h``: a deployment's statistics over time.

A rich table per interval (requests, errors, latency percentiles, take-up
rate, distinct users) under a small chart of the requests and the p99
latency (one bar per interval), read through the SDK's
``get_statistics_over_time``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from recostack.cli.deployment_commands import DEFAULT_URL, ApiKey, Url, console, deployments_app
from recostack.client import Client, DeploymentStatistics
from recostack.errors import Invalid

__all__ = ["parse_since", "sparkline"]

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_BARS = "▁▂▃▄▅▆▇█"


def parse_since(text: str) -> timedelta:
    """``90s``, ``15m``, ``1h``, ``7d``, ``2w`` as a duration (:class:`Invalid` otherwise)."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text)
    if match is None or int(match.group(1)) == 0:
        raise Invalid(
            f"--since {text!r}: a number and a unit (s, m, h, d, w), e.g. 1h or 7d", field="since"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def sparkline(values: list[float | None]) -> str:
    """One bar per value, scaled to the largest (a gap for none)."""
    known = [v for v in values if v is not None]
    top = max(known, default=0.0)
    if top <= 0:
        return "".join(" " if v is None else _BARS[0] for v in values)
    return "".join(
        " " if v is None else _BARS[min(len(_BARS) - 1, int(v / top * (len(_BARS) - 1)))]
        for v in values
    )


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _show(stats: DeploymentStatistics) -> None:
    intervals = stats.intervals
    summary = stats.summary
    console.print(
        f"[bold]{stats.deployment_id}[/] {stats.start_date:%Y-%m-%d %H:%M} → "
        f"{stats.end_date:%Y-%m-%d %H:%M} UTC, per {stats.interval}: "
        f"{summary.requests} requests, {summary.errors} errors, "
        f"p99 {_ms(summary.latency_p99_ms) or '-'} ms, "
        f"take-up {_share(summary.take_up_rate) or '-'}, ~{summary.distinct_users} users"
    )
    console.print(f"requests  {sparkline([float(i.requests) for i in intervals])}")
    console.print(f"p99 ms    {sparkline([i.latency_p99_ms for i in intervals])}")
    table = Table(title=None)
    for column in ("start", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "take-up", "users"):
        table.add_column(column, justify="left" if column == "start" else "right")
    for i in intervals:
        table.add_row(
            f"{i.start:%m-%d %H:%M}",
            str(i.requests),
            str(i.errors),
            _ms(i.latency_p50_ms),
            _ms(i.latency_p95_ms),
            _ms(i.latency_p99_ms),
            _share(i.take_up_rate),
            str(i.distinct_users),
        )
    console.print(table)


@deployments_app.command("stats")
def stats(
    deployment_id: str,
    since: Annotated[str, typer.Option(help="how far back: 30m, 1h, 7d, ...")] = "1h",
    interval: Annotated[
        str | None, typer.Option(help="minute, hour or day (default: from the range)")
    ] = None,
    version: Annotated[str | None, typer.Option("--version", help="one version")] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """A deployment's requests, errors, latency, take-ups and users over time."""
    end = datetime.now(UTC)
    start = end - parse_since(since)
    with Client(url, api_key) as client:
        found = client.get_statistics_over_time(deployment_id, start, end, interval, version)
    _show(found)
