"""``recostack projects|deployments ...`` against the real server."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from conftest import ADMIN_KEY
from recostack.cli import _register, app

from .conftest import LiveServer


def test_create_list_promote_rollback_logs(live_server: LiveServer, tmp_path: Path) -> None:
    _register()
    runner = CliRunner()
    env = {"RECOSTACK_URL": live_server.url, "RECOSTACK_API_KEY": ADMIN_KEY, "COLUMNS": "200"}

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    run("projects", "create", "cli", "--description", "from the CLI")
    assert "cli" in run("projects", "list")
    spec = tmp_path / "deployment.yaml"
    spec.write_text(
        f"project_id: cli\ndeployment_id: cli-web\nversion: '1'\nmodel_id: {live_server.model_id}\n"
        "default_prediction_arguments:\n  recommendation_count: 3\n"
    )
    assert "ACTIVE" in run("deployments", "create", str(spec))
    assert "cli-web" in run("deployments", "list", "cli")
    assert live_server.second_model_id in run(
        "deployments", "promote", "cli-web", live_server.second_model_id
    )
    rolled = run("deployments", "rollback", "cli-web")
    assert live_server.model_id in rolled
    assert "STOPPED" in run("deployments", "stop", "cli-web")
    assert "ACTIVE" in run("deployments", "start", "cli-web")
    assert "predictions of cli-web" in run("deployments", "logs", "cli-web")
    assert "cli-web" in run("deployments", "describe", "cli-web")
