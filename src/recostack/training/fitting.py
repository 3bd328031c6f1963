"""Fit a model on parsed usage, and score a fitted model on held-out usage.

The steps every training shares — ``recostack train``, a worker's job and
each trial of a hyperparameter search (:mod:`recostack.training.tuning`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from recostack.algorithms.cold_items import place_cold_items
from recostack.algorithms.ease import EASE, EASEConfig
from recostack.algorithms.interactions import Interactions, affinity_matrix
from recostack.algorithms.item_item import ItemItemModel
from recostack.algorithms.itemknn import BM25ItemKNN, ItemKNNConfig
from recostack.algorithms.popularity import Popularity
from recostack.algorithms.sar import SAR, SARConfig
from recostack.data.catalog import Catalog
from recostack.data.ids import Vocabulary
from recostack.data.usage import UsageData
from recostack.errors import Unprocessable
from recostack.evaluation.report import evaluation_metrics
from recostack.training.parameters import Algorithm, TrainingParameters
from recostack.training.trained_model import ServingOptions, TrainedModel

__all__ = [
    "FittedModel",
    "Progress",
    "evaluate_model",
    "fit_model",
    "held_out_recommendations",
    "item_creation_times",
]

Progress = Callable[[str, float], None]
COLD_NEIGHBORS = 50


@dataclass(frozen=True)
class FittedModel:
    """A fitted model with what evaluation needs of its training data."""

    model: TrainedModel
    train_history: sp.csr_matrix  # users × items affinities of the training data
    train_users: Vocabulary
    extra_statistics: dict[str, Any]


def _interactions(usage: UsageData) -> Interactions:
    return Interactions(
        len(usage.users),
        len(usage.items),
        usage.user_index,
        usage.item_index,
        usage.timestamp,
        usage.weight,
    )


def _serving_history(params: TrainingParameters, inter: Interactions) -> sp.csr_matrix:
    """Users' affinities as serving weighs a request's events (and evaluation must too).

    With ``enableUserAffinity`` each event counts its weight, halved every
    ``decayPeriodInDays``; without it every item a user used counts 1.
    """
    return affinity_matrix(
        inter,
        weighted=params.enable_user_affinity,
        half_life_days=float(params.decay_period_in_days) if params.enable_user_affinity else None,
    )


def item_creation_times(inter: Interactions, catalog: Catalog | None) -> np.ndarray:
    """Per item, epoch seconds of its catalog ``CREATION_TIMESTAMP``, else of its first
    interaction, else -1 (item exploration's ages; the catalog's items are the model's)."""
    created = np.full(inter.n_items, np.iinfo(np.int64).max, dtype=np.int64)
    if inter.n_events:
        np.minimum.at(created, inter.item_index, inter.timestamp.astype(np.int64))
    created[created == np.iinfo(np.int64).max] = -1
    if catalog is not None and catalog.creation_times is not None:
        given = ~np.isnan(catalog.creation_times)
        created[given] = catalog.creation_times[given].astype(np.int64)
    return created


def fit_model(
    params: TrainingParameters,
    usage: UsageData,
    catalog: Catalog | None = None,
    progress: Progress | None = None,
) -> FittedModel:
    """Fit the algorithm ``params`` name on parsed usage; returns the model and extra stats."""
    inter = _interactions(usage)
    extra: dict[str, Any] = {}
    history: sp.csr_matrix
    item_item: ItemItemModel
    if params.engine == "spark" and params.algorithm is not Algorithm.SAR:
        raise Unprocessable(
            f"engine spark trains algorithm sar, not {params.algorithm.value}", field="engine"
        )
    if params.algorithm is Algorithm.SAR:
        config = SARConfig(
            support_threshold=params.support_threshold,
            cooccurrence_unit=params.cooccurrence_unit.value,
            similarity_function=params.similarity_function.value,
            enable_user_affinity=params.enable_user_affinity,
            half_life_days=float(params.decay_period_in_days),
            max_neighbors=params.max_neighbors,
        )
        if params.engine == "spark":
            from recostack.training.spark_sar import fit_sar_on_spark
            from recostack.training.spark_session import spark_session

            spark = spark_session()
            item_item, history = fit_sar_on_spark(inter, config, spark)
            extra["engine"] = "spark"
            extra["sparkMaster"] = str(spark.sparkContext.master)
        else:
            sar = SAR(config).fit(
                inter, None if progress is None else (lambda f: progress("similarity", f))
            )
            assert sar.item_item is not None and sar.user_affinity is not None
            item_item, history = sar.item_item, sar.user_affinity
    elif params.algorithm is Algorithm.ITEMKNN:
        knn = BM25ItemKNN(
            ItemKNNConfig(
                neighbors=params.knn_neighbors,
                k1=params.bm25_k1,
                b=params.bm25_b,
                weighted=params.knn_weighted,
            )
        ).fit(inter)
        assert knn.item_item is not None
        item_item, history = knn.item_item, _serving_history(params, inter)
    elif params.algorithm is Algorithm.EASE:
        ease = EASE(
            EASEConfig(
                l2=params.ease_lambda,
                weighted=params.ease_weighted,
                max_items=params.ease_max_items,
                neighbors=params.max_neighbors,
            )
        ).fit(inter)
        assert ease.item_item is not None
        item_item, history = ease.item_item, _serving_history(params, inter)
        extra["easeItemsModelled"] = int(ease.modelled_items.size)
        extra["easeWeightShareKept"] = round(ease.weight_share_kept, 6)
    else:
        pop = Popularity().fit(inter)
        assert pop.item_item is not None and pop.user_affinity is not None
        item_item, history = pop.item_item, pop.user_affinity
    if params.enable_cold_item_placement and catalog is not None and catalog.features:
        if progress is not None:
            progress("cold items", 0.0)
        warm = item_item.popularity > 0
        combined, cold = place_cold_items(
            item_item.to_csr(),
            catalog.features,
            warm,
            cold_to_cold=params.enable_cold_to_cold_recommendations,
            neighbors=params.max_neighbors or COLD_NEIGHBORS,
        )
        item_item = ItemItemModel.from_similarity(combined, item_item.popularity)
        extra["catalogFeatureWeights"] = cold.to_wire()
        extra["coldItemsPlaced"] = int((~warm).sum())
    options = ServingOptions(
        allow_seed_items=params.allow_seed_items_in_recommendations,
        enable_backfilling=params.enable_backfilling or params.algorithm is Algorithm.POPULARITY,
        enable_user_affinity=params.enable_user_affinity,
        enable_user_to_item=params.enable_user_to_item_recommendations,
        half_life_days=float(params.decay_period_in_days),
        reference_time=inter.latest_time,
    )
    model = TrainedModel(
        item_created=item_creation_times(inter, catalog),
        algorithm=params.algorithm.value,
        items=usage.items,
        item_item=item_item,
        options=options,
        users=usage.users if params.enable_user_to_item_recommendations else None,
        history=history if params.enable_user_to_item_recommendations else None,
        properties=catalog.properties() if catalog is not None else None,
        parameters=params.to_wire(),
    )
    return FittedModel(model, history, usage.users, extra)


def held_out_recommendations(
    model: TrainedModel,
    train_history: sp.csr_matrix,
    train_users: Vocabulary,
    test: UsageData,
    k: int,
) -> tuple[np.ndarray, sp.csr_matrix]:
    """Top-``k`` lists of the test users with a training history, and their test items.

    Rows go together: ``recs`` (users × k, -1 padded, as the model answers:
    seen items removed unless it allows seed items, backfilled if it
    backfills) and ``truth`` (users × items, 1 per test item).
    """
    test_users_in_train = train_users.indices(test.users.ids)
    keep_users = test_users_in_train >= 0
    rows_of_test_user = np.full(len(test.users), -1, dtype=np.int64)
    rows_of_test_user[keep_users] = np.arange(int(keep_users.sum()))
    ev_rows = rows_of_test_user[test.user_index]
    ok = ev_rows >= 0
    n_eval = int(keep_users.sum())
    truth = sp.csr_matrix(
        (np.ones(int(ok.sum()), dtype=np.float32), (ev_rows[ok], test.item_index[ok])),
        shape=(n_eval, model.n_items),
    )
    truth.sum_duplicates()
    truth.data[:] = 1.0
    histories = train_history[test_users_in_train[keep_users]]
    recs = model.item_item.recommend_batch(
        histories,
        k,
        exclude_seen=not model.options.allow_seed_items,
        backfill=model.options.enable_backfilling,
    )
    return recs, truth


def evaluate_model(
    model: TrainedModel,
    train_history: sp.csr_matrix,
    train_users: Vocabulary,
    test: UsageData,
    ks: range = range(1, 11),
) -> dict[str, Any]:
    """The reference's evaluation metrics of ``model`` on a test usage set.

    Test users without training history are not evaluated (``usersInTest``
    counts the evaluated ones); items are the test events' items.
    """
    recs, truth = held_out_recommendations(model, train_history, train_users, test, max(ks))
    return evaluation_metrics(recs, truth, train_history, model.n_items, ks=ks).to_dict()
