"""Offers, feature stores and online learning configurations.

Every write bumps the ``online_learning_generation`` stamp, so each API
process reloads what it serves. Offer collections load like customers (a
CSV with a header row, or JSON records), keyed by their id column
(``offer_lookup_id``: ``offer``, ``offer_name`` or ``offer_id``); the record
keeps every column, the id column too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from itertools import product
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from recostack.errors import Conflict, Invalid, NotFound, Unprocessable
from recostack.serving.online.configuration import bandit_config, context_variables
from recostack.serving.online.records import (
    ONLINE_GENERATION,
    FeatureStore,
    OnlineConfiguration,
    segment_key,
)
from recostack.store.deployment_tables import DeploymentRow
from recostack.store.online_tables import (
    ArmRow,
    FeatureStoreEntryRow,
    FeatureStoreRow,
    InteractionRow,
    OfferRow,
    OnlineLearningRow,
)
from recostack.store.server_settings import bump_stamp
from recostack.store.tables import utcnow

__all__ = [
    "MAX_VARIABLES",
    "build_feature_store",
    "create_configuration",
    "delete_configuration",
    "delete_offers",
    "get_configuration",
    "list_configurations",
    "list_offers",
    "read_configurations",
    "upsert_offers",
]

MAX_VARIABLES = 2
MAX_OFFER_ID = 255
_BATCH = 1000


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# --- offers ---------------------------------------------------------------------------


def upsert_offers(
    session: Session, collection: str, records: Iterable[tuple[str, Mapping[str, Any]]]
) -> int:
    """Insert or replace offer records ``(offer id, attributes)``; how many were written."""
    rows = []
    for offer_id, fields in records:
        if not offer_id or len(offer_id) > MAX_OFFER_ID:
            raise Invalid(f"an offer id has 1 to {MAX_OFFER_ID} characters", field="offerId")
        rows.append(
            {
                "collection": collection,
                "offer_id": offer_id,
                "fields": dict(fields),
                "updated_at": utcnow(),
            }
        )
    for start in range(0, len(rows), _BATCH):
        unique = list({r["offer_id"]: r for r in rows[start : start + _BATCH]}.values())
        statement = _insert(session)(OfferRow).values(unique)
        statement = statement.on_conflict_do_update(
            index_elements=["collection", "offer_id"],
            set_={"fields": statement.excluded.fields, "updated_at": statement.excluded.updated_at},
        )
        session.execute(statement)
    bump_stamp(session, ONLINE_GENERATION)
    return len(rows)


def list_offers(session: Session | Connection, collection: str) -> dict[str, dict[str, Any]]:
    rows = session.execute(
        select(OfferRow.offer_id, OfferRow.fields)
        .where(OfferRow.collection == collection)
        .order_by(OfferRow.offer_id)
    )
    return {offer_id: dict(fields) for offer_id, fields in rows}


def delete_offers(session: Session, collection: str) -> int:
    result = session.execute(delete(OfferRow).where(OfferRow.collection == collection))
    bump_stamp(session, ONLINE_GENERATION)
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- feature stores -------------------------------------------------------------------


def _values_of(name: str, values: Any) -> tuple[str, ...]:
    if not isinstance(values, list | tuple) or not values:
        raise Invalid(
            f"contextual variable {name!r}: give a non-empty list of its values",
            field="contextual_variables",
        )
    out = tuple(str(v) for v in values)
    if any(not v or "|" in v or len(v) > 100 for v in out) or len(set(out)) != len(out):
        raise Unprocessable(
            f"contextual variable {name!r}: values are distinct, 1 to 100 characters, without '|'",
            field="contextual_variables",
        )
    return out


def _allowed(record: Mapping[str, Any], name: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """The values of ``name`` an offer is configured for: those its own field lists
    (``a;b`` or a list), all of them when it has no such field."""
    own = record.get(name)
    if own is None or own == "":
        return values
    listed = own if isinstance(own, list) else str(own).split(";")
    wanted = {str(v).strip() for v in listed}
    return tuple(v for v in values if v in wanted)


def build_feature_store(
    session: Session,
    *,
    offer_db: str,
    offer_collection: str,
    offer_name_column: str,
    contextual_variables: Mapping[str, Any],
    setup_feature_store_db: str,
    setup_feature_store_collection: str,
) -> dict[str, Any]:
    """Each offer × each combination of the contextual variables' values (at most two
    variables); an offer whose record has a field named like a variable is placed only
    in the values that field lists. Replaces a feature store of the same name."""
    if not isinstance(contextual_variables, Mapping):
        raise Invalid("contextual_variables must be an object", field="contextual_variables")
    if len(contextual_variables) > MAX_VARIABLES:
        raise Invalid(
            f"at most {MAX_VARIABLES} contextual variables, got {len(contextual_variables)}",
            field="contextual_variables",
        )
    variables = {str(k): _values_of(str(k), v) for k, v in contextual_variables.items()}
    offers = list_offers(session, offer_collection)
    if not offers:
        raise NotFound(
            f"offer collection {offer_collection!r} has no offers", field="offer_collection"
        )
    entries: dict[tuple[str, str], dict[str, str]] = {}
    for offer_id, record in offers.items():
        name = offer_id if offer_name_column in ("", None) else record.get(offer_name_column)
        if name is None or name == "":
            raise Unprocessable(
                f"offer {offer_id!r} has no {offer_name_column!r}", field="offer_name_column"
            )
        allowed = [_allowed(record, v, values) for v, values in variables.items()]
        for combination in product(*allowed):
            key = (str(name), segment_key(combination))
            entries[key] = dict(zip(variables, combination, strict=True))
    where = (
        FeatureStoreEntryRow.database == setup_feature_store_db,
        FeatureStoreEntryRow.collection == setup_feature_store_collection,
    )
    session.execute(delete(FeatureStoreEntryRow).where(*where))
    session.execute(
        delete(FeatureStoreRow).where(
            FeatureStoreRow.database == setup_feature_store_db,
            FeatureStoreRow.collection == setup_feature_store_collection,
        )
    )
    session.add(
        FeatureStoreRow(
            database=setup_feature_store_db,
            collection=setup_feature_store_collection,
            offer_database=offer_db,
            offer_collection=offer_collection,
            offer_name_column=offer_name_column,
            contextual_variables={k: list(v) for k, v in variables.items()},
            created_at=utcnow(),
        )
    )
    session.flush()
    rows = [
        {
            "database": setup_feature_store_db,
            "collection": setup_feature_store_collection,
            "offer": offer,
            "segment": segment,
            "values": values,
        }
        for (offer, segment), values in entries.items()
    ]
    for start in range(0, len(rows), _BATCH):
        session.execute(insert(FeatureStoreEntryRow), rows[start : start + _BATCH])
    bump_stamp(session, ONLINE_GENERATION)
    return {
        "database": setup_feature_store_db,
        "collection": setup_feature_store_collection,
        "offers": len({offer for offer, _ in entries}),
        "segments": len({segment for _, segment in entries}),
        "entries": len(entries),
        "contextualVariables": {k: list(v) for k, v in variables.items()},
    }


def _feature_store(session: Session, database: str, collection: str) -> FeatureStore:
    store = session.scalar(
        select(FeatureStoreRow).where(
            FeatureStoreRow.database == database, FeatureStoreRow.collection == collection
        )
    )
    if store is None:
        raise NotFound(
            f"feature store {database}.{collection} does not exist (set it up with "
            "online_learning_ecosystem_rewards_setup_feature_store)",
            field="feature_store_collection",
        )
    entries = session.execute(
        select(FeatureStoreEntryRow.offer, FeatureStoreEntryRow.segment)
        .where(
            FeatureStoreEntryRow.database == database,
            FeatureStoreEntryRow.collection == collection,
        )
        .order_by(FeatureStoreEntryRow.segment, FeatureStoreEntryRow.offer)
    )
    segments: dict[str, list[str]] = {}
    for offer, segment in entries:
        segments.setdefault(segment, []).append(offer)
    records = list_offers(session, store.offer_collection)
    by_name = {
        str(r.get(store.offer_name_column, k) if store.offer_name_column else k): r
        for k, r in records.items()
    }
    return FeatureStore(
        database,
        collection,
        {k: tuple(v) for k, v in store.contextual_variables.items()},
        {k: tuple(v) for k, v in segments.items()},
        by_name,
    )


# --- configurations -------------------------------------------------------------------


def _name_column(session: Session, store: FeatureStore) -> str:
    return str(
        session.scalar(
            select(FeatureStoreRow.offer_name_column).where(
                FeatureStoreRow.database == store.database,
                FeatureStoreRow.collection == store.collection,
            )
        )
        or ""
    )


def _check_variables(values: Mapping[str, Any], store: FeatureStore) -> None:
    names = [v.name for v in context_variables(values)]
    if names != list(store.variables):
        raise Unprocessable(
            f"the configuration's contextual variables {names} must be the feature store's "
            f"{list(store.variables)}, in order",
            field="contextual_variables_contextual_variable_one_name",
        )


def _check_offer_key(values: Mapping[str, Any], store: FeatureStore, name_column: str) -> None:
    """``contextual_variables_offer_key`` names the field that holds each offer's name in the
    feature store (its ``offer_name_column``; an offer id field when it has none)."""
    key = str(values["contextual_variables_offer_key"])
    if not name_column and key in ("offer", "offer_name", "offer_id"):
        return
    if key != name_column and any(str(r.get(key)) != o for o, r in store.offers.items()):
        raise Unprocessable(
            f"contextual_variables_offer_key {key!r} does not name the offers of the feature "
            f"store {store.database}.{store.collection} (they are named by "
            f"{name_column or 'their id'!r})",
            field="contextual_variables_offer_key",
        )


def create_configuration(
    session: Session, values: Mapping[str, Any], *, replace: bool
) -> tuple[OnlineLearningRow, bool]:
    """Store a normalised parameter set (:func:`configuration.normalise`); an existing
    name is a :class:`Conflict` unless ``replace`` (which keeps its id and learned arms).
    Returns the row and whether it replaced one."""
    store = _feature_store(
        session, values["feature_store_database"], values["feature_store_collection"]
    )
    _check_variables(values, store)
    _check_offer_key(values, store, _name_column(session, store))
    row = session.scalar(select(OnlineLearningRow).where(OnlineLearningRow.name == values["name"]))
    replaced = row is not None
    if row is not None and not replace:
        raise Conflict(
            f"online learning configuration {values['name']!r} exists (id {row.id}); "
            "give replace=true to replace it",
            field="name",
        )
    stored = {k: v for k, v in values.items() if k not in ("name", "description")}
    if row is None:
        row = OnlineLearningRow(id=str(uuid.uuid4()), name=values["name"], created_at=utcnow())
        session.add(row)
    row.description = values.get("description")
    row.algorithm = values["algorithm"]
    row.feature_store_database = values["feature_store_database"]
    row.feature_store_collection = values["feature_store_collection"]
    row.parameters = stored
    row.updated_at = utcnow()
    session.flush()
    bump_stamp(session, ONLINE_GENERATION)
    return row, replaced


def get_configuration(session: Session, config_id: str) -> OnlineLearningRow:
    row = session.get(OnlineLearningRow, config_id) or session.scalar(
        select(OnlineLearningRow).where(OnlineLearningRow.name == config_id)
    )
    if row is None:
        raise NotFound(
            f"online learning configuration {config_id!r} does not exist", field="configId"
        )
    return row


def list_configurations(session: Session) -> list[OnlineLearningRow]:
    return list(session.scalars(select(OnlineLearningRow).order_by(OnlineLearningRow.name)))


def deployments_using(session: Session, config_id: str) -> list[str]:
    """The deployments (``id:version``) whose multi_armed_bandit links the configuration."""
    used = []
    for deployment_id, version, settings in session.execute(
        select(DeploymentRow.deployment_id, DeploymentRow.version, DeploymentRow.settings)
    ):
        link = (settings or {}).get("multi_armed_bandit") or {}
        if isinstance(link, Mapping) and link.get("pulse_responder_id") == config_id:
            used.append(f"{deployment_id}:{version}")
    return used


def delete_configuration(session: Session, config_id: str) -> None:
    """Delete a configuration and its options store; refused while a deployment uses it."""
    row = get_configuration(session, config_id)
    used = deployments_using(session, row.id)
    if used:
        raise Conflict(
            f"online learning configuration {row.name!r} is used by deployment(s) "
            f"{', '.join(used)}",
            field="configId",
        )
    session.execute(delete(ArmRow).where(ArmRow.config_id == row.id))
    session.execute(delete(InteractionRow).where(InteractionRow.config_id == row.id))
    session.delete(row)
    bump_stamp(session, ONLINE_GENERATION)


def configuration_of(session: Session, row: OnlineLearningRow) -> OnlineConfiguration:
    values = {**row.parameters, "name": row.name, "description": row.description}
    store = _feature_store(session, row.feature_store_database, row.feature_store_collection)
    return OnlineConfiguration(
        row.id,
        row.name,
        bandit_config(values),
        context_variables(values),
        store,
        values,
        per_customer=bool(values.get("per_customer_arms")),
    )


def read_configurations(session: Session) -> dict[str, OnlineConfiguration]:
    """Every configuration whose feature store exists, by id (serving's reload)."""
    found = {}
    for row in list_configurations(session):
        try:
            found[row.id] = configuration_of(session, row)
        except NotFound:
            continue
    return found


def feature_store_entries(
    session: Session, database: str, collection: str
) -> Sequence[tuple[str, str]]:
    """(offer, segment) pairs of a feature store."""
    store = _feature_store(session, database, collection)
    return [(offer, segment) for segment, offers in store.segments.items() for offer in offers]
