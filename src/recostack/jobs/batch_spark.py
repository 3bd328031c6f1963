"""Scoring batch chunks on Apache Spark (``engine: spark``): the same lines, the same answers.

Each chunk is cut into one slice per Spark core; each executor loads the
model from its artifacts (memory-mapped, once per executor process: on a
cluster the model directory must be on storage the executors share) and
answers its slice with the local engine's own scorer
(:class:`~recostack.jobs.batch_scoring.ModelScorer`, the one recommend
pipeline) under the scenarios as stored when the job started. The driver
collects the slices in order and the job's runner writes and counts them
as it does for the local engine, so a Spark job resumes the same way.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from recostack.jobs.batch_scoring import LineFormat, ModelScorer
from recostack.rules import ScenarioSnapshot
from recostack.serving.model_cache import ModelCache
from recostack.serving.models import ServedModels
from recostack.serving.recommend import Recommender
from recostack.serving.rule_caches import ScorerCache
from recostack.serving.scenario_cache import ScenarioCache
from recostack.serving.stamps import StampPoller
from recostack.training.spark_session import spark_session
from recostack.training.trained_model import TrainedModel

__all__ = ["SparkChunkScorer", "executor_scorer"]

#: an executor's scorers, by what they were built from (a Python worker process is reused)
_SCORERS: dict[tuple[str, str | None, int], ModelScorer] = {}
_LOCK = threading.Lock()


class _NoStore:
    """An executor reads no store: its model comes from the artifacts it is given."""

    def model_status(self, model_id: str) -> None:
        return None

    def completed_among(self, model_ids: Any) -> set[str]:
        return set()


def _recommender(models_dir: Path, snapshot: ScenarioSnapshot) -> Recommender:
    poller = StampPoller(dict, refresh_seconds=1e9)
    scenarios = ScenarioCache(lambda: snapshot, poller)
    scenarios.reload()
    models = ServedModels(_NoStore(), models_dir, ModelCache(0), poller)
    return Recommender(models, scenarios, ScorerCache())


def executor_scorer(payload: dict[str, Any]) -> ModelScorer:
    """The scorer a Spark executor answers its slices with (built once per process)."""
    key = (payload["model_dir"], payload["snapshot"].stamp, payload["seed"])
    with _LOCK:
        found = _SCORERS.get(key)
        if found is None:
            model_dir = Path(payload["model_dir"])
            model = TrainedModel.load(model_dir)
            found = ModelScorer(
                _recommender(model_dir.parent, payload["snapshot"]),
                payload["model_id"],
                model,
                count=payload["count"],
                rules=payload["rules"],
                exploration=payload["exploration"],
                fmt=payload["fmt"],
                header=payload["header"],
                seed=payload["seed"],
            )
            _SCORERS[key] = found
    return found


def _score_slice(payload: dict[str, Any]) -> Callable[[tuple[int, list[bytes]]], tuple[bytes, int]]:
    def score(part: tuple[int, list[bytes]]) -> tuple[bytes, int]:
        first_line, lines = part
        return executor_scorer(payload).score(lines, first_line)

    return score


class SparkChunkScorer:
    """A model job's chunks scored by Spark executors."""

    def __init__(self, master: str, payload: dict[str, Any]) -> None:
        """``payload``: what :func:`executor_scorer` builds a scorer from (the model's
        directory and id, the scenario snapshot, count, rules, exploration, line format,
        input header, seed)."""
        self.spark = spark_session(master)
        self.fmt: LineFormat = payload["fmt"]
        self._payload = payload

    @property
    def header(self) -> bytes:
        return self.fmt.header

    def score(self, lines: Sequence[bytes], first_line: int) -> tuple[bytes, int]:
        sc = self.spark.sparkContext
        parts = max(1, min(len(lines), sc.defaultParallelism))
        step = math.ceil(len(lines) / parts)
        slices = [
            (first_line + start, list(lines[start : start + step]))
            for start in range(0, len(lines), step)
        ]
        results = sc.parallelize(slices, len(slices)).map(_score_slice(self._payload)).collect()
        return b"".join(r[0] for r in results), sum(r[1] for r in results)
