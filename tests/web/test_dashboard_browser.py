"""The dashboard in a real browser: sign in, train from the form, promote and roll back, a
chart drawn, a scenario cycle refused in place, no critical accessibility violation."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import ADMIN_KEY, RECOMMEND_KEY, write_catalog, write_usage

from .conftest import Dashboard

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def _wait(browser: webdriver.Chrome, condition: Callable[[Any], Any], seconds: float = 30) -> Any:
    """``condition`` once it holds (pages are reloaded and swapped meanwhile: an element
    gone stale, or not there yet, is looked up again). Chrome reports a node swapped out
    between its lookup and its read as an unknown error, "Node with given id does not belong
    to the document" (seen in CI), not as a stale element: that too is looked up again."""

    def swapped_out_is_stale(driver: Any) -> Any:
        try:
            return condition(driver)
        except WebDriverException as exc:
            if "does not belong to the document" not in str(exc):
                raise
            return False

    transient = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(browser, seconds, poll_frequency=0.1, ignored_exceptions=transient).until(
        swapped_out_is_stale
    )


def _shot(browser: webdriver.Chrome, dashboard: Dashboard, name: str) -> None:
    path = dashboard.screenshots / f"{name}.png"
    assert browser.save_screenshot(str(path)) and path.stat().st_size > 0


def _sign_in(browser: webdriver.Chrome, dashboard: Dashboard, key: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{dashboard.url}/login")
    browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    _wait(browser, lambda b: b.find_element(By.TAG_NAME, "h1").text == "Overview")


def _critical_violations(browser: webdriver.Chrome) -> list[str]:
    browser.execute_script(AXE.read_text())
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(JSON.stringify(r.violations))).catch("
        "e => done(JSON.stringify([{impact: 'critical', id: String(e)}])));"
    )
    return [v["id"] for v in json.loads(result) if v.get("impact") == "critical"]


def _train_from_form(browser: webdriver.Chrome, dashboard: Dashboard, description: str) -> str:
    usage = write_usage(dashboard.root / "usage.csv")
    evaluation = write_usage(dashboard.root / "eval.csv", users=10, per_user=3, seed=11)
    catalog = write_catalog(dashboard.root / "catalog.csv")
    browser.get(f"{dashboard.url}/models/new")
    browser.find_element(By.ID, "usage").send_keys(str(usage))
    browser.find_element(By.ID, "catalog").send_keys(str(catalog))
    browser.find_element(By.ID, "evaluation").send_keys(str(evaluation))
    browser.find_element(By.ID, "description").send_keys(description)
    threshold = browser.find_element(By.ID, "f-supportThreshold")
    threshold.clear()
    threshold.send_keys("3")
    browser.find_element(By.ID, "f-enableUserToItemRecommendations").click()
    browser.find_element(By.CSS_SELECTOR, "form[action='/models/new'] button[type=submit]").click()
    _wait(browser, lambda b: "/models/" in b.current_url and "/new" not in b.current_url)
    model_id = browser.current_url.rsplit("/", 1)[-1]
    _wait(browser, lambda b: "Completed" in b.find_element(By.ID, "model-status").text, 60)
    return model_id


