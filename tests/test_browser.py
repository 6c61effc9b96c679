"""A real headless Chromium (Debian's) against the portal served as `make serve` serves it,
with every outside request blocked: what a visitor on a phone or a desktop sees."""

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import TimeoutError, sync_playwright

from tests.portal_server import served

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
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# One page of every kind a visitor reaches.
IMPACTS = ("minor", "moderate", "serious", "critical")  # every level counts
PAGE_TYPES = [
    "/",
    "/county/532329",
    "/search?q=孤儿",
    "/search?q=改嫁",
    "/village/532329101001",
    "/map",
    "/-/releases",
    "/-/report",
    "/chuxiong",
    "/chuxiong/facilities",
    "/chuxiong/village_coverage?county_code=532329",
    "/chuxiong/facilities/532301-F001",
    "/chuxiong/units/civil_affairs",
    "/chuxiong/below_target?year=2020",
    "/chuxiong?sql=select+name%2C+county_code+from+facilities+limit+5",
    "/chuxiong/no_such_table",
    "/handbook/index.html",
    "/handbook/reference/categories/orphan.html",
    "/handbook/reference/unsupported.html",
    "/handbook/reference/targets.html",
    "/handbook/mechanisms.html",
]


@pytest.fixture(scope="module")
def server(built, handbook, portal_metadata, tmp_path_factory):
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: `make test` installs it"
    log = tmp_path_factory.mktemp("served") / "server.log"
    with served(built.releases, portal_metadata, log, handbook=handbook / "site") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def local_context(browser, server, viewport):
    context = browser.new_context(viewport=viewport, accept_downloads=True, locale="zh-CN")
    context.outside_requests = []

    def only_local(route):
        if route.request.url.startswith(server):
            route.continue_()
        else:
            context.outside_requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    return context


