"""The serving state: model cache, and what API processes sharing a store see of each other."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import make_settings
from recostack.api.app import create_app
from recostack.serving.model_cache import ModelCache
from recostack.settings import Settings
from recostack.store.engine import Database

Headers = dict[str, str]


class _Sized:
    def __init__(self, nbytes: int) -> None:
        self.nbytes = nbytes


def test_the_cache_evicts_least_recently_used_by_memory() -> None:
    loads: list[str] = []

    def load(path: Path) -> Any:
        loads.append(path.name)
        return _Sized(40)

    cache = ModelCache(100, load=load)
    for name in ("a", "b"):
        cache.load(name, Path(name))
    assert cache.get("a") is not None  # a is now the most recent
    cache.load("c", Path("c"))
    assert cache.ids() == ["a", "c"]
    assert cache.nbytes == 80
    cache.load("a", Path("a"))
    assert loads == ["a", "b", "c"]
    cache.invalidate("a")
    assert cache.get("a") is None
    big = ModelCache(10, load=load)
    big.load("huge", Path("huge"))
    assert big.ids() == ["huge"]  # the newest model stays even over budget


@pytest.fixture
def second_client(settings: Settings, db: Database) -> Iterator[TestClient]:
    """Another API process on the same store."""
    with TestClient(create_app(settings)) as other:
        yield other


def _within(seconds: float, predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "not seen in time"
        time.sleep(0.02)


def test_other_processes_see_default_changes_and_deletions(
    client: TestClient,
    second_client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    trained_model: dict[str, Any],
) -> None:
    model_id = trained_model["id"]

    def default_status() -> int:
        return second_client.get(
            "/api/models/default/recommend", params={"itemId": "item1"}, headers=recommend_headers
        ).status_code

    def by_id_status() -> int:
        return second_client.get(
            f"/api/models/{model_id}/recommend",
            params={"itemId": "item1"},
            headers=recommend_headers,
        ).status_code

    assert default_status() == 404
    assert by_id_status() == 200  # now loaded in the second process
    client.put("/api/models/default", params={"modelId": model_id}, headers=admin_headers)
    _within(1.0, lambda: default_status() == 200)
    client.delete(f"/api/models/{model_id}", headers=admin_headers)
    _within(1.0, lambda: by_id_status() == 404)
    assert default_status() == 404


def test_the_in_process_worker_trains_in_a_child_process(
    data_dir: Path, database_url: str, db: Database, admin_headers: Headers, container: str
) -> None:
    settings = make_settings(
        data_dir, database_url, workers_in_process=1, train_in_subprocess=True, job_poll_seconds=0.5
    )
    with TestClient(create_app(settings)) as client:
        created = client.post(
            "/api/models",
            json={"blobContainerName": container, "usageRelativePath": "usage.csv"},
            headers=admin_headers,
        )
        url = created.headers["location"]

        def status() -> str:
            return str(client.get(url, headers=admin_headers).json()["modelStatus"])

        _within(30.0, lambda: status() in ("Completed", "Failed"))
        assert status() == "Completed"


def test_a_completed_model_without_artifacts_is_a_clear_503(
    client: TestClient,
    recommend_headers: Headers,
    trained_model: dict[str, Any],
    settings: Settings,
) -> None:
    shutil.rmtree(settings.models_dir / trained_model["id"])
    response = client.get(
        f"/api/models/{trained_model['id']}/recommend",
        params={"itemId": "item1"},
        headers=recommend_headers,
    )
    assert response.status_code == 503
    assert "artifacts cannot be loaded" in response.json()["message"]


def test_the_app_collects_young_objects_less_often_while_it_runs(
    settings: Settings, db: Database
) -> None:
    """Python's default (700) made the collector run every few online answers under load; the
    app raises it while it runs and puts the process's own back when it stops."""
    import gc

    from recostack.api.app import YOUNG_COLLECTION_THRESHOLD

    before = gc.get_threshold()
    with TestClient(create_app(settings)):
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
