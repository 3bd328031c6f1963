"""Customer records by collection: loaded from CSV or JSON, read by the customer lookup.

A record is a JSON document of fields keyed by (collection, customer id).
Loading upserts (a record given again is replaced) and bumps the
``customers_generation`` stamp so that every API process drops its cached
records. CSV files have a header row; the key column is named by the
caller (default: the first column), every other column is a field (numbers
stay strings unless they parse as numbers; ``a;b;c`` stays a string).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from recostack.errors import Invalid, NotFound
from recostack.rules import parse_number
from recostack.serving.stamps import CUSTOMERS_GENERATION
from recostack.store.deployment_tables import CustomerRow
from recostack.store.server_settings import bump_stamp
from recostack.store.tables import utcnow

__all__ = [
    "MAX_CUSTOMER_ID",
    "CustomerStore",
    "delete_collection",
    "get_customer",
    "parse_customer_csv",
    "upsert_customers",
]

MAX_CUSTOMER_ID = 255
_BATCH = 1000


def parse_customer_csv(text: str, key: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(customer id, fields) pairs of a CSV text with a header row (any line endings)."""
    try:
        return _parse_customer_csv(text, key)
    except csv.Error as error:  # e.g. a quoted field never closed
        raise Invalid(f"the customer file is not valid CSV: {error}", field="body") from None


def _parse_customer_csv(text: str, key: str | None) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = next(reader, None)
    if not header:
        raise Invalid("the customer file is empty: it needs a header row", field="body")
    header = [h.strip() for h in header]
    column = header.index(key) if key is not None and key in header else 0
    if key is not None and key not in header:
        raise Invalid(f"the header has no key column {key!r}", field="key")
    records = []
    for line, values in enumerate(reader, start=2):
        if not values:
            continue
        if len(values) != len(header):
            raise Invalid(
                f"line {line} has {len(values)} fields, the header {len(header)}", field="body"
            )
        fields = {
            h: _value(v) for n, (h, v) in enumerate(zip(header, values, strict=True)) if n != column
        }
        records.append((values[column].strip(), fields))
    return records


def _value(text: str) -> Any:
    number = parse_number(text)
    if number is None:
        return text
    return int(number) if number.is_integer() and text.strip().lstrip("-").isdigit() else number


def _check_id(customer_id: str) -> None:
    if not customer_id or len(customer_id) > MAX_CUSTOMER_ID:
        raise Invalid(f"a customer id has 1 to {MAX_CUSTOMER_ID} characters", field="customerId")


def upsert_customers(
    session: Session, collection: str, records: Iterable[tuple[str, Mapping[str, Any]]]
) -> int:
    """Insert or replace records; returns how many were written."""
    rows = []
    for customer_id, fields in records:
        _check_id(customer_id)
        rows.append(
            {
                "collection": collection,
                "customer_id": customer_id,
                "fields": dict(fields),
                "updated_at": utcnow(),
            }
        )
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        # one record per key within a statement: the last given wins
        unique = list({r["customer_id"]: r for r in batch}.values())
        statement = insert(CustomerRow).values(unique)
        statement = statement.on_conflict_do_update(
            index_elements=["collection", "customer_id"],
            set_={"fields": statement.excluded.fields, "updated_at": statement.excluded.updated_at},
        )
        session.execute(statement)
    bump_stamp(session, CUSTOMERS_GENERATION)
    return len(rows)


def get_customer(session: Session, collection: str, customer_id: str) -> CustomerRow:
    row = session.get(CustomerRow, (collection, customer_id))
    if row is None:
        raise NotFound(
            f"customer {customer_id!r} is not in collection {collection!r}", field="customerId"
        )
    return row


def delete_collection(session: Session, collection: str) -> int:
    result = session.execute(delete(CustomerRow).where(CustomerRow.collection == collection))
    bump_stamp(session, CUSTOMERS_GENERATION)
    return int(result.rowcount)  # type: ignore[attr-defined]


class CustomerStore:
    """The customer lookup's reads, in plain SQL (one point query per cache miss)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine.execution_options(readonly=True)

    def fields(self, collection: str, customer_id: str) -> dict[str, Any] | None:
        with self._engine.connect() as connection:
            value = connection.scalar(
                select(CustomerRow.fields).where(
                    CustomerRow.collection == collection, CustomerRow.customer_id == customer_id
                )
            )
        return dict(value) if value is not None else None

    def fields_many(
        self, collection: str, customer_ids: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """The stored records of those of ``customer_ids`` that are stored, by id."""
        found: dict[str, dict[str, Any]] = {}
        with self._engine.connect() as connection:
            for start in range(0, len(customer_ids), _BATCH):
                rows = connection.execute(
                    select(CustomerRow.customer_id, CustomerRow.fields).where(
                        CustomerRow.collection == collection,
                        CustomerRow.customer_id.in_(list(customer_ids[start : start + _BATCH])),
                    )
                )
                found.update((customer_id, dict(fields)) for customer_id, fields in rows)
        return found
