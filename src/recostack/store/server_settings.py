"""Server-wide values kept in the ``settings`` table.

``default_model_id`` is the model ``/api/models/default`` serves;
``models_generation`` and ``keys_generation`` are change stamps: every
model deletion and default change, and every key rotation, writes a new
stamp, so each API process notices within its refresh interval that its
caches are stale.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from recostack.serving.stamps import DEFAULT_MODEL_ID, MODELS_GENERATION
from recostack.store.tables import SettingRow

__all__ = [
    "bump_stamp",
    "get_default_model_id",
    "read_server_settings",
    "set_default_model_id",
]


def _set(session: Session, key: str, value: str | None) -> None:
    result = session.execute(update(SettingRow).where(SettingRow.key == key).values(value=value))
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.add(SettingRow(key=key, value=value))


def bump_stamp(session: Session, key: str) -> None:
    """Write a fresh stamp under ``key`` (part of the caller's transaction)."""
    _set(session, key, uuid.uuid4().hex)


def get_default_model_id(session: Session) -> str | None:
    return session.scalar(select(SettingRow.value).where(SettingRow.key == DEFAULT_MODEL_ID))


def set_default_model_id(session: Session, model_id: str | None) -> None:
    _set(session, DEFAULT_MODEL_ID, model_id)
    bump_stamp(session, MODELS_GENERATION)


def read_server_settings(connection: Connection) -> dict[str, str | None]:
    """Every value at once (one small query: the serving refresher's tick)."""
    rows = connection.execute(select(SettingRow.key, SettingRow.value))
    return {key: value for key, value in rows}
