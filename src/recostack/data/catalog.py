"""Catalog files: ``<itemId>,<name>,<category>[,<description>][,<features>]``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recostack.data.ids import Vocabulary
from recostack.data.report import ParsingReport

__all__ = ["Catalog", "parse_catalog_file"]


@dataclass(frozen=True)
class Catalog:
    """Catalog items as columns; row ``i`` describes ``items.ids[i]``.

    ``features`` maps each feature name to a unicode array over the items
    (``""`` where an item does not have that feature).
    """

    items: Vocabulary
    names: np.ndarray
    categories: np.ndarray
    descriptions: np.ndarray
    features: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_items(self) -> int:
        return len(self.items)


def parse_catalog_file(path: Path) -> tuple[Catalog, ParsingReport]:
    raise NotImplementedError  # being written
