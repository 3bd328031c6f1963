"""Every input rule of the API, declared once.

Each limit of a request (id lengths, counts, list sizes, the grammar of
filters and reranking rules) is an ``Annotated`` type here. Routers,
request bodies and query models use these types, so that FastAPI and
pydantic validate with them and the OpenAPI document states them: what the
document allows is what the server accepts, and the other way round.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import Field

from recostack.data.ids import MAX_ITEM_ID_LENGTH, MAX_USER_ID_LENGTH
from recostack.rules import FILTER_OPS
from recostack.rules.reranking import RERANK_OPS

__all__ = [
    "DEFAULT_COUNT",
    "FILTER_PATTERN",
    "MAX_COUNT",
    "MAX_EVENTS",
    "MAX_RULES",
    "RERANK_PATTERN",
    "CustomerId",
    "DeploymentName",
    "FilterRule",
    "ItemId",
    "ModelId",
    "RecommendationCount",
    "RerankRule",
    "ScenarioName",
    "SessionId",
    "UserId",
    "VersionName",
]

MAX_COUNT: Final = 100
DEFAULT_COUNT: Final = 10
#: usage events in one request body
MAX_EVENTS: Final = 1000
#: filters or reranking rules in one request
MAX_RULES: Final = 64
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
    rf"^[^:]+:(?:{'|'.join(RERANK_OPS)}):(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1, 2})?$"
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
