"""Cold-item placement: similarities for items without usage, from catalog features.

Which features matter is learned from the warm items. For a sample of warm
pairs (every pair SAR found similar, plus as many random pairs), a linear
model regresses the pair's similarity on indicators "the two items have the
same value of feature f"; its coefficients are the feature weights
(``catalogFeatureWeights``: a negative weight means sharing that value makes
items *less* alike). A cold item's similarity to another item is then the
model's prediction ``intercept + Σ_f w_f · same_f``, kept where positive and
pruned to the strongest ``neighbors``. Cold rows get warm neighbours (and
cold ones with cold-to-cold enabled); warm rows get their closest cold items,
so new items are pushed into item-to-item and personalized answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recostack.algorithms.item_item import sorted_rows

__all__ = ["ColdItemModel", "encode_features", "fit_feature_weights", "place_cold_items"]


def encode_features(features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Integer codes per feature (0 where an item lacks the feature)."""
    codes = {}
    for name, values in features.items():
        arr = np.asarray(values).astype(str)
        c, _ = pd.factorize(arr)
        c = c.astype(np.int64) + 1
        c[arr == ""] = 0
        codes[name] = c
    return codes


@dataclass(frozen=True)
class ColdItemModel:
    intercept: float
    weights: dict[str, float]
    #: predictions are capped at the largest similarity seen among warm pairs
    ceiling: float = 1.0

    def to_wire(self) -> dict[str, float]:
        return {name: round(w, 6) for name, w in self.weights.items()}


def _agreement(codes: dict[str, np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cols = [((c[a] == c[b]) & (c[a] > 0)).astype(np.float64) for c in codes.values()]
    return np.stack(cols, axis=1) if cols else np.empty((a.size, 0))


def fit_feature_weights(
    similarity: sp.csr_matrix,
    codes: dict[str, np.ndarray],
    warm: np.ndarray,
    *,
    max_pairs: int = 50_000,
    seed: int = 0,
) -> ColdItemModel:
    """Least-squares weights of feature agreement for the similarity of warm pairs."""
    rng = np.random.default_rng(seed)
    warm_idx = np.flatnonzero(warm)
    if not codes or warm_idx.size < 2:
        return ColdItemModel(0.0, {name: 0.0 for name in codes})
    coo = similarity.tocoo()
    off = (coo.row != coo.col) & warm[coo.row] & warm[coo.col]
    rows, cols, vals = coo.row[off], coo.col[off], coo.data[off].astype(np.float64)
    if rows.size > max_pairs:
        pick = rng.choice(rows.size, max_pairs, replace=False)
        rows, cols, vals = rows[pick], cols[pick], vals[pick]
    n_random = max(rows.size, min(max_pairs, 1000))
    ra = warm_idx[rng.integers(0, warm_idx.size, n_random)]
    rb = warm_idx[rng.integers(0, warm_idx.size, n_random)]
    keep = ra != rb
    ra, rb = ra[keep], rb[keep]
    rvals = np.asarray(similarity[ra, rb]).ravel().astype(np.float64)
    a = np.concatenate([rows, ra])
    b = np.concatenate([cols, rb])
    y = np.concatenate([vals, rvals])
    x = np.column_stack([np.ones(a.size), _agreement(codes, a, b)])
    # normal equations (a handful of columns), with a tiny ridge for features
    # that never or always agree
    gram = x.T @ x
    gram[np.diag_indices_from(gram)] += 1e-6 * max(1.0, float(np.trace(gram)) / gram.shape[0])
    coef = np.linalg.solve(gram, x.T @ y)
    names = list(codes)
    return ColdItemModel(
        float(coef[0]), {n: float(w) for n, w in zip(names, coef[1:], strict=True)}
    )


def _predicted(
    model: ColdItemModel,
    codes: dict[str, np.ndarray],
    rows: np.ndarray,
    cols: np.ndarray,
    n_items: int,
) -> sp.csr_matrix:
    """Predicted similarity of every (row item, col item) pair sharing a feature value."""
    total = sp.csr_matrix((rows.size, n_items), dtype=np.float64)
    col_mask = np.zeros(n_items, dtype=bool)
    col_mask[cols] = True
    for name, c in codes.items():
        w = model.weights.get(name, 0.0)
        if w == 0.0:
            continue
        n_values = int(c.max()) + 1
        present_rows = c[rows] > 0
        r_onehot = sp.csr_matrix(
            (
                np.ones(int(present_rows.sum())),
                (np.flatnonzero(present_rows), c[rows][present_rows]),
            ),
            shape=(rows.size, n_values),
        )
        ok = col_mask & (c > 0)
        c_onehot = sp.csr_matrix(
            (np.ones(int(ok.sum())), (c[ok], np.flatnonzero(ok))), shape=(n_values, n_items)
        )
        total = total + w * (r_onehot @ c_onehot)
    total = total.tocsr()
    total.data += model.intercept
    np.clip(total.data, 0, model.ceiling, out=total.data)
    total.eliminate_zeros()
    return total


def place_cold_items(
    similarity: sp.csr_matrix,
    features: dict[str, np.ndarray],
    warm: np.ndarray,
    *,
    cold_to_cold: bool = False,
    neighbors: int = 50,
) -> tuple[sp.csr_matrix, ColdItemModel]:
    """Add cold-warm (and cold-cold) similarities; returns the matrix and the weights."""
    codes = encode_features(features)
    model = fit_feature_weights(similarity, codes, warm)
    cold_idx = np.flatnonzero(~warm)
    n_items = similarity.shape[0]
    if cold_idx.size == 0 or not codes:
        return similarity, model
    warm_idx = np.flatnonzero(warm)
    targets = np.arange(n_items) if cold_to_cold else warm_idx
    pred = _predicted(model, codes, cold_idx, targets, n_items)
    coo = pred.tocoo()
    not_self = cold_idx[coo.row] != coo.col
    pred = sp.csr_matrix(
        (coo.data[not_self], (coo.row[not_self], coo.col[not_self])), shape=pred.shape
    )
    cold_rows = sorted_rows(pred.astype(np.float32), neighbors)
    # cold item rows: their neighbours
    lifted = sp.csr_matrix(
        (np.ones(cold_idx.size, dtype=np.float32), (cold_idx, np.arange(cold_idx.size))),
        shape=(n_items, cold_idx.size),
    )
    cold_block = (lifted @ cold_rows).tocsr()
    # warm item rows: their strongest cold items (the transpose of cold-warm pairs)
    to_warm = pred.multiply(warm[np.newaxis, :]).tocsr()
    warm_block = sorted_rows(
        (lifted @ to_warm).T.tocsr().astype(np.float32), max(1, neighbors // 5)
    )
    combined = similarity.tocsr().astype(np.float32) + cold_block + warm_block
    return combined.tocsr(), model