@pytest.fixture
def page(browser, server):
    context = local_context(browser, server, PHONE)
    page = context.new_page()
    page.outside_requests = context.outside_requests
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    yield page
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_type_is_accessible_and_fits_the_screen(browser, server, viewport):
    """axe-core finds no serious or critical problem, nothing scrolls sideways, nothing is
    fetched from outside, and the script-free CSP blocks nothing the page needs."""
    context = local_context(browser, server, viewport)
    axe = Axe()
    problems = []
    for path in PAGE_TYPES:
        page = context.new_page()
        blocked = []
        page.on(
            "console", lambda m, b=blocked: "Content Security Policy" in m.text and b.append(m.text)
        )
        page.goto(server + path)
        page.wait_for_load_state("networkidle")
        results = axe.run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in IMPACTS:
                targets = [n["target"] for n in violation["nodes"][:3]]
                problems.append(f"{path}: {violation['id']} ({violation['impact']}) {targets}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > viewport["width"]:
            problems.append(f"{path}: scrolls sideways ({width}px wide)")
        if blocked:
            problems.append(f"{path}: CSP blocked {blocked[:2]}")
        if not (page.get_attribute("html", "lang") or "").startswith("zh"):
            problems.append(f"{path}: not marked as Chinese")
        if not page.locator(".sample-notice").first.is_visible():
            problems.append(f"{path}: no visible sample-data notice")
        page.close()
    assert context.outside_requests == []
    context.close()
    assert problems == [], "\n".join(problems)


def test_home_page_shows_the_charts_offline(page, server):
    page.goto(server + "/")
    assert page.locator("svg.chart").count() >= 6
    assert page.locator("svg.chart").first.is_visible()
    assert page.locator("svg.chart .target").count() >= 2
    assert page.outside_requests == []
    assert page.console_errors == []


def test_a_parent_finds_their_county_from_the_home_page(page, server):
    page.goto(server + "/")
    page.get_by_role("link", name="姚安县").first.click()
    page.wait_for_url("**/county/532325")
    assert "姚安县" in page.locator("h1").inner_text()
    page.get_by_role("link", name="在地图上查看，或找离我最近的机构 →").click()
    page.wait_for_url("**/map?county=532325")


def test_a_resident_learns_whether_their_village_has_a_childrens_home_with_one_search(page, server):
    """From the home page: type the village's name (or its pinyin), pick it from the results:
    the village page answers first, on a phone, with the nearest services below."""
    page.goto(server + "/")
    page.get_by_label("我们村有没有儿童之家").fill("dongxing")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=dongxing")
    page.get_by_role("link", name="东兴社区居民委员会").first.click()
    page.wait_for_url("**/village/532301101001")
    answers = page.locator(".answers")
    assert answers.is_visible() and "儿童之家" in answers.inner_text()
    assert answers.bounding_box()["y"] < 700, "the answer is on the first screen of a phone"
    assert page.locator(".near-list li").count() >= 1


def test_the_citation_is_copied_with_todays_date_and_a_full_address(browser, server):
    context = local_context(browser, server, PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    page = context.new_page()
    page.goto(server + "/chuxiong/children_counts?year=2024&level=county")
    button = page.get_by_role("button", name="复制这条引用")
    button.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    today = page.evaluate("new Date().toISOString().slice(0, 10)")
    assert "[DS/OL]" in copied and f"[{today}]" in copied[: copied.rindex("http")]
    assert server + "/v" in copied and "/children_counts?year=2024&level=county" in copied
    context.close()


def test_map_shows_markers_and_county_outlines_without_tiles(page, server):
    page.goto(server + "/map")
    page.wait_for_selector(".marker-cluster, .leaflet-marker-icon", timeout=15000)
    assert page.locator(".marker-cluster, .leaflet-marker-icon").count() > 0
    assert page.locator("path.county-outline").count() == 10
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "放大"
    assert page.outside_requests == []
    assert page.console_errors == []


def test_the_map_on_a_table_page_speaks_chinese_and_links_to_the_row(page, server):
    page.goto(server + "/chuxiong/facilities?county_code=532329")
    page.wait_for_selector(".leaflet-marker-icon", timeout=15000)
    assert "Leaflet" not in page.inner_text(".leaflet-control-attribution")
    assert page.get_attribute(".leaflet-control-zoom-out", "title") == "缩小"
    # A marker, not a cluster (a cluster zooms in when clicked); a tap on it, not a click
    # through whatever control may sit over it.
    single = page.locator(".leaflet-marker-icon:not(.marker-cluster)")
    while single.count() == 0:
        page.locator(".marker-cluster").first.dispatch_event("click")
        page.wait_for_timeout(500)
    single.first.dispatch_event("click")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "机构名称" in text and "位置精度" in text
    assert not re.search(r"facility_id|county_code|location_precision|\bnull\b|\bpoint\b", text)
    popup.get_by_role("link", name="查看详情").click()
    page.wait_for_url(re.compile(r"/chuxiong/facilities/532329-F\d+$"))
    assert page.console_errors == []


def test_map_of_one_township_zooms_to_its_stations(page, server):
    page.goto(server + "/map?township=532329101")
    page.wait_for_selector(".leaflet-marker-icon, .marker-cluster", timeout=15000)
    nearest = page.locator("#near-results ol li")
    assert nearest.count() >= 1
    assert "公里" in nearest.first.inner_text()
    assert page.locator("#township option:checked").inner_text() != "（请选择）"


def test_excel_csv_download_starts_with_a_bom(page, server):
    page.goto(server + "/chuxiong/facilities")
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel 用 CSV（全部行）").click()
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert "儿童福利服务工作站" in text and "示例数据" in text


def search(page, words, typed):
    """The handbook's search results for `words` (text). The search worker loads its index in
    the background, so ask again until it answers. typed=True: filled in, then a key press
    (Chinese arrives through an input method, not key by key); typed=False: set as a paste
    sets it, with an input event and no key at all."""
    for _ in range(30):
        if typed:
            page.fill("input.md-search__input", words)
            page.press("input.md-search__input", "End")
        else:
            page.evaluate(
                """(words) => { const i = document.querySelector('input.md-search__input');
                i.focus(); i.value = words; i.dispatchEvent(new Event('input', {bubbles: true})); }""",
                words,
            )
        try:
            page.wait_for_selector(".md-search-result__item", timeout=2000)
            break
        except TimeoutError:
            continue
    return page.locator(".md-search-result__list").inner_text()


def test_handbook_search_finds_supervisors(browser, server):
    context = local_context(browser, server, DESKTOP)
    page = context.new_page()
    page.goto(server + "/handbook/index.html")
    assert "督导员" in search(page, "督导员", typed=True)
    assert context.outside_requests == []
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
        (o["parent_a_status"], o["parent_b_status"], f"孤儿：{o['name']}")
        for o in rows("orphan_situations")
    ]
    cases += [("able", "dead", "既不属于孤儿"), ("able", "able", "既不属于孤儿")]
    # Both parents unable to care, in neither of the policy's lists: the aid says so.
    cases += [
        ("declared_missing", other, "政策未明确，请向县市民政部门确认")
        for other in ("unreachable", "severely_disabled", "seriously_ill", "imprisoned")
    ]
    return cases


def test_handbook_search_answers_pasted_text(browser, server):
    """Text that arrives without a key press (pasted, or from an input method) is searched."""
    context = local_context(browser, server, DESKTOP)
    page = context.new_page()
    page.goto(server + "/handbook/index.html")
    assert "儿童之家" in search(page, "儿童之家", typed=False)
    context.close()


def test_the_offline_copy_works_from_the_file_system_with_search(browser, handbook):
    """build/handbook-offline opened from file://, every other request blocked: pages, the
    decision aid and search work, and nothing is requested from anywhere else."""
    context = browser.new_context(viewport=DESKTOP)
    outside = []

    def only_files(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_files)
    page = context.new_page()
    page.goto((handbook / "offline" / "index.html").as_uri())
    assert "督导员" in search(page, "督导员", typed=True)
    page.goto((handbook / "offline" / "reference" / "unsupported.html").as_uri())
    page.select_option("#parent-a", "dead")
    page.select_option("#parent-b", "dead")
    assert "孤儿" in page.inner_text("#decision")
    assert outside == []
    context.close()


def test_decision_aid_gives_the_policys_answer_for_every_case(page, server):
    page.goto(server + "/handbook/reference/unsupported.html")
    page.wait_for_selector("#decision")
    cases = expected_answers()
    assert len(cases) == 14 + 3 + 2 + 4
    for a, b, answer in cases:
        for first, second in ((a, b), (b, a)):
            page.select_option("#parent-a", first)
            page.select_option("#parent-b", second)
            assert answer in page.inner_text("#decision"), (first, second)
    assert page.outside_requests == []
