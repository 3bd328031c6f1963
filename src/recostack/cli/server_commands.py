"""``recostack serve | worker | db upgrade | keys rotate | keys show``: the server side.

Thin: each command builds the settings, opens the store (migrating it) and
calls the same functions the API and the workers use.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from recostack.cli import app
from recostack.errors import Invalid, TrainingFailed, Unavailable
from recostack.jobs.training import submit_training
from recostack.jobs.worker import Worker, run_worker
from recostack.serving.keys import Role, Slot
from recostack.settings import Settings, get_settings
from recostack.store.engine import Database
from recostack.store.key_repository import ensure_keys, read_key_digests, rotate_key
from recostack.store.migrate import current_revision, upgrade
from recostack.store.model_repository import get_model
from recostack.store.server_secret import key_secret
from recostack.store.server_settings import get_default_model_id, set_default_model_id
from recostack.training.parameters import TrainingParameters
from recostack.training.status import ModelStatus

__all__ = ["load_demo"]

console = Console(soft_wrap=True)  # long paths and URLs stay on one line
err_console = Console(stderr=True, soft_wrap=True)

db_app = typer.Typer(help="The metadata database.", no_args_is_help=True)
keys_app = typer.Typer(
    help="API keys: admin and recommend, primary and secondary.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="data directory [env RECOSTACK_DATA_DIR]")
]
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="SQLAlchemy URL [env RECOSTACK_DATABASE_URL]")
]


def _settings(**overrides: Any) -> Settings:
    """The settings, with command-line values exported so that child processes see them too."""
    for name, value in overrides.items():
        if value is not None:
            os.environ[f"RECOSTACK_{name.upper()}"] = str(value)
    get_settings.cache_clear()
    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "RECOSTACK_" + "_".join(str(p) for p in first["loc"]).upper()
        raise Invalid(f"{name}: {first['msg']}" if first["loc"] else first["msg"]) from None


def _open_store(settings: Settings) -> Database:
    """Open the database and bring its schema up to date."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.open(settings.effective_database_url)
    try:
        upgrade(db.engine)
    except SQLAlchemyError as exc:
        db.dispose()
        reason = getattr(exc, "orig", None) or exc
        raise Unavailable(
            f"cannot use the database: {str(reason).strip().splitlines()[0]}"
        ) from None
    return db


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().level))


# --- serve ---------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="interface [env RECOSTACK_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="port [env RECOSTACK_PORT]")] = None,
    data_dir: DataDir = None,
    workers_in_process: Annotated[
        int | None,
        typer.Option("--workers-in-process", help="training workers inside the server, 0 for none"),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes", "--workers", help="API processes [env RECOSTACK_API_PROCESSES]"
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="first train a MovieLens 100K model and make it default")
    ] = False,
) -> None:
    """Run the API server with its training workers (migrating the database first)."""
    import uvicorn

    settings = _settings(
        host=host,
        port=port,
        data_dir=data_dir,
        workers_in_process=workers_in_process,
        api_processes=processes,
    )
    _logging(settings.log_level)
    db = _open_store(settings)
    try:
        with db.transaction() as session:
            generated = ensure_keys(session, _provided_keys(settings), key_secret(settings))
        if demo:
            load_demo(settings, db)
    finally:
        db.dispose()
    _print_banner(settings, generated)
    if settings.api_processes > 1:
        # every process writes its Prometheus values there; a scrape adds them all up
        from recostack.serving.metrics import prepare_multiprocess_dir

        prepare_multiprocess_dir(settings.data_dir / "metrics" / str(settings.port))
    target: Any = "recostack.api.app:create_app"
    if settings.api_processes == 1:
        from recostack.api.app import create_app

        target = create_app(settings)
    uvicorn.run(
        target,
        factory=settings.api_processes > 1,
        host=settings.host,
        port=settings.port,
        workers=settings.api_processes if settings.api_processes > 1 else None,
        log_level=settings.log_level,
        access_log=False,
    )


def _provided_keys(settings: Settings) -> dict[Role, str | None]:
    return {
        Role.ADMIN: settings.admin_key.get_secret_value() if settings.admin_key else None,
        Role.RECOMMEND: settings.recommend_key.get_secret_value()
        if settings.recommend_key
        else None,
    }


def _print_banner(settings: Settings, generated: dict[tuple[Role, Slot], str]) -> None:
    url = f"http://{settings.host}:{settings.port}"
    console.print(
        Panel(
            f"[bold]Recostack[/] at {url}  (docs: {url}/swagger)\ndata: {settings.data_dir}",
            expand=False,
        )
    )
    if not generated:
        console.print("API keys: already set (rotate one with `recostack keys rotate`)")
        return
    console.print("[bold yellow]New API keys, shown only now: store them[/]")
    for (role, slot), key in generated.items():
        console.print(f"  {role.value:<9} {slot.value:<9} {key}", soft_wrap=True, highlight=False)


