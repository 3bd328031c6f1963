"""ItemKNN with BM25 weighting: a strong, fast item-item baseline.

Each item is a "document" whose "terms" are the users who used it. The
items × users matrix is BM25-weighted (``k1``, ``b``: term saturation and
length normalisation; users who used many items count less, like common
words), item-item weights are dot products of the weighted item vectors,
and each item keeps its ``neighbors`` largest (itself included). Users are
scored by summing the rows of their items, as in SAR, so both serve through
:class:`ItemItemModel`.

A term's frequency is the user's summed event weights on the item
(``weighted``, the default: a rating of 5 counts more than a 1, saturated by
``k1``), or 1 for every pair. This is what implicit's ``BM25Recommender``
does with the matrix it is given (``bm25_weight(user_items.T).T``, then
``WᵀW`` in ``all_pairs_knn``), and with the same K, K1 and B the two give the
same neighbours. Counting every pair as 1 on MovieLens 100K ratings costs
2.3 % nDCG@10 (``bench/quality.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recostack.algorithms.interactions import Interactions, affinity_matrix, binary_matrix
from recostack.algorithms.item_item import ItemItemModel, sorted_rows

__all__ = ["BM25ItemKNN", "ItemKNNConfig", "bm25_weight"]


@dataclass(frozen=True)
class ItemKNNConfig:
    neighbors: int = 100
    k1: float = 1.2
    b: float = 0.75
    weighted: bool = True
    block_rows: int = 4096

    def __post_init__(self) -> None:
        if self.neighbors < 1:
            raise ValueError("neighbors must be >= 1")
        if self.k1 <= 0:
            raise ValueError("k1 must be > 0")
        if not 0 <= self.b <= 1:
            raise ValueError("b must be in [0, 1]")


def bm25_weight(docs_terms: sp.csr_matrix, k1: float, b: float) -> sp.csr_matrix:
    """BM25-weight a documents × terms count matrix."""
    m = docs_terms.tocoo()
    n_docs = float(m.shape[0])
    term_docs = np.bincount(m.col, minlength=m.shape[1]).astype(np.float64)
    idf = np.log(n_docs) - np.log1p(term_docs)
    lengths = np.asarray(docs_terms.sum(axis=1)).ravel().astype(np.float64)
    mean_length = lengths.mean() if lengths.size else 1.0
    norm = (1.0 - b) + b * lengths / (mean_length or 1.0)
    data = m.data.astype(np.float64)
    data = data * (k1 + 1.0) / (k1 * norm[m.row] + data) * idf[m.col]
    return sp.csr_matrix((data.astype(np.float32), (m.row, m.col)), shape=m.shape)


class BM25ItemKNN:
    def __init__(self, config: ItemKNNConfig | None = None) -> None:
        self.config = config or ItemKNNConfig()
        self.item_item: ItemItemModel | None = None
        self.user_affinity: sp.csr_matrix | None = None

    def fit(self, inter: Interactions) -> BM25ItemKNN:
        cfg = self.config
        self.user_affinity = affinity_matrix(inter, weighted=cfg.weighted)
        item_users = self.user_affinity.T.tocsr()
        weighted = bm25_weight(item_users, cfg.k1, cfg.b)
        weighted_t = weighted.T.tocsr()
        parts = []
        for start in range(0, inter.n_items, cfg.block_rows):
            block = (weighted[start : start + cfg.block_rows] @ weighted_t).tocsr()
            block.data[block.data < 0] = 0
            parts.append(sorted_rows(block, cfg.neighbors))
        similarity = (
            sp.vstack(parts, format="csr")
            if parts
            else sp.csr_matrix((inter.n_items, inter.n_items), dtype=np.float32)
        )
        popularity = np.diff(
            binary_matrix(inter.user_index, inter.item_index, (inter.n_users, inter.n_items))
            .tocsc()
            .indptr
        ).astype(np.float32)
        self.item_item = ItemItemModel.from_similarity(
            similarity, popularity, max_neighbors=cfg.neighbors
        )
        return self
