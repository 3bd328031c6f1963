"""The ``recostack`` command line: a thin typer app over the same services the API calls.

Each command group lives in its own module and registers itself on ``app``.
Errors of the :mod:`recostack.errors` hierarchy become one line on stderr
and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from recostack.errors import RecostackError

__all__ = ["app", "main"]

app = typer.Typer(
    name="recostack",
    help="Recostack: train, serve and evaluate recommendation models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    from importlib import import_module

    for module in (
        "model_commands",
        "tune_commands",
        "server_commands",
        "deployment_commands",
        "online_learning_commands",
        "operations_commands",
        "batch_commands",
    ):
        try:
            import_module(f"recostack.cli.{module}")
        except ModuleNotFoundError as exc:  # a command group not installed yet
            if exc.name != f"recostack.cli.{module}":
                raise


def main() -> None:
    _register()
    try:
        app()
    except RecostackError as exc:
        typer.secho(f"error: {exc.message}", err=True, fg="red")
        sys.exit(2)
