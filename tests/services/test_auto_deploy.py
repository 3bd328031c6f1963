"""Auto-deploy at the store level, on SQLite and PostgreSQL, with hand-made rows."""

from __future__ import annotations

from typing import Any

import pytest

from recostack.services import auto_deploy as auto_deploy_module
from recostack.services.auto_deploy import AUTO_DEPLOY_SOURCE, auto_deploy_model
from recostack.serving.deployments.records import Environment
from recostack.serving.stamps import DEPLOYMENTS_GENERATION
from recostack.store import deployment_repository as repo
from recostack.store.deployment_tables import DeploymentRow
from recostack.store.engine import Database
from recostack.store.model_repository import create_model, update_model_status
from recostack.store.serving_source import serving_sources
from recostack.store.tables import ModelRow
from recostack.training.status import ModelStatus

PROJECT = "shop"


def _stats(ndcg: float | None) -> dict[str, Any]:
    if ndcg is None:
        return {"numberOfUsers": 3}
    return {"evaluation": {"metrics": {"ndcgMetrics": [{"k": 10, "value": ndcg}]}}}


def _model(db: Database, ndcg: float | None, project_id: str | None = PROJECT) -> str:
    with db.transaction() as session:
        row = create_model(session, description=None, parameters={}, project_id=project_id)
        update_model_status(session, row.id, ModelStatus.COMPLETED, "done", _stats(ndcg))
        return row.id


def _deployment(db: Database, model_id: str, name: str = "web", **fields: Any) -> int:
    values: dict[str, Any] = {
        "environment": Environment.EXPERIMENT,
        "auto_deploy": True,
        "skip_metrics_check": False,
        **fields,
    }
    with db.transaction() as session:
        row = repo.create_deployment(
            session,
            project_id=PROJECT,
            deployment_id=name,
            version="1",
            description=None,
            model_ids=[model_id],
            settings={},
            **values,
        )
        return row.id


def _row(db: Database, pk: int) -> DeploymentRow:
    with db.sessions() as session:
        row = session.get(DeploymentRow, pk)
        assert row is not None
        return row


@pytest.fixture
def project(db: Database) -> str:
    with db.transaction() as session:
        repo.create_project(session, PROJECT)
    return PROJECT


def test_a_better_model_is_promoted_like_set_model_version(db: Database, project: str) -> None:
    served = _model(db, 0.4)
    pk = _deployment(db, served)
    stamp = _deployments_stamp(db)
    new = _model(db, 0.5)
    [outcome] = auto_deploy_model(db, new)
    assert (outcome.deployment_id, outcome.version, outcome.decision) == ("web", "1", "promoted")
    row = _row(db, pk)
    assert row.model_ids == [new]
    assert [e["modelVersion"] for e in row.history] == [served, new]
    assert row.history[-1]["source"] == AUTO_DEPLOY_SOURCE and row.history[-1]["promotedAt"]
    assert repo.current_model_version(row.history) == new
    assert row.last_auto_deploy == outcome.to_json()
    assert row.last_auto_deploy["decision"] == "promoted" and row.last_auto_deploy["at"]
    assert _deployments_stamp(db) != stamp  # what serving polls
    assert auto_deploy_model(db, new) == []  # already the primary model


def test_a_regression_is_recorded_and_changes_nothing_else(db: Database, project: str) -> None:
    served = _model(db, 0.5)
    pk = _deployment(db, served)
    stamp = _deployments_stamp(db)
    worse = _model(db, 0.25)
    [outcome] = auto_deploy_model(db, worse)
    row = _row(db, pk)
    assert row.model_ids == [served] and len(row.history) == 1
    assert row.last_auto_deploy is not None
    assert row.last_auto_deploy["decision"] == "failed"
    assert row.last_auto_deploy["modelVersion"] == worse
    assert "0.25" in outcome.reason and "0.5" in outcome.reason
    assert _deployments_stamp(db) == stamp  # serving need not rebuild


def test_which_deployments_take_part(db: Database, project: str) -> None:
    served = _model(db, 0.4)
    auto = _deployment(db, served, "auto")
    manual = _deployment(db, served, "manual", auto_deploy=False)
    disabled = _deployment(db, served, "disabled", environment=Environment.DISABLE)
    switching = _deployment(db, served, "switching")
    with db.transaction() as session:
        row = session.get(DeploymentRow, switching)
        assert row is not None
        row.pending_model_version = served
    with db.transaction() as session:
        repo.create_project(session, "other")
    outside = _model(db, 0.9, project_id="other")
    no_project = _model(db, 0.9, project_id=None)
    assert auto_deploy_model(db, outside) == []
    assert auto_deploy_model(db, no_project) == []
    new = _model(db, 0.9)
    outcomes = {o.deployment_id: o for o in auto_deploy_model(db, new)}
    assert set(outcomes) == {"auto", "switching"}
    assert outcomes["auto"].decision == "promoted"
    assert outcomes["switching"].decision == "failed"
    assert "in progress" in outcomes["switching"].reason
    assert _row(db, auto).model_ids == [new]
    for pk in (manual, disabled, switching):
        assert _row(db, pk).model_ids == [served]
    assert _row(db, manual).last_auto_deploy is None
    assert _row(db, disabled).last_auto_deploy is None
    assert _row(db, switching).last_auto_deploy == outcomes["switching"].to_json()


def test_skip_metrics_check_and_missing_metrics(db: Database, project: str) -> None:
    served = _model(db, 0.9)
    checked = _deployment(db, served, "checked")
    skipping = _deployment(db, served, "skipping", skip_metrics_check=True)
    unevaluated = _model(db, None)
    outcomes = {o.deployment_id: o for o in auto_deploy_model(db, unevaluated)}
    assert outcomes["skipping"].decision == "promoted"
    assert _row(db, skipping).model_ids == [unevaluated]
    assert outcomes["checked"].decision == "failed"
    assert "no evaluation metric ndcg@10" in outcomes["checked"].reason
    assert _row(db, checked).model_ids == [served]
    # a served model without metrics is replaced by one with metrics
    evaluated = _model(db, 0.01)
    outcomes = {o.deployment_id: o for o in auto_deploy_model(db, evaluated)}
    assert outcomes["skipping"].decision == "promoted"
    assert _row(db, skipping).model_ids == [evaluated]


def test_a_failure_is_recorded_not_raised(
    db: Database, project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = _model(db, 0.4)
    pk = _deployment(db, served)

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("metrics store on fire\nsecond line")

    monkeypatch.setattr(auto_deploy_module, "check_metrics", broken)
    new = _model(db, 0.5)
    [outcome] = auto_deploy_model(db, new)
    assert outcome.decision == "failed"
    assert outcome.reason == "auto-deploy failed: RuntimeError: metrics store on fire"
    row = _row(db, pk)
    assert row.model_ids == [served] and row.last_auto_deploy == outcome.to_json()


def test_deleting_a_project_releases_its_models(db: Database, project: str) -> None:
    model_id = _model(db, 0.4)
    other = _model(db, 0.4, project_id=None)
    with db.transaction() as session:
        repo.delete_project(session, PROJECT)
    with db.sessions() as session:
        rows = [session.get(ModelRow, m) for m in (model_id, other)]
        assert [r.project_id if r is not None else "gone" for r in rows] == [None, None]


def _deployments_stamp(db: Database) -> str | None:
    """What serving polls to see a deployment change."""
    return serving_sources(db.engine).stamps().get(DEPLOYMENTS_GENERATION)
