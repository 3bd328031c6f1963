"""What the serving layer reads from the store, in plain SQL (no ORM).

:class:`StoreSource` implements :class:`recostack.serving.state.ServingSource`:
one small query per refresh tick, and one per model cache miss.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Engine, select

from recostack.store.key_repository import KeyDigest, read_key_digests
from recostack.store.model_repository import canonical_model_id
from recostack.store.server_settings import read_server_settings
from recostack.store.tables import ModelRow, ModelStatus

__all__ = ["StoreSource"]


class StoreSource:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine.execution_options(readonly=True)

    def server_settings(self) -> dict[str, str | None]:
        with self._engine.connect() as connection:
            return read_server_settings(connection)

    def key_digests(self) -> tuple[KeyDigest, ...]:
        with self._engine.connect() as connection:
            return read_key_digests(connection)

    def model_status(self, model_id: str) -> tuple[str, str, str | None] | None:
        """(canonical id, status, status message) of a model, ``None`` if there is none."""
        canonical = canonical_model_id(model_id)
        if canonical is None:
            return None
        with self._engine.connect() as connection:
            row = connection.execute(
                select(ModelRow.id, ModelRow.status, ModelRow.status_message).where(
                    ModelRow.id == canonical
                )
            ).first()
        return None if row is None else (row[0], row[1], row[2])

    def completed_among(self, model_ids: Collection[str]) -> set[str]:
        """Which of ``model_ids`` still exist and are Completed."""
        if not model_ids:
            return set()
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(ModelRow.id).where(
                    ModelRow.id.in_(list(model_ids)), ModelRow.status == ModelStatus.COMPLETED
                )
            )
            return {row[0] for row in rows}
