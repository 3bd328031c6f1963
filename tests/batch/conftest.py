"""Fixtures of the batch tests: input files in the data root, a trained model, helpers."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

# the online learning tests' fixture (imported, never registered with pytest_plugins: a
# conftest registered twice under two names stops the collection)
from online_learning.conftest import online  # noqa: F401
from recostack.settings import Settings


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


@pytest.fixture
def write_input(settings: Settings) -> Callable[[str, list[Any]], str]:
    """Write JSON lines (objects, or raw text lines) to ``input/<name>``; its batch path."""

    def write(name: str, lines: list[Any]) -> str:
        path = settings.files_dir / "input" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = [line if isinstance(line, str) else orjson.dumps(line).decode() for line in lines]
        path.write_text("\n".join(text) + "\n")
        return f"input/{name}"

    return write


@pytest.fixture
def create_job(client: TestClient, admin_headers: dict[str, str]) -> Callable[..., dict[str, Any]]:
    def create(**body: Any) -> dict[str, Any]:
        answer = client.post("/api/batch-inference-jobs", json=body, headers=admin_headers)
        assert answer.status_code == 201, answer.text
        job_id = answer.json()["batchInferenceJobArn"]
        return dict(describe(client, admin_headers, job_id))

    return create


def describe(client: TestClient, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/batch-inference-jobs/{job_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    job: dict[str, Any] = answer.json()["batchInferenceJob"]
    return job


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One Spark session (local[2]) for the whole test session: a JVM starts once."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # executors import recostack
    session = (
        SparkSession.builder.master("local[2]")
        .appName("recostack-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def movielens_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from recostack.data.datasets import movielens_100k_files

    folder = tmp_path_factory.mktemp("ml-100k")
    movielens_100k_files(folder)
    return folder
