"""Hyperparameter search: validation split, seeded trials, failures, budget, the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recostack.data.ids import Vocabulary
from recostack.data.usage import UsageData
from recostack.errors import TrainingFailed
from recostack.evaluation import ndcg_at_k
from recostack.training import tuning
from recostack.training.fitting import fit_model, held_out_recommendations
from recostack.training.parameters import (
    HyperparameterSearch,
    TrainingParameters,
    parse_training_parameters,
)
from recostack.training.pipeline import train_from_paths
from recostack.training.tuning import search_parameters, split_usage

T0 = 1_700_000_000


def clustered_usage(seed: int = 3, n_users: int = 80, n_items: int = 24) -> UsageData:
    """Two taste clusters (even / odd items), events spread over 60 days."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(n_users):
        pool = np.arange(u % 2, n_items, 2)
        chosen = rng.choice(pool, size=8, replace=False)
        users += [u] * chosen.size
        items += chosen.tolist()
    n = len(users)
    return UsageData(
        users=Vocabulary([f"u{i}" for i in range(n_users)]),
        items=Vocabulary([f"i{i}" for i in range(n_items)]),
        user_index=np.array(users, dtype=np.int32),
        item_index=np.array(items, dtype=np.int32),
        timestamp=(T0 + rng.permutation(n) * 3_600).astype(np.int64),
        weight=rng.choice([1.0, 4.0], n).astype(np.float32),
    )


def base() -> TrainingParameters:
    return parse_training_parameters({"usageRelativePath": "usage.csv"})


def test_chronological_validation_holds_out_each_users_latest_events() -> None:
    usage = clustered_usage()
    train, validation = split_usage(usage, HyperparameterSearch(validation_ratio=0.75))
    assert train.n_events + validation.n_events == usage.n_events
    for u in range(usage.n_users):
        seen = train.timestamp[train.user_index == u]
        held = validation.timestamp[validation.user_index == u]
        assert seen.size == 6 and held.size == 2  # 8 events each
        assert seen.max() < held.min()
    assert train.items is usage.items and validation.users is usage.users


def test_stratified_validation_is_seeded() -> None:
    usage = clustered_usage()
    search = HyperparameterSearch(validation="stratified", seed=5)
    a, _ = split_usage(usage, search)
    b, _ = split_usage(usage, search)
    c, _ = split_usage(usage, HyperparameterSearch(validation="stratified", seed=6))
    assert np.array_equal(a.timestamp, b.timestamp)
    assert not np.array_equal(a.timestamp, c.timestamp)


def test_trials_are_scored_on_validation_and_the_best_is_kept() -> None:
    usage = clustered_usage()
    search = HyperparameterSearch(trials=6, algorithms=["ease", "popularity"])
    result = search_parameters(base(), usage, search)
    assert len(result.trials) == 6 and result.stopped_by == "trials"
    assert {t.algorithm for t in result.trials} <= {"ease", "popularity"}
    # recompute one trial's value independently of the search
    trial = result.trials[0]
    train, validation = split_usage(usage, search)
    params = parse_training_parameters({"usageRelativePath": "usage.csv", **trial.parameters})
    fitted = fit_model(params, train)
    recs, truth = held_out_recommendations(
        fitted.model, fitted.train_history, fitted.train_users, validation, 10
    )
    assert trial.value == pytest.approx(ndcg_at_k(recs, truth, 10))
    best = result.best
    assert best is not None
    assert best.value == max(t.value for t in result.trials if t.value is not None)
    chosen = result.best_parameters(base())
    assert chosen.algorithm.value == best.algorithm
    assert chosen.hyperparameter_search is None
    wire = result.to_wire()
    assert wire["trialsRun"] == 6 and wire["bestValue"] == best.value
    assert wire["validationUsers"] == 80 and wire["validationEvents"] == 160


def test_the_same_seed_gives_the_same_trials() -> None:
    usage = clustered_usage()
    search = HyperparameterSearch(trials=5, seed=11)
    first = [t.parameters for t in search_parameters(base(), usage, search).trials]
    again = [t.parameters for t in search_parameters(base(), usage, search).trials]
    other = HyperparameterSearch(trials=5, seed=12)
    different = [t.parameters for t in search_parameters(base(), usage, other).trials]
    assert first == again
    assert first != different


