"""Auto-deploy through the SDK: ``create_model(project_id=...)``, ``last_auto_deploy``."""

from __future__ import annotations

import time

import pytest

from recostack.errors import NotFound

from .conftest import LiveServer

PARAMETERS = {
    "blob_container_name": "input",
    "usage_relative_path": "usage.csv",
    "catalog_file_relative_path": "catalog.csv",
}


def test_a_model_created_in_a_project_is_auto_deployed(live_server: LiveServer) -> None:
    with live_server.client() as client:
        client.create_project("auto-sdk")
        deployment = client.create_deployment(
            "auto-sdk", "auto-sdk-web", model_id=live_server.model_id
        )
        assert deployment.wait_for_deployment(timeout=30).status == "ACTIVE"
        assert deployment.last_auto_deploy is None
        deployment.update(auto_deploy=True, skip_metrics_check=True)
        with pytest.raises(NotFound) as missing:
            client.create_model(project_id="no-such-project", **PARAMETERS)
        assert missing.value.field == "projectId"
        created = client.create_model(project_id="auto-sdk", support_threshold=5, **PARAMETERS)
        assert created.project_id == "auto-sdk"
        client.wait_for_model(created.id, timeout=60)
        deadline = time.monotonic() + 10
        while deployment.refresh().last_auto_deploy is None:
            assert time.monotonic() < deadline, "no auto-deploy decision was recorded"
            time.sleep(0.05)
        decision = deployment.last_auto_deploy
        assert decision is not None and decision.decision == "promoted"
        assert decision.model_version == created.id
        assert deployment.model_version == created.id
        assert deployment.model_version_history[-1].source == "auto_deploy"
        assert deployment.to_dict()["lastAutoDeploy"] == decision.to_dict()
        deployment.delete()
        client.delete_project("auto-sdk")
        assert created.refresh().project_id is None
