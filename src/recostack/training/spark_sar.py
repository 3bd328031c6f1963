"""SAR on Apache Spark: the same model as the local engine, its heavy part on executors.

What runs where:

* the driver parses the usage files with the local parser (the same
  parsing reports, vocabularies and event arrays: so the artifacts are
  the local engine's, byte for byte) and builds the binary units × items
  matrix (a unit is a user, or a user at one time);
* the co-occurrence counts ``C = Uᵀ U``, the part that grows with the
  square of a user's events, run on the executors, one item block per
  task: when the units matrix fits an executor
  (``RECOSTACK_SPARK_BROADCAST_BYTES``, 2 GiB at 16 bytes per entry) it is
  broadcast and each task computes whole blocks, with no shuffle; beyond
  that the units are split into partitions of rows, each executor computes
  every block's partial counts ``U_pᵀ U_p`` of its partition and Spark sums
  the partials of each block (``reduceByKey``). Each block is then
  thresholded, turned into similarities (Cooccurrence / Lift / Jaccard)
  and pruned to ``maxNeighbors`` on its executor, with the local engine's
  own functions, and left as a file for the driver in a folder both see
  (``RECOSTACK_SPARK_SPILL_DIR`` on a cluster; a local folder for a
  ``local`` master) — else it comes back through Spark;
* user affinities (event weights with the half-life decay, summed per
  user and item) are a Spark aggregation.

The blocks are the local engine's blocks (the same cuts of the item rows),
and each block's columns are put in order before it is thresholded, so the
similarity matrix, its row order and its ties are the local engine's.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from recostack.algorithms.interactions import SECONDS_PER_DAY, Interactions, binary_matrix
from recostack.algorithms.item_item import ItemItemModel, sorted_rows
from recostack.algorithms.sar import (
    SARConfig,
    block_bounds,
    cooccurrence_units,
    similarity_from_counts,
    stack_rows,
)

__all__ = ["fit_sar_on_spark"]

Block = tuple[np.ndarray, np.ndarray, np.ndarray]


def _row_partitions(units: sp.csr_matrix, parts: int) -> list[tuple[int, int]]:
    """Contiguous unit-row ranges with about the same number of entries each."""
    n = units.shape[0]
    if n == 0:
        return []
    cuts = np.searchsorted(units.indptr, np.linspace(0, units.nnz, parts + 1)[1:-1])
    edges = np.unique(np.concatenate([[0], np.clip(cuts, 0, n), [n]]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


def _partial_counts(
    bounds: list[tuple[int, int]],
) -> Any:
    def count(part: tuple[int, sp.csr_matrix]) -> Iterator[tuple[int, sp.csr_matrix]]:
        units = part[1]
        items_units = units.T.tocsr()
        for b, (start, end) in enumerate(bounds):
            block = (items_units[start:end] @ units).tocsr()
            if block.nnz:
                yield b, block

    return count


def _finish_blocks(
    bounds: list[tuple[int, int]], frequency: Any, config: SARConfig, spill: str | None
) -> Any:
    threshold = float(config.support_threshold)

    def finish(entry: tuple[int, sp.csr_matrix]) -> tuple[int, Block | str]:
        b, block = entry
        block = block.tocsr()
        block.sum_duplicates()
        block.sort_indices()
        if threshold > 1:
            block.data[block.data < threshold] = 0
            block.eliminate_zeros()
        block = similarity_from_counts(
            block, bounds[b][0], frequency.value, config.similarity_function
        )
        rows = sorted_rows(block, config.max_neighbors)
        if spill is None:
            return b, (rows.indptr, rows.indices, rows.data)
        path = f"{spill}/block-{b}.npz"  # the driver reads it: no trip through the JVM
        np.savez(path, indptr=rows.indptr, indices=rows.indices, data=rows.data)
        return b, path

    return finish


def _block_counts(bounds: list[tuple[int, int]], units: Any, items_units: Any) -> Any:
    def count(b: int) -> tuple[int, sp.csr_matrix]:
        start, end = bounds[b]
        return b, (items_units.value[start:end] @ units.value).tocsr()

    return count


def _spill_root(spark: Any) -> tempfile.TemporaryDirectory[str] | None:
    """Where executors leave their blocks for the driver: a folder both see
    (``RECOSTACK_SPARK_SPILL_DIR`` on a cluster, a local one for a ``local`` master);
    ``None``: the blocks come back through Spark."""
    shared = os.environ.get("RECOSTACK_SPARK_SPILL_DIR")
    if shared:
        return tempfile.TemporaryDirectory(prefix="recostack-sar-", dir=shared)
    if str(spark.sparkContext.master).startswith("local"):
        return tempfile.TemporaryDirectory(prefix="recostack-sar-")
    return None


def _stacked(
    found: dict[int, Block | str], bounds: list[tuple[int, int]], n_items: int
) -> sp.csr_matrix:
    blocks = []
    for b, (start, end) in enumerate(bounds):
        entry = found.get(b)
        if entry is None:
            blocks.append(sp.csr_matrix((end - start, n_items), dtype=np.float32))
            continue
        if isinstance(entry, str):
            with np.load(entry, allow_pickle=False) as saved:
                indptr, indices, data = saved["indptr"], saved["indices"], saved["data"]
        else:
            indptr, indices, data = entry
        blocks.append(sp.csr_matrix((data, indices, indptr), shape=(end - start, n_items)))
    return stack_rows(blocks, n_items)


def _similarity(spark: Any, units: sp.csr_matrix, config: SARConfig) -> sp.csr_matrix:
    n_items = units.shape[1]
    items_units = units.T.tocsr()
    frequency = np.diff(items_units.indptr).astype(np.float32)
    unit_lengths = np.diff(units.indptr).astype(np.float64)
    flops = items_units @ unit_lengths
    threads = config.threads or min(4, os.cpu_count() or 1)
    bounds = block_bounds(flops, config.block_flops, min_blocks=2 * threads if threads > 1 else 1)
    if not bounds:
        return sp.csr_matrix((n_items, n_items), dtype=np.float32)
    sc = spark.sparkContext
    parts = max(1, sc.defaultParallelism)
    broadcast_limit = int(os.environ.get("RECOSTACK_SPARK_BROADCAST_BYTES", 2 << 30))
    spill_root = _spill_root(spark)
    spill = None if spill_root is None else spill_root.name
    shared = sc.broadcast(frequency)
    finish = _finish_blocks(bounds, shared, config, spill)
    try:
        if units.nnz * 16 <= broadcast_limit:
            # the units fit every executor: each task computes whole blocks, no shuffle
            shared_units, shared_items = sc.broadcast(units), sc.broadcast(items_units)
            try:
                summed = (
                    sc.parallelize(range(len(bounds)), min(len(bounds), 4 * parts))
                    .map(_block_counts(bounds, shared_units, shared_items))
                    .map(finish)
                    .collect()
                )
            finally:
                shared_units.unpersist()
                shared_items.unpersist()
        else:
            # partial counts of each partition of the units, summed per block by Spark
            slices = [(p, units[a:b]) for p, (a, b) in enumerate(_row_partitions(units, parts))]
            summed = (
                sc.parallelize(slices, len(slices))
                .flatMap(_partial_counts(bounds))
                .reduceByKey(lambda a, b: a + b, numPartitions=min(len(bounds), 4 * parts))
                .map(finish)
                .collect()
            )
        return _stacked(dict(summed), bounds, n_items)
    finally:
        shared.unpersist()
        if spill_root is not None:
            spill_root.cleanup()


def _affinity(spark: Any, inter: Interactions, config: SARConfig) -> sp.csr_matrix:
    """Users × items affinities as the local engine weighs them, aggregated by Spark."""
    from pyspark.sql import functions as F

    shape = (inter.n_users, inter.n_items)
    table = pa.table(
        {
            "u": inter.user_index.astype(np.int64),
            "i": inter.item_index.astype(np.int64),
            "t": inter.timestamp.astype(np.float64),
            "w": inter.weight.astype(np.float64),
        }
    )
    events = spark.createDataFrame(table)
    if config.enable_user_affinity:
        half_life = config.half_life_days * SECONDS_PER_DAY
        decayed = F.col("w") * F.pow(
            F.lit(2.0), -(F.lit(float(inter.latest_time)) - F.col("t")) / half_life
        )
        grouped = events.groupBy("u", "i").agg(F.sum(decayed).alias("a"))
    else:
        grouped = events.select("u", "i").distinct().withColumn("a", F.lit(1.0))
    result = grouped.toArrow()
    matrix = sp.csr_matrix(
        (
            result.column("a").to_numpy().astype(np.float64),
            (result.column("u").to_numpy(), result.column("i").to_numpy()),
        ),
        shape=shape,
    )
    matrix.sum_duplicates()
    matrix.data = matrix.data.astype(np.float32)
    matrix.eliminate_zeros()
    return matrix


def fit_sar_on_spark(
    inter: Interactions, config: SARConfig, spark: Any
) -> tuple[ItemItemModel, sp.csr_matrix]:
    """SAR's item-item model and the users' affinities, computed on ``spark``."""
    units = cooccurrence_units(inter, config.cooccurrence_unit)
    similarity = _similarity(spark, units, config)
    popularity = np.diff(
        binary_matrix(inter.user_index, inter.item_index, (inter.n_users, inter.n_items))
        .tocsc()
        .indptr
    ).astype(np.float32)
    item_item = ItemItemModel.from_similarity(similarity, popularity, presorted=True)
    return item_item, _affinity(spark, inter, config)
