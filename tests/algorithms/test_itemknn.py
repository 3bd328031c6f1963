"""BM25 ItemKNN: the weighting by hand, the neighbours against a dense oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recostack.algorithms.interactions import Interactions
from recostack.algorithms.itemknn import BM25ItemKNN, ItemKNNConfig, bm25_weight


def test_bm25_weight_by_hand() -> None:
    # 2 documents x 2 terms; term 0 in both documents, term 1 in document 0 only
    x = sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 0.0]]))
    w = bm25_weight(x, k1=100.0, b=0.8).toarray()
    idf0 = math.log(2) - math.log(3)  # log N - log(1 + docs with the term)
    norm = [0.2 + 0.8 * 2 / 1.5, 0.2 + 0.8 * 1 / 1.5]  # (1 - b) + b * length / mean length
    assert w[0, 0] == pytest.approx(101 / (100 * norm[0] + 1) * idf0, rel=1e-5)
    assert w[1, 0] == pytest.approx(101 / (100 * norm[1] + 1) * idf0, rel=1e-5)
    assert w[0, 1] == pytest.approx(0.0, abs=1e-7)  # idf of term 1 is log 2 - log 2 = 0


def test_neighbours_match_a_dense_oracle(rng: np.random.Generator) -> None:
    n_users, n_items, n = 80, 40, 900
    users = rng.integers(0, n_users, n)
    items = np.minimum(rng.zipf(1.4, n) - 1, n_items - 1)
    inter = Interactions(
        n_users, n_items, users, items, np.zeros(n, np.int64), np.ones(n, np.float32)
    )
    model = BM25ItemKNN(ItemKNNConfig(neighbors=5, k1=100.0, b=0.8, weighted=False)).fit(inter)
    assert model.item_item is not None
    binary = np.zeros((n_users, n_items))
    binary[users, items] = 1
    weighted = bm25_weight(sp.csr_matrix(binary.T), 100.0, 0.8).toarray()
    full = np.maximum(weighted @ weighted.T, 0)
    for item in range(n_items):
        row = model.item_item.neighbours(item)
        assert len(row) <= 5
        expected = np.sort(full[item][full[item] > 0])[::-1][: len(row)]
        np.testing.assert_allclose(row.scores, expected, rtol=1e-4)


def test_weighted_term_frequencies_are_summed_event_weights(rng: np.random.Generator) -> None:
    """As implicit's BM25Recommender on a ratings matrix: tf = Σ weights, then WᵀW, top K."""
    n_users, n_items, n = 50, 20, 400
    users = rng.integers(0, n_users, n)
    items = rng.integers(0, n_items, n)
    weights = rng.choice([1.0, 3.0, 5.0], n).astype(np.float32)
    inter = Interactions(n_users, n_items, users, items, np.zeros(n, np.int64), weights)
    model = BM25ItemKNN(ItemKNNConfig(neighbors=n_items)).fit(inter)
    assert model.item_item is not None and model.user_affinity is not None
    tf = np.zeros((n_users, n_items))
    np.add.at(tf, (users, items), weights)  # repeated events add up
    np.testing.assert_allclose(model.user_affinity.toarray(), tf, rtol=1e-6)
    w = bm25_weight(sp.csr_matrix(tf.T), 1.2, 0.75).toarray()
    full = np.maximum(w @ w.T, 0)
    np.testing.assert_allclose(model.item_item.to_csr().toarray(), full, rtol=1e-4, atol=1e-6)
    unweighted = BM25ItemKNN(ItemKNNConfig(neighbors=n_items, weighted=False)).fit(inter)
    assert unweighted.item_item is not None
    assert not np.allclose(unweighted.item_item.to_csr().toarray(), full, rtol=1e-3)
