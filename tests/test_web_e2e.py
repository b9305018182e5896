"""End to end: the retention team's workspace in headless Chromium against the live service.

A module fixture generates a small world, trains a champion and scores two as-of dates
with `zerochurn score` (two points of score history); another starts the real BentoML
service on a free 127.0.0.1 port. Playwright drives the system's Chromium (Debian's
chromium package; `make test` installs it) and every page is checked against the JSON
API it must agree with. No request leaves 127.0.0.1.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from live_server import API_KEY, CHROMIUM_MISSING, Server, serve_settings, system_chromium
from typer.testing import CliRunner
from worlds import trained_world

from zerochurn.cli import app as cli
from zerochurn.configs import Settings, load_settings
from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.validate import load_raw
from zerochurn.serving.batch import AT_RISK_COLUMNS

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pathspec"),  # bentoml's
]

PAGE_SIZE = 20
TIMEOUT_MS = 60_000
"""Longest wait for a page or an element (the machine may be busy)."""


def chromium() -> str:
    """The system Chromium, or fail saying how to install it."""
    found = system_chromium()
    if not found:
        pytest.fail(CHROMIUM_MISSING)
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Settings:
    """A workspace with a champion and batch scores at two as-of dates, the later in the store."""
    workspace = tmp_path_factory.mktemp("web")
    settings = load_settings(
        overrides={
            "workspace": str(workspace),
            "training.train_snapshots": 4,
            "web.page_size": PAGE_SIZE,
        },
        environ={},
    )
    raw = load_raw(trained_world(settings, GenerateConfig(customers=1500, months=13, seed=5)))
    earlier = raw.end - pd.DateOffset(months=1)
    for as_of in (f"{earlier:%Y-%m-%d}", f"{raw.end:%Y-%m-%d}"):
        result = CliRunner().invoke(cli, ["--workspace", str(workspace), "score", "--as-of", as_of])
        assert result.exit_code == 0, result.output
    return settings


@pytest.fixture(scope="module")
def server(world, tmp_path_factory) -> Iterator[Server]:
    with serve_settings(world, tmp_path_factory.mktemp("logs") / "server.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium())
        yield launched
        launched.close()


class Visit:
    """A browser context on the server that records what leaves 127.0.0.1 and what fails."""

    def __init__(self, browser, server: Server) -> None:
        self.base = server.url
        self.context = browser.new_context(accept_downloads=True)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.outside: list[str] = []
        self.problems: list[str] = []
        self.urls: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _route(self, route) -> None:
        if route.request.url.startswith(self.base):
            self.urls.append(route.request.url)
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def _console(self, message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(message.text)  # failed loads are _response's

    def _response(self, response) -> None:
        refused_key = response.status == 401 and response.url.endswith("/app/signin")
        if response.status >= 400 and not refused_key:
            self.problems.append(f"{response.status} {response.url}")

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def sign_in(self, key: str = API_KEY) -> None:
        self.page.fill("input[name=api_key]", key)
        self.page.click("form[action='/app/signin'] button[type=submit]")


def _api_at_risk(server: Server, **filters) -> dict:
    answer = server.post("/at_risk", filters)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_anonymous_visitors_are_sent_to_sign_in(browser, server):
    visit = Visit(browser, server)
    visit.go("/")
    visit.page.wait_for_url(f"{server.url}/app/signin?next=/app/")
    visit.go("/app/segments?by=plan")
    visit.page.wait_for_url(f"{server.url}/app/signin?next=/app/segments%3Fby%3Dplan")
    export = visit.context.request.get(f"{server.url}/app/at-risk.csv", max_redirects=0)
    assert export.status == 303 and export.headers["location"].startswith("/app/signin")
    visit.sign_in("not-a-key")
    assert "not one of the service" in visit.page.get_by_role("alert").inner_text()
    assert visit.outside == [] and visit.problems == [], (visit.outside, visit.problems)
    visit.context.close()


def test_a_retention_walk_through_every_page(browser, server):
    visit = Visit(browser, server)
    page = visit.page
    visit.go("/app/segments?by=segment")
    visit.sign_in()
    page.wait_for_url(f"{server.url}/app/segments?by=segment")  # back where we were going

    cookie = next(c for c in visit.context.cookies() if c["name"] == "zerochurn_session")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Lax", "/app")
    refused = visit.context.request.post(f"{server.url}/at_risk", data={})
    assert refused.status == 401  # the session opens the workspace, not the JSON API

    # segments: the same groups and indexes as /churn_index
    groups = server.post("/churn_index", {"by": "segment"}).json()["segments"]
    rows = page.locator("#segments tbody tr")
    assert rows.count() == len(groups)
    assert rows.first.locator("td").nth(3).inner_text() == str(groups[0]["churn_index"])

    # the at-risk list, filtered: the rows of /at_risk with the same filters
    page.click("nav >> text=At-risk customers")
    page.wait_for_url(f"{server.url}/app/")
    assert API_KEY not in page.content()
    region = page.locator("select[name=region] option").nth(1).inner_text()
    page.select_option("select[name=region]", region)  # htmx swaps the rows, pushes the URL
    page.wait_for_url(lambda url: f"region={region}" in url)
    page.select_option("select[name=sort]", "churn_probability")
    page.wait_for_url(lambda url: "sort=churn_probability" in url)
    expected = _api_at_risk(server, region=region, sort="churn_probability", limit=PAGE_SIZE)
    rows = page.locator("#customers tbody tr")
    assert rows.count() == min(PAGE_SIZE, expected["total"])
    assert [rows.nth(i).get_attribute("data-customer") for i in range(rows.count())] == [
        item["customer_id"] for item in expected["customers"]
    ]
    assert [float(rows.nth(i).get_attribute("data-probability")) for i in range(rows.count())] == [
        item["churn_probability"] for item in expected["customers"]
    ]
    assert page.locator("#total").inner_text() == f"{expected['total']:,}"
    assert [float(rows.nth(i).get_attribute("data-clv-at-risk")) for i in range(rows.count())] == [
        item["clv_at_risk"] for item in expected["customers"]
    ]
    assert page.locator("#value-at-risk").inner_text() == f"{expected['value_at_risk']:,.0f}"

    # page 2 is the API's next page
    page.click("a[rel=next]")
    page.wait_for_url(lambda url: "page=2" in url)
    second = _api_at_risk(
        server, region=region, sort="churn_probability", limit=PAGE_SIZE, offset=PAGE_SIZE
    )
    assert (
        page.locator("#customers tbody tr").first.get_attribute("data-customer")
        == (second["customers"][0]["customer_id"])
    )

    # the CSV: every filtered customer, the columns of `zerochurn at-risk`
    with page.expect_download() as download:
        page.click("#csv")
    table = pd.read_csv(
        io.StringIO(Path(download.value.path()).read_text()), float_precision="round_trip"
    )
    everyone = _api_at_risk(server, region=region, sort="churn_probability", limit=1000)
    assert len(table) == everyone["total"] == len(everyone["customers"])
    absent = ("contact", "expected_savings", "uplift", "expected_saved_value")  # costs, uplift
    assert list(table.columns) == [c for c in AT_RISK_COLUMNS if c not in absent]
    assert table["customer_id"].tolist() == [item["customer_id"] for item in everyone["customers"]]
    assert table["churn_probability"].tolist() == [
        item["churn_probability"] for item in everyone["customers"]
    ]
    assert set(table["region"]) == {region}
    assert table["reasons"].fillna("").tolist() == [
        "; ".join(reason["text"] for reason in item["top_reasons"])
        for item in everyone["customers"]
    ]

    # a customer: the score and reasons of /score_customers, history, raw data
    first = page.locator("#customers tbody tr").first
    customer_id = first.get_attribute("data-customer")
    first.locator("a").click()
    page.wait_for_url(lambda url: url.endswith(f"/app/customers/{customer_id}"))
    scored = server.post("/score_customers", {"customer_ids": [customer_id]}).json()["scores"][0]
    assert page.locator("#reasons li").all_inner_texts() == [
        reason["text"] for reason in scored["top_reasons"]
    ]
    assert page.locator("#probability").inner_text() == f"{scored['churn_probability'] * 100:.1f}%"
    assert page.locator("#clv-at-risk").inner_text() == f"{scored['clv_at_risk']:,.0f}"
    assert page.locator("#lifetime").inner_text() == f"{scored['expected_lifetime_months']:,.1f}"
    history, revenue = page.locator("figure.chart").all()
    assert history.locator("circle").count() == 2  # the two scoring runs
    lines = max(revenue.locator(".key").count(), 1)  # revenue, and margin with costs
    assert revenue.locator("circle").count() == 24 * lines  # web.revenue_months
    assert page.locator("h2", has_text="Complaints").count() == 1

    # the programme reports and model health
    page.click("nav >> text=Satisfaction")
    page.wait_for_selector("#satisfaction_items")
    page.wait_for_function(  # the report's chart (an SVG the page links) loads and draws
        "() => { const img = document.querySelector('img.report-chart');"
        " return img !== null && img.complete && img.naturalWidth > 0; }"
    )
    page.click("text=by customer type")
    page.wait_for_selector("#satisfaction_groups")
    page.click("nav >> text=Complaints")
    page.wait_for_selector("#complaints_month")
    page.click("nav >> text=Model health")
    info = server.post("/model_info").json()
    assert page.locator("#champion-version").inner_text() == info["version"]
    assert page.locator("#versions tbody tr").count() >= 1

    # sign out: the workspace is closed again
    page.click("text=Sign out")
    page.wait_for_url(f"{server.url}/app/signin")
    visit.go("/app/model")
    page.wait_for_url(f"{server.url}/app/signin?next=/app/model")

    assert visit.outside == [] and visit.problems == [], (visit.outside, visit.problems)
    assert not [url for url in visit.urls if API_KEY in url]
    assert API_KEY not in server.log.read_text()
    visit.context.close()


def test_root_goes_to_the_workspace_not_bentomls_index(server):
    answer = httpx.get(f"{server.url}/", follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (307, "/app/")
