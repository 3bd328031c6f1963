"""``recostack online-learning offers load | feature-store | create`` against the real server:
each sets up what the SDK then reads; a refusal is one line naming the problem, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from typer.testing import CliRunner

from conftest import ADMIN_KEY
from recostack.cli import _register, app

from .conftest import LiveServer


def _run(live_server: LiveServer, *args: str) -> tuple[int, str]:
    _register()
    env = {"RECOSTACK_URL": live_server.url, "RECOSTACK_API_KEY": ADMIN_KEY, "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["online-learning", *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_offers_load_csv_and_json(live_server: LiveServer, tmp_path: Path) -> None:
    csv = tmp_path / "offers.csv"
    csv.write_text("offer,name,tier\ncli1,One,gold\ncli2,Two,\n")
    code, output = _run(live_server, "offers", "load", "cli-offers", str(csv))
    assert code == 0, output
    assert "2 offers loaded" in output
    records = [{"offer": "cli3", "name": "Three"}, {"offer": "cli4", "name": "Four"}]
    listed = tmp_path / "more.json"
    listed.write_text(json.dumps(records))
    code, output = _run(live_server, "offers", "load", "cli-offers", str(listed))
    assert code == 0, output
    by_id = tmp_path / "by-id.json"
    by_id.write_text(json.dumps({"cli5": {"offer": "cli5", "name": "Five"}}))
    assert _run(live_server, "offers", "load", "cli-offers", str(by_id))[0] == 0
    listed_now = httpx.get(
        f"{live_server.url}/api/offers/cli-offers", headers={"x-api-key": ADMIN_KEY}
    )
    offers = listed_now.json()["offers"]
    assert sorted(offers) == ["cli1", "cli2", "cli3", "cli4", "cli5"]
    assert offers["cli1"]["tier"] == "gold" and offers["cli4"]["name"] == "Four"
    # refusals: one line, no traceback
    for path, text, says in (
        (tmp_path / "missing.csv", None, "cannot read"),
        (tmp_path / "bad.json", "[{", "is not JSON"),
        (tmp_path / "nokey.json", '[{"name": "x"}]', "record 0"),
        (tmp_path / "offers.txt", "offer\nx\n", "a .csv or .json file"),
    ):
        if text is not None:
            path.write_text(text)
        code, output = _run(live_server, "offers", "load", "cli-offers", str(path))
        assert code == 2, output
        assert "error:" in output and says in output and "Traceback" not in output


def test_feature_store_and_create(live_server: LiveServer, tmp_path: Path) -> None:
    csv = tmp_path / "offers.csv"
    csv.write_text("offer,name,tier\nfs1,One,gold\nfs2,Two,\n")
    assert _run(live_server, "offers", "load", "cli-fs-offers", str(csv))[0] == 0
    code, output = _run(
        live_server,
        "feature-store",
        "--offer-collection",
        "cli-fs-offers",
        "--offer-name-column",
        "offer",
        "--contextual-variables",
        '{"tier": ["gold", "silver"]}',
        "--setup-feature-store-collection",
        "cli-fs",
    )
    assert code == 0, output
    assert json.loads(output)["entries"] == 3  # fs1 in gold; fs2 in gold and silver
    code, output = _run(
        live_server, "feature-store", "--offer-collection", "nothing-here",
        "--setup-feature-store-collection", "cli-fs-2",
    )  # fmt: skip
    assert code == 2 and "offer_collection" in output and "Traceback" not in output
    code, output = _run(
        live_server, "feature-store", "--offer-collection", "cli-fs-offers",
        "--setup-feature-store-collection", "x", "--contextual-variables", "[1",
    )  # fmt: skip
    assert code == 2 and "is not JSON" in output
    # create: a file of parameters, -p overrides with JSON values
    parameters = {
        "name": "cli-bandit",
        "description": "from the command line",
        "feature_store_collection": "cli-fs",
        "feature_store_database": "recostack",
        "options_store_database": "recostack",
        "options_store_collection": "cli-options",
        "contextual_variables_offer_key": "offer",
        "contextual_variables_contextual_variable_one_name": "tier",
    }
    file = tmp_path / "bandit.json"
    file.write_text(json.dumps(parameters))
    code, output = _run(
        live_server, "create", "--file", str(file), "-p", "randomisation_epsilon=0.25",
        "-p", "randomisation_test_options_across_segment=true",
    )  # fmt: skip
    assert code == 0, output
    config_id = output.strip().rsplit(" ", 1)[-1]
    with live_server.client() as client:
        created = client.get_online_learning(config_id).to_dict()
        assert created["name"] == "cli-bandit"
        assert created["randomisation_epsilon"] == 0.25
        assert created["randomisation_test_options_across_segment"] is True
        arms = client.get_options_store(config_id)
        assert sorted((a.offer, a.segment) for a in arms) == [
            ("fs1", "gold"),
            ("fs2", "gold"),
            ("fs2", "silver"),
        ]
    # the name again without --replace: the server's 409, one line
    code, output = _run(live_server, "create", "--file", str(file))
    assert code == 2 and "error:" in output and "Traceback" not in output
    code, output = _run(live_server, "create", "--file", str(file), "--replace")
    assert code == 0 and output.strip().endswith(config_id), output
    # a value out of range names the parameter; a missing required one is named
    code, output = _run(
        live_server, "create", "--file", str(file), "--replace", "-p", "randomisation_epsilon=2"
    )
    assert code == 2 and "randomisation_epsilon" in output
    code, output = _run(live_server, "create", "-p", "name=x")
    assert code == 2 and "missing description" in output
    code, output = _run(live_server, "create", "-p", "oops")
    assert code == 2 and "name=value" in output
    # no server there: one line too
    result = CliRunner().invoke(
        app, ["online-learning", "offers", "load", "x", str(csv), "--url", "http://127.0.0.1:1"]
    )
    assert result.exit_code == 2 and "cannot reach the server" in result.output
    with live_server.client() as client:
        client.delete_online_learning(config_id)
