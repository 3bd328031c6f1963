"""The OpenAPI document tells the truth: schemathesis 4, every check, every operation.

Schemathesis' engine runs as ``st run --checks all`` would from outside
(its examples, coverage, fuzzing and stateful phases), with the admin key,
against the in-process app holding a trained default model. Each
operation of the document (read from the app itself: a new one is tested
without being listed anywhere) is a test of its own: it passes when no check
failed on any request made to it, no request made the app raise, and every
``$ref`` in it resolves. What each check takes for an answer is in
``CONFIG``, with the reason.

Operations still known to fail are marked ``xfail(strict=True)`` with the
failing check and an example request: fixing one makes its test XPASS,
which fails the run until the mark is removed.
"""

from __future__ import annotations

import tempfile
import warnings
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from schemathesis.core.failures import AcceptedNegativeData, Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.engine import events, from_schema
from schemathesis.specs.openapi.checks import _has_other_negated_location

from conftest import ADMIN_KEY, RECOMMEND_KEY, make_settings, write_catalog, write_usage
from recostack.api.app import create_app
from recostack.jobs.worker import Worker
from recostack.serving.keys import Role
from recostack.store.engine import Database
from recostack.store.key_repository import ensure_keys
from recostack.store.migrate import upgrade
from recostack.store.server_secret import key_secret

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2", category=UserWarning)
    from fastapi.testclient import TestClient

ADMIN = {"x-api-key": ADMIN_KEY}

# the run (in the first test's setup) takes 10-30 s; a loaded machine may take longer
pytestmark = pytest.mark.timeout(600)

#: a handful of examples per operation and phase: the whole run takes well under a minute
MAX_EXAMPLES = 5

#: schemathesis' configuration, as a ``schemathesis.toml`` would hold it
CONFIG: dict[str, Any] = {
    "seed": 20260101,
    "workers": 1,
    "headers": ADMIN,
    "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
    "checks": {
        # Every check schemathesis has (CHECKS below), and any a later version adds; only
        # max_response_time stays off (a time limit would make the test depend on the
        # machine). With their defaults: not_a_server_error (2xx-4xx), the conformance of
        # status codes, content types, response schemas and headers; missing_required_header
        # (no operation has a required header parameter: the key is a security scheme);
        # ignored_auth (each operation again without a key and with a wrong one: 401/403);
        # unsupported_method and allow_header_conformance (the coverage phase sends every
        # undocumented method: a 405 whose Allow names the path's documented methods);
        # use_after_free and ensure_resource_availability (the stateful phase chains
        # operations by the ids they answer); object_level_authorization needs several
        # identities owning objects, and passes by with the one admin key.
        "enabled": True,
        # A schema-valid request may still meet stored data that makes it fail: a model,
        # scenario, project, container or file it names does not exist (404), or it
        # contradicts what is stored (409: a model not Completed yet, a scenario whose
        # reference is missing). Or its content breaks a rule no JSON Schema can state,
        # which the operation documents as a 422 (status_code_conformance holds it to
        # those): the rows of an uploaded CSV against its header and ?key=, a file name's
        # length in UTF-8 bytes. Everything else a valid request gets must be a 2xx: no
        # 400 (the document would have let through what the server refuses), and no
        # 401/403 (the admin key goes with every request), no 3xx, 429 or 5xx.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "404", "409", "422"]},
        # Invalid data is a 400 naming the field (the API never answers 422 to a
        # validation error), or is refused before it is read: a garbled path
        # parameter routes to no operation (404) or to another path's (405).
        "negative_data_rejection": {"expected-statuses": ["400", "404", "405"]},
    },
}

#: the checks of schemathesis 4 (every one runs)
CHECKS = {
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "missing_required_header",
    "ignored_auth",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "object_level_authorization",
}

_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def document_operations() -> list[str]:
    """Every operation of the app's OpenAPI document, by schemathesis' label (read from an
    app built on an empty data directory: the document does not depend on the store)."""
    with tempfile.TemporaryDirectory() as root:
        settings = make_settings(Path(root) / "data", f"sqlite:///{root}/recostack.db")
        app = create_app(settings)
        try:
            document = app.openapi()
        finally:
            app.state.db.dispose()
    return [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method in operations
        if method in _METHODS
    ]


#: every operation of the document (a new one is tested without being listed anywhere)
OPERATIONS = document_operations()

#: operations that still fail, with the check and an example request (remove as fixed)
KNOWN_FAILURES: dict[str, str] = {}


@dataclass
class Conformance:
    """What one run of the engine found, by operation."""

    #: operation -> requests made
    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: operation -> failed check (or "exception") -> the first example
    failures: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    #: checks that ran at least once, and phases that ran
    checks: set[str] = field(default_factory=set)
    phases: dict[str, str] = field(default_factory=dict)
    #: problems of the run itself (not of an operation)
    errors: list[str] = field(default_factory=list)
    #: links between operations the stateful phase follows (an answer's id fed to another)
    links: int = 0


def _short(value: bytes | str | None, limit: int = 300) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else (value or "")
    return text if len(text) <= limit else text[:limit] + "…"


def _example(interaction: Any, failure: Any) -> str:
    request, response = interaction.request, interaction.response
    answer = (
        "no answer" if response is None else f"{response.status_code} {_short(response.content)}"
    )
    return (
        f"{failure.title}: {_short(failure.message)}\n"
        f"    {request.method} {_short(request.uri)}\n"
        f"    body: {_short(request.body)}\n"
        f"    -> {answer}"
    )


