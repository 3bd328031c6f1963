"""Helpers of the deployment tests: a project, a deployment, waiting for a stable status."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

STABLE = {"ACTIVE", "STOPPED", "FAILED"}


def wait_stable(
    client: TestClient, headers: dict[str, str], deployment_id: str, timeout: float = 20.0
) -> dict[str, Any]:
    """Poll until the deployment is in a stable state with no model switch pending."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(
            f"/api/deployments/{deployment_id}", headers=headers
        ).json()
        if body["status"] in STABLE and body["pendingModelVersion"] is None:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"deployment still {body['status']}: {body}")
        time.sleep(0.02)


@pytest.fixture
def project(client: TestClient, admin_headers: dict[str, str]) -> str:
    answer = client.post(
        "/api/projects",
        json={"projectId": "shop", "projectDescription": "the web shop"},
        headers=admin_headers,
    )
    assert answer.status_code == 201, answer.text
    return "shop"


@pytest.fixture
def deploy(
    client: TestClient, admin_headers: dict[str, str], project: str
) -> Callable[..., dict[str, Any]]:
    """Create a deployment and wait until it is ACTIVE (or stable)."""

    def create(model_id: str, deployment_id: str = "web", **fields: Any) -> dict[str, Any]:
        body = {"deploymentId": deployment_id, "version": "1", "modelId": model_id, **fields}
        answer = client.post(
            f"/api/projects/{project}/deployments", json=body, headers=admin_headers
        )
        assert answer.status_code == 201, answer.text
        return wait_stable(client, admin_headers, deployment_id)

    return create


@pytest.fixture
def train(
    client: TestClient,
    admin_headers: dict[str, str],
    container: str,
    run_jobs: Callable[[], int],
) -> Callable[..., str]:
    """Train another Completed model; returns its id."""

    def run(**parameters: Any) -> str:
        body = {
            "blobContainerName": container,
            "usageRelativePath": "usage.csv",
            "catalogFileRelativePath": "catalog.csv",
            **parameters,
        }
        created = client.post("/api/models", json=body, headers=admin_headers)
        assert created.status_code == 201, created.text
        run_jobs()
        return str(created.json()["id"])

    return run
