"""A real headless Chromium (Debian's) against a served portal, with all outside network blocked."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import TimeoutError, sync_playwright

from pipeline.paths import ROOT
from tests.portal_server import serve_options

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(built, handbook, portal_metadata, download_zip, tmp_path_factory):
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: `make test` installs it"
    out = tmp_path_factory.mktemp("served")
    port = free_port()
    options = [
        str(portal_metadata) if o == "build/metadata.json" else o
        for o in serve_options()
        if o not in ("-i", "--inspect-file")
    ]
    log = open(out / "server.log", "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            "-i",
            str(built.db),
            *options,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PORTAL_HANDBOOK_DIR": str(handbook / "site"),
            "PORTAL_DOWNLOAD": str(download_zip),
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/-/versions.json", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        raise RuntimeError((out / "server.log").read_text())
    yield url
    process.terminate()
    process.wait(10)
    log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    outside = []

    def only_local(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.outside_requests = outside
    yield page
    context.close()


def test_home_page_shows_the_charts_offline(page, server):
    page.goto(server + "/")
    assert page.locator(".sample-notice").is_visible()
    assert page.locator("svg.chart").count() >= 12
    assert page.locator("svg.chart").first.is_visible()
    assert page.locator("svg.chart .target").count() >= 2
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the home page scrolls sideways on a phone"
    assert page.outside_requests == []


def test_map_shows_clusters_without_tiles(page, server):
    page.goto(server + "/chuxiong/facility_map")
    page.wait_for_selector(".marker-cluster, .leaflet-marker-icon", timeout=15000)
    assert page.locator(".marker-cluster, .leaflet-marker-icon").count() > 0
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "放大"
    assert page.outside_requests == []


def test_excel_csv_download_starts_with_a_bom(page, server):
    page.goto(server + "/chuxiong/facilities")
    with page.expect_download() as download:
        page.click("text=Excel 用 CSV(全部行)")
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert "儿童福利服务工作站" in text and "示例数据,非真实统计" in text
    assert download.value.suggested_filename.endswith("-excel.csv")


def test_handbook_search_finds_supervisors(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route(
        "**/*", lambda r: r.continue_() if r.request.url.startswith(server) else r.abort()
    )
    page = context.new_page()
    page.goto(server + "/handbook/index.html")
    # The search worker loads its index in the background: ask again until it answers.
    # Material searches on key events, so a key press follows the filled-in Chinese
    # (which arrives through an input method, not key by key).
    for _ in range(30):
        page.fill("input.md-search__input", "督导员")
        page.press("input.md-search__input", "End")
        try:
            page.wait_for_selector(".md-search-result__item", timeout=2000)
            break
        except TimeoutError:
            continue
    assert page.locator(".md-search-result__item").count() > 0
    assert "督导员" in page.locator(".md-search-result__list").inner_text()
    context.close()


def expected_answers():
    import csv

    from pipeline.paths import DATA

    def rows(name):
        with open(DATA / "reference" / f"{name}.csv", encoding="utf-8") as f:
            return list(csv.DictReader(f))

    cases = [
        (s["parent_a_status"], s["parent_b_status"], f"第{s['situation_no']}种情形“{s['name']}”")
        for s in rows("unsupported_situations")
    ]
    cases += [
        (o["parent_a_status"], o["parent_b_status"], f"孤儿:{o['name']}")
        for o in rows("orphan_situations")
    ]
    cases += [("able", "dead", "既不属于孤儿"), ("able", "able", "既不属于孤儿")]
    return cases


def test_decision_aid_gives_the_policys_answer_for_every_case(page, server):
    page.goto(server + "/handbook/reference/unsupported.html")
    page.wait_for_selector("#decision")
    cases = expected_answers()
    assert len(cases) == 14 + 3 + 2
    for a, b, answer in cases:
        for first, second in ((a, b), (b, a)):
            page.select_option("#parent-a", first)
            page.select_option("#parent-b", second)
            assert answer in page.inner_text("#decision"), (first, second)
    assert page.outside_requests == []
