"""``/api/files``: upload, list, download, delete; limits and path traversal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import make_settings
from recostack.api.app import create_app
from recostack.settings import Settings
from recostack.store.engine import Database

Headers = dict[str, str]


def test_upload_list_download_replace_delete(
    client: TestClient, admin_headers: Headers, settings: Settings
) -> None:
    put = client.put(
        "/api/files/input/usage/a.csv",
        content=b"u1,i1,2024-01-01T00:00:00\n",
        headers=admin_headers,
    )
    assert put.status_code == 201, put.text
    body = put.json()
    assert (body["container"], body["path"], body["size"]) == ("input", "usage/a.csv", 26)
    assert body["modifiedTime"].endswith("Z")
    assert (settings.files_dir / "input" / "usage" / "a.csv").is_file()

    again = client.put("/api/files/input/usage/a.csv", content=b"x\n", headers=admin_headers)
    assert again.status_code == 200
    client.put("/api/files/input/catalog.csv", content=b"i1,n,c\n", headers=admin_headers)

    listed = client.get("/api/files/input", headers=admin_headers)
    assert listed.status_code == 200
    assert [(f["path"], f["size"]) for f in listed.json()] == [
        ("catalog.csv", 7),
        ("usage/a.csv", 2),
    ]

    got = client.get("/api/files/input/usage/a.csv", headers=admin_headers)
    assert got.status_code == 200 and got.content == b"x\n"

    assert client.delete("/api/files/input/usage", headers=admin_headers).status_code == 204
    assert [f["path"] for f in client.get("/api/files/input", headers=admin_headers).json()] == [
        "catalog.csv"
    ]
    assert client.delete("/api/files/input", headers=admin_headers).status_code == 204
    assert client.get("/api/files/input", headers=admin_headers).status_code == 404


def test_a_streamed_upload_is_written_in_chunks(
    client: TestClient, admin_headers: Headers, settings: Settings
) -> None:
    def chunks() -> Any:
        for i in range(100):
            yield f"user{i},item{i % 7},2024-01-01T00:00:00\n".encode()

    response = client.put("/api/files/big/usage.csv", content=chunks(), headers=admin_headers)
    assert response.status_code == 201
    assert (settings.files_dir / "big" / "usage.csv").read_text().count("\n") == 100


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/files/input/%2e%2e/escape.csv", "path"),
        ("/api/files/input/a/%2e%2e/%2e%2e/escape.csv", "path"),
        ("/api/files/input/%2Fetc%2Fpasswd", "path"),
        ("/api/files/input/a%5Cb.csv", "path"),
        ("/api/files/input/a//b.csv", "path"),
        ("/api/files/input/.upload-x.csv", "path"),
        ("/api/files/input/" + "x" * 256, "path"),
        ("/api/files/input/a/%2e/b.csv", "path"),
        ("/api/files/%2e%2e/x.csv", "container"),
        ("/api/files/bad%20name/x.csv", "container"),
    ],
)
def test_path_traversal_is_refused(
    client: TestClient,
    admin_headers: Headers,
    url: str,
    field: str,
    stored_state: Callable[[], dict[str, Any]],
    data_dir: Path,
) -> None:
    before = stored_state()
    response = client.put(url, content=b"x", headers=admin_headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid"
    assert response.json()["field"] == field
    assert stored_state() == before
    assert not (data_dir.parent / "escape.csv").exists()


def test_uploads_over_the_limit_are_refused_and_change_nothing(
    data_dir: Path,
    database_url: str,
    db: Database,
    admin_headers: Headers,
    stored_state: Callable[[], dict[str, Any]],
) -> None:
    settings = make_settings(data_dir, database_url, max_upload_bytes=10)
    app: FastAPI = create_app(settings)
    with TestClient(app) as client:
        assert (
            client.put(
                "/api/files/c/a.csv", content=b"0123456789", headers=admin_headers
            ).status_code
            == 201
        )
        before = stored_state()
        declared = client.put("/api/files/c/a.csv", content=b"0123456789X", headers=admin_headers)
        assert declared.status_code == 413
        assert declared.json()["error"] == "too_large"

        def chunks() -> Any:  # no Content-Length: counted while streaming
            yield b"01234"
            yield b"56789X"

        streamed = client.put("/api/files/c/a.csv", content=chunks(), headers=admin_headers)
        assert streamed.status_code == 413
        assert stored_state() == before
        assert (settings.files_dir / "c" / "a.csv").read_bytes() == b"0123456789"


def test_missing_things_are_404(client: TestClient, admin_headers: Headers) -> None:
    assert client.get("/api/files/nothing", headers=admin_headers).status_code == 404
    assert client.get("/api/files/nothing/a.csv", headers=admin_headers).status_code == 404
    assert client.delete("/api/files/nothing/a.csv", headers=admin_headers).status_code == 404
    assert client.delete("/api/files/nothing", headers=admin_headers).status_code == 404
    client.put("/api/files/c/a/b.csv", content=b"1", headers=admin_headers)
    folder_as_file = client.put("/api/files/c/a", content=b"1", headers=admin_headers)
    assert folder_as_file.status_code == 409
    assert folder_as_file.json()["field"] == "path"


def test_an_empty_body_is_an_empty_file(
    client: TestClient, admin_headers: Headers, settings: Settings
) -> None:
    assert client.put("/api/files/c/empty.csv", headers=admin_headers).status_code == 201
    assert (settings.files_dir / "c" / "empty.csv").read_bytes() == b""


def test_a_name_too_long_for_the_file_system_is_422(
    client: TestClient, admin_headers: Headers, container: str
) -> None:
    """255 characters, as the document allows, but 510 bytes: no file system takes them."""
    name = "é" * 255
    for method in ("PUT", "GET", "DELETE"):
        response = client.request(method, f"/api/files/{container}/{name}", headers=admin_headers)
        assert response.status_code == 422, (method, response.text)
        assert response.json()["error"] == "unprocessable"
    body = {"blobContainerName": container, "usageRelativePath": name}
    assert client.post("/api/models", json=body, headers=admin_headers).status_code == 422


def test_a_refused_path_is_explained(client: TestClient, admin_headers: Headers) -> None:
    response = client.get("/api/files/input/.upload-1", headers=admin_headers)
    assert response.status_code == 400
    assert response.json()["message"].startswith("path: '.upload-1': a path relative to the")


def test_files_need_an_admin_key(client: TestClient, recommend_headers: Headers) -> None:
    assert client.put("/api/files/c/a.csv", content=b"1").status_code == 401
    assert (
        client.put("/api/files/c/a.csv", content=b"1", headers=recommend_headers).status_code == 403
    )
    assert client.get("/api/files/c", headers=recommend_headers).status_code == 403
