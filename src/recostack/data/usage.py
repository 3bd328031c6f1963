"""Usage events files: ``<userId>,<itemId>,<time>[,<eventType> | ,,<weight>]``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recostack.data.ids import Vocabulary
from recostack.data.report import ParsingReport

__all__ = ["UsageData", "parse_usage_path"]


@dataclass(frozen=True)
class UsageData:
    """Parsed usage events as parallel arrays (one entry per valid line).

    ``user_index`` / ``item_index`` index ``users`` / ``items``;
    ``timestamp`` is seconds since the Unix epoch (UTC); ``weight`` is the
    custom weight if the line gave one, else the event type's weight.
    """

    users: Vocabulary
    items: Vocabulary
    user_index: np.ndarray  # int32
    item_index: np.ndarray  # int32
    timestamp: np.ndarray  # int64
    weight: np.ndarray  # float32

    @property
    def n_events(self) -> int:
        return int(self.user_index.shape[0])


def parse_usage_path(
    path: Path, *, known_items: Vocabulary | None = None
) -> tuple[UsageData, ParsingReport]:
    raise NotImplementedError  # being written
