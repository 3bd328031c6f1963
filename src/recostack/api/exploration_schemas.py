"""``itemExplorationConfig`` on the wire: the managed service's string-to-string map.

Values come as strings (``{"explorationWeight": "0.3"}``, as the reference
sends them) or as JSON numbers; the document states the range of each, so
a value it allows is always usable
(:class:`~recostack.algorithms.exploration.ItemExploration`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from recostack.algorithms.exploration import ItemExploration

__all__ = ["ItemExplorationConfig"]

#: a decimal between 0 and 1
WEIGHT_PATTERN = r"^(0?\.[0-9]+|0|1|0\.|1\.0*|0\.[0-9]*)$"
#: a decimal greater than 0
POSITIVE_PATTERN = r"^(0*[1-9][0-9]*(\.[0-9]*)?|0*\.[0-9]*[1-9][0-9]*|0+\.[0-9]*[1-9][0-9]*)$"

Weight = (
    Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    | Annotated[str, Field(pattern=WEIGHT_PATTERN, max_length=32)]
)
Days = (
    Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]
    | Annotated[str, Field(pattern=POSITIVE_PATTERN, max_length=32)]
)


class ItemExplorationConfig(BaseModel):
    """How much new items with little interaction data are shown, and which items are new.

    Field names are the reference's (camelCase in Python too).
    """

    model_config = ConfigDict(extra="forbid")

    explorationWeight: Weight | None = Field(
        default=None,
        description="0..1 (default 0.3): 0 never shows items with little interaction data, "
        "1 shows them most (about half of each answer)",
    )
    explorationItemAgeCutOff: Days | None = Field(
        default=None,
        description="days (default 30): only items created within this many days of the "
        "newest interaction are explored",
    )

    def to_store(self) -> dict[str, str]:
        """The config as stored and described (strings, defaults filled in)."""
        exploration = ItemExploration.from_wire(self.model_dump(exclude_none=True))
        assert exploration is not None
        return exploration.to_wire()

    @classmethod
    def stored(cls, config: dict[str, Any] | None) -> dict[str, str] | None:
        return None if not config else dict(config)
