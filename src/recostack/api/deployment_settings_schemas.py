"""The reference's deployment settings, as bodies that say what works and refuse the rest.

``create_deployment``'s ``whitelist``, ``parameter_access``, ``model_selector``,
``pattern_selector`` and ``corpora`` take the reference's shapes. What
Recostack can do with a field, it does; a field it cannot honour is refused
(400 naming it), never accepted and then ignored:

- ``datasource`` / ``database``: collections live in Recostack's own customer
  store (``PUT /api/customers/{collection}``): ``recostack`` or nothing;
  ``mongodb``, ``cassandra`` and ``presto`` are refused;
- ``whitelist`` ``{collection}``: a data set of ``customer_key`` and
  ``white_list`` (the offers or items the customer may receive), uploaded
  with ``?key=customer_key``; looked up by the request's customer id
  (``field`` names another list field; ``when_missing``: ``all`` or ``none``
  for a customer not in it). Without ``collection``, ``field`` reads the
  list from the customer lookup's record;
- ``parameter_access``: ``table_collection`` (or ``collection``), ``fields``
  (a list, or the reference's comma-separated string) and ``lookup_fields``
  (the same, as a list: both must agree), ``lookup`` ``{key, value}``
  (``value`` 123 reads the customer id as a number, '123' as text),
  ``lookup_defaults`` (``""``: none), ``create_virtual_variables`` (true
  exactly when ``virtual_variables`` are given);
- ``model_selector``: ``selector_column`` read from ``table_collection`` (by
  the request's customer id) or from the customer lookup's record,
  ``selector`` ``{value: [model index]}``, ``lookup`` ``{key, value, fields}``
  (``fields`` is the selector column);
- ``pattern_selector`` and ``corpora`` (inputs of custom scoring plug-ins,
  which Recostack does not run) must be empty.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from recostack.api.inputs import CollectionName
from recostack.api.operations_schemas import WholeNumber

__all__ = [
    "LEVELS",
    "ModelSelectorSettings",
    "ParameterAccessSettings",
    "WhitelistSettings",
]

#: ``complexity`` and ``performance_expectation``
LEVELS = Literal["Low", "Medium", "High"]
FieldName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
_DATASOURCE = (
    "recostack (its customer store); mongodb, cassandra and presto are not reachable from "
    "Recostack: upload the data set with PUT /api/customers/{collection}"
)


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    datasource: Literal["recostack"] | None = Field(default=None, description=_DATASOURCE)
    database: Literal["recostack", ""] | None = Field(
        default=None, description="recostack (one store holds every collection)"
    )


class WhitelistSettings(_Settings):
    collection: CollectionName | None = Field(
        default=None, description="a data set of customer_key and white_list, by customer id"
    )
    field: FieldName | None = Field(
        default=None,
        description="the record's list of allowed items (default white_list with a collection)",
    )
    when_missing: Literal["all", "none"] = Field(
        default="all", description="what a customer without a list may receive"
    )

    def to_store(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class IdLookup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: FieldName | None = Field(default=None, description="the customer id's field")
    value: WholeNumber | Annotated[str, StringConstraints(max_length=64)] | None = Field(
        default=None, description="123: ids are numbers; '123': ids are text"
    )


class SelectorLookup(IdLookup):
    fields: FieldName | None = Field(default=None, description="the selector column")


class ParameterAccessSettings(_Settings):
    collection: CollectionName | None = None
    table_collection: CollectionName | None = Field(
        default=None, description="the customer lookup's collection"
    )
    lookup: IdLookup | None = None
    fields: (
        Annotated[str, StringConstraints(max_length=10_000)]
        | Annotated[list[FieldName], Field(max_length=1000)]
        | None
    ) = Field(default=None, description="fields to read: a list or a comma-separated string")
    lookup_fields: Annotated[list[FieldName], Field(max_length=1000)] | None = None
    lookup_defaults: dict[str, Any] | Literal[""] | None = Field(
        default=None, description="the record of a customer who is not found ('': none)"
    )
    create_virtual_variables: StrictBool | None = None
    virtual_variables: dict[str, dict[str, Any]] | None = Field(
        default=None,
        description="{name: {type: bins, field, bins, labels} | {type: combine, fields}}",
    )

    def field_list(self) -> list[str] | None:
        if isinstance(self.fields, str):
            return [f.strip() for f in self.fields.split(",") if f.strip()]
        return self.fields

    def to_store(self) -> dict[str, Any]:
        """The customer lookup's settings (serving names), as validated here."""
        stored = self.model_dump(exclude_none=True)
        stored.pop("table_collection", None)
        collection = self.collection or self.table_collection
        if collection is not None:
            stored["collection"] = collection
        fields = self.field_list()
        if fields is not None:
            stored["fields"] = fields
        elif self.lookup_fields is not None:
            stored["fields"] = list(self.lookup_fields)
        if self.lookup_defaults == "":
            stored["lookup_defaults"] = {}
        return stored


class ModelSelectorSettings(_Settings):
    table_collection: CollectionName | None = Field(
        default=None, description="where the selector column is read (default: customer lookup)"
    )
    selector_column: FieldName | None = None
    lookup_field: FieldName | None = Field(default=None, description="= selector_column")
    selector: dict[str, list[WholeNumber] | WholeNumber] = Field(
        default_factory=dict, description="{value of the selector column: [model index]}"
    )
    lookup: SelectorLookup | None = None

    def to_store(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def check_agreement(
    access: ParameterAccessSettings | None, selector: ModelSelectorSettings | None
) -> list[tuple[str, str]]:
    """What contradicts itself, as (field, reason): a 422 (the document cannot say it)."""
    problems: list[tuple[str, str]] = []
    if access is not None:
        fields, listed = access.field_list(), access.lookup_fields
        if fields is not None and listed is not None and sorted(fields) != sorted(listed):
            problems.append(
                ("parameter_access.lookup_fields", "lookup_fields must list the fields of fields")
            )
        if (
            access.collection
            and access.table_collection
            and (access.collection != access.table_collection)
        ):
            problems.append(
                ("parameter_access.table_collection", "collection and table_collection differ")
            )
        has_virtual = bool(access.virtual_variables)
        if access.create_virtual_variables is not None and (
            access.create_virtual_variables != has_virtual
        ):
            problems.append(
                (
                    "parameter_access.create_virtual_variables",
                    "create_virtual_variables is true exactly when virtual_variables are given",
                )
            )
    if selector is not None:
        column = selector.selector_column or selector.lookup_field
        if (
            selector.selector_column
            and selector.lookup_field
            and (selector.selector_column != selector.lookup_field)
        ):
            problems.append(("model_selector.lookup_field", "lookup_field is selector_column"))
        looked = selector.lookup.fields if selector.lookup else None
        if looked is not None and looked != column:
            problems.append(("model_selector.lookup.fields", "lookup.fields is selector_column"))
        if selector.selector and column is None:
            problems.append(("model_selector.selector_column", "a selector needs its column"))
    return problems
