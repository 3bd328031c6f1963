"""Typed answers over the wire: ``WireRecord`` (an answer) and ``Resource`` (one with methods).

An answer keeps the JSON object the server sent: its fields are typed
snake_case attributes (``deploymentId`` -> ``deployment_id``, times as
``datetime``), and ``to_dict()`` gives the object back as it came, in the
server's camelCase. A field the SDK does not know is kept by ``to_dict()``.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any, Generic, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from recostack.errors import RecostackError

__all__ = ["Resource", "WireRecord", "camel_body"]

Calls = TypeVar("Calls")


def camel_body(values: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments as a request body: camelCase names, ``None`` left out."""
    return {to_camel(k): v for k, v in values.items() if v is not None}


def _items(cls: type, body: Any) -> list[Any]:
    if not isinstance(body, list):
        raise RecostackError(f"the server's answer is not a list of {cls.__name__}", detail=body)
    return body


class WireRecord(BaseModel):
    """An answer of the server: typed fields, and ``to_dict()`` for the JSON as sent."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        protected_namespaces=(),
    )
    _wire: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_wire(cls, body: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Every record read from a JSON object, nested ones too, keeps that object."""
        record = handler(body)
        if isinstance(body, dict):
            record._wire = body
        return record

    @classmethod
    def from_wire(cls, body: Any) -> Self:
        """Read one JSON object of the server (:class:`RecostackError` if it is not one)."""
        try:
            return cls.model_validate(body)
        except ValidationError as error:
            raise RecostackError(
                f"the server's answer is not a {cls.__name__}: {error}", detail=body
            ) from error

    @classmethod
    def list_from_wire(cls, body: Any) -> list[Self]:
        """Read a JSON list of such objects."""
        return [cls.from_wire(item) for item in _items(cls, body)]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as the server sent it (camelCase names), a copy."""
        return copy.deepcopy(self._wire)

    def __getitem__(self, key: str) -> Any:
        """``answer["modelStatus"]``: the wire field, for code written when answers were dicts.

        Deprecated: read the attribute (``answer.model_status``) or ``to_dict()``.
        """
        warnings.warn(
            f"{type(self).__name__}[{key!r}] is deprecated: read the attribute "
            f"or to_dict()[{key!r}]",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._wire[key]


class Resource(WireRecord, Generic[Calls]):
    """A server object with methods: each delegates to one public call of the client.

    A resource reaches its client as ``Calls``, a Protocol of the calls it
    uses, so the resource modules never import the client module.
    """

    model_config = ConfigDict(frozen=False)
    _client: Calls = PrivateAttr()

    @classmethod
    def bound(cls, client: Calls, body: Any) -> Self:
        """The object ``body`` describes, whose methods call ``client``."""
        resource = cls.from_wire(body)
        resource._client = client
        return resource

    @classmethod
    def bound_list(cls, client: Calls, body: Any) -> list[Self]:
        """The objects of a JSON list, bound to ``client``."""
        return [cls.bound(client, item) for item in _items(cls, body)]

    @property
    def client(self) -> Calls:
        return self._client

    def _replace_with(self, newer: Self) -> Self:
        """Take the fields of ``newer`` (a later answer about the same object); self."""
        for name in type(self).model_fields:
            setattr(self, name, getattr(newer, name))
        self._wire = newer._wire
        return self
