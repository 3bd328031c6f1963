"""``recostack batch run|status`` against the real server: a job created, followed with a
progress bar to ACTIVE, shown again; a bad request is one line, not a traceback."""

from __future__ import annotations

from typer.testing import CliRunner

from conftest import ADMIN_KEY
from recostack.cli import _register, app

from .conftest import LiveServer


def test_batch_run_follows_a_job_and_status_shows_it(live_server: LiveServer) -> None:
    _register()
    runner = CliRunner()
    env = {"RECOSTACK_URL": live_server.url, "RECOSTACK_API_KEY": ADMIN_KEY, "COLUMNS": "200"}
    with live_server.client() as client:
        client.upload_file(
            "input", "cli.jsonl", "".join(f'{{"userId": "user{i}"}}\n' for i in range(9))
        )
    result = runner.invoke(
        app,
        [
            "batch",
            "run",
            "--model",
            live_server.model_id,
            "--input",
            "input/cli.jsonl",
            "--output",
            f"output/cli-{live_server.backend}.out",
            "--num-results",
            "3",
            "--name",
            "from-cli",
            "--every",
            "0.05",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "ACTIVE" in result.output and "9/9" in result.output
    job_id = result.output.split("batch inference job ")[1].split(" created")[0].strip()
    shown = runner.invoke(app, ["batch", "status", job_id], env=env)
    assert shown.exit_code == 0 and "linesDone" in shown.output and "ACTIVE" in shown.output
    bad = runner.invoke(app, ["batch", "run", "--input", "a/b", "--output", "c/d"], env=env)
    assert bad.exit_code != 0 and "Traceback" not in bad.output
