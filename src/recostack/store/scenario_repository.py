"""Scenarios, A/B test parameters and default scenarios in the store.

:class:`ScenarioStore` is the service the admin endpoints call: every method
is one transaction, and every write

1. first bumps the ``scenarios_generation`` stamp, which also serialises the
   writers (the row lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so a
   check made inside the transaction still holds at commit;
2. checks the whole scenario graph of the type as it would be after the write
   (:func:`~recostack.rules.validate_scenario_graph`): a dangling reference,
   a reference to a scenario of another type, an unknown A/B test or a cycle
   is a :class:`~recostack.errors.Conflict` and nothing is stored;
3. after the commit calls ``on_change`` (the process's scenario cache reloads
   at once; other processes see the new stamp on their next poll).

:func:`read_scenario_snapshot` is what the per-process cache reads: a
:class:`~recostack.rules.ScenarioSnapshot` of everything, as of its stamp.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.orm import Session

from recostack.errors import Conflict, Invalid, NotFound
from recostack.rules import (
    RECO_TYPES,
    Scenario,
    ScenarioSnapshot,
    ab_tests_used,
    check_probability_a,
    dump_scenario,
    parse_scenario,
    referrers,
    validate_scenario_graph,
)
from recostack.serving.stamps import SCENARIOS_GENERATION
from recostack.store.engine import Database
from recostack.store.scenario_tables import (
    AbTestRow,
    DefaultScenarioRow,
    ScenarioRow,
)
from recostack.store.server_settings import bump_stamp
from recostack.store.tables import SettingRow, utcnow

__all__ = [
    "AbTestParams",
    "ScenarioStore",
    "StoredScenario",
    "check_reco_type",
    "read_scenario_snapshot",
]

logger = logging.getLogger(__name__)

MAX_NAME = 256


@dataclass(frozen=True, slots=True)
class AbTestParams:
    id: str
    name: str
    probability_a: float
    created_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "probability_a": self.probability_a,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class StoredScenario:
    reco_type: str
    name: str
    scenario: Scenario
    updated_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "reco_type": self.reco_type,
            "name": self.name,
            **dump_scenario(self.scenario),
            "updated_at": self.updated_at.isoformat(),
        }


def check_reco_type(reco_type: str) -> str:
    if reco_type not in RECO_TYPES:
        raise Invalid(
            f"unknown recommendation type {reco_type!r} (types: {', '.join(RECO_TYPES)})",
            field="reco_type",
        )
    return reco_type


def _check_name(name: str) -> str:
    if not name or len(name) > MAX_NAME:
        raise Invalid(f"a scenario name has 1 to {MAX_NAME} characters", field="name")
    return name


# --- reading everything (the cache) --------------------------------------------------


def read_scenario_snapshot(connection: Connection) -> ScenarioSnapshot:
    """The stamp first, then the rows: a write in between only causes one more reload."""
    stamp = connection.scalar(
        select(SettingRow.value).where(SettingRow.key == SCENARIOS_GENERATION)
    )
    scenarios: dict[str, dict[str, Scenario]] = {}
    for reco_type, name, body in connection.execute(
        select(ScenarioRow.reco_type, ScenarioRow.name, ScenarioRow.body)
    ):
        try:
            scenarios.setdefault(reco_type, {})[name] = parse_scenario(body)
        except Invalid:
            logger.warning("stored scenario %s/%s is not valid: ignored", reco_type, name)
    defaults = {
        reco_type: name
        for reco_type, name in connection.execute(
            select(DefaultScenarioRow.reco_type, DefaultScenarioRow.name)
        )
    }
    ab_tests = {
        test_id: probability_a
        for test_id, probability_a in connection.execute(
            select(AbTestRow.id, AbTestRow.probability_a)
        )
    }
    return ScenarioSnapshot(stamp, scenarios, defaults, ab_tests)


# --- the admin service ---------------------------------------------------------------


def _scenarios_of(session: Session, reco_type: str) -> dict[str, Scenario]:
    rows = session.execute(
        select(ScenarioRow.name, ScenarioRow.body).where(ScenarioRow.reco_type == reco_type)
    )
    found: dict[str, Scenario] = {}
    for name, body in rows:
        try:
            found[name] = parse_scenario(body)
        except Invalid:
            logger.warning("stored scenario %s/%s is not valid: ignored", reco_type, name)
    return found


def _stored(row: ScenarioRow) -> StoredScenario:
    return StoredScenario(row.reco_type, row.name, parse_scenario(row.body), row.updated_at)


def _ab_params(row: AbTestRow) -> AbTestParams:
    return AbTestParams(row.id, row.name, row.probability_a, row.created_at)


class ScenarioStore:
    """Reads and validated writes; ``on_change()`` runs after every committed write."""

    def __init__(self, db: Database, on_change: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_change = on_change
        self._reader = db.engine.execution_options(readonly=True)

    def _read(self) -> Session:
        return Session(self._reader)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    @staticmethod
    def _lock(session: Session) -> None:
        bump_stamp(session, SCENARIOS_GENERATION)

    # --- scenarios ---------------------------------------------------------------
    def put_scenario(self, reco_type: str, name: str, scenario: Scenario) -> bool:
        """Create or replace a scenario; ``True`` when it is new."""
        check_reco_type(reco_type)
        _check_name(name)
        with self.db.transaction() as session:
            self._lock(session)
            scenarios = _scenarios_of(session, reco_type)
            created = name not in scenarios
            scenarios[name] = scenario
            ab_ids = set(session.scalars(select(AbTestRow.id)))
            validate_scenario_graph(scenarios, reco_type, ab_tests=dict.fromkeys(ab_ids))
            body = dump_scenario(scenario)
            row = session.get(ScenarioRow, (reco_type, name))
            if row is None:
                session.add(ScenarioRow(reco_type=reco_type, name=name, body=body))
            else:
                row.body = body
                row.updated_at = utcnow()
        self._changed()
        return created

    def get_scenario(self, reco_type: str, name: str) -> StoredScenario:
        check_reco_type(reco_type)
        with self._read() as session:
            row = session.get(ScenarioRow, (reco_type, name))
            if row is None:
                raise NotFound(f"{reco_type} scenario {name!r} does not exist", field="name")
            return _stored(row)

    def list_scenarios(self, reco_type: str) -> list[StoredScenario]:
        check_reco_type(reco_type)
        with self._read() as session:
            rows = session.scalars(
                select(ScenarioRow)
                .where(ScenarioRow.reco_type == reco_type)
                .order_by(ScenarioRow.name)
            )
            return [_stored(row) for row in rows]

    def delete_scenario(self, reco_type: str, name: str) -> None:
        """Delete a scenario no other scenario refers to and that is not the default."""
        check_reco_type(reco_type)
        with self.db.transaction() as session:
            self._lock(session)
            row = session.get(ScenarioRow, (reco_type, name))
            if row is None:
                raise NotFound(f"{reco_type} scenario {name!r} does not exist", field="name")
            using = referrers(name, _scenarios_of(session, reco_type))
            if using:
                raise Conflict(
                    f"{reco_type} scenario {name!r} is referred to by {', '.join(using)}: "
                    "change or delete those first",
                    field="name",
                    detail={"referrers": using},
                )
            default = session.get(DefaultScenarioRow, reco_type)
            if default is not None and default.name == name:
                raise Conflict(
                    f"{reco_type} scenario {name!r} is the default {reco_type} scenario: "
                    f"DELETE /api/scenarios-default/{reco_type} first",
                    field="name",
                    detail={"default_of": reco_type},
                )
            session.delete(row)
        self._changed()

    # --- A/B tests ---------------------------------------------------------------
    def create_ab_test(self, name: str, probability_a: float) -> AbTestParams:
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
            raise Invalid(f"an A/B test name has 1 to {MAX_NAME} characters", field="name")
        probability = check_probability_a(probability_a)
        with self.db.transaction() as session:
            self._lock(session)
            row = AbTestRow(id=uuid.uuid4().hex, name=name, probability_a=probability)
            session.add(row)
            session.flush()
            params = _ab_params(row)
        self._changed()
        return params

    def get_ab_test(self, test_id: str) -> AbTestParams:
        with self._read() as session:
            row = session.get(AbTestRow, test_id)
            if row is None:
                raise NotFound(f"A/B test {test_id!r} does not exist", field="id")
            return _ab_params(row)

    def list_ab_tests(self) -> list[AbTestParams]:
        with self._read() as session:
            rows = session.scalars(select(AbTestRow).order_by(AbTestRow.created_at, AbTestRow.id))
            return [_ab_params(row) for row in rows]

    def delete_ab_test(self, test_id: str) -> None:
        """Delete A/B test parameters no ab_test scenario (of any type) uses."""
        with self.db.transaction() as session:
            self._lock(session)
            row = session.get(AbTestRow, test_id)
            if row is None:
                raise NotFound(f"A/B test {test_id!r} does not exist", field="id")
            using = [
                f"{reco_type}/{name}"
                for reco_type in RECO_TYPES
                for name, scenario in sorted(_scenarios_of(session, reco_type).items())
                if test_id in ab_tests_used({name: scenario})
            ]
            if using:
                raise Conflict(
                    f"A/B test {test_id!r} is used by scenarios {', '.join(using)}",
                    field="id",
                    detail={"scenarios": using},
                )
            session.delete(row)
        self._changed()

    # --- default scenarios -------------------------------------------------------
    def set_default(self, reco_type: str, name: str) -> None:
        check_reco_type(reco_type)
        _check_name(name)
        with self.db.transaction() as session:
            self._lock(session)
            if session.get(ScenarioRow, (reco_type, name)) is None:
                raise NotFound(f"{reco_type} scenario {name!r} does not exist", field="name")
            row = session.get(DefaultScenarioRow, reco_type)
            if row is None:
                session.add(DefaultScenarioRow(reco_type=reco_type, name=name))
            else:
                row.name = name
                row.updated_at = utcnow()
        self._changed()

    def get_default(self, reco_type: str) -> str:
        check_reco_type(reco_type)
        with self._read() as session:
            name = session.scalar(
                select(DefaultScenarioRow.name).where(DefaultScenarioRow.reco_type == reco_type)
            )
        if name is None:
            raise NotFound(f"no default {reco_type} scenario is set", field="reco_type")
        return name

    def delete_default(self, reco_type: str) -> None:
        check_reco_type(reco_type)
        with self.db.transaction() as session:
            self._lock(session)
            result = session.execute(
                delete(DefaultScenarioRow).where(DefaultScenarioRow.reco_type == reco_type)
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFound(f"no default {reco_type} scenario is set", field="reco_type")
        self._changed()
