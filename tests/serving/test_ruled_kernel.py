"""The one-call ruled answer equals its steps composed in Python and numpy.

The steps: the filtered head of a sorted row (or the best of a history),
:func:`recostack.rules.rerank` down to ``count``, then
:meth:`ItemItemModel.backfill` (each step checked against numpy on its own
in tests/algorithms and tests/rules).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from recostack.algorithms.item_item import ItemItemModel, ScoredItems, sorted_rows
from recostack.algorithms.kernels import pack_mask
from recostack.rules import ItemProperties, candidate_pool_size, rerank, rule_plan
from recostack.serving.ruled_kernel import history_answer, item_answer

FILTERS = ["colour:in:red,blue", "size:gte:2", "colour:neq:green", "size:empty"]
RERANKING = ["colour:diversity:0.5", "size:diversity:2", "colour:diversity:0"]


def _reference(
    model: ItemItemModel,
    props: ItemProperties,
    pool: tuple[np.ndarray, np.ndarray],
    reranking: list[str],
    count: int,
    exclude: np.ndarray,
    mask: np.ndarray | None,
) -> tuple[list[int], list[float]]:
    items, scores = pool
    if reranking and len(items) > 1:
        items, scores = rerank(items, scores, reranking, props, k=count)
    head = ScoredItems(items[:count], scores[:count])
    filled = model.backfill(head, count, exclude=exclude, allowed=mask)  # tests/algorithms
    return filled.items.tolist(), filled.scores.tolist()


def _filtered_head(
    model: ItemItemModel, item: int, k: int, exclude: np.ndarray, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    row = model.neighbours(item)
    keep = (row.scores > 0) & ~np.isin(row.items, exclude)
    if mask is not None:
        keep &= mask[row.items]
    return row.items[keep][:k], row.scores[keep][:k]


@settings(max_examples=200, deadline=None)
@given(
    n_items=st.integers(2, 40),
    density=st.floats(0.05, 0.9),
    seed=st.integers(0, 2**31 - 1),
    count=st.integers(1, 12),
    filters=st.lists(st.sampled_from(FILTERS), max_size=2, unique=True),
    reranking=st.lists(st.sampled_from(RERANKING), max_size=2),
    whitelist=st.booleans(),
    backfill=st.booleans(),
    history=st.integers(0, 6),
    packed=st.booleans(),
)
def test_the_one_call_answer_is_the_composed_steps(
    n_items: int,
    density: float,
    seed: int,
    count: int,
    filters: list[str],
    reranking: list[str],
    whitelist: bool,
    backfill: bool,
    history: int,
    packed: bool,
) -> None:
    """The answer equals its steps in Python/numpy, with the mask boolean or packed in bits."""
    rng = np.random.default_rng(seed)
    sim = sp.random(n_items, n_items, density=density, random_state=rng, format="csr")
    sim.data = np.round(sim.data * 4) / 4  # ties, and zero weights that never count
    sim = sorted_rows(sim.astype(np.float32))
    model = ItemItemModel.from_similarity(sim, rng.integers(0, 9, n_items).astype(np.float32))
    props = ItemProperties(
        {
            "colour": rng.choice(["red", "blue", "green", ""], n_items),
            "size": rng.choice(["1", "2", "3", ""], n_items),
        }
    )
    plan = rule_plan(filters, reranking, props)
    mask = plan.allowed
    if whitelist:
        extra = rng.random(n_items) < 0.7
        mask = extra if mask is None else mask & extra
    exclude = np.unique(rng.integers(0, n_items, rng.integers(0, 4)))
    pool = candidate_pool_size(count, len(reranking))
    fill_model = model if backfill else ItemItemModel.from_similarity(sim, np.zeros(n_items))

    given = pack_mask(mask) if packed and mask is not None else mask

    item = int(rng.integers(0, n_items))
    got = item_answer(
        model, item, pool, count, plan, exclude=exclude, allowed=given, backfill=backfill
    )
    head = _filtered_head(model, item, pool, exclude, mask)
    want = _reference(fill_model, props, head, reranking, count, exclude, mask)
    assert (got.items.tolist(), got.scores.tolist()) == want

    items = rng.integers(0, n_items, history)
    affinities = rng.choice([0.5, 1.0, 2.0], history).astype(np.float32)
    got = history_answer(
        model,
        items,
        affinities,
        pool,
        count,
        plan,
        exclude=exclude,
        allowed=given,
        backfill=backfill,
    )
    best = model.best_of_history(items, affinities, pool, exclude=exclude, allowed=mask)
    want = _reference(fill_model, props, (best.items, best.scores), reranking, count, exclude, mask)
    assert (got.items.tolist(), got.scores.tolist()) == want


def test_an_unknown_seed_gets_popular_items_only() -> None:
    popularity = np.array([1, 3, 2], dtype=np.float32)
    model = ItemItemModel.from_similarity(sp.csr_matrix((3, 3), dtype=np.float32), popularity)
    plan = rule_plan([], [], ItemProperties({"colour": np.array(["a", "b", "c"])}))
    got = item_answer(model, None, 10, 2, plan)
    assert got.items.tolist() == [1, 2]
    assert got.scores.tolist() == [1.0, np.float32(2 / 3)]
    assert item_answer(model, None, 10, 2, plan, backfill=False).items.tolist() == []


def test_int16_and_int32_codes_rerank_alike() -> None:
    rng = np.random.default_rng(3)
    n_items = 60
    sim = sorted_rows(sp.random(n_items, n_items, density=0.4, random_state=rng, format="csr"))
    model = ItemItemModel.from_similarity(sim.astype(np.float32), rng.random(n_items))
    props = ItemProperties({"colour": rng.choice(["red", "blue", "green", ""], n_items)})
    plan = rule_plan(["colour:neq:green"], ["colour:diversity:0.7"], props)
    assert plan.codes.dtype == np.int16
    wide = dataclasses.replace(plan, codes=plan.codes.astype(np.int32))
    for item in range(n_items):
        narrow_answer = item_answer(model, item, 30, 8, plan, allowed=plan.packed, seed_out=True)
        wide_answer = item_answer(model, item, 30, 8, wide, allowed=plan.packed, seed_out=True)
        assert narrow_answer.items.tolist() == wide_answer.items.tolist()
        assert narrow_answer.scores.tolist() == wide_answer.scores.tolist()
