"""One error shape for every 4xx and 5xx; the OpenAPI document and the docs page."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from recostack.api.errors import field_name

Headers = dict[str, str]


def test_field_names_read_like_the_wire() -> None:
    assert field_name(("query", "recommendationCount")) == "recommendationCount"
    assert field_name(("body", 2, "eventType")) == "[2].eventType"
    assert field_name(("body", "supportThreshold")) == "supportThreshold"
    assert field_name(("body",)) == "body"
    assert field_name(("header", "x-api-key")) == "x-api-key"
    assert field_name(()) == "body"


def test_unknown_routes_and_methods(client: TestClient, admin_headers: Headers) -> None:
    missing = client.get("/api/nothing", headers=admin_headers)
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "message": "no such endpoint: GET /api/nothing"}
    method = client.patch("/api/models", headers=admin_headers)
    assert method.status_code == 405
    assert method.json()["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/api/models", "GET, POST"),
        # the path of its own routes, not of /api/models/{modelId}, which also matches it
        ("PATCH", "/api/models/default", "GET, PUT"),
        ("OPTIONS", "/api/models/some-id", "DELETE, GET"),
        ("POST", "/api/files/input/a/b.csv", "DELETE, GET, PUT"),
        ("POST", "/api/scenarios-default/item_to_items", "DELETE, GET, PATCH, PUT"),
        ("TRACE", "/openapi.json", "GET, HEAD"),
    ],
)
def test_a_405_names_every_method_of_the_path(
    client: TestClient, admin_headers: Headers, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path, headers=admin_headers)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed


def test_the_document_states_the_answers_given(client: TestClient) -> None:
    """A validation error is a 400 with the error body: FastAPI's 422 is not in the document."""
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "422"):
                if status in operation["responses"]:
                    content = operation["responses"][status]["content"]["application/json"]
                    assert content["schema"]["$ref"].endswith("/ErrorBody"), (method, path)
            assert "400" in operation["responses"] or not operation.get("parameters")
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    # a 422 is documented where the content of valid input may not be usable
    assert "422" in spec["paths"]["/api/customers/{collection}"]["put"]["responses"]
    assert "422" not in spec["paths"]["/api/models"]["get"]["responses"]


def test_a_broken_pattern_is_explained_in_words(client: TestClient, admin_headers: Headers) -> None:
    body = {"blobContainerName": "bad name", "usageRelativePath": "usage.csv"}
    response = client.post("/api/models", json=body, headers=admin_headers)
    assert response.status_code == 400
    assert response.json()["message"] == (
        "blobContainerName: 'bad name': container names are 1-63 letters, digits, '_', '-' or '.', "
        "starting with a letter or digit"
    )


def test_several_problems_are_all_listed(client: TestClient, admin_headers: Headers) -> None:
    response = client.post(
        "/api/models",
        json={"supportThreshold": 1, "similarityFunction": "x"},
        headers=admin_headers,
    )
    assert response.status_code == 400
    body = response.json()
    fields = {p["field"] for p in body["detail"]}
    assert fields == {"usageRelativePath", "supportThreshold", "similarityFunction"}
    assert body["field"] in fields


def test_an_unexpected_error_is_a_json_500(app: FastAPI) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"error": "internal", "message": "internal server error"}


def test_openapi_and_swagger(client: TestClient) -> None:
    document = client.get("/openapi.json")
    assert document.status_code == 200
    spec = document.json()
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "x-api-key"
    recommend = spec["paths"]["/api/models/{modelId}/recommend"]["get"]
    names = {p["name"] for p in recommend["parameters"]}
    assert names >= {"modelId", "itemId", "recommendationCount"}
    # the body of POST /api/models: the reference's training parameters, plus projectId
    body = spec["paths"]["/api/models"]["post"]["requestBody"]["content"]["application/json"]
    create = spec["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert {"usageRelativePath", "supportThreshold", "projectId"} <= set(create["properties"])
    swagger = client.get("/swagger")
    assert swagger.status_code == 200 and "swagger-ui" in swagger.text
