"""A worker that meets a database outage while recording a finished job waits it out.

The end-to-end outage test (``test_database_outage.py``) cannot choose the
moment a training finishes; here the store refuses the first tries of
recording one (as an outage does: an operational error), and the training
must end Completed on its first attempt, its artifacts published once, as
soon as the store answers again. An error that is not an outage is not
retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError

from recostack.jobs import worker as worker_module
from recostack.jobs.worker import Worker
from recostack.settings import Settings
from recostack.store.engine import Database


def _refusing(times: int, error: Exception) -> Callable[..., Any]:
    """``finish_succeeded`` failing its first ``times`` calls with ``error``."""
    real = worker_module.finish_succeeded
    calls = {"n": 0}

    def finish(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error
        return real(*args, **kwargs)

    finish.calls = calls  # type: ignore[attr-defined]
    return finish


def _outage() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("connection refused: the server is away"))


def test_a_finished_training_is_recorded_once_the_database_is_back(
    client: TestClient,
    admin_headers: dict[str, str],
    container: str,
    settings: Settings,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created = client.post(
        "/api/models",
        json={"blobContainerName": container, "usageRelativePath": "usage.csv"},
        headers=admin_headers,
    )
    assert created.status_code == 201, created.text
    finish = _refusing(3, _outage())
    monkeypatch.setattr(worker_module, "finish_succeeded", finish)
    assert Worker(settings, db, name="outage").run_once()
    assert finish.calls["n"] == 4  # type: ignore[attr-defined]
    model = client.get(created.headers["location"], headers=admin_headers).json()
    assert model["modelStatus"] == "Completed", model
    answer = client.get(
        f"/api/models/{model['id']}/recommend", params={"itemId": "item1"}, headers=admin_headers
    )
    assert answer.status_code == 200, answer.text
    assert not list(settings.models_dir.glob(f"{model['id']}.staging-*"))  # none left over


def test_an_error_that_is_not_an_outage_is_not_waited_for(
    client: TestClient,
    admin_headers: dict[str, str],
    container: str,
    settings: Settings,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created = client.post(
        "/api/models",
        json={"blobContainerName": container, "usageRelativePath": "usage.csv"},
        headers=admin_headers,
    )
    wrong = IntegrityError("INSERT", {}, Exception("duplicate key"))
    finish = _refusing(1, wrong)
    monkeypatch.setattr(worker_module, "finish_succeeded", finish)
    worker = Worker(settings, db, name="wrong")
    with pytest.raises(IntegrityError):
        worker.run_once()
    assert finish.calls["n"] == 1  # type: ignore[attr-defined]
    model = client.get(created.headers["location"], headers=admin_headers).json()
    assert model["modelStatus"] != "Completed"