def _record(result: Conformance, recorder: Any) -> None:
    for case_id, interaction in recorder.interactions.items():
        node = recorder.cases.get(case_id)
        if node is not None and interaction.response is not None:
            result.requests[node.value.operation.label] += 1
    for case_id, checks in recorder.checks.items():
        label = recorder.cases[case_id].value.operation.label
        for check in checks:
            result.checks.add(check.name)
            if check.failure_info is not None:
                result.failures[label].setdefault(
                    check.name,
                    _example(recorder.interactions[case_id], check.failure_info.failure),
                )


def _text_sent_as_invalid(
    _context: schemathesis.HookContext,
    failure: Failure,
    case: schemathesis.Case,
    response: schemathesis.Response,
) -> bool:
    """Whether a failure stands, as far as a text body that went out valid is concerned.

    Schemathesis sends a ``text/*`` body that it generated as another type
    (a negation: ``{}`` for a string) as that value's JSON text, which the
    server receives as text like any other. It knows that this negation is
    none on the wire for ``text/plain`` only; for the CSV upload
    (``text/csv``) the text it sent is judged here by the document's schema.
    """
    if not isinstance(failure, AcceptedNegativeData) or case.meta is None:
        return True
    media_type = case.media_type or ""
    if not media_type.startswith("text/") or isinstance(case.body, str):
        return True
    # schemathesis' own test for its text/plain rule: a negation elsewhere the server reads
    if _has_other_negated_location(case, ParameterLocation.BODY):
        return True
    body = case.operation.get_body_for_media_type(media_type)
    sent = response.request.body
    text = sent.decode("utf-8", "replace") if isinstance(sent, bytes) else str(sent or "")
    return body is None or not jsonschema_rs.validator_for(body.optimized_schema).is_valid(text)


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _resolves(document: dict[str, Any], reference: str) -> bool:
    target: Any = document
    for part in reference.removeprefix("#/").split("/"):
        if not isinstance(target, dict) or part not in target:
            return False
        target = target[part]
    return reference.startswith("#/")


def check_references(document: dict[str, Any], result: Conformance) -> None:
    """Every ``$ref`` of an operation names a part of the document (schemathesis passes by
    some that do not: it may generate data for them without checking them)."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            missing = sorted({r for r in _references(operation) if not _resolves(document, r)})
            if missing:
                label = f"{method.upper()} {path}"
                result.failures[label]["unresolvable_reference"] = ", ".join(missing)


def run_schemathesis(app: Any) -> Conformance:
    config = schemathesis.Config.from_dict(CONFIG)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    schema.hook("filter_failure")(_text_sent_as_invalid)
    result = Conformance()
    # schemathesis infers the links from the document (ids an answer gives that another
    # operation takes); each is a rule of its state machine, named SOURCE___STATUS_..._TARGET
    machine = schema.as_state_machine()
    result.links = sum("___" in name for name in vars(machine))
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _record(result, event.recorder)
        elif isinstance(event, events.NonFatalError):
            if event.label in OPERATIONS:
                result.failures[event.label].setdefault("exception", repr(event.value))
            else:
                result.errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            result.errors.append(repr(event.exception))
        elif isinstance(event, events.PhaseFinished):
            result.phases[event.phase.name.value] = event.status.value
    return result


@pytest.fixture(scope="module")
def conformance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Conformance]:
    """One run of the engine against an app with a trained default model (on SQLite)."""
    root = tmp_path_factory.mktemp("conformance")
    settings = make_settings(Path(root / "data"), f"sqlite:///{root / 'recostack.db'}")
    db = Database.open(settings.effective_database_url)
    upgrade(db.engine)
    with db.transaction() as session:
        ensure_keys(
            session, {Role.ADMIN: ADMIN_KEY, Role.RECOMMEND: RECOMMEND_KEY}, key_secret(settings)
        )
    write_usage(settings.files_dir / "input" / "usage.csv")
    write_catalog(settings.files_dir / "input" / "catalog.csv")
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            body = {
                "blobContainerName": "input",
                "usageRelativePath": "usage.csv",
                "catalogFileRelativePath": "catalog.csv",
                "supportThreshold": 3,
                "enableUserToItemRecommendations": True,
            }
            created = client.post("/api/models", json=body, headers=ADMIN)
            assert created.status_code == 201, created.text
            worker = Worker(settings, db, name="conformance")
            while worker.run_once():
                pass
            model_id = created.json()["id"]
            default = client.put("/api/models/default", params={"modelId": model_id}, headers=ADMIN)
            assert default.status_code == 200, default.text
            result = run_schemathesis(app)
            check_references(client.get("/openapi.json").json(), result)
            yield result
    finally:
        db.dispose()


def test_the_run_covers_every_operation_and_check(conformance: Conformance) -> None:
    assert not conformance.errors
    assert {op for op, n in conformance.requests.items() if n} == set(OPERATIONS)
    assert {"coverage", "fuzzing", "stateful"} <= set(conformance.phases), conformance.phases
    assert conformance.links >= 100, conformance.links  # create → read/update/delete chains
    assert conformance.checks >= CHECKS, CHECKS - conformance.checks


def _operation(label: str) -> Any:
    reason = KNOWN_FAILURES.get(label)
    if reason is None:
        return label
    return pytest.param(label, marks=pytest.mark.xfail(strict=True, reason=reason))


@pytest.mark.parametrize("operation", [_operation(label) for label in OPERATIONS])
def test_operation_conforms(conformance: Conformance, operation: str) -> None:
    failures = conformance.failures.get(operation, {})
    assert not failures, "\n".join(f"{check}: {text}" for check, text in failures.items())
