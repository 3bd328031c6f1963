"""``/api/projects``: the reference's fields, 409s, delete refused while deployments exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

FIELDS = {
    "projectId": "crm",
    "projectDescription": "next best offer",
    "projectType": "recommender",
    "purpose": "cross-sell",
    "projectStartDate": "2025-01-01",
    "projectEndDate": "2025-12-31",
    "dataScienceLead": "Ada",
    "dataLead": "Grace",
}


def test_create_describe_list_update_delete(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    created = client.post("/api/projects", json=FIELDS, headers=admin_headers)
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in FIELDS} == FIELDS
    again = client.post("/api/projects", json=FIELDS, headers=admin_headers)
    assert again.status_code == 409
    assert client.get("/api/projects/crm", headers=admin_headers).json()["dataLead"] == "Grace"
    assert [p["projectId"] for p in client.get("/api/projects", headers=admin_headers).json()] == [
        "crm"
    ]
    # snake_case is accepted too
    patched = client.patch(
        "/api/projects/crm",
        json={"purpose": "retention", "data_lead": "Linus"},
        headers=admin_headers,
    )
    assert patched.status_code == 200
    assert (patched.json()["purpose"], patched.json()["dataLead"]) == ("retention", "Linus")
    assert patched.json()["projectType"] == "recommender"
    assert client.delete("/api/projects/crm", headers=admin_headers).status_code == 204
    missing = client.get("/api/projects/crm", headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["field"] == "project_id"


def test_validation_and_keys(
    client: TestClient, admin_headers: dict[str, str], recommend_headers: dict[str, str]
) -> None:
    assert (
        client.post("/api/projects", json={"projectId": "a b"}, headers=admin_headers).status_code
        == 400
    )
    assert (
        client.post(
            "/api/projects", json={"projectId": "x", "nope": 1}, headers=admin_headers
        ).status_code
        == 400
    )
    assert client.get("/api/projects", headers=recommend_headers).status_code == 403
    assert client.get("/api/projects").status_code == 401


def test_delete_refused_while_deployments_exist(
    client: TestClient,
    admin_headers: dict[str, str],
    trained_model: dict[str, Any],
    deploy: Callable[..., dict[str, Any]],
    project: str,
) -> None:
    deploy(trained_model["id"])
    refused = client.delete(f"/api/projects/{project}", headers=admin_headers)
    assert refused.status_code == 409
    assert "deployment" in refused.json()["message"]
    assert client.delete("/api/deployments/web", headers=admin_headers).status_code == 204
    assert client.delete(f"/api/projects/{project}", headers=admin_headers).status_code == 204


def test_project_and_deployment_answers_have_schemas_in_the_openapi_document(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    paths = document["paths"]

    def answer_schema(path: str, method: str, status: str = "200") -> dict[str, Any]:
        content = paths[path][method]["responses"][status]["content"]["application/json"]
        return content["schema"]

    project = document["components"]["schemas"]["ProjectPublic"]
    assert set(FIELDS) | {"createdAt", "updatedAt"} == set(project["properties"])
    assert answer_schema("/api/projects", "post", "201") == {
        "$ref": "#/components/schemas/ProjectPublic"
    }
    assert answer_schema("/api/projects", "get")["items"] == {
        "$ref": "#/components/schemas/ProjectPublic"
    }
    for method in ("get", "patch"):
        assert answer_schema("/api/projects/{project_id}", method) == {
            "$ref": "#/components/schemas/ProjectPublic"
        }
    deployment = answer_schema("/api/projects/{project_id}/deployments", "post", "201")
    assert deployment == {"$ref": "#/components/schemas/DeploymentPublic"}
