"""Fixtures of the operations tests: the deployment helpers, and a trained, deployed model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from deployments.conftest import deploy, project, train, wait_stable  # noqa: F401

__all__ = ["wait_stable"]


@pytest.fixture
def web(
    deploy: Callable[..., dict[str, Any]],  # noqa: F811 (the fixture imported above)
    trained_model: dict[str, Any],
) -> dict[str, Any]:
    """Deployment ``web`` (version 1) serving the trained model, ACTIVE."""
    return deploy(trained_model["id"])


def recommend(
    client: TestClient, headers: dict[str, str], deployment_id: str = "web", **body: Any
) -> Any:
    return client.post(f"/api/deployments/{deployment_id}/recommend", json=body, headers=headers)
