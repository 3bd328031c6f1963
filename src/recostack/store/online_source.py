"""Online learning's store as serving reads and writes it (:class:`OnlineStore`)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, text

from recostack.serving.online.records import (
    ArmTable,
    Impression,
    OnlineConfiguration,
    ResponseEvent,
)
from recostack.store.engine import make_session_factory
from recostack.store.online_repository import list_offers, read_configurations
from recostack.store.options_store import (
    interactions_of_requests,
    read_arm_table,
    record_impressions,
    record_responses,
    sweep,
)

__all__ = ["OnlineStore"]


class OnlineStore:
    """:class:`~recostack.serving.online.state.OnlineSource` over one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._reader = engine.execution_options(readonly=True)
        self._sessions = make_session_factory(engine)

    def configurations(self) -> dict[str, OnlineConfiguration]:
        with self._sessions() as session:
            return read_configurations(session)

    def arm_table(self, config_id: str, segments: Sequence[str] | None = None) -> ArmTable:
        with self._reader.connect() as connection:
            return read_arm_table(connection, config_id, segments)

    def offers(self, collection: str) -> dict[str, dict[str, Any]]:
        with self._reader.connect() as connection:
            return list_offers(connection, collection)

    def write(self, impressions: Sequence[Impression], responses: Sequence[ResponseEvent]) -> None:
        with self._engine.begin() as connection:
            record_impressions(connection, impressions)
            record_responses(connection, responses)

    def sweep(self, configuration: OnlineConfiguration, now_ms: int, since_ms: int) -> bool:
        with self._engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # one process sweeps a configuration at a time; the others skip this round
                key = zlib.crc32(configuration.id.encode()) - 2**31
                taken = connection.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}
                )
                if not taken:
                    return False
            sweep(connection, configuration.id, configuration.params, now_ms, since_ms)
        return True

    def shown_offers(self, request_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
        with self._reader.connect() as connection:
            return interactions_of_requests(connection, request_ids)
