"""What the serving layer reads from the store (and writes: deployment states, logs).

:func:`serving_sources` gives :class:`~recostack.serving.ServingSources`
over one engine: plain SQL, one small query per stamp poll, one per cache
miss.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Engine, select

from recostack.rules import ScenarioSnapshot
from recostack.serving import ServingSources
from recostack.serving.keys import KeyDigest
from recostack.serving.prediction_logger import PredictionRecord
from recostack.store.customer_repository import CustomerStore
from recostack.store.deployment_repository import DeploymentStore
from recostack.store.key_repository import read_key_digests
from recostack.store.online_source import OnlineStore
from recostack.store.options_store import purge_interactions
from recostack.store.prediction_log_repository import insert_predictions, purge_logs
from recostack.store.scenario_repository import read_scenario_snapshot
from recostack.store.server_settings import read_server_settings
from recostack.store.statistics_repository import merge_rollups
from recostack.store.tables import ModelRow
from recostack.training.status import ModelStatus

__all__ = ["StoreModels", "serving_sources"]

#: rows deleted per table and transaction by the log retention
PURGE_CHUNK = 5000


class StoreModels:
    """:class:`~recostack.serving.models.ModelSource` over the models table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine.execution_options(readonly=True)

    def model_status(self, model_id: str) -> tuple[str, str | None] | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(ModelRow.status, ModelRow.status_message).where(ModelRow.id == model_id)
            ).first()
        return None if row is None else (row[0], row[1])

    def completed_among(self, model_ids: Collection[str]) -> set[str]:
        if not model_ids:
            return set()
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(ModelRow.id).where(
                    ModelRow.id.in_(list(model_ids)), ModelRow.status == ModelStatus.COMPLETED
                )
            )
            return {row[0] for row in rows}


def serving_sources(engine: Engine) -> ServingSources:
    reader = engine.execution_options(readonly=True)

    def stamps() -> dict[str, str | None]:
        with reader.connect() as connection:
            return read_server_settings(connection)

    def key_digests() -> tuple[KeyDigest, ...]:
        with reader.connect() as connection:
            return read_key_digests(connection)

    def scenarios() -> ScenarioSnapshot:
        with reader.connect() as connection:
            return read_scenario_snapshot(connection)

    def write_predictions(batch: Sequence[PredictionRecord]) -> None:
        with engine.begin() as connection:
            insert_predictions(connection, batch)

    def purge(deployment_id: str, before: datetime, config_ids: Sequence[str]) -> int:
        # in transactions of at most PURGE_CHUNK rows a table: a first purge of a long
        # history must not hold SQLite's write lock (every other writer's) for its whole time
        before_ms = int(before.timestamp() * 1000)
        removed = 0
        while True:
            with engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    # a background sweep, not a request: the API's statement timeout is not its
                    connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
                chunk = purge_logs(connection, deployment_id, before, PURGE_CHUNK)
                chunk += purge_interactions(
                    connection, deployment_id, config_ids, before_ms, PURGE_CHUNK
                )
            removed += chunk
            if chunk == 0:
                return removed

    return ServingSources(
        stamps=stamps,
        key_digests=key_digests,
        models=StoreModels(engine),
        scenarios=scenarios,
        deployments=DeploymentStore(engine),
        customers=CustomerStore(engine),
        write_predictions=write_predictions,
        purge_logs=purge,
        online=OnlineStore(engine),
        write_statistics=lambda rollups: merge_rollups(engine, rollups),
    )
