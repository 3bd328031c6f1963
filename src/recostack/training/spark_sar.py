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
  user and item) are computed on the executors too, each task the rows of
  a range of whole users with the local engine's own function: no shuffle.
  With a folder both see, the executors memory-map the driver's event
  arrays from it instead of receiving them through the JVM (at 100M events
  on ``local[2]``, an aggregation as a DataFrame took 4.5 minutes for 1,351
  of the 10,000 tasks of its first stage, and a run of it failed after
  862 s; now the whole fit takes 81 s: ``bench/README.md``).

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
import scipy.sparse as sp

from recostack.algorithms.interactions import Interactions, affinity_matrix, binary_matrix
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
        return b, _hand_back(spill, f"block-{b}", sorted_rows(block, config.max_neighbors))

    return finish


def _hand_back(spill: str | None, name: str, matrix: sp.csr_matrix) -> Block | str:
    """What a task gives the driver: its rows as a file in the folder both see (no trip
    through the JVM), else its arrays through Spark."""
    if spill is None:
        return matrix.indptr, matrix.indices, matrix.data
    path = f"{spill}/{name}.npz"
    np.savez(path, indptr=matrix.indptr, indices=matrix.indices, data=matrix.data)
    return path


def _taken_back(entry: Block | str, shape: tuple[int, int]) -> sp.csr_matrix:
    """The driver's side of :func:`_hand_back`."""
    if isinstance(entry, str):
        with np.load(entry, allow_pickle=False) as saved:
            indptr, indices, data = saved["indptr"], saved["indices"], saved["data"]
    else:
        indptr, indices, data = entry
    return sp.csr_matrix((data, indices, indptr), shape=shape)


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
        else:
            blocks.append(_taken_back(entry, (end - start, n_items)))
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
            finally:  # the driver's copies too (destroy, not unpersist): the affinities follow
                shared_units.destroy()
                shared_items.destroy()
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
        shared.destroy()
        if spill_root is not None:
            spill_root.cleanup()


def _event_ranges(users: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Contiguous ranges of the events (sorted by user) with about the same number of events
    each, cut between users (a user's events are all in one range)."""
    n = users.shape[0]
    if n == 0:
        return []
    cuts = np.searchsorted(users, users[np.linspace(0, n, parts + 1)[1:-1].astype(np.int64)])
    edges = np.unique(np.concatenate([[0], cuts, [n]]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


#: events an affinity task takes at most (about 24 bytes each on its executor, twice over)
_AFFINITY_EVENTS_PER_TASK = 5_000_000


def _range_affinity(n_items: int, config: SARConfig, latest_time: float, spill: str | None) -> Any:
    def affinity(task: tuple[int, int, int, int, int, Any]) -> tuple[int, Block | str]:
        r, start, end, first_user, end_user, shipped = task
        if shipped is None:  # memory-mapped from the folder the driver wrote them to
            users, items, times, weights = (
                np.load(f"{spill}/events-{name}.npy", mmap_mode="r")[start:end]
                for name in ("user", "item", "time", "weight")
            )
        else:
            users, items, times, weights = shipped
        part = Interactions(
            n_users=end_user - first_user,
            n_items=n_items,
            user_index=np.asarray(users) - first_user,
            item_index=np.asarray(items),
            timestamp=np.asarray(times),
            weight=np.asarray(weights),
        )
        matrix = affinity_matrix(
            part,
            weighted=config.enable_user_affinity,
            half_life_days=config.half_life_days if config.enable_user_affinity else None,
            reference_time=latest_time,
        )
        return r, _hand_back(spill, f"affinity-{r}", matrix)

    return affinity


def _affinity(spark: Any, inter: Interactions, config: SARConfig) -> sp.csr_matrix:
    """Users × items affinities as the local engine weighs them: the events in user order,
    cut into ranges of whole users; each range's rows computed on an executor by the local
    engine's own function (:func:`affinity_matrix`, the decay relative to the latest event
    of all), and stacked in order by the driver. No shuffle, and on a ``local`` master or
    with ``RECOSTACK_SPARK_SPILL_DIR`` no event passes through the JVM: the executors
    memory-map the driver's arrays and leave their rows in the same folder."""
    user_index = inter.user_index
    if user_index.size and np.any(user_index[1:] < user_index[:-1]):
        order = np.argsort(user_index, kind="stable")  # a user's events keep their order
        columns = [a[order] for a in (user_index, inter.item_index, inter.timestamp, inter.weight)]
    else:
        columns = [user_index, inter.item_index, inter.timestamp, inter.weight]
    users = columns[0]
    sc = spark.sparkContext
    parts = max(4 * max(1, sc.defaultParallelism), -(-users.size // _AFFINITY_EVENTS_PER_TASK))
    ranges = _event_ranges(users, parts)
    # each range owns the users from its first one to the next range's first one (users
    # without events have empty rows)
    firsts = [int(users[a]) if r else 0 for r, (a, _) in enumerate(ranges)]
    ends = [*firsts[1:], inter.n_users]
    spill_root = _spill_root(spark)
    spill = None if spill_root is None else spill_root.name
    try:
        if spill is not None:
            for name, values in zip(("user", "item", "time", "weight"), columns, strict=True):
                np.save(f"{spill}/events-{name}.npy", values)
        tasks = [
            (r, a, b, firsts[r], ends[r], None if spill else tuple(c[a:b] for c in columns))
            for r, (a, b) in enumerate(ranges)
        ]
        found = dict(
            sc.parallelize(tasks, max(1, len(tasks)))
            .map(_range_affinity(inter.n_items, config, float(inter.latest_time), spill))
            .collect()
        )
        rows = [
            _taken_back(found[r], (ends[r] - firsts[r], inter.n_items)) for r in range(len(tasks))
        ]
    finally:
        if spill_root is not None:
            spill_root.cleanup()
    if not rows:
        return sp.csr_matrix((inter.n_users, inter.n_items), dtype=np.float32)
    return stack_rows(rows, inter.n_items)


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
