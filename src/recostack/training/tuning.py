"""Hyperparameter search: which algorithm and parameters fit this usage best.

Optuna's TPE sampler (seeded, so a search is reproducible) proposes an
algorithm and its parameters; each trial fits the candidate on the first
``validationRatio`` of every user's events (the oldest, by default) and
scores the search's metric on the rest, exactly as a model's evaluation
does (:func:`recostack.training.fitting.held_out_recommendations`). The
loop is Optuna's ask-and-tell, so a trial that fails is recorded as failed
and the search goes on, while a cancellation raised by ``progress`` (the
worker's lease lost, a shutdown) stops it. The time budget is checked
before each trial.

``recostack tune`` and the training option ``hyperparameterSearch`` both
run :func:`search_parameters`; the caller trains the best candidate on all
the usage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from recostack.data.catalog import Catalog
from recostack.data.report import format_timespan
from recostack.data.usage import UsageData
from recostack.evaluation import (
    chronological_split,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    stratified_split,
)
from recostack.training.fitting import Progress, fit_model, held_out_recommendations
from recostack.training.parameters import (
    METRIC_PATTERN,
    Algorithm,
    HyperparameterSearch,
    TrainingParameters,
)

if TYPE_CHECKING:
    import optuna

__all__ = [
    "SearchResult",
    "TrialRecord",
    "search_parameters",
    "split_usage",
    "suggest_parameters",
]

_METRICS: dict[str, Callable[[np.ndarray, Any, int], float]] = {
    "ndcg": ndcg_at_k,
    "precision": precision_at_k,
    "recall": recall_at_k,
    "map": map_at_k,
}


@dataclass(frozen=True)
class TrialRecord:
    """One trial: the candidate (wire names), its validation score or why it failed."""

    number: int
    algorithm: str
    parameters: dict[str, Any]
    value: float | None
    seconds: float
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.value is None

    def to_wire(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "algorithm": self.algorithm,
            "parameters": self.parameters,
            "value": self.value,
            "state": "failed" if self.failed else "complete",
            "error": self.error,
            "duration": format_timespan(self.seconds),
        }


@dataclass
class SearchResult:
    """The trials of a search and the best of them (``None`` when every trial failed)."""

    search: HyperparameterSearch
    trials: list[TrialRecord] = field(default_factory=list)
    stopped_by: str = "trials"
    seconds: float = 0.0
    validation_events: int = 0
    validation_users: int = 0

    @property
    def best(self) -> TrialRecord | None:
        done = [t for t in self.trials if t.value is not None]
        return max(done, key=lambda t: (t.value, -t.number)) if done else None

    def best_parameters(self, base: TrainingParameters) -> TrainingParameters:
        """``base`` with the best trial's choices, and no search of its own."""
        best = self.best
        if best is None:
            raise ValueError("no trial of the search completed")
        return with_overrides(base, best.parameters)

    def to_wire(self) -> dict[str, Any]:
        """What a model's statistics record of the search (``hyperparameterSearch``)."""
        best = self.best
        return {
            "algorithms": [a.value for a in self.search.algorithms],
            "metric": self.search.metric,
            "validation": self.search.validation,
            "validationRatio": self.search.validation_ratio,
            "validationEvents": self.validation_events,
            "validationUsers": self.validation_users,
            "seed": self.search.seed,
            "trialsRequested": self.search.trials,
            "trialsRun": len(self.trials),
            "trialsFailed": sum(t.failed for t in self.trials),
            "stoppedBy": self.stopped_by,
            "duration": format_timespan(self.seconds),
            "bestValue": None if best is None else best.value,
            "bestTrial": None if best is None else best.number,
            "bestParameters": None if best is None else best.parameters,
            "trials": [t.to_wire() for t in self.trials],
        }


def with_overrides(base: TrainingParameters, overrides: dict[str, Any]) -> TrainingParameters:
    """``base`` with wire-named ``overrides`` applied, validated, without a search."""
    wire = base.to_wire()
    wire.update(overrides)
    wire["hyperparameterSearch"] = None
    return TrainingParameters.model_validate(wire)


#: the parameters each algorithm's search sets (the first trials take their defaults)
_SEARCHED: dict[Algorithm, tuple[str, ...]] = {
    Algorithm.SAR: ("similarityFunction", "supportThreshold"),
    Algorithm.ITEMKNN: ("knnNeighbors", "bm25K1", "bm25B", "knnWeighted"),
    Algorithm.EASE: ("easeLambda", "easeWeighted"),
    Algorithm.POPULARITY: (),
}


def _defaults(algorithm: Algorithm) -> dict[str, Any]:
    """An untuned training of ``algorithm`` as trial parameters (its declared defaults)."""
    declared = TrainingParameters(usage_relative_path="-").model_dump(by_alias=True, mode="json")
    names = (*_SEARCHED[algorithm], "enableUserAffinity")
    return {"algorithm": algorithm.value, **{name: declared[name] for name in names}}


