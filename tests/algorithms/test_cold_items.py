"""Cold items get placed next to the warm items whose features they share."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recostack.algorithms.cold_items import encode_features, fit_feature_weights, place_cold_items
from recostack.algorithms.interactions import Interactions
from recostack.algorithms.item_item import ItemItemModel
from recostack.algorithms.sar import SAR, SARConfig

N_GENRES, PER_GENRE = 3, 8


def genre_world(rng: np.random.Generator) -> tuple[Interactions, dict[str, np.ndarray]]:
    """Users mostly stick to one genre (1 pick in 6 is any item); one extra item
    per genre has no usage (cold)."""
    n_warm = N_GENRES * PER_GENRE
    n_items = n_warm + N_GENRES
    genre = np.concatenate([np.repeat(np.arange(N_GENRES), PER_GENRE), np.arange(N_GENRES)])
    users, items = [], []
    for u in range(240):
        g = u % N_GENRES
        picks = rng.choice(PER_GENRE, size=5, replace=False) + g * PER_GENRE
        stray = rng.integers(0, N_GENRES * PER_GENRE)
        users += [u] * 6
        items += [*picks.tolist(), int(stray)]
    inter = Interactions(
        240,
        n_items,
        np.array(users),
        np.array(items),
        np.zeros(len(users), np.int64),
        np.ones(len(users), np.float32),
    )
    features = {
        "genre": np.array([f"g{g}" for g in genre]),
        "noise": np.array([f"n{v}" for v in rng.integers(0, 2, n_items)]),
    }
    return inter, features


def test_feature_weights_learn_which_feature_matters(rng: np.random.Generator) -> None:
    inter, features = genre_world(rng)
    sar = SAR(SARConfig(support_threshold=1)).fit(inter)
    assert sar.item_item is not None
    warm = sar.item_item.popularity > 0
    model = fit_feature_weights(sar.item_item.to_csr(), encode_features(features), warm)
    assert model.weights["genre"] > 0.1
    assert abs(model.weights["noise"]) < model.weights["genre"] / 5


def test_new_item_is_recommended_next_to_its_genre(rng: np.random.Generator) -> None:
    inter, features = genre_world(rng)
    sar = SAR(SARConfig(support_threshold=1)).fit(inter)
    assert sar.item_item is not None
    warm = sar.item_item.popularity > 0
    combined, _ = place_cold_items(sar.item_item.to_csr(), features, warm, neighbors=50)
    model = ItemItemModel.from_similarity(combined, sar.item_item.popularity)
    cold_g0 = N_GENRES * PER_GENRE  # the cold item of genre 0
    for item in range(PER_GENRE):  # every warm genre-0 item
        top = model.top_k(model.neighbours(item), 10, exclude=np.array([item]), presorted=True)
        assert cold_g0 in top.items.tolist()
    for item in range(PER_GENRE, 2 * PER_GENRE):  # genre-1 items rank it below their genre
        top = model.top_k(model.neighbours(item), 10, exclude=np.array([item]), presorted=True)
        ranked = top.items.tolist()
        assert cold_g0 not in ranked[: PER_GENRE - 1]
    # and the cold item itself recommends its genre
    top = model.top_k(model.neighbours(cold_g0), 10, exclude=np.array([cold_g0]), presorted=True)
    assert set(top.items.tolist()[: PER_GENRE - 1]) <= set(range(PER_GENRE))


def test_cold_to_cold_pairs_only_when_enabled(rng: np.random.Generator) -> None:
    inter, features = genre_world(rng)
    # make two cold items of the same genre
    features["genre"][-1] = features["genre"][-2]
    sar = SAR(SARConfig(support_threshold=1)).fit(inter)
    assert sar.item_item is not None
    warm = sar.item_item.popularity > 0
    s = sar.item_item.to_csr()
    without, _ = place_cold_items(s, features, warm)
    with_cc, _ = place_cold_items(s, features, warm, cold_to_cold=True)
    a, b = inter.n_items - 2, inter.n_items - 1
    assert sp.csr_matrix(without)[a, b] == 0
    assert sp.csr_matrix(with_cc)[a, b] > 0
