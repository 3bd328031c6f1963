"""``/api/customers``: a CSV upload is refused with 400 when it breaks its documented syntax,
with 422 when only its table is wrong (what no pattern can state)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from recostack.api import customers

Headers = dict[str, str]
URL = "/api/customers/crm"


def test_a_csv_upload_is_stored_and_read_back(client: TestClient, admin_headers: Headers) -> None:
    text = '\ufeffsegment,customer\r\n"gold, old",alice\r\n\r\nsilver,"bob ""b"""\n'
    loaded = client.put(f"{URL}?key=customer", content=text.encode(), headers=admin_headers)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json() == {"collection": "crm", "written": 2}
    bob = client.get(f'{URL}/bob "b"', headers=admin_headers).json()
    assert bob == {"customerId": 'bob "b"', "fields": {"segment": "silver"}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\nid\n", "empty"),
        (b'id\n"alice', "not valid CSV"),
        (b'id,x\n"alice"x,1', "not valid CSV"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_a_body_that_is_not_csv_is_400(
    client: TestClient, admin_headers: Headers, content: bytes, message: str
) -> None:
    response = client.put(URL, content=content, headers=admin_headers)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "body"
    assert message in response.json()["message"]


@pytest.mark.parametrize(
    ("url", "content", "field"),
    [
        (URL, b"id,segment\nalice\n", "body"),
        (f"{URL}?key=customer", b"id,segment\nalice,gold\n", "key"),
        (URL, b"id,segment\n,gold\n", "customerId"),
        (URL, b"id\n" + b"x" * 256 + b"\n", "customerId"),
    ],
)
def test_a_csv_whose_table_is_wrong_is_422(
    client: TestClient, admin_headers: Headers, url: str, content: bytes, field: str
) -> None:
    response = client.put(url, content=content, headers=admin_headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "unprocessable"
    assert response.json()["field"] == field
    assert client.get(f"{URL}/alice", headers=admin_headers).status_code == 404


def test_a_csv_over_the_limit_is_413(
    client: TestClient, admin_headers: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(customers, "MAX_CSV_BYTES", 8)
    response = client.put(URL, content=b"id\nalice\n", headers=admin_headers)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
