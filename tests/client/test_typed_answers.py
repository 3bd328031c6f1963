"""Typed answers: each is the server's JSON (``to_dict()``), with typed fields and methods."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from conftest import ADMIN_KEY
from recostack.client import (
    Client,
    CustomersWritten,
    Deployment,
    Model,
    Project,
    Recommendation,
    UploadedFile,
)
from recostack.errors import NotFound, RecostackError

from .conftest import LiveServer, wait_until_logged


@pytest.fixture
def raw(live_server: LiveServer) -> Iterator[httpx.Client]:
    """Plain httpx on the same server: what the server sends, untouched by the SDK."""
    with httpx.Client(base_url=live_server.url, headers={"x-api-key": ADMIN_KEY}) as http:
        yield http


def _deploy(client: Client, live_server: LiveServer, project: str) -> Deployment:
    client.create_project(project)
    deployment = client.create_deployment(project, f"{project}-web", model_id=live_server.model_id)
    return deployment.wait_for_deployment(timeout=30)


def test_every_answer_is_the_json_the_server_sent(
    live_server: LiveServer, raw: httpx.Client
) -> None:
    with live_server.client() as client:
        model = client.get_model(live_server.model_id)
        assert model.to_dict() == raw.get(f"/api/models/{model.id}").json()
        assert isinstance(model.creation_time, datetime) and model.creation_time.tzinfo
        listed = client.list_models()
        assert [m.to_dict() for m in listed] == raw.get("/api/models").json()
        similar = client.recommend(model.id, item_id="item1", recommendation_count=3)
        sent = raw.get(f"/api/models/{model.id}/recommend?itemId=item1&recommendationCount=3")
        assert [r.to_dict() for r in similar] == sent.json()
        assert similar[0].recommended_item_id == sent.json()[0]["recommendedItemId"]
        deployment = _deploy(client, live_server, "wire")
        described = raw.get("/api/deployments/wire-web").json()
        assert deployment.to_dict() == described
        assert deployment.model_version_history[0].to_dict() == described["modelVersionHistory"][0]
        assert client.describe_project("wire").to_dict() == raw.get("/api/projects/wire").json()
        answer = deployment.recommend(item_id="item1", recommendation_count=2)
        taken = deployment.log_response(answer.request_id, item_id=answer.item_ids[0], reward=1.0)
        wait_until_logged(deployment, answer.request_id)
        predictions = deployment.get_prediction_logs_records()
        assert [p.to_dict() for p in predictions] == (
            raw.get("/api/deployments/wire-web/prediction-logs").json()
        )
        assert predictions[0].items == answer.items
        responses = deployment.get_response_logs_records()
        assert [r.to_dict() for r in responses] == [taken.to_dict()]
        assert responses[0].reward == 1.0 and isinstance(responses[0].timestamp, datetime)
        changed = model.to_dict()
        changed["description"] = "not the model's"
        assert model.to_dict()["description"] != "not the model's"
        deployment.delete()
        client.delete_project("wire")


def test_model_and_project_resources(live_server: LiveServer) -> None:
    with live_server.client() as client:
        (summary,) = [m for m in client.list_models() if m.id == live_server.model_id]
        assert isinstance(summary, Model) and summary.parameters is None
        assert summary.refresh() is summary and summary.parameters is not None
        assert summary.describe() == client.get_model(summary.id)
        assert summary.wait_for_training(timeout=5).status == "Completed"
        similar = summary.recommend(item_id="item1", recommendation_count=3)
        assert similar == client.recommend(summary.id, item_id="item1", recommendation_count=3)
        assert all(isinstance(r, Recommendation) for r in similar)

        project = client.create_project("resources", purpose="typed objects")
        assert isinstance(project, Project) and isinstance(project.created_at, datetime)
        assert project.update(data_lead="Bo") is project and project.data_lead == "Bo"
        assert project.purpose == "typed objects"
        assert [p.project_id for p in client.list_projects()].count("resources") == 1
        deployment = project.create_deployment("resources-web", model_id=live_server.model_id)
        assert deployment.project_id == "resources"
        assert [d.deployment_id for d in project.list_deployments()] == ["resources-web"]
        assert deployment.wait_for_deployment(timeout=30).status == "ACTIVE"
        deployment.delete()
        project.delete()
        with pytest.raises(NotFound):
            project.refresh()


def test_log_pages_go_on_from_the_last_record(live_server: LiveServer) -> None:
    with live_server.client() as client:
        deployment = _deploy(client, live_server, "pages")
        sent = [deployment.recommend(item_id=f"item{i}").request_id for i in range(5)]
        for request_id in sent:
            deployment.log_response(request_id, take_up=True)
        wait_until_logged(deployment, *sent)
        first = deployment.get_prediction_logs_records(limit=3)
        rest = deployment.get_prediction_logs_records(limit=3, **first[-1].next_page())
        assert [p.request_id for p in first + rest] == sent[::-1]
        first_responses = deployment.get_response_logs_records(limit=2)
        more = client.get_response_logs_records(
            "pages-web", limit=10, **first_responses[-1].next_page()
        )
        assert len({r.response_id for r in first_responses + more}) == 5
        deployment.delete()
        client.delete_project("pages")


def test_uploads_answer_what_was_written(live_server: LiveServer) -> None:
    with live_server.client() as client:
        stored = client.upload_file("typed", "notes/a.csv", "user,item\nu1,i1\n")
        assert isinstance(stored, UploadedFile)
        assert (stored.container, stored.path, stored.size) == ("typed", "notes/a.csv", 16)
        loaded = client.upload_customers("typed", "id,segment\nc1,a\nc2,b\n", key="id")
        assert loaded == CustomersWritten.from_wire({"collection": "typed", "written": 2})
        added = client.add_customers("typed", {"c3": {"segment": "c"}})
        assert (added.collection, added.written) == ("typed", 1)


def test_reading_an_answer_as_a_dict_still_works_with_a_warning(live_server: LiveServer) -> None:
    with live_server.client() as client:
        model = client.get_model(live_server.model_id)
        with pytest.warns(DeprecationWarning, match="read the attribute"):
            assert model["modelStatus"] == model.model_status


def test_an_answer_of_another_shape_is_a_library_error() -> None:
    with pytest.raises(RecostackError, match="not a Recommendation"):
        Recommendation.from_wire({"score": 1.0})
    with pytest.raises(RecostackError, match="not a list of Recommendation"):
        Recommendation.list_from_wire({"recommendedItemId": "i1", "score": 1.0})
