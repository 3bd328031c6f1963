"""``recostack train --engine spark --master local[2]``, run as a user runs it (its own process
and JVM): the model it saves is the local engine's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recostack.training.trained_model import TrainedModel

pytestmark = pytest.mark.timeout(600)  # two trainings, one of them starting a JVM

PARAMS = [
    "similarityFunction=Jaccard",
    "enableUserAffinity=true",
    "supportThreshold=3",
    "enableUserToItemRecommendations=true",
]


def _train(usage: Path, out: Path, *engine: str) -> tuple[dict[str, Any], TrainedModel]:
    command = [str(Path(sys.executable).parent / "recostack"), "train", "--usage", str(usage)]
    command += ["--out", str(out), "--json", *engine]
    for param in PARAMS:
        command += ["-p", param]
    environment = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    environment.pop("RECOSTACK_SPARK_MASTER", None)
    done = subprocess.run(command, capture_output=True, text=True, timeout=500, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    statistics = json.loads(done.stdout)
    return statistics, TrainedModel.load(out)


def test_train_on_spark_from_the_command_line_saves_the_local_engine_s_model(
    movielens_dir: Path, tmp_path: Path
) -> None:
    usage = movielens_dir / "usage.csv"
    local_stats, local = _train(usage, tmp_path / "local")
    spark_stats, spark = _train(
        usage, tmp_path / "spark", "--engine", "spark", "--master", "local[2]"
    )
    assert "engine" not in local_stats
    assert spark_stats["engine"] == "spark"
    assert spark_stats["sparkMaster"] == "local[2]"  # --master was the one used
    a, b = local.item_item.to_csr(), spark.item_item.to_csr()
    assert a.nnz == b.nnz > 0
    np.testing.assert_array_equal(local.item_item.indices, spark.item_item.indices)
    np.testing.assert_allclose(local.item_item.data, spark.item_item.data, atol=1e-6)
    assert local.history is not None and spark.history is not None
    assert (local.history != spark.history).nnz == 0
    for user in local.users.ids[:50].tolist():
        assert [r.item_id for r in local.recommend_events([], 10, user)] == [
            r.item_id for r in spark.recommend_events([], 10, user)
        ]


def test_an_algorithm_spark_does_not_train_is_a_message_not_a_traceback(
    movielens_dir: Path, tmp_path: Path
) -> None:
    command = [str(Path(sys.executable).parent / "recostack"), "train"]
    command += ["--usage", str(movielens_dir / "usage.csv"), "--out", str(tmp_path / "m")]
    command += ["--engine", "spark", "-p", "algorithm=ease"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "engine spark trains algorithm sar, not ease" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "m" / "model.json").exists()