def suggest_parameters(trial: optuna.Trial, algorithms: list[Algorithm]) -> dict[str, Any]:
    """The candidate of one trial: ``algorithm`` and its parameters, by wire name."""
    algorithm = Algorithm(trial.suggest_categorical("algorithm", [a.value for a in algorithms]))
    chosen: dict[str, Any] = {"algorithm": algorithm.value}
    if algorithm is Algorithm.SAR:
        chosen["similarityFunction"] = trial.suggest_categorical(
            "similarityFunction", ["Jaccard", "Lift", "Cooccurrence"]
        )
        chosen["supportThreshold"] = trial.suggest_int("supportThreshold", 3, 50, log=True)
    elif algorithm is Algorithm.ITEMKNN:
        chosen["knnNeighbors"] = trial.suggest_int("knnNeighbors", 10, 1000, log=True)
        chosen["bm25K1"] = trial.suggest_float("bm25K1", 0.1, 10.0, log=True)
        chosen["bm25B"] = trial.suggest_float("bm25B", 0.0, 1.0)
        chosen["knnWeighted"] = trial.suggest_categorical("knnWeighted", [True, False])
    elif algorithm is Algorithm.EASE:
        chosen["easeLambda"] = trial.suggest_float("easeLambda", 1.0, 20_000.0, log=True)
        chosen["easeWeighted"] = trial.suggest_categorical("easeWeighted", [False, True])
    # every algorithm scores a user's history through the same affinities (event weights,
    # halved every decayPeriodInDays), so every one may use them: a search that let only
    # SAR weigh recent events favoured it on chronological validation for that alone
    chosen["enableUserAffinity"] = trial.suggest_categorical("enableUserAffinity", [False, True])
    if chosen["enableUserAffinity"]:
        chosen["decayPeriodInDays"] = trial.suggest_int("decayPeriodInDays", 1, 3650, log=True)
    return chosen


def split_usage(usage: UsageData, search: HyperparameterSearch) -> tuple[UsageData, UsageData]:
    """Training and validation events: per user, the first ``validation_ratio`` and the rest."""
    if search.validation == "chronological":
        mask = chronological_split(usage.user_index, usage.timestamp, search.validation_ratio)
    else:
        mask = stratified_split(usage.user_index, search.validation_ratio, seed=search.seed)
    return _subset(usage, mask), _subset(usage, ~mask)


def _subset(usage: UsageData, mask: np.ndarray) -> UsageData:
    return UsageData(
        users=usage.users,
        items=usage.items,
        user_index=usage.user_index[mask],
        item_index=usage.item_index[mask],
        timestamp=usage.timestamp[mask],
        weight=usage.weight[mask],
    )


def search_parameters(
    base: TrainingParameters,
    usage: UsageData,
    search: HyperparameterSearch,
    *,
    catalog: Catalog | None = None,
    progress: Progress | None = None,
    on_trial: Callable[[TrialRecord], None] | None = None,
) -> SearchResult:
    """Run the search; trials whose fit or scoring raises are recorded as failed.

    ``progress`` is called before each trial (whatever it raises stops the
    search: that is how a worker cancels it); ``on_trial`` after each.
    """
    import optuna

    match = METRIC_PATTERN.match(search.metric)
    if match is None:  # HyperparameterSearch validated it already
        raise ValueError(f"unknown metric {search.metric!r}")
    measure, k = _METRICS[match.group(1)], int(match.group(2))
    started = time.monotonic()
    train, validation = split_usage(usage, search)
    result = SearchResult(
        search,
        validation_events=validation.n_events,
        validation_users=int(np.unique(validation.user_index).size),
    )
    logging.getLogger("optuna").setLevel(logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=search.seed)
    )
    # the first trials are each algorithm's defaults, so the search starts from what an
    # untuned training would give and its best is never worse on the validation events
    for algorithm in search.algorithms[: search.trials]:
        study.enqueue_trial(_defaults(algorithm))
    for number in range(search.trials):
        if time.monotonic() - started >= search.time_budget_seconds:
            result.stopped_by = "time budget"
            break
        if progress is not None:
            progress("hyperparameter search", number / search.trials)
        trial = study.ask()
        chosen = suggest_parameters(trial, search.algorithms)
        trial_started = time.monotonic()
        try:
            params = with_overrides(base, chosen)
            fitted = fit_model(params, train, catalog)
            recs, truth = held_out_recommendations(
                fitted.model, fitted.train_history, fitted.train_users, validation, k
            )
            value = float(measure(recs, truth, k))
        except Exception as exc:  # any failure of this candidate; a cancellation comes
            # from progress(), outside this block
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            record = TrialRecord(
                number,
                chosen["algorithm"],
                chosen,
                None,
                time.monotonic() - trial_started,
                error=f"{type(exc).__name__}: {exc}",
            )
        else:
            study.tell(trial, value)
            record = TrialRecord(
                number, chosen["algorithm"], chosen, value, time.monotonic() - trial_started
            )
        result.trials.append(record)
        if on_trial is not None:
            on_trial(record)
    result.seconds = time.monotonic() - started
    return result
