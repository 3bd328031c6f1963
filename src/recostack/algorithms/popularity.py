"""Most-popular baseline: every user gets the items most users used.

Its item-item weights are empty, so every answer is the popularity
backfill of :class:`ItemItemModel`, minus the user's own items.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recostack.algorithms.interactions import Interactions, affinity_matrix
from recostack.algorithms.item_item import ItemItemModel

__all__ = ["Popularity"]


class Popularity:
    def __init__(self) -> None:
        self.item_item: ItemItemModel | None = None
        self.user_affinity: sp.csr_matrix | None = None

    def fit(self, inter: Interactions) -> Popularity:
        self.user_affinity = affinity_matrix(inter, weighted=False)
        popularity = np.diff(self.user_affinity.tocsc().indptr).astype(np.float32)
        empty = sp.csr_matrix((inter.n_items, inter.n_items), dtype=np.float32)
        self.item_item = ItemItemModel.from_similarity(empty, popularity, presorted=True)
        return self