def load_demo(settings: Settings, db: Database) -> str:
    """Train a MovieLens 100K model (unless a default model exists) and make it the default.

    Returns the default model's id.
    """
    from recostack.data.datasets import movielens_100k_files

    with db.transaction() as session:
        current = get_default_model_id(session)
    if current is not None:
        console.print(f"default model: {current}")
        return current
    container = "demo"
    folder = settings.files_dir / container
    if not (folder / "train.csv").is_file() or not (folder / "catalog.csv").is_file():
        with console.status("fetching MovieLens 100K..."):
            movielens_100k_files(folder)
    params = TrainingParameters(
        description="Demo: MovieLens 100K",
        blob_container_name=container,
        usage_relative_path="train.csv",
        catalog_file_relative_path="catalog.csv",
        evaluation_usage_relative_path="test.csv",
        support_threshold=3,
        enable_user_to_item_recommendations=True,
    )
    with db.transaction() as session:
        model_id = submit_training(
            session, params, files_root=settings.files_dir, max_attempts=settings.job_max_attempts
        ).id
    worker = Worker(settings, db, name="demo")
    with console.status("training the demo model..."):
        while _status(db, model_id) not in (ModelStatus.COMPLETED, ModelStatus.FAILED):
            if not worker.run_once():  # another worker has it: wait for it
                time.sleep(settings.job_poll_seconds)
    with db.transaction() as session:
        row = get_model(session, model_id)
        if row.status != ModelStatus.COMPLETED:
            raise TrainingFailed(f"the demo model failed: {row.status_message}")
        set_default_model_id(session, model_id)
        metrics = (row.statistics or {}).get("evaluation", {}).get("metrics", {})
    at_10 = [p for p in metrics.get("precisionMetrics", []) if p.get("k") == 10]
    quality = f" (precision@10 {at_10[0]['percentage']:.1f}%)" if at_10 else ""
    console.print(f"demo model {model_id} trained{quality} and set as the default")
    return model_id


def _status(db: Database, model_id: str) -> str:
    with db.transaction() as session:
        return get_model(session, model_id).status


# --- worker --------------------------------------------------------------------


@app.command()
def worker(
    processes: Annotated[int, typer.Option("--processes", min=1, help="worker processes")] = 1,
    once: Annotated[bool, typer.Option("--once", help="exit when the queue is empty")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Run training workers against the database (as many machines as you like)."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    _logging(settings.log_level)
    _open_store(settings).dispose()
    console.print(f"{processes} training worker(s) on {_safe_url(settings)}")
    try:
        if processes == 1:
            run_worker(settings, once=once)
            return
        context = multiprocessing.get_context("spawn")
        children = [
            context.Process(target=run_worker, args=(settings,), kwargs={"once": once})
            for _ in range(processes)
        ]
        for child in children:
            child.start()
        for child in children:
            child.join()
    except KeyboardInterrupt:
        err_console.print("workers stopped")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


# --- db ------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Bring the database schema up to date."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    db = _open_store(settings)
    try:
        console.print(f"{_safe_url(settings)}: at revision {current_revision(db.engine)} (head)")
    finally:
        db.dispose()


# --- keys ----------------------------------------------------------------------


@keys_app.command("rotate")
def keys_rotate(
    role: Annotated[Role, typer.Option("--role", help="whose key")],
    slot: Annotated[Slot, typer.Option("--slot", help="which of the two")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Replace one key with a new one and print it (once). Running servers pick it up."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    db = _open_store(settings)
    try:
        with db.transaction() as session:
            key = rotate_key(session, role, slot, key_secret(settings))
    finally:
        db.dispose()
    err_console.print(f"new {role.value} {slot.value} key (shown only now):")
    typer.echo(key)


@keys_app.command("show")
def keys_show(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Which keys exist and what they may do (keys are stored hashed: never shown)."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    db = _open_store(settings)
    try:
        with db.transaction() as session:
            digests = read_key_digests(session.connection())
    finally:
        db.dispose()
    table = Table("role", "slot", "created", "may use")
    scope = {Role.ADMIN: "every endpoint", Role.RECOMMEND: "recommend endpoints"}
    for d in digests:
        table.add_row(
            d.role.value, d.slot.value, f"{d.created_at:%Y-%m-%d %H:%M:%S}Z", scope[d.role]
        )
    console.print(table)


keys_app.command("show-roles", hidden=True)(keys_show)
