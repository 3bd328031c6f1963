"""A batch job's lines: what an input line asks, and how its answer is written.

Input lines, as the managed service takes them (JSON lines), or CSV with a
header:

* ``{"userId": "u1"}``: the user's recommendations (stored history);
* ``{"itemId": "i1"}``: items next to an item;
* ``{"userId": "u1", "events": [{"itemId": ..., "eventType": ..., "timestamp": ...}]}``:
  with recent events (``sessionId`` for an anonymous session);
* through a deployment also ``customerId`` (the lookup key, default
  ``userId``) and ``context`` (an object: contextual variables).

A CSV input has the same names as columns (``userId``, ``itemId``,
``sessionId``, ``customerId``); other columns are carried to the output.

Output, one line per input line: ``{"input": ..., "output":
{"recommendedItems": [...], "scores": [...]}, "error": null}``; a line that
cannot be answered keeps its input (the raw text when it is not JSON) and
says why in ``error``, with ``output`` null. With item exploration the
output also has ``reasons`` (``model`` or ``exploration`` per item) and
``propensities``. Batch predictions may be written as CSV instead
(:class:`CsvLines`). Metadata (``output_includes_metadata``) is written on
every line: the fixed values of the run, and with ``model_version`` the
model that answered the line (``modelVersion``; empty for a failed line).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from recostack.training.trained_model import UsageEvent

__all__ = [
    "BatchAnswer",
    "BatchRequest",
    "CsvLines",
    "JsonLines",
    "LineError",
    "parse_line",
]

_ID_FIELDS = ("userId", "itemId", "sessionId", "customerId")
MAX_EVENTS = 1000


class LineError(Exception):
    """Why one input line cannot be answered (written to its output line)."""


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """What one input line asks."""

    input: Any
    user_id: str | None = None
    item_id: str | None = None
    session_id: str | None = None
    customer_id: str | None = None
    events: Sequence[UsageEvent] = ()
    #: the line's context (a deployment's contextual variables)
    context: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    item_ids: list[str]
    scores: list[float]
    propensities: tuple[float | None, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: the model that answered (a deployment's model selector may pick one per line)
    model_id: str | None = None


def _text(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise LineError(f"{name} must be a string")
    return str(value)


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise LineError("an event's timestamp must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise LineError(f"timestamp {value!r} is not ISO 8601") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _events(value: Any) -> tuple[UsageEvent, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_EVENTS:
        raise LineError(f"events must be a list of at most {MAX_EVENTS} events")
    events = []
    for event in value:
        if not isinstance(event, dict):
            raise LineError("each event must be an object with an itemId")
        item_id = _text(event.get("itemId"), "events[].itemId")
        if item_id is None:
            raise LineError("each event needs an itemId")
        weight = event.get("weight")
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, int | float)):
            raise LineError("an event's weight must be a number")
        event_type = event.get("eventType")
        if event_type is not None and not isinstance(event_type, str):
            raise LineError("an event's eventType must be a string")
        events.append(
            UsageEvent(
                item_id,
                _time(event.get("timestamp")),
                event_type,
                None if weight is None else float(weight),
            )
        )
    return tuple(events)


def _request(record: Mapping[str, Any], original: Any) -> BatchRequest:
    context = record.get("context")
    if context is not None and not isinstance(context, dict):
        raise LineError("context must be an object")
    request = BatchRequest(
        original,
        _text(record.get("userId"), "userId"),
        _text(record.get("itemId"), "itemId"),
        _text(record.get("sessionId"), "sessionId"),
        _text(record.get("customerId"), "customerId"),
        _events(record.get("events")),
        context or None,
    )
    if not (request.user_id or request.item_id or request.events or request.customer_id):
        raise LineError("a line needs a userId, an itemId, a customerId or events")
    return request


def parse_line(raw: bytes, header: Sequence[str] | None) -> BatchRequest:
    """The request of one input line (JSON, or CSV under ``header``); :class:`LineError`."""
    if header is not None:
        try:
            values = next(csv.reader([raw.decode("utf-8")], strict=True))
        except (UnicodeDecodeError, csv.Error, StopIteration) as exc:
            raise LineError(f"not a CSV line: {exc}") from None
        if len(values) != len(header):
            raise LineError(f"{len(values)} fields where the header has {len(header)}")
        record = dict(zip(header, values, strict=True))
        return _request(record, record)
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise LineError(f"not a JSON line: {exc}") from None
    if not isinstance(record, dict):
        raise LineError("a line must be a JSON object")
    return _request(record, record)


def raw_input(raw: bytes) -> Any:
    """What an output line shows as the input of a line that did not parse."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", errors="replace")


