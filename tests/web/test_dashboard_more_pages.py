"""More dashboard pages over HTTP (no browser): online learning's arms and exploration share,
the model try-it form, the prediction-log browser's pages, the alerts and webhooks on the jobs
page, and the session cookie's lifetime and Secure flag."""

from __future__ import annotations

import html
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import ADMIN_KEY, RECOMMEND_KEY, make_settings, wait_stable
from operations.receiver import receiver
from recostack.api.app import create_app
from recostack.data.ids import MAX_ITEM_ID_LENGTH
from recostack.jobs.scheduler import Scheduler
from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.web.auth import COOKIE
from recostack.web.deployments_pages import LOG_PAGE

Headers = dict[str, str]


class _BodyRows(HTMLParser):
    """The text of each cell of each row of the table bodies in a piece of HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _section(page: str, heading: str) -> str:
    """The page's card (``<section>``) under ``heading``."""
    start = page.index(heading)
    return page[start : page.index("</section>", start)]


def _table(page: str, heading: str) -> list[list[str]]:
    """The rows of the first table under ``heading``."""
    section = _section(page, heading)
    parser = _BodyRows()
    parser.feed(section[: section.index("</table>")])
    parser.close()
    return parser.rows


def _sign_in(client: TestClient, key: str) -> str:
    """Sign in; the CSRF token of the session."""
    client.cookies.clear()
    answer = client.post("/login", data={"key": key}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/jobs").text)
    assert found is not None
    return found.group(1)


def _flush(client: TestClient) -> None:
    serving = client.app.state.serving  # type: ignore[attr-defined]
    assert serving.prediction_logger.flush(10)
    serving.statistics.flush()
    if serving.online is not None:
        assert serving.online.learner.flush(10)


# --- 1. online learning: the arms per segment and the exploration share ----------------------

OFFERS = "offer,name,category,tier\no1,Savings,bank,\no2,Travel,card,\no3,Loan,bank,gold\n"
OFFERS += "o4,Insurance,cover,\n"


def _online_deployment(
    client: TestClient, headers: Headers, model_id: str, project: str, epsilon: float
) -> str:
    """Offers, a feature store by tier, a configuration and deployment ``nbo`` using it (as
    ``tests/online_learning`` set them up); the configuration's id."""
    loaded = client.put("/api/offers/bank?key=offer", content=OFFERS, headers=headers)
    assert loaded.status_code == 200, loaded.text
    store = client.post(
        "/api/online-learning/feature-store",
        json={
            "offer_collection": "bank",
            "offer_name_column": "offer",
            "contextual_variables": {"tier": ["gold", "silver"]},
            "setup_feature_store_collection": "offers_by_tier",
        },
        headers=headers,
    )
    assert store.status_code == 201, store.text
    created = client.post(
        "/api/online-learning",
        json={
            "name": "offers-bandit",
            "description": "four offers by tier",
            "feature_store_collection": "offers_by_tier",
            "feature_store_database": "recostack",
            "options_store_database": "recostack",
            "options_store_collection": "offers_options",
            "contextual_variables_offer_key": "offer",
            "contextual_variables_contextual_variable_one_name": "tier",
            "randomisation_random_action": 0,
            "randomisation_fail_reward": 0.5,
            "randomisation_learning_rate": 1,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    config_id = str(created.json()["id"])
    deployed = client.post(
        f"/api/projects/{project}/deployments",
        json={
            "deploymentId": "nbo",
            "version": "1",
            "modelId": model_id,
            "multi_armed_bandit": {
                "epsilon": epsilon,
                "duration": 0,
                "pulse_responder_id": config_id,
            },
            "setup_offer_matrix": {
                "datasource": "mongodb",
                "database": "recostack",
                "collection": "bank",
                "offer_lookup_id": "offer",
            },
        },
        headers=headers,
    )
    assert deployed.status_code == 201, deployed.text
    wait_stable(client, headers, "nbo")
    return config_id


def _arm_row(arm: dict[str, Any]) -> list[str]:
    """An arm of the options store (as the API answers it) as the page writes it."""
    drawn = arm["arm_reward"]
    return [
        arm["offer"],
        f"{arm['alpha']:.2f}",
        f"{arm['beta']:.2f}",
        f"{arm['alpha_zero']:.2f} / {arm['beta_zero']:.2f}",
        f"{arm['propensity']:.3f}",
        str(arm["shown"]),
        str(arm["taken_up"]),
        "" if drawn is None else f"{drawn:.3f}",
    ]


def _charts(page: str) -> list[dict[str, Any]]:
    return [json.loads(html.unescape(c)) for c in re.findall(r"data-chart='([^']*)'", page)]


def test_online_learning_pages_show_the_arms_and_the_exploration_share(
    client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    trained_model: dict[str, Any],
    project: str,
) -> None:
    config_id = _online_deployment(client, admin_headers, trained_model["id"], project, 0.5)
    answers = []
    for n in range(16):
        asked = client.post(
            "/api/deployments/nbo/recommend",
            json={"userId": f"c{n}", "context": {"tier": ("gold", "silver")[n % 2]}},
            headers=recommend_headers,
        )
        assert asked.status_code == 200, asked.text
        answers.append(asked.json())
    shown: Counter[tuple[str, str]] = Counter()
    taken: Counter[tuple[str, str]] = Counter()
    for n, answer in enumerate(answers):
        segment = answer["onlineLearning"]["segment"]
        shown.update((segment, item["itemId"]) for item in answer["items"])
        if n % 3 == 0:  # the top offer of every third answer is taken up
            top = answer["items"][0]["itemId"]
            responded = client.post(
                "/api/deployments/nbo/responses",
                json={"requestId": answer["requestId"], "itemId": top, "takeUp": True},
                headers=recommend_headers,
            )
            assert responded.status_code == 201, responded.text
            taken[(segment, top)] += 1
    explored = sum(bool(a["onlineLearning"]["explored"]) for a in answers)
    _flush(client)
    arms = client.get(f"/api/online-learning/{config_id}/arms", headers=admin_headers).json()
    # the options store counted what the answers showed and what was taken up
    assert {(a["segment"], a["offer"]): a["shown"] for a in arms if a["shown"]} == shown
    assert {(a["segment"], a["offer"]): a["taken_up"] for a in arms if a["taken_up"]} == taken

    _sign_in(client, RECOMMEND_KEY)
    listed = client.get("/online-learning").text
    assert f'<a href="/online-learning/{config_id}">offers-bandit</a>' in listed
    for segment in ("gold", "silver"):
        page = client.get(
            f"/online-learning/{config_id}", params={"segment": segment, "deployment": "nbo"}
        )
        assert page.status_code == 200, page.text
        assert f"<h2>Arms of segment {segment}</h2>" in page.text
        own = [a for a in arms if a["segment"] == segment]
        assert len(own) == (4 if segment == "gold" else 3)  # o3 is for gold only
        assert _table(page.text, "<h2>Arms of segment") == [_arm_row(a) for a in own]
        densities, exploration = _charts(page.text)
        assert set(densities["series"]) == {a["offer"] for a in own}
        # the share of answers that explored, hour by hour: each hour's as the API reports it,
        # and all of them together what the answers said
        points = exploration["series"]["explored answers (%)"]
        assert points, exploration
        answered = explored_answers = 0
        for point in points:
            start = datetime.fromtimestamp(point["x"], UTC)
            report = client.get(
                "/api/deployments/nbo/exploration-report",
                params={
                    "start": start.isoformat(),
                    "end": (start + timedelta(hours=1)).isoformat(),
                },
                headers=admin_headers,
            ).json()
            assert point["y"] == round(100 * report["exploredAnswerShare"], 2), (point, report)
            answered += report["answers"]
            explored_answers += round(report["exploredAnswerShare"] * report["answers"])
        assert (answered, explored_answers) == (len(answers), explored)
    # with no deployment named, no exploration chart
    plain = client.get(f"/online-learning/{config_id}").text
    assert "<h2>Arms of segment gold</h2>" in plain and "Exploration over time" not in plain


# --- 2. the model try-it form ---------------------------------------------------------------


def _tried(answer: Any) -> list[tuple[str, str]]:
    """(item, score) of a try-it answer, best first."""
    assert answer.status_code == 200, answer.text
    pairs = re.findall(r'<li>(.*?) <span class="score">([^<]*)</span></li>', answer.text)
    return [(html.unescape(item), score) for item, score in pairs]


def _api_pairs(answer: Any) -> list[tuple[str, str]]:
    assert answer.status_code == 200, answer.text
    return [(r["recommendedItemId"], f"{r['score']:.4f}") for r in answer.json()]


def test_the_try_it_form_answers_as_the_model_api_does(
    client: TestClient, recommend_headers: Headers, trained_model: dict[str, Any]
) -> None:
    model_id = trained_model["id"]
    csrf = _sign_in(client, RECOMMEND_KEY)  # a read-only session may try: it changes nothing
    assert f'hx-post="/models/{model_id}/try"' in client.get(f"/models/{model_id}").text
    htmx = {"HX-Request": "true", "x-csrf-token": csrf}
    path = f"/models/{model_id}/try"
    # next to an item
    tried = _tried(client.post(path, data={"item_id": "item1", "count": "5"}, headers=htmx))
    api = client.get(
        f"/api/models/{model_id}/recommend",
        params={"itemId": "item1", "recommendationCount": 5},
        headers=recommend_headers,
    )
    assert tried and tried == _api_pairs(api)
    # for a user who used a few items
    used = ["item1", "item4", "item7"]
    tried = _tried(client.post(path, data={"events": "item1, item4\nitem7"}, headers=htmx))
    api = client.post(
        f"/api/models/{model_id}/recommend",
        json=[{"itemId": item} for item in used],
        headers=recommend_headers,
    )
    assert tried and tried == _api_pairs(api)
    # an item id over the limit is refused with a page that says why, not a server error
    too_long = client.post(path, data={"item_id": "x" * (MAX_ITEM_ID_LENGTH + 1)}, headers=htmx)
    assert too_long.status_code == 400, too_long.text
    assert "Invalid input" in too_long.text
    assert f"at most {MAX_ITEM_ID_LENGTH} characters" in too_long.text
    # so are the items used: an id over the limit, more items than the recommend API takes
    long_used = client.post(
        path, data={"events": "item1, " + "x" * (MAX_ITEM_ID_LENGTH + 1)}, headers=htmx
    )
    assert f"more than {MAX_ITEM_ID_LENGTH} characters" in long_used.text
    assert "<ol" not in long_used.text
    many = client.post(path, data={"events": ",".join(["item1"] * 1001)}, headers=htmx)
    assert "at most 1000 items used, got 1001" in many.text and "<ol" not in many.text


# --- 3. the prediction-log browser -----------------------------------------------------------


def _recommend(client: TestClient, headers: Headers, user: str) -> dict[str, Any]:
    answer = client.post(
        "/api/deployments/web/recommend", json={"userId": user, "itemId": "item1"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _log_page(page: str) -> tuple[list[list[str]], str | None]:
    """The prediction log's rows on a deployment page, and its "Older" link (``None``: none)."""
    rows = _table(page, "<h2>Prediction logs</h2>")
    older = re.search(r'<a href="(\?last_request_id=[^"]*)">Older</a>', page)
    return rows, None if older is None else html.unescape(older.group(1))


def test_the_prediction_log_pages_newest_first_and_loses_or_repeats_nothing(
    client: TestClient,
    recommend_headers: Headers,
    trained_model: dict[str, Any],
    deploy: Callable[..., dict[str, Any]],
) -> None:
    deploy(trained_model["id"])
    users = [f"reader{n:04d}" for n in range(2 * LOG_PAGE + 7)]
    answers = {user: _recommend(client, recommend_headers, user) for user in users}
    _flush(client)
    _sign_in(client, RECOMMEND_KEY)
    rows, older = _log_page(client.get("/deployments/web").text)
    pages = [rows]
    # answers given while the log is browsed go on top: the older pages do not shift
    later = [_recommend(client, recommend_headers, f"later{n}") for n in range(3)]
    _flush(client)
    while older is not None:
        last = answers[pages[-1][-1][2]]
        assert older.startswith(f"?last_request_id={last['requestId']}&last_timestamp="), older
        rows, older = _log_page(client.get(f"/deployments/web{older}").text)
        pages.append(rows)
    assert [len(p) for p in pages] == [LOG_PAGE, LOG_PAGE, 7]
    listed = [row for page in pages for row in page]
    assert [row[2] for row in listed] == users[::-1]
    for _time, request, user, version, items, _latency in listed:
        answer = answers[user]
        assert request and request.lstrip("…") in answer["requestId"]
        assert version == "1"
        assert items == ", ".join(i["itemId"] for i in answer["items"]) and items
    # the first page now starts with the answers given since, newest first
    rows, _older = _log_page(client.get("/deployments/web").text)
    assert [row[2] for row in rows[:4]] == ["later2", "later1", "later0", users[-1]]
    assert rows[0][1].lstrip("…") in later[2]["requestId"]


# --- 4. alerts and webhooks on the jobs page -------------------------------------------------


def _page_time(wire: str) -> str:
    """A time as the API writes it (``...T10:00:00.123456Z``) as the page writes it."""
    return wire[:19].replace("T", " ")


def test_the_jobs_page_lists_alerts_and_webhooks_with_their_state(
    client: TestClient,
    admin_headers: Headers,
    recommend_headers: Headers,
    trained_model: dict[str, Any],
    deploy: Callable[..., dict[str, Any]],
    settings: Settings,
    db: Database,
) -> None:
    deploy(trained_model["id"])
    settings.alert_evaluation_seconds = 0.001
    settings.webhook_backoff_seconds = 0.01
    scheduler = Scheduler(settings, db)
    with receiver(fail_first=1) as hook:
        created = client.post(
            "/api/deployments/web/webhooks",
            json={"endpoint": hook.url, "webhookEventType": "ALERT_FIRING"},
            headers=admin_headers,
        )
        assert created.status_code == 201, created.text
        webhook = created.json()
        created = client.post(
            "/api/deployments/web/alerts",
            json={
                "alertName": "errors",
                "conditionConfig": {"type": "ERROR_RATE", "threshold": 0.25, "windowMinutes": 5},
                "actionConfig": {"type": "WEBHOOK"},
            },
            headers=admin_headers,
        )
        assert created.status_code == 201, created.text
        alert = created.json()
        assert alert["state"] == "OK"
        _sign_in(client, RECOMMEND_KEY)
        page = client.get("/jobs").text
        since = _page_time(alert["stateSince"])
        assert _table(page, "<h2>Alerts</h2>") == [["errors", "web", "OK", since, ""]]
        hooked = [[webhook["endpoint"], "web", "ALERT_FIRING"]]
        assert _table(page, "<h2>Webhooks</h2>") == hooked
        assert "<h3>Deliveries</h3>" not in page and "<h3>History</h3>" not in page
        # 3 of 4 requests fail: the alert fires and its webhook is called
        _recommend(client, recommend_headers, "user1")
        for _ in range(3):
            refused = client.post(
                "/api/deployments/web/recommend",
                json={"recommendationCount": 0},
                headers=recommend_headers,
            )
            assert refused.status_code in (400, 422), refused.text
        _flush(client)
        now = datetime.now(UTC)
        deadline = time.monotonic() + 30
        while not any(r.status == 204 for r in hook.requests):  # the second attempt lands
            assert time.monotonic() < deadline, "the webhook's call did not land"
            scheduler.tick(now=now)
            time.sleep(0.02)
    fired = client.get(f"/api/alerts/{alert['alertId']}", headers=admin_headers).json()
    assert (fired["state"], fired["lastValue"]) == ("FIRING", 0.75)
    deliveries = client.get(
        f"/api/webhooks/{webhook['webhookId']}/deliveries", headers=admin_headers
    ).json()
    assert [(d["status"], d["attempts"]) for d in deliveries] == [("delivered", 2)]
    page = client.get("/jobs").text
    assert _table(page, "<h2>Alerts</h2>") == [
        ["errors", "web", "FIRING", _page_time(fired["stateSince"]), "0.75"]
    ]
    history = html.unescape(_section(page, "<h2>Alerts</h2>"))
    event = fired["history"][0]
    assert f"{_page_time(event['at'])} FIRING: {event['message']}</li>" in history
    assert _table(page, "<h2>Webhooks</h2>") == hooked
    shown = _section(page, "<h2>Webhooks</h2>")
    shown = shown[shown.index("<h3>Deliveries</h3>") :]
    parser = _BodyRows()
    parser.feed(shown)
    assert parser.rows == [
        [d["eventType"], d["status"], str(d["attempts"]), str(d["lastStatusCode"]), ""]
        for d in deliveries
    ]
    assert parser.rows[0][:4] == ["ALERT_FIRING", "delivered", "2", "204"]


# --- 5. the session's lifetime and its cookie ------------------------------------------------

SESSION_SECONDS = 3


@pytest.fixture
def short_sessions(data_dir: Path, database_url: str, db: Database) -> Iterator[TestClient]:
    """The app with dashboard sessions of a few seconds, its client on https (the store is the
    ``db`` fixture's)."""
    settings = make_settings(data_dir, database_url, web_session_seconds=SESSION_SECONDS)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield client


def test_a_session_ends_with_its_lifetime_and_its_cookie_is_secure_under_tls(
    short_sessions: TestClient,
) -> None:
    client = short_sessions
    sessions = {}
    for scheme in ("https", "http"):
        client.cookies.clear()
        answer = client.post(
            f"{scheme}://testserver/login", data={"key": ADMIN_KEY}, follow_redirects=False
        )
        ends = time.monotonic() + SESSION_SECONDS  # the session ends before this
        assert answer.status_code == 303, answer.text
        cookie, *flags = answer.headers["set-cookie"].split(";")
        name, session_id = cookie.split("=", 1)
        attributes = {
            key.strip().lower(): value.strip()
            for key, _, value in (f.partition("=") for f in flags)
        }
        assert name == COOKIE and session_id
        assert attributes["max-age"] == str(SESSION_SECONDS)
        assert "httponly" in attributes and attributes["samesite"].lower() == "strict"
        assert ("secure" in attributes) == (scheme == "https"), answer.headers["set-cookie"]
        sessions[scheme] = session_id
    client.cookies.clear()  # the cookie is sent by hand: the client's jar would drop it

    def jobs(scheme: str) -> Any:
        cookie = {"cookie": f"{COOKIE}={sessions[scheme]}"}
        return client.get(f"{scheme}://testserver/jobs", headers=cookie, follow_redirects=False)

    for scheme in sessions:
        assert jobs(scheme).status_code == 200
    time.sleep(max(0.0, ends + 0.1 - time.monotonic()))
    for scheme in sessions:
        ended = jobs(scheme)
        assert ended.status_code == 303 and ended.headers["location"] == "/login", ended.text
