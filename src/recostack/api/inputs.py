"""Every input rule of the API, declared once.

Each limit of a request (id lengths, counts, list sizes, the grammar of
filters and reranking rules) is an ``Annotated`` type here. Routers,
request bodies and query models use these types, so that FastAPI and
pydantic validate with them and the OpenAPI document states them: what the
document allows is what the server accepts, and the other way round.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, TypeVar

from fastapi import Body, Path
from pydantic import Field, Strict

from recostack.data.ids import MAX_ITEM_ID_LENGTH, MAX_USER_ID_LENGTH
from recostack.rules import FILTER_OPS
from recostack.rules.reranking import RERANK_OPS
from recostack.store.files import CONTAINER_PATTERN, MAX_PATH_LENGTH, MAX_SEGMENT_LENGTH
from recostack.training.parameters import METRIC_SPELLING

__all__ = [
    "CSV_PATTERN",
    "DEFAULT_COUNT",
    "FILTER_PATTERN",
    "MAX_COUNT",
    "MAX_EVENTS",
    "MAX_RECORDS",
    "MAX_RULES",
    "NAME_PATTERN",
    "PATTERN_MESSAGES",
    "RELATIVE_PATH_PATTERN",
    "RERANK_PATTERN",
    "AbTestId",
    "AbTestName",
    "CollectionName",
    "ContainerName",
    "CustomerId",
    "DeploymentName",
    "FilterRule",
    "ItemId",
    "ModelId",
    "Probability",
    "ProjectId",
    "RecommendationCount",
    "Records",
    "RelativePath",
    "RerankRule",
    "ScenarioName",
    "SessionId",
    "StrictBool",
    "UserId",
    "VersionName",
]

MAX_COUNT: Final = 100
DEFAULT_COUNT: Final = 10
#: usage events in one request body
MAX_EVENTS: Final = 1000
#: filters or reranking rules in one request
MAX_RULES: Final = 64
#: records in one JSON request body (customers, offers, priors, interactions): more go in
#: several requests, or a CSV upload
MAX_RECORDS: Final = 10_000
MAX_SCENARIO_NAME: Final = 256
MAX_MODEL_ID: Final = 64
MAX_DEPLOYMENT_NAME: Final = 128
MAX_VERSION: Final = 64

_VALUE_OPS = "|".join(op for op in FILTER_OPS if op not in ("empty", "notempty", "in", "notin"))
#: ``property:op:value`` (see :mod:`recostack.rules.filters`): a value for the comparing
#: ops, a ``,``-separated list without empty entries for in / notin, none for (not)empty
FILTER_PATTERN: Final = (
    rf"^[^:]+:(?:(?:{_VALUE_OPS}):.+|(?:in|notin):[^,]+(?:,[^,]+)*|(?:empty|notempty):?)$"
)
#: ``property:diversity:weight`` with a finite weight ≥ 0
RERANK_PATTERN: Final = (
    rf"^[^:]+:(?:{'|'.join(RERANK_OPS)}):"
    r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,2})?$"
)

ItemId = Annotated[
    str, Field(min_length=1, max_length=MAX_ITEM_ID_LENGTH, description="an item id")
]
UserId = Annotated[str, Field(min_length=1, max_length=MAX_USER_ID_LENGTH, description="a user id")]
SessionId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_USER_ID_LENGTH,
        description="puts an anonymous request (no user id) in an A/B group",
    ),
]
CustomerId = Annotated[
    str, Field(min_length=1, max_length=MAX_USER_ID_LENGTH, description="a customer id")
]
ModelId = Annotated[str, Field(min_length=1, max_length=MAX_MODEL_ID, description="a model id")]
ScenarioName = Annotated[
    str, Field(min_length=1, max_length=MAX_SCENARIO_NAME, description="a saved scenario")
]
DeploymentName = Annotated[
    str, Field(min_length=1, max_length=MAX_DEPLOYMENT_NAME, description="a deployment's name")
]
VersionName = Annotated[
    str, Field(min_length=1, max_length=MAX_VERSION, description="a deployment version")
]
RecommendationCount = Annotated[
    int, Field(ge=1, le=MAX_COUNT, description="number of items to return")
]
FilterRule = Annotated[
    str,
    Field(
        pattern=FILTER_PATTERN,
        description="a filter `property:op:value`; ops: " + ", ".join(FILTER_OPS),
    ),
]
RerankRule = Annotated[
    str,
    Field(pattern=RERANK_PATTERN, description="a reranking rule `property:diversity:weight`"),
]


_Record = TypeVar("_Record")
#: a JSON body that is a list of records, at most :data:`MAX_RECORDS` of them
Records = Annotated[
    list[_Record],
    Body(max_length=MAX_RECORDS, description=f"at most {MAX_RECORDS} records"),
]


# --- names of stored things ---------------------------------------------------------

#: a customer collection, project or deployment: a letter or digit, then up to 127 of
#: letters, digits, '_', '.', '-'
NAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"
MAX_AB_TEST_ID: Final = 64

#: a project in a path (``/api/projects/{project_id}``, ``.../{project_id}/deployments``)
ProjectId = Annotated[str, Path(max_length=128, description="the project's name")]

CollectionName = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        description="a customer collection: a letter or digit, then up to 127 letters, digits, "
        "'_', '.' or '-'",
    ),
]
AbTestName = Annotated[
    str, Field(min_length=1, max_length=MAX_SCENARIO_NAME, description="an A/B test's name")
]
AbTestId = Annotated[
    str, Field(min_length=1, max_length=MAX_AB_TEST_ID, description="an A/B test id")
]

# --- input files (recostack.store.files) ----------------------------------------------

#: uploads in progress are stored under this prefix (a name a client may not use)
RESERVED_PREFIX: Final = ".upload-"
#: never in a path: its separator, a backslash, NUL, and a line break (which the
#: router's ``{path:path}`` does not match: such a path reaches no endpoint)
_NOT_IN_PATH = r"/\\\x00\n"


def _not_reserved(prefix: str, longest: int) -> str:
    """A segment of 1 to ``longest`` characters, not '.' or '..' nor starting with ``prefix``.

    ``prefix`` starts with '.'; written without look-arounds, which pydantic's
    regex engine lacks: a segment starts with another character, or with '..'
    and more, or with '.' and anything but the rest of ``prefix``.
    """

    def char(also_not: str = "") -> str:
        return f"[^{_NOT_IN_PATH}{re.escape(also_not)}]"

    rest = prefix[1:]
    after_dot = [
        # the first i characters of the rest, then another character than the next one
        re.escape(rest[:i])
        + char(("." if i == 0 else "") + rest[i])
        + char()
        + f"{{0,{longest - i - 2}}}"
        for i in range(len(rest))
    ] + [re.escape(rest[:i]) for i in range(1, len(rest))]
    return (
        f"(?:{char('.')}{char()}{{0,{longest - 1}}}|\\.\\.{char()}{{1,{longest - 2}}}"
        f"|\\.(?:{'|'.join(after_dot)}))"
    )


_SEGMENT = _not_reserved(RESERVED_PREFIX, MAX_SEGMENT_LENGTH)
#: a path inside a container: '/'-separated segments of 1 to 255 characters (no '\\',
#: NUL or line break), none '.' or '..' or starting with '.upload-'; trailing slashes
#: are ignored
RELATIVE_PATH_PATTERN: Final = rf"^{_SEGMENT}(?:/{_SEGMENT})*/*$"

ContainerName = Annotated[
    str,
    Field(
        pattern=CONTAINER_PATTERN,
        description="a container (blobContainerName): 1-63 letters, digits, '_', '-', '.', "
        "starting with a letter or digit",
    ),
]
RelativePath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_PATH_LENGTH,
        pattern=RELATIVE_PATH_PATTERN,
        description="a path relative to the container: '/'-separated segments of at most "
        f"{MAX_SEGMENT_LENGTH} characters, none '.', '..' or starting with '{RESERVED_PREFIX}'",
    ),
]

_QUOTED = r'"(?:[^"]|"")*"'
_UNQUOTED = r'[^",\r\n][^,\r\n]*'
_FIELD = rf"(?:{_QUOTED}|{_UNQUOTED}|)"
_LINE_BREAK = r"(?:\r\n|\r|\n)"
#: a CSV text as Python's strict CSV reader takes it (any line ending; a quoted field
#: holds anything, '""' for a quote, and is followed by a comma or a line break; an
#: unquoted one starts with anything but a quote), whose first line, the header, is
#: not empty
CSV_PATTERN: Final = (
    rf"^(?:(?:{_QUOTED}|{_UNQUOTED})(?:,{_FIELD})*|(?:,{_FIELD})+)"
    rf"(?:{_LINE_BREAK}{_FIELD}(?:,{_FIELD})*)*$"
)

# --- JSON values taken as they are ----------------------------------------------------

#: ``true`` or ``false`` only (not 0, 1 or "yes", which pydantic's lax mode would take)
StrictBool = Annotated[bool, Strict()]
#: a number from 0 to 1 (an integer too, but not ``false`` or "0.5")
Probability = Annotated[float, Strict(), Field(ge=0, le=1)]

#: what each pattern asks for, in words (for the message of a value that does not match)
PATTERN_MESSAGES: Final[dict[str, str]] = {
    FILTER_PATTERN: "expected property:op:value (ops: " + ", ".join(FILTER_OPS) + ")",
    RERANK_PATTERN: "expected property:diversity:weight, with a weight ≥ 0",
    NAME_PATTERN: "a letter or digit, then up to 127 letters, digits, '_', '.' or '-'",
    CONTAINER_PATTERN: "container names are 1-63 letters, digits, '_', '-' or '.', "
    "starting with a letter or digit",
    RELATIVE_PATH_PATTERN: f"a path relative to the container: '/'-separated segments of 1 "
    f"to {MAX_SEGMENT_LENGTH} characters without '\\', NUL or line break, none '.', '..' "
    f"or starting with '{RESERVED_PREFIX}'",
    METRIC_SPELLING: "must be ndcg@k, precision@k, recall@k or map@k with k in 1..100",
}
