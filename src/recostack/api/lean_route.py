"""Hot routes whose declared parameters are read by one lean parser instead of FastAPI's solver.

A :class:`LeanRoute` is an ordinary :class:`~fastapi.routing.APIRoute`: the
app routes to it, documents it in its OpenAPI document from the endpoint's
declaration, and every request passes the app's middleware and exception
handlers. Only the per-request work of FastAPI's dependency solver is
replaced: measured on the recommend endpoints, solving a query model and
three small dependencies cost about two thirds of a request
(``bench/serve.py``), most of it re-deriving per request what the
declaration says once (which fields are sequences, their aliases).

So a lean route reads the *same* declaration (FastAPI's own analysis of
the endpoint, :attr:`APIRoute.dependant`) once, when the route is built:

- one query model (``Annotated[Model, Query()]``): the query string becomes
  one dict (repeated parameters as lists) validated by one pydantic call;
- path parameters, validated by their declared fields, and one JSON body,
  validated from its bytes by its declared type in one pydantic call;
- sub-dependencies, called with the request and what they declare in turn
  (the key checks, the services on ``app.state``).

Validation errors are those pydantic gives FastAPI, raised as
:class:`~fastapi.exceptions.RequestValidationError` after every input was
read, so the app's handler answers them as for any route. A declaration this
parser does not read (a header, a cookie, a form, a sync dependency) is
refused when the route is built, never silently ignored.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Request, Response
from fastapi._compat import ModelField
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from pydantic import BaseModel, TypeAdapter, ValidationError

__all__ = ["LeanRoute"]

Errors = list[dict[str, Any]]


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").partition(";")[0].strip().lower()
    major, _, minor = media.partition("/")
    return major == "application" and (minor == "json" or minor.endswith("+json"))


class _QueryModel:
    """A query model: its fields by alias, the sequence ones apart."""

    def __init__(self, name: str, model: type[BaseModel]) -> None:
        self.name = name
        self.model = model
        #: alias -> whether the field is a list (a repeated parameter)
        self.fields: dict[str, bool] = {}
        for field_name, field in model.model_fields.items():
            origin = getattr(field.annotation, "__origin__", None)
            self.fields[field.alias or field_name] = origin is list

    def read(self, request: Request, errors: Errors) -> BaseModel | None:
        """The query's declared parameters (the last value of a repeated scalar, as FastAPI
        reads it; unknown parameters are ignored) validated by the model."""
        data: dict[str, Any] = {}
        fields = self.fields
        for name, value in request.query_params.multi_items():
            repeated = fields.get(name)
            if repeated is None:
                continue
            if repeated:
                data.setdefault(name, []).append(value)
            else:
                data[name] = value
        try:
            return self.model.model_validate(data)
        except ValidationError as error:
            errors.extend({**e, "loc": ("query", *e["loc"])} for e in error.errors())
            return None


class _Body:
    """A JSON body, validated from its bytes by its declared type in one pydantic call."""

    def __init__(self, field: ModelField) -> None:
        info = field.field_info
        self.name = field.name
        self.required = info.is_required()
        self.default = None if self.required else info.get_default(call_default_factory=True)
        declared: Any = Annotated[info.annotation, info]  # the type with its constraints
        self.adapter: TypeAdapter[Any] = TypeAdapter(declared)

    def read(self, raw: bytes, request: Request, errors: Errors) -> Any:
        if not raw and not self.required:
            return self.default
        try:
            if _is_json(request.headers.get("content-type")):
                return self.adapter.validate_json(raw)
            return self.adapter.validate_python(raw)  # not JSON: refused, as in FastAPI
        except ValidationError as error:
            errors.extend(_in_body(e) for e in error.errors())
            return None


def _in_body(error: Any) -> dict[str, Any]:
    if error["type"] == "json_invalid":
        return {"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error", "input": {}}
    return {**error, "loc": ("body", *error["loc"])}


class _Solver:
    """How to call one dependant (an endpoint or a dependency) with a request."""

    def __init__(self, dependant: Dependant) -> None:
        call = dependant.call
        assert call is not None
        if not (
            inspect.iscoroutinefunction(call)
            or inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004
        ):
            raise TypeError(f"a lean route's dependency must be async: {call!r}")
        unread = (
            dependant.header_params
            or dependant.cookie_params
            or dependant.background_tasks_param_name
            or dependant.response_param_name
            or len(dependant.body_params) > 1
        )
        if unread:
            raise TypeError(f"{call!r} declares inputs a lean route does not read")
        self.call: Callable[..., Coroutine[Any, Any, Any]] = call
        self.name = dependant.name
        # a security scheme (the API key header) reads the request itself
        self.request_param = (
            "request" if isinstance(call, SecurityBase) else dependant.request_param_name
        )
        self.path = [(f.name, f.alias, f) for f in dependant.path_params]
        self.query: _QueryModel | None = None
        if dependant.query_params:
            field = dependant.query_params[0]
            model = field.field_info.annotation
            if len(dependant.query_params) > 1 or not (
                isinstance(model, type) and issubclass(model, BaseModel)
            ):
                raise TypeError(f"{call!r}: a lean route reads one query model")
            self.query = _QueryModel(field.name, model)
        self.body: _Body | None = None
        if dependant.body_params:
            self.body = _Body(dependant.body_params[0])
        self.subs = [_Solver(sub) for sub in dependant.dependencies]

    async def solve(self, request: Request, body: bytes, errors: Errors) -> dict[str, Any] | None:
        """The keyword arguments of ``call`` (``None`` if an input was invalid: see ``errors``)."""
        values: dict[str, Any] = {}
        for sub in self.subs:
            arguments = await sub.solve(request, body, errors)
            if arguments is not None:
                values[sub.name or ""] = await sub.call(**arguments)
        for name, alias, field in self.path:
            value, problems = field.validate(
                request.path_params.get(alias), {}, loc=("path", alias)
            )
            errors.extend(problems)
            values[name] = value
        if self.query is not None:
            values[self.query.name] = self.query.read(request, errors)
        if self.body is not None:
            values[self.body.name] = self.body.read(body, request, errors)
        if self.request_param:
            values[self.request_param] = request
        return None if errors else values


class LeanRoute(APIRoute):
    """An APIRoute answered through :class:`_Solver` (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        solver = _Solver(self.dependant)
        reads_body = any(sub.body is not None for sub in [solver, *solver.subs])
        endpoint = solver.call

        async def handle(request: Request) -> Response:
            body = await request.body() if reads_body else b""
            errors: Errors = []
            arguments = await solver.solve(request, body, errors)
            if arguments is None:
                raise RequestValidationError(errors)
            response: Response = await endpoint(**arguments)
            return response

        return handle