def test_the_dashboard_end_to_end(browser: webdriver.Chrome, dashboard: Dashboard) -> None:
    # signing in: a wrong key is refused on the page, the admin key opens the overview
    browser.get(f"{dashboard.url}/")
    assert browser.current_url.endswith("/login")
    browser.find_element(By.ID, "key").send_keys("not-a-key")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    assert "not valid" in _wait(browser, lambda b: b.find_element(By.CLASS_NAME, "error")).text
    _sign_in(browser, dashboard, ADMIN_KEY)
    cookie = browser.get_cookie("recostack_session")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert ADMIN_KEY not in browser.page_source
    _shot(browser, dashboard, "overview")
    assert _critical_violations(browser) == []

    # a parameter out of range is shown next to its field, nothing is trained
    browser.get(f"{dashboard.url}/models/new")
    field = browser.find_element(By.ID, "f-supportThreshold")
    browser.execute_script("arguments[0].removeAttribute('max')", field)
    field.clear()
    field.send_keys("99")
    browser.find_element(By.ID, "usage").send_keys(str(write_usage(dashboard.root / "u.csv")))
    browser.find_element(By.CSS_SELECTOR, "form[action='/models/new'] button[type=submit]").click()
    error = _wait(browser, lambda b: b.find_element(By.ID, "e-supportThreshold"))
    assert "50" in error.text
    _shot(browser, dashboard, "train-form-error")
    assert _critical_violations(browser) == []

    # training from the form, watched until Completed; its evaluation charts are drawn
    first = _train_from_form(browser, dashboard, "first from the form")
    browser.refresh()
    canvas = _wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, ".chart canvas"))
    assert browser.execute_script(
        "const c = arguments[0], d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) return true; } return false;",
        canvas,
    ), "the precision chart's canvas is empty"
    _shot(browser, dashboard, "model")
    assert _critical_violations(browser) == []
    second = _train_from_form(browser, dashboard, "second from the form")

    # a deployment (created through the API) promoted and rolled back from its page
    with httpx.Client(base_url=dashboard.url, headers={"x-api-key": ADMIN_KEY}) as api:
        assert api.post("/api/projects", json={"projectId": "shop"}).status_code == 201
        created = api.post(
            "/api/projects/shop/deployments",
            json={"deploymentId": "web", "version": "1", "modelId": first},
        )
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + 30
        while api.get("/api/deployments/web").json()["status"] != "ACTIVE":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    browser.get(f"{dashboard.url}/deployments/web")
    Select(browser.find_element(By.ID, "promote-model")).select_by_value(second)
    browser.find_element(By.ID, "promote").click()
    _wait(browser, lambda b: second in b.find_element(By.ID, "served-model").text)
    assert second in browser.find_element(By.ID, "history").text
    browser.find_element(By.ID, "rollback").click()
    _wait(browser, lambda b: first in b.find_element(By.ID, "served-model").text)
    assert "Promote" in browser.page_source
    _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".live-charts canvas"))
    _shot(browser, dashboard, "deployment")
    assert _critical_violations(browser) == []

    # a scenario cycle is refused with its path, shown in place
    for name, body in (
        ("b", {"scenario_type": "case", "case": {"filters": []}}),
        ("a", {"scenario_type": "alias", "alias": {"scenario_name": "b"}}),
        ("b", {"scenario_type": "alias", "alias": {"scenario_name": "a"}}),
    ):
        browser.get(f"{dashboard.url}/scenarios/item_to_items/{name}")
        area = browser.find_element(By.ID, "scenario-body")
        area.clear()
        area.send_keys(json.dumps(body))
        browser.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
        if body["scenario_type"] == "case" or name == "a":
            _wait(browser, lambda b: b.current_url.endswith("/scenarios"))
    error = _wait(browser, lambda b: b.find_element(By.ID, "scenario-error"))
    assert ("cycle" in error.text and "a -> b -> a" in error.text) or "b -> a -> b" in error.text
    _shot(browser, dashboard, "scenario-cycle")
    browser.get(f"{dashboard.url}/scenarios")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.scenario-graph")
    assert _critical_violations(browser) == []
    # the jobs page lists the trainings the form started, and refreshes itself in place
    browser.get(f"{dashboard.url}/jobs")
    jobs = browser.find_element(By.ID, "job-table").text
    assert "training" in jobs and "succeeded" in jobs, jobs
    assert _critical_violations(browser) == []

    # a read-only session sees pages but cannot change anything
    _sign_in(browser, dashboard, RECOMMEND_KEY)
    browser.get(f"{dashboard.url}/deployments/web")
    assert not browser.find_elements(By.ID, "promote")
    browser.get(f"{dashboard.url}/models/new")
    assert "Read-only" in browser.find_element(By.TAG_NAME, "h1").text
    # signing out closes the session
    browser.get(f"{dashboard.url}/")
    browser.find_element(By.CSS_SELECTOR, "form.signout button").click()
    _wait(browser, lambda b: b.current_url.endswith("/login"))
    browser.get(f"{dashboard.url}/models")
    assert browser.current_url.endswith("/login")