def test_a_failing_trial_is_recorded_and_the_search_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_fit = tuning.fit_model

    def fit_but_not_popularity(params: TrainingParameters, *args: Any, **kwargs: Any) -> Any:
        if params.algorithm.value == "popularity":
            raise MemoryError("no room")
        return real_fit(params, *args, **kwargs)

    monkeypatch.setattr(tuning, "fit_model", fit_but_not_popularity)
    search = HyperparameterSearch(trials=8, algorithms=["popularity", "itemknn"], seed=1)
    result = search_parameters(base(), clustered_usage(), search)
    failed = [t for t in result.trials if t.failed]
    assert failed and all(t.algorithm == "popularity" for t in failed)
    assert failed[0].error == "MemoryError: no room"
    assert len(result.trials) == 8
    assert result.best is not None and result.best.algorithm == "itemknn"
    assert result.to_wire()["trialsFailed"] == len(failed)


def test_a_cancellation_from_progress_stops_the_search() -> None:
    class Stop(Exception):
        pass

    calls: list[float] = []

    def progress(stage: str, fraction: float) -> None:
        calls.append(fraction)
        if len(calls) == 3:
            raise Stop

    with pytest.raises(Stop):
        search_parameters(
            base(), clustered_usage(), HyperparameterSearch(trials=10), progress=progress
        )
    assert calls == [0.0, 0.1, 0.2]


def test_the_time_budget_stops_the_search() -> None:
    search = HyperparameterSearch(trials=50, time_budget_seconds=1e-9)
    result = search_parameters(base(), clustered_usage(), search)
    assert result.trials == [] and result.stopped_by == "time budget" and result.best is None


def write_usage_file(path: Path, usage: UsageData) -> None:
    lines = [
        f"{usage.users.ids[u]},{usage.items.ids[i]},"
        f"{datetime.fromtimestamp(int(t), UTC):%Y-%m-%dT%H:%M:%S}"
        for u, i, t in zip(usage.user_index, usage.item_index, usage.timestamp, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")


def test_the_pipeline_trains_the_best_candidate_and_records_the_search(tmp_path: Path) -> None:
    usage_path = tmp_path / "usage.csv"
    write_usage_file(usage_path, clustered_usage())
    params = parse_training_parameters(
        {
            "usageRelativePath": "usage.csv",
            "hyperparameterSearch": {"algorithms": ["itemknn", "ease"], "trials": 4},
        }
    )
    result = train_from_paths(params, usage_path=usage_path, out_dir=tmp_path / "model")
    search = result.statistics["hyperparameterSearch"]
    assert search["trialsRun"] == 4 and search["metric"] == "ndcg@10"
    best = search["trials"][search["bestTrial"]]
    assert best["value"] == search["bestValue"]
    assert result.statistics["algorithm"] == best["algorithm"]
    for name, value in search["bestParameters"].items():
        assert result.model.parameters[name] == value
    assert result.model.parameters["hyperparameterSearch"] is None


def test_the_pipeline_fails_when_every_trial_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("broken")

    monkeypatch.setattr(tuning, "fit_model", broken)
    usage_path = tmp_path / "usage.csv"
    write_usage_file(usage_path, clustered_usage())
    params = parse_training_parameters(
        {"usageRelativePath": "usage.csv", "hyperparameterSearch": {"trials": 2}}
    )
    with pytest.raises(TrainingFailed, match="all 2 trials failed") as caught:
        train_from_paths(params, usage_path=usage_path, out_dir=tmp_path / "model")
    assert caught.value.detail["hyperparameterSearch"]["trialsFailed"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metric": "auc@10"}, "hyperparameterSearch.metric"),
        ({"metric": "ndcg@0"}, "hyperparameterSearch.metric"),
        ({"trials": 0}, "hyperparameterSearch.trials"),
        ({"algorithms": []}, "hyperparameterSearch.algorithms"),
        ({"algorithms": ["svd"]}, "hyperparameterSearch.algorithms.0"),
        ({"validation": "random"}, "hyperparameterSearch.validation"),
        ({"budget": 3}, "hyperparameterSearch.budget"),
    ],
)
def test_bad_search_options_name_the_field(body: dict[str, Any], field: str) -> None:
    from recostack.errors import Invalid

    with pytest.raises(Invalid) as caught:
        parse_training_parameters({"usageRelativePath": "u.csv", "hyperparameterSearch": body})
    assert caught.value.field == field