class JsonLines:
    """The managed service's output lines."""

    header: bytes = b""

    def __init__(
        self,
        *,
        explains: bool,
        metadata: Mapping[str, Any] | None = None,
        model_version: bool = False,
    ) -> None:
        self.explains = explains
        self.metadata = dict(metadata or {})
        self.model_version = model_version

    def answer(self, request: BatchRequest, answer: BatchAnswer) -> bytes:
        output: dict[str, Any] = {
            "recommendedItems": answer.item_ids,
            "scores": answer.scores,
        }
        if self.explains:
            propensities = answer.propensities or (None,) * len(answer.item_ids)
            output["reasons"] = ["model" if p is None else "exploration" for p in propensities]
            output["propensities"] = list(propensities)
        output.update(answer.extra)
        line: dict[str, Any] = {"input": request.input, "output": output, "error": None}
        line.update(self.metadata)
        if self.model_version:
            line["modelVersion"] = answer.model_id
        return orjson.dumps(line) + b"\n"

    def error(self, raw: bytes, message: str, request: BatchRequest | None = None) -> bytes:
        line: dict[str, Any] = {
            "input": raw_input(raw) if request is None else request.input,
            "output": None,
            "error": message,
        }
        line.update(self.metadata)
        if self.model_version:
            line["modelVersion"] = None
        return orjson.dumps(line) + b"\n"


class CsvLines:
    """CSV output of a batch prediction: input columns, prediction columns, an error column.

    Input columns carry ``input_prefix``, prediction columns
    (``recommendedItems``, ``scores``: ``;``-separated) ``prediction_prefix``;
    ``columns`` (``result_input_columns``) keeps only those input columns.
    """

    def __init__(
        self,
        input_columns: Sequence[str],
        *,
        input_prefix: str = "",
        prediction_prefix: str = "",
        metadata: Mapping[str, Any] | None = None,
        model_version: bool = False,
    ) -> None:
        self.input_columns = list(input_columns)
        self.metadata = dict(metadata or {})
        self.model_version = model_version
        names = [f"{input_prefix}{c}" for c in self.input_columns]
        names += [f"{prediction_prefix}recommendedItems", f"{prediction_prefix}scores", "error"]
        names += list(self.metadata)
        if model_version:
            names.append("modelVersion")
        self.header = self._row(names)

    @staticmethod
    def _row(values: Sequence[Any]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(values)
        return buffer.getvalue().encode()

    def _inputs(self, record: Any) -> list[Any]:
        if not isinstance(record, Mapping):
            return [""] * len(self.input_columns)
        return [record.get(c, "") for c in self.input_columns]

    def answer(self, request: BatchRequest, answer: BatchAnswer) -> bytes:
        return self._row(
            [
                *self._inputs(request.input),
                ";".join(answer.item_ids),
                ";".join(f"{s:.6g}" for s in answer.scores),
                "",
                *self.metadata.values(),
                *([answer.model_id or ""] if self.model_version else []),
            ]
        )

    def error(self, raw: bytes, message: str, request: BatchRequest | None = None) -> bytes:
        record = raw_input(raw) if request is None else request.input
        values = [*self._inputs(record), "", "", message, *self.metadata.values()]
        return self._row(values + ([""] if self.model_version else []))
