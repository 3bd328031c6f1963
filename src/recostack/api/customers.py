"""``/api/customers/{collection}``: the customer records deployments look up (admin key).

``PUT`` loads a CSV file (header row; ``?key=`` names the customer id
column, default the first), ``POST`` a JSON list of ``{customerId, fields}``;
both insert or replace records. ``GET .../{customerId}`` reads one back.

The CSV's syntax is in the OpenAPI document (a pattern) and a body that
breaks it is a 400; what no pattern can state (each row against the header,
the key column, the ids in it) is a 422.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from recostack.api.deployment_schemas import CustomerRecord
from recostack.api.deps import AdminKey, SessionDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.api.inputs import CSV_PATTERN, CollectionName, CustomerId, Records
from recostack.errors import Invalid, TooLarge, Unprocessable
from recostack.store import customer_repository as customers

__all__ = ["router"]

router = APIRouter(prefix="/api/customers", tags=["customers"], responses=ERROR_RESPONSES)

Collection = Annotated[CollectionName, Path()]
MAX_CSV_BYTES = 512 * 1024**2
#: the longest line of a CSV upload (Python's CSV reader takes no longer field)
MAX_CSV_LINE = 128 * 1024
_LONG_LINE = re.compile(rf"[^\r\n]{{{MAX_CSV_LINE + 1}}}")
_CSV = re.compile(CSV_PATTERN)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BOM = "\ufeff"


def _csv_text(raw: bytes) -> str:
    """The CSV body as text (without a byte order mark); :class:`Invalid` unless it is CSV."""
    if len(raw) > MAX_CSV_BYTES:
        raise TooLarge(f"the customer file is over {MAX_CSV_BYTES} bytes", field="body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("the customer file is not UTF-8", field="body") from None
    if not _CSV.fullmatch(text):
        if not _LINE_BREAK.split(text.removeprefix(_BOM), maxsplit=1)[0]:
            raise Invalid("the customer file is empty: it needs a header row", field="body")
        raise Invalid(
            "the customer file is not valid CSV: a quoted field needs its closing quote, "
            "then a comma or a line break",
            field="body",
        )
    long_line = _LONG_LINE.search(text)
    if long_line is not None:
        number = text.count("\n", 0, long_line.start()) + 1
        raise TooLarge(
            f"line {number} of the file is over {MAX_CSV_LINE} characters long", field="body"
        )
    return text.removeprefix(_BOM)


@router.put(
    "/{collection}",
    summary="Load customers from a CSV file (header row), replacing records with the same id",
    responses=error_responses(
        e413=f"the file is over {MAX_CSV_BYTES} bytes, or a line over {MAX_CSV_LINE} characters",
        e422="a row has not as many fields as the header, the key column is not in the "
        "header, or a customer id in it is empty or too long",
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string", "pattern": CSV_PATTERN}}},
        }
    },
)
async def upload_customers_csv(
    collection: Collection,
    request: Request,
    session: SessionDep,
    _: AdminKey,
    key: Annotated[str | None, Query(max_length=128, description="the id column")] = None,
) -> dict[str, Any]:
    text = _csv_text(await request.body())
    try:
        records = customers.parse_customer_csv(text, key)
        written = customers.upsert_customers(session, collection, records)
    except Invalid as exc:
        raise Unprocessable(exc.message, field=exc.field, detail=exc.detail) from None
    session.commit()
    return {"collection": collection, "written": written}


@router.post("/{collection}", summary="Insert or replace customer records")
def add_customers(
    collection: Collection, body: Records[CustomerRecord], session: SessionDep, _: AdminKey
) -> dict[str, Any]:
    written = customers.upsert_customers(
        session, collection, [(r.customer_id, r.fields) for r in body]
    )
    session.commit()
    return {"collection": collection, "written": written}


@router.get(
    "/{collection}/{customer_id}",
    summary="Read one customer record",
    responses=error_responses(e404="no such customer"),
)
def get_customer(
    collection: Collection,
    customer_id: Annotated[CustomerId, Path()],
    session: SessionDep,
    _: AdminKey,
) -> dict[str, Any]:
    row = customers.get_customer(session, collection, customer_id)
    return {"customerId": row.customer_id, "fields": row.fields}


@router.delete("/{collection}", status_code=204, summary="Delete a customer collection")
def delete_customers(collection: Collection, session: SessionDep, _: AdminKey) -> Response:
    customers.delete_collection(session, collection)
    session.commit()
    return Response(status_code=204)
