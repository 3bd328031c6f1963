"""The train-a-model form, described by ``TrainingParameters`` itself.

Each training parameter's input (its type, range, choices, default and
description) comes from the parameters' JSON schema, so the form shows the
same ranges the API validates; a submitted form is validated by
``TrainingParameters`` and its errors are shown next to their fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from recostack.training.parameters import TrainingParameters

__all__ = ["FormField", "form_fields", "parse_form"]

#: what the form sets itself (the uploaded files' container and paths)
_FILE_FIELDS = frozenset(
    {
        "blobContainerName",
        "usageRelativePath",
        "catalogFileRelativePath",
        "evaluationUsageRelativePath",
        "hyperparameterSearch",
    }
)


@dataclass(frozen=True)
class FormField:
    name: str
    kind: str  # "checkbox", "number", "select" or "text"
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    step: str = "any"
    choices: tuple[str, ...] = ()
    description: str = ""

    @property
    def range(self) -> str:
        """The allowed range in words (``3 to 50``, ``above 0``), empty when unbounded."""
        if self.minimum is not None and self.maximum is not None:
            return f"{_number(self.minimum)} to {_number(self.maximum)}"
        if self.minimum is not None:
            return f"at least {_number(self.minimum)}"
        return ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def form_fields() -> list[FormField]:
    schema = TrainingParameters.model_json_schema(by_alias=True)
    definitions = schema.get("$defs", {})
    fields = []
    for name, spec in schema["properties"].items():
        if name in _FILE_FIELDS:
            continue
        ref = spec.get("$ref", "")
        enum = definitions.get(ref.rsplit("/", 1)[-1], {}).get("enum") if ref else spec.get("enum")
        kind = {"boolean": "checkbox", "integer": "number", "number": "number"}.get(
            spec.get("type", ""), "text"
        )
        minimum = spec.get("minimum", spec.get("exclusiveMinimum"))
        fields.append(
            FormField(
                name=name,
                kind="select" if enum else kind,
                default=spec.get("default"),
                minimum=minimum,
                maximum=spec.get("maximum"),
                step="1" if spec.get("type") == "integer" else "any",
                choices=tuple(enum or ()),
                description=spec.get("description", ""),
            )
        )
    return fields


def parse_form(
    form: dict[str, str], files: dict[str, str]
) -> tuple[TrainingParameters | None, dict[str, str]]:
    """The parameters of a submitted form (unchecked boxes are false), or the error of each
    field; ``files`` are the container and paths of the uploaded files."""
    body: dict[str, Any] = {**files}
    for field in form_fields():
        raw = form.get(field.name)
        if field.kind == "checkbox":
            body[field.name] = raw is not None
        elif raw not in (None, ""):
            body[field.name] = raw
    if form.get("description"):
        body["description"] = form["description"]
    try:
        return TrainingParameters.model_validate(body), {}
    except ValidationError as error:
        problems: dict[str, str] = {}
        for problem in error.errors(include_url=False):
            where = str(problem["loc"][0]) if problem["loc"] else "form"
            problems.setdefault(where, problem["msg"])
        return None, problems
