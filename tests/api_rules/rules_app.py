"""The test data of the rules API tests, and helpers over the test client.

A tiny model with a catalog made for business rules, trained through the API.

45 items (and two cold ones) with properties ``genres`` (comedy / drama /
action), ``price`` (the item's number) and ``tag`` (``new`` on every fourth
item, missing elsewhere); 40 users, of whom ``u0``..``u7`` have 22 items
(so ``n_ratings >= 21``) and the others 6. The model is the default model.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

Headers = dict[str, str]

N_ITEMS = 45
N_USERS = 40
HEAVY_USERS = 8
GENRES = ("comedy", "drama", "action")


def item_properties(i: int) -> dict[str, str]:
    return {
        "genres": GENRES[i % 3],
        "price": str(i),
        "tag": "new" if i % 4 == 0 else "",
    }


def write_rules_inputs(folder: Path) -> dict[str, set[str]]:
    """usage.csv and catalog.csv in ``folder``; returns each user's items."""
    generator = random.Random(3)
    history: dict[str, set[str]] = {}
    lines = []
    for u in range(N_USERS):
        size = 22 if u < HEAVY_USERS else 6
        items = generator.sample(range(N_ITEMS), size)
        history[f"u{u}"] = {f"item{i}" for i in items}
        for n, i in enumerate(items):
            lines.append(f"u{u},item{i},2024-03-01T10:{n:02d}:00,Purchase")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "usage.csv").write_text("\n".join(lines) + "\n")
    rows = []
    for i in range(N_ITEMS + 2):
        props = item_properties(i)
        features = [f"genres={props['genres']}", f"price={props['price']}"]
        if props["tag"]:
            features.append(f"tag={props['tag']}")
        rows.append(f"item{i},Item {i},cat{i % 2},," + ",".join(features))
    (folder / "catalog.csv").write_text("\n".join(rows) + "\n")
    return history


@dataclass(frozen=True)
class RulesModel:
    id: str
    history: dict[str, set[str]]

    @staticmethod
    def props(item_id: str) -> dict[str, str]:
        return item_properties(int(item_id.removeprefix("item")))


class Api:
    """Small helpers over the test client (admin writes, recommend reads)."""

    def __init__(self, client: TestClient, admin: Headers, recommend: Headers) -> None:
        self.client = client
        self.admin = admin
        self.recommend = recommend

    def put_scenario(self, reco_type: str, name: str, body: dict[str, Any]) -> Any:
        return self.client.put(f"/api/scenarios/{reco_type}/{name}", json=body, headers=self.admin)

    def case(self, reco_type: str, name: str, **rules: Any) -> None:
        response = self.put_scenario(reco_type, name, {"scenario_type": "case", "case": rules})
        assert response.status_code in (200, 201), response.text

    def ab_test(self, probability_a: float, name: str = "test") -> str:
        response = self.client.post(
            "/api/ab-tests/params",
            json={"name": name, "probability_a": probability_a},
            headers=self.admin,
        )
        assert response.status_code == 201, response.text
        test_id: str = response.json()["id"]
        return test_id

    def set_default(self, reco_type: str, name: str) -> None:
        response = self.client.put(
            f"/api/scenarios-default/{reco_type}", json={"name": name}, headers=self.admin
        )
        assert response.status_code == 200, response.text

    def items(self, user_id: str, **params: Any) -> Any:
        return self.client.get(
            f"/api/recommendation/users/{user_id}/items/", params=params, headers=self.recommend
        )

    def similar(self, item_id: str, **params: Any) -> Any:
        return self.client.get(
            f"/api/recommendation/items/{item_id}/items/", params=params, headers=self.recommend
        )

    def session(self, events: list[dict[str, Any]], **params: Any) -> Any:
        return self.client.post(
            "/api/recommendation/sessions/items/",
            json=events,
            params=params,
            headers=self.recommend,
        )
