"""A batch prediction's input read from a customer collection (an online learning
configuration's ``batch_collection``), chunk by chunk.

Records are read in customer-id order; those matching ``find`` (equality
on fields, the reference's ``batch_find`` JSON object) become lines
``{"customerId", "userId", "context"}``: the user is the ``user_field``
field (default: the customer id) and the context the ``context_fields``.
Offsets count the collection's records read, so a resumed job goes on
where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import func, select

from recostack.errors import Invalid
from recostack.jobs.batch_io import Chunk
from recostack.store.deployment_tables import CustomerRow
from recostack.store.engine import Database

__all__ = ["CustomersInput"]


def _matches(fields: Mapping[str, Any], find: Mapping[str, Any]) -> bool:
    return all(fields.get(k) == v or str(fields.get(k)) == str(v) for k, v in find.items())


class CustomersInput:
    header: bytes | None = None

    def __init__(self, db: Database, spec: Mapping[str, Any]) -> None:
        self.db = db
        self.collection = str(spec["collection"])
        try:
            find = json.loads(spec.get("find") or "{}")
        except ValueError:
            raise Invalid("batch_find must be a JSON object", field="batch_find") from None
        if not isinstance(find, dict):
            raise Invalid("batch_find must be a JSON object", field="batch_find")
        self.find: dict[str, Any] = find
        self.user_field: str | None = spec.get("userId")
        self.context_fields: Sequence[str] = tuple(spec.get("context") or ())

    def close(self) -> None:
        pass

    def __len__(self) -> int:
        """The number of records that match (read once, for the job's total)."""
        if not self.find:
            with self.db.engine.connect() as connection:
                return int(
                    connection.scalar(
                        select(func.count()).where(CustomerRow.collection == self.collection)
                    )
                    or 0
                )
        return sum(len(chunk) for chunk in self.chunks(0, 10_000))

    def _line(self, customer_id: str, fields: Mapping[str, Any]) -> bytes:
        user = fields.get(self.user_field) if self.user_field else None
        line: dict[str, Any] = {"customerId": customer_id, "userId": str(user or customer_id)}
        if self.context_fields:
            line["context"] = {f: fields.get(f) for f in self.context_fields}
        return orjson.dumps(line)

    def chunks(self, offset: int, max_lines: int) -> Iterator[Chunk]:
        while True:
            with self.db.engine.connect() as connection:
                rows = connection.execute(
                    select(CustomerRow.customer_id, CustomerRow.fields)
                    .where(CustomerRow.collection == self.collection)
                    .order_by(CustomerRow.customer_id)
                    .offset(offset)
                    .limit(max_lines)
                ).all()
            if not rows:
                return
            offset += len(rows)
            lines = [
                self._line(customer_id, fields or {})
                for customer_id, fields in rows
                if _matches(fields or {}, self.find)
            ]
            yield Chunk(lines, offset)
