"""Fixtures of the operations tests: the deployment helpers, and a trained, deployed model."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import wait_stable

__all__ = ["wait_stable"]


@pytest.fixture
def web(
    client: TestClient,
    admin_headers: dict[str, str],
    project: str,
    trained_model: dict[str, Any],
) -> dict[str, Any]:
    """Deployment ``web`` (version 1) serving the trained model, ACTIVE."""
    answer = client.post(
        "/api/projects/shop/deployments",
        json={"deploymentId": "web", "version": "1", "modelId": trained_model["id"]},
        headers=admin_headers,
    )
    assert answer.status_code == 201, answer.text
    # a loaded machine may take a while to compile the model's kernels
    return wait_stable(client, admin_headers, "web", timeout=90)


def recommend(
    client: TestClient, headers: dict[str, str], deployment_id: str = "web", **body: Any
) -> Any:
    return client.post(f"/api/deployments/{deployment_id}/recommend", json=body, headers=headers)
