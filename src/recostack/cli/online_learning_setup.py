"""Setting online learning up from the command line: offers, the feature store, configurations.

``online-learning offers load COLLECTION FILE [--key offer]``: a CSV file
(header row; ``--key`` names the id column) or a JSON file (a list of
records, each with the ``--key`` field, or an object of records by offer
id). ``online-learning feature-store --offer-collection C
--setup-feature-store-collection F [--contextual-variables JSON]``:
``online_learning_ecosystem_rewards_setup_feature_store``.
``online-learning create [--file PARAMETERS.json] [-p name=value ...]
[--replace] [--require-policy-evaluation]``: ``create_online_learning``
with the reference's parameter names (``-p`` values are read as JSON when
they are JSON, ``-p randomisation_epsilon=0.1``, else as text).

The server checks every value; a refusal, a server out of reach, a file
that cannot be read and bad JSON are one line on stderr and exit status 2,
never a traceback.
The commands are registered by :mod:`recostack.cli.online_learning_commands`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from recostack.cli.deployment_commands import DEFAULT_URL, ApiKey, Url
from recostack.client import Client
from recostack.errors import Invalid, RecostackError

__all__ = ["create", "feature_store", "load_offers"]

console = Console(soft_wrap=True)
#: create_online_learning's required parameters (the SDK takes them by position)
_REQUIRED = (
    "name",
    "description",
    "feature_store_collection",
    "feature_store_database",
    "options_store_database",
    "options_store_collection",
    "contextual_variables_offer_key",
)


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """A refusal (from the server or the command) as one line on stderr, exit status 2."""
    try:
        yield
    except RecostackError as exc:
        where = f" ({exc.field})" if exc.field and exc.field not in exc.message else ""
        typer.secho(f"error: {exc.message}{where}", err=True, fg="red")
        raise typer.Exit(2) from None
    except httpx.TransportError as exc:
        typer.secho(f"error: cannot reach the server: {exc}", err=True, fg="red")
        raise typer.Exit(2) from None


def _read(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"cannot read {path}: {exc}", field=option) from None


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise Invalid(f"{where} is not JSON: {exc}", field=where) from None


def _value(text: str) -> Any:
    """A ``-p`` value: JSON when it is JSON (numbers, true/false), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def create(
    file: Annotated[
        Path | None, typer.Option("--file", help="a JSON object of parameters (reference names)")
    ] = None,
    parameter: Annotated[
        list[str] | None,
        typer.Option("-p", "--parameter", help="name=value, a reference parameter (repeatable)"),
    ] = None,
    replace: Annotated[bool, typer.Option(help="replace a configuration of that name")] = False,
    require_policy_evaluation: Annotated[
        bool, typer.Option(help="with --replace: refuse a candidate worse than the live one")
    ] = False,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """create_online_learning: print the configuration's UUID."""
    with _one_line_errors():
        values: dict[str, Any] = {}
        if file is not None:
            values = _json(_read(file, "--file"), str(file))
            if not isinstance(values, dict):
                raise Invalid(f"{file}: write a JSON object of parameters", field="--file")
        for item in parameter or []:
            name, sep, text = item.partition("=")
            if not sep or not name:
                raise Invalid(f"-p {item!r}: write name=value", field="-p")
            values[name] = _value(text)
        missing = [n for n in _REQUIRED if n not in values]
        if missing:
            raise Invalid(
                f"missing {', '.join(missing)} (-p name=value or in --file)", field=missing[0]
            )
        replace = bool(values.pop("replace", False)) or replace
        if require_policy_evaluation:
            values["require_policy_evaluation"] = True
        with Client(url, api_key) as client:
            config_id = client.create_online_learning(replace=replace, **values)
    console.print(f"online learning configuration {values['name']!r}: {config_id}")


def feature_store(
    offer_collection: Annotated[str, typer.Option(help="the offer collection")],
    setup_feature_store_collection: Annotated[str, typer.Option(help="the feature store")],
    contextual_variables: Annotated[
        str,
        typer.Option(help='JSON: variable -> its values, e.g. {"tier": ["gold", "silver"]}'),
    ] = "{}",
    offer_name_column: Annotated[
        str, typer.Option(help="the offers' name field (default: their id)")
    ] = "",
    offer_db: Annotated[str, typer.Option()] = "recostack",
    setup_feature_store_db: Annotated[str, typer.Option()] = "recostack",
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """online_learning_ecosystem_rewards_setup_feature_store: each offer × each segment."""
    with _one_line_errors():
        variables = _json(contextual_variables, "--contextual-variables")
        if not isinstance(variables, dict):
            raise Invalid(
                "--contextual-variables: write a JSON object of variable -> values",
                field="contextual_variables",
            )
        with Client(url, api_key) as client:
            summary = client.online_learning_ecosystem_rewards_setup_feature_store(
                offer_db,
                offer_collection,
                offer_name_column,
                variables,
                setup_feature_store_db,
                setup_feature_store_collection,
            )
    console.print_json(json.dumps(summary))


def _records(data: Any, key: str, path: Path) -> dict[str, dict[str, Any]]:
    """Offer records by id from a JSON list of records (id in ``key``) or an object by id."""
    if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
        return {str(k): v for k, v in data.items()}
    if not isinstance(data, list):
        raise Invalid(f"{path}: write a list of offer records or an object by offer id")
    found: dict[str, dict[str, Any]] = {}
    for n, record in enumerate(data):
        if not isinstance(record, dict) or record.get(key) in (None, ""):
            raise Invalid(f"{path}: record {n} is not an object with a {key!r} field", field=key)
        found[str(record[key])] = record
    return found


def load_offers(
    collection: Annotated[str, typer.Argument(help="the offer collection")],
    file: Annotated[Path, typer.Argument(help="a .csv (header row) or .json file")],
    key: Annotated[str, typer.Option(help="the id field: offer, offer_name or offer_id")] = "offer",
    url: Url = DEFAULT_URL,
    api_key: ApiKey = "",
) -> None:
    """Load an offer collection from a CSV or JSON file."""
    with _one_line_errors():
        text = _read(file, "file")
        suffix = file.suffix.lower()
        if suffix not in (".csv", ".json"):
            raise Invalid(f"{file}: a .csv or .json file, not {suffix or 'no extension'}")
        with Client(url, api_key) as client:
            if suffix == ".csv":
                written = client.upload_offers(collection, text, key)
            else:
                written = client.add_offers(collection, _records(_json(text, str(file)), key, file))
    console.print(f"{written} offers loaded into {collection!r}")
