"""``/api/customers/{collection}``: the customer records deployments look up (admin key).

``PUT`` loads a CSV file (header row; ``?key=`` names the customer id
column, default the first), ``POST`` a JSON list of ``{customerId, fields}``;
both insert or replace records. ``GET .../{customerId}`` reads one back.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from recostack.api.deployment_schemas import CustomerRecord
from recostack.api.deps import AdminKey, SessionDep
from recostack.api.errors import ERROR_RESPONSES, error_responses
from recostack.errors import Invalid
from recostack.store import customer_repository as customers

__all__ = ["router"]

router = APIRouter(prefix="/api/customers", tags=["customers"], responses=ERROR_RESPONSES)

Collection = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$", description="a customer collection")
]
MAX_CSV_BYTES = 512 * 1024**2


@router.put(
    "/{collection}",
    summary="Load customers from a CSV file (header row), replacing records with the same id",
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def upload_customers_csv(
    collection: Collection,
    request: Request,
    session: SessionDep,
    _: AdminKey,
    key: Annotated[str | None, Query(max_length=128, description="the id column")] = None,
) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise Invalid(f"the customer file is over {MAX_CSV_BYTES} bytes", field="body")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the customer file is not UTF-8", field="body") from None
    records = customers.parse_customer_csv(text, key)
    written = customers.upsert_customers(session, collection, records)
    session.commit()
    return {"collection": collection, "written": written}


@router.post("/{collection}", summary="Insert or replace customer records")
def add_customers(
    collection: Collection, body: list[CustomerRecord], session: SessionDep, _: AdminKey
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
    customer_id: Annotated[str, Path(max_length=255)],
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
