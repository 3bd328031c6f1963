"""The store's tables for business rules: scenarios, A/B test parameters, defaults.

Registered on the same :class:`~recostack.store.tables.Base` metadata as the
other tables (created by the Alembic revision ``0002_scenarios``). A scenario
is stored as its JSON body (``dump_scenario``), keyed by recommendation type
and name; every write also bumps the ``scenarios_generation`` stamp in the
``settings`` table, which is how other processes notice the change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from recostack.store.tables import Base, JSONDocument, UTCDateTime, utcnow

__all__ = ["AbTestRow", "DefaultScenarioRow", "ScenarioRow"]

#: the ``settings`` key stamped on every write to these tables


class ScenarioRow(Base):
    """One saved scenario of one recommendation type."""

    __tablename__ = "scenarios"

    reco_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AbTestRow(Base):
    """The parameters of one A/B test: a user is in group A with ``probability_a``."""

    __tablename__ = "ab_tests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    probability_a: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DefaultScenarioRow(Base):
    """The scenario applied to every request of a recommendation type."""

    __tablename__ = "default_scenarios"

    reco_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
