"""EASE (Steck 2019, "Embarrassingly Shallow Autoencoders"): a closed-form item-item model.

With ``X`` the users × items interactions (0/1, or summed event weights),
the weights minimise ``‖X − X·B‖² + λ‖B‖²`` under ``diag(B) = 0``; the
solution is

    P = (XᵀX + λI)⁻¹,    B = I − P · diag(1 / diag(P)),

so ``B[i, j] = −P[i, j] / P[j, j]`` off the diagonal. A user is scored by
``x_u · B``: the sum of the rows of the user's items, as in SAR, so EASE
serves through :class:`ItemItemModel` unchanged. Unlike the other
algorithms' weights, EASE's are negative as often as positive, and the
negative ones matter (dropping them costs ~3 % nDCG@10 on MovieLens 100K);
rows keep them, after the positive ones, and pruning keeps the weights of
largest magnitude.

Memory: the Gram matrix and its inverse are one dense ``n × n`` array
(``n`` the items modelled), factorised and inverted in place by LAPACK
(``potrf`` / ``potri``, the BLAS scipy ships): ``n² × 8`` bytes in float64,
``n² × 4`` in float32: 20,000 items take 3.2 GB / 1.6 GB, 50,000 items 20 GB /
10 GB; the serving rows add 8 bytes per kept weight (``n² × 8`` unpruned,
:func:`fit_bytes`). Only the ``max_items`` most popular items are modelled (the others
keep empty rows and are reached through popularity backfilling); when even
that does not fit in the memory available, :meth:`EASE.fit` fails before
allocating, naming the largest ``max_items`` that fits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from recostack.algorithms.interactions import Interactions, affinity_matrix
from recostack.algorithms.item_item import ItemItemModel
from recostack.errors import TrainingFailed

__all__ = ["EASE", "EASEConfig", "available_memory", "dense_bytes", "fit_bytes"]

#: share of the available memory the dense matrix may take (the rest: the sparse
#: interactions, a block of rows being converted, the output rows)
MEMORY_SHARE = 0.8


@dataclass(frozen=True)
class EASEConfig:
    """``l2``: λ, the ridge penalty; ``weighted``: X holds summed event weights, not 0/1;
    ``max_items``: model at most this many items (the most popular);
    ``neighbors``: keep this many weights per row, by magnitude (0 keeps all);
    ``memory_limit``: bytes the dense matrix may use (None: 80 % of what is available)."""

    l2: float = 400.0
    weighted: bool = False
    max_items: int = 20_000
    neighbors: int = 0
    dtype: Literal["float32", "float64"] = "float64"
    block_rows: int = 1024
    memory_limit: int | None = None

    def __post_init__(self) -> None:
        if not self.l2 > 0:
            raise ValueError("l2 must be > 0")
        if self.max_items < 1:
            raise ValueError("max_items must be >= 1")
        if self.neighbors < 0:
            raise ValueError("neighbors must be >= 0")
        if self.dtype not in ("float32", "float64"):
            raise ValueError("dtype must be float32 or float64")
        if self.block_rows < 1:
            raise ValueError("block_rows must be >= 1")


def dense_bytes(n_items: int, dtype: str = "float64") -> int:
    """Bytes of the dense ``n_items × n_items`` matrix EASE factorises."""
    return n_items * n_items * np.dtype(dtype).itemsize


def fit_bytes(n_items: int, dtype: str = "float64", neighbors: int = 0) -> int:
    """Bytes a fit over ``n_items`` holds at its peak: the dense matrix and the output rows
    (an int32 index and a float32 weight per kept weight)."""
    if n_items == 0:
        return 0
    return dense_bytes(n_items, dtype) + n_items * _kept_per_row(n_items, neighbors) * 8


def available_memory() -> int:
    """Bytes the kernel says can be allocated without swapping (``MemAvailable``)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


class EASE:
    """Fitted state: ``item_item`` (rows of B), ``user_affinity`` (X), and what was modelled."""

    def __init__(self, config: EASEConfig | None = None) -> None:
        self.config = config or EASEConfig()
        self.item_item: ItemItemModel | None = None
        self.user_affinity: sp.csr_matrix | None = None
        #: the item indices EASE modelled (the most popular, at most ``max_items``)
        self.modelled_items: np.ndarray = np.empty(0, dtype=np.int64)
        #: share of Σ|B| the kept weights hold (1.0 unpruned): the cost of pruning
        self.weight_share_kept: float = 1.0

    def fit(self, inter: Interactions) -> EASE:
        cfg = self.config
        x = affinity_matrix(inter, weighted=cfg.weighted)
        popularity = np.diff(x.tocsc().indptr).astype(np.float32)
        self.user_affinity = x
        self.modelled_items = modelled = _most_popular(popularity, cfg.max_items)
        _check_memory(modelled.size, cfg)
        n_items = inter.n_items
        if modelled.size == 0:
            empty = sp.csr_matrix((n_items, n_items), dtype=np.float32)
            self.item_item = ItemItemModel.from_similarity(empty, popularity, presorted=True)
            return self
        p = _inverse_gram(x[:, modelled].tocsc(), cfg.l2, np.dtype(cfg.dtype), cfg.block_rows)
        self.item_item, kept, total = _weight_rows(
            p, modelled, popularity, cfg.neighbors, cfg.block_rows
        )
        del p
        self.weight_share_kept = kept / total if total > 0 else 1.0
        return self


def _most_popular(popularity: np.ndarray, limit: int) -> np.ndarray:
    """The used items, the ``limit`` most popular of them when there are more (ascending)."""
    used = np.flatnonzero(popularity > 0)
    if used.size > limit:
        order = np.argsort(-popularity[used], kind="stable")
        used = np.sort(used[order[:limit]])
    return used.astype(np.int64)


def _check_memory(n: int, cfg: EASEConfig) -> None:
    limit = cfg.memory_limit
    if limit is None:
        limit = int(available_memory() * MEMORY_SHARE)
    need = fit_bytes(n, cfg.dtype, cfg.neighbors)
    if need <= limit:
        return
    fits = n
    while fits > 1 and fit_bytes(fits, cfg.dtype, cfg.neighbors) > limit:
        fits = int(fits * 0.99)
    hint = " or use float32" if cfg.dtype == "float64" else ""
    if cfg.neighbors == 0:
        hint += " or set maxNeighbors (rows pruned)"
    raise TrainingFailed(
        f"EASE over {n:,} items needs {need / 2**30:.1f} GiB (a dense {n:,} × {n:,} "
        f"{cfg.dtype} matrix and the rows) and {limit / 2**30:.1f} GiB may be used: set "
        f"maxItems (easeMaxItems) to at most {fits:,}{hint}",
        field="easeMaxItems",
    )


def _inverse_gram(x: sp.csc_matrix, l2: float, dtype: np.dtype, block: int) -> np.ndarray:
    """``(XᵀX + λI)⁻¹`` as one dense C-ordered array, factorised and inverted in place."""
    n = x.shape[1]
    xt = x.T.tocsr().astype(dtype)
    xc = x.tocsc().astype(dtype)
    gram = np.empty((n, n), dtype=dtype)
    for start in range(0, n, block):
        stop = min(n, start + block)
        gram[start:stop] = (xt[start:stop] @ xc).toarray()
    gram[np.diag_indices(n)] += dtype.type(l2)
    # gram is symmetric, so its Fortran-ordered view (gram.T) is the same matrix and
    # LAPACK works on it in place; "lower" of the Fortran view is the upper triangle here
    potrf, potri = lapack.get_lapack_funcs(("potrf", "potri"), (gram,))
    factor, info = potrf(gram.T, lower=True, overwrite_a=True, clean=False)
    if info != 0:
        raise TrainingFailed(f"EASE: XᵀX + λI is not positive definite (LAPACK info {info})")
    inverse, info = potri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise TrainingFailed(f"EASE: inverting XᵀX + λI failed (LAPACK info {info})")
    if not np.shares_memory(inverse, gram):  # LAPACK made a copy after all
        gram[...] = inverse.T
        del inverse
    # only the upper triangle (of the C view) holds the inverse: mirror it below
    for start in range(0, n, block):
        stop = min(n, start + block)
        gram[start:stop, :start] = gram[:start, start:stop].T
        tile = gram[start:stop, start:stop]
        tile[...] = np.triu(tile) + np.triu(tile, 1).T
    return gram


def _weight_rows(
    p: np.ndarray, modelled: np.ndarray, popularity: np.ndarray, neighbors: int, block: int
) -> tuple[ItemItemModel, float, float]:
    """The serving rows of ``B = −P / diag(P)`` (no diagonal), sorted by weight.

    Each row keeps its ``neighbors`` weights of largest magnitude (all but
    the diagonal when 0). The output arrays are allocated once and filled a
    block of rows at a time, so besides ``p`` only one dense block exists.
    Returns the model and Σ|B| kept and in all.
    """
    n, n_items = p.shape[0], popularity.shape[0]
    keep = _kept_per_row(n, neighbors)
    scale = (-1.0 / np.diag(p)).astype(p.dtype)
    indices = np.empty(n * keep, dtype=np.int32)
    data = np.empty(n * keep, dtype=np.float32)
    kept_mass, total_mass = 0.0, 0.0
    for start in range(0, n, block):
        stop = min(n, start + block)
        rows = np.arange(stop - start)
        b = (p[start:stop] * scale[np.newaxis, :]).astype(np.float32)
        b[rows, rows + start] = 0.0
        magnitude = np.abs(b)
        total_mass += float(magnitude.sum(dtype=np.float64))
        magnitude[rows, rows + start] = -1.0  # never kept
        if keep > 0:
            cols = np.argpartition(-magnitude, keep - 1, axis=1)[:, :keep]
        else:  # a single item modelled: no weight off the diagonal
            cols = np.empty((stop - start, 0), dtype=np.int64)
        values = np.take_along_axis(b, cols, axis=1)
        kept_mass += float(np.abs(values).sum(dtype=np.float64))
        order = np.argsort(-values, axis=1, kind="stable")  # best first
        values = np.take_along_axis(values, order, axis=1)
        cols = np.take_along_axis(cols, order, axis=1)
        data[start * keep : stop * keep] = values.ravel()
        indices[start * keep : stop * keep] = modelled[cols.ravel()]
    counts = np.zeros(n_items, dtype=np.int64)
    counts[modelled] = keep
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return ItemItemModel(indptr, indices, data, popularity), kept_mass, total_mass


def _kept_per_row(n: int, neighbors: int) -> int:
    """Weights kept per modelled row: all ``n - 1`` off the diagonal, or ``neighbors`` of them."""
    return n - 1 if neighbors == 0 else min(neighbors, n - 1)
