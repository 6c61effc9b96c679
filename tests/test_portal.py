"""The portal through Datasette's own test client, built as every server builds it
(serving/app.py): every page type in Chinese, links that lead somewhere, limits, caching,
CSV that spreadsheets cannot run, the catalogue, releases."""

import asyncio
import base64
import contextlib
import csv
import hashlib
import html
import io
import json
import re
import zipfile

import pytest
import yaml
from rdflib import Graph, Namespace
from rdflib.namespace import DCAT, DCTERMS, RDF

from pipeline.paths import ROOT
from portal import config as portal_config
from serving.app import make_datasette
from tests.helpers import COUNTY_NAMES

DCAT3 = Namespace(str(DCAT))  # DCAT 3 terms (dcat:version) rdflib's DCAT 2 namespace lacks

QUERIES = [
    "search?q=督导员",
    "below_target?year=2020",
    "villages_without_supervisor?year=2025&county_code=",
    "tasks_late",
    "progress_by_unit?unit=州民政局",
    "townships_without_station",
    "facilities_by_type_and_county",
]
PAGES = [
    "/",
    "/county/532329",
    "/county/532301",
    "/search?q=孤儿",
    "/search?q=儿童",
    "/search",
    "/map",
    "/map?township=532329101",
    "/-/releases",
    "/-/report",
    "/chuxiong",
    "/chuxiong/facilities",
    "/chuxiong/village_coverage",
    "/chuxiong/children_counts",
    "/chuxiong/coverage_by_area?county_code=532329&level=township&year=2025",
    "/chuxiong/task_progress",
    "/chuxiong/facilities/532301-F001",
    "/chuxiong/units/civil_affairs",
    "/chuxiong/tasks/8",
    "/chuxiong/facility_map",
    "/chuxiong/submission_status",
    "/chuxiong?sql=select+name%2C+county_code+from+facilities+limit+5",
] + [f"/chuxiong/{q}" for q in QUERIES]


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def ds(built, handbook, portal_metadata, monkeypatch_module):
    monkeypatch_module.setenv("PORTAL_HANDBOOK_DIR", str(handbook / "site"))
    portal_config.config.cache_clear()
    datasette = make_datasette(built.releases, portal_metadata)
    asyncio.run(datasette.invoke_startup())
    return datasette


def get(ds, path, **kwargs):
    return asyncio.run(ds.client.get(path, follow_redirects=False, **kwargs))


def request(ds, method, path, headers=None):
    return asyncio.run(ds.client.request(method, path, headers=headers or {}))


def visible_text(page):
    page = re.sub(r"<(script|style|textarea|pre|code|svg)[^>]*>.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def english_words(page):
    """Interface words left in English: runs of Latin letters that are not codes, formats or
    data (a visitor's search term, a table's API name in a tooltip is fine)."""
    allowed = {
        "CSV",
        "XLSX",
        "JSON",
        "SQL",
        "SQLite",
        "Excel",
        "CC",
        "BY",
        "DCAT-AP",
        "DCAT",
        "JSON-LD",
        "Turtle",
        "HIV",
        "ZIP",
        "Frictionless",
        "WGS-",
        "SHA-",
        "MB",
        "OK",
        "SELECT",
        "BOM",
        "UTF-",
        "GeoJSON",
        "CGCS",
    }
    page = re.sub(r"<(td|dd)\b[^>]*>.*?</\1>", " ", page, flags=re.S)  # data values
    words = re.findall(r"[A-Za-z][A-Za-z\-]{2,}", visible_text(page))
    return sorted({w for w in words if w not in allowed and not w.islower()})


@pytest.mark.parametrize("path", PAGES)
def test_every_page_type_is_chinese_with_the_notices(ds, path):
    response = get(ds, path)
    assert response.status_code == 200, path
    page = response.text
    assert '<html lang="zh-CN">' in page
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert re.search(r"[\u4e00-\u9fff]", title) and not re.search(r"[A-Za-z]{4,}", title), title
    assert '<meta name="description"' in page
    assert "示例数据，非真实统计" in page
    assert "数据版本" in page and "数据截至" in page
    assert "报告数据问题" in page and "/handbook/index.html" in page
    assert english_words(page) == [], (path, english_words(page))


def test_column_headers_and_coded_values_are_chinese_and_codes_link(ds):
    page = get(ds, "/chuxiong/children_counts?year=2025&level=county&area_code=532329").text
    header = re.search(r"<thead>.*?</thead>", page, re.S).group(0)
    for title in ("年份", "层级", "区划代码", "区划名称", "系列代码", "人数", "状态"):
        assert title in header
    assert ">县市<" in page and ">公布<" in page  # coded values by their labels
    assert 'href="/county/532329"' in page  # an area links to its county page
    facilities = get(ds, "/chuxiong/facilities").text
    assert 'href="/county/532301#t532301101"' in facilities  # a township to its section
    assert ">按位置规则不公布<" in facilities


def test_result_rows_link_to_what_they_name(ds):
    late = get(ds, "/chuxiong/tasks_late").text
    rows = re.findall(r"<tr>.*?</tr>", late.split("<tbody>")[1], re.S)
    assert rows
    for row in rows:
        assert re.search(r'href="/chuxiong/units/[a-z_]+"', row)  # the unit responsible
        assert re.search(r'href="/chuxiong/tasks/\d+"', row)  # and the task
    below = get(ds, "/chuxiong/below_target?year=2020").text
    assert re.search(r'href="/county/\d{6}(#t\d{9})?"', below)
    missing = get(ds, "/chuxiong/villages_without_supervisor?year=2025&county_code=").text
    if "<tbody>" in missing:
        assert 'href="/county/' in missing


def test_an_inspector_reaches_the_unit_of_a_late_task_in_one_click(ds):
    home = get(ds, "/").text
    section = home.split('id="late"')[1].split("</table>")[0]
    units = re.findall(r'href="(/chuxiong/units/[a-z_]+)"', section)
    assert units
    unit = get(ds, units[0]).text
    assert "负责的重点任务" in unit and "第" in unit


def test_a_resident_reaches_their_county_in_one_click(ds):
    home = get(ds, "/").text
    for name in COUNTY_NAMES:
        assert name in home
    links = set(re.findall(r'href="(/county/\d{6})"', home))
    assert len(links) == 10
    county = get(ds, "/county/532329").text
    for section in (
        "历年覆盖率与目标",
        "各乡镇排名",
        "还没有儿童之家或督导员的村",
        "服务机构",
        "困境儿童人数",
        "报送情况",
    ):
        assert section in county
    assert "/map?county=532329" in county
    assert county.count("<svg") >= 3 and 'role="img"' in county


def test_every_link_on_the_home_page_works(ds):
    home = get(ds, "/").text
    links = sorted(set(re.findall(r'href="(/[^"#]*)"', home)))
    assert len(links) > 50
    for link in links:
        link = html.unescape(link)
        response = get(ds, link)
        if response.status_code == 302:
            response = get(ds, response.headers["location"])
        assert response.status_code == 200, link


def test_charts_are_images_with_a_text_alternative_and_no_links_inside(ds):
    page = get(ds, "/").text
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):
        if 'role="img"' in svg:
            assert "<a " not in svg and "<title" in svg and "<desc" in svg
    assert re.search(r'<svg[^>]*class="chart map choropleth"', page)
    assert "<caption>" in page  # the coverage table beside the charts


def test_search_groups_results_with_links_and_marks(ds):
    page = get(ds, "/search?q=工作站").text
    assert "<h2" in page and "服务机构" in page
    assert "<mark>工作站</mark>" in page
    assert re.search(r'href="/chuxiong/facilities/532\d{3}-F\d+"', page)
    assert "/handbook/index.html?q=" in page  # the handbook opens its search with the words
    assert "select" not in visible_text(page).lower()  # no SQL on the page
    assert "/chuxiong/search?q=" in page  # but the query behind it is one click away
    assert "没有找到" in get(ds, "/search?q=不存在的词语").text


def test_hidden_introspection_pages(ds):
    for path in (
        "/-/settings.json",
        "/-/threads.json",
        "/-/versions.json",
        "/-/databases.json",
        "/-/plugins.json",
        "/-/config",
    ):
        assert get(ds, path).status_code == 404, path
    assert "/work/" not in get(ds, "/chuxiong.json").text
    assert get(ds, "/_internal").status_code in (403, 404)
    assert get(ds, "/-/permissions").status_code in (403, 404)


def test_methods_and_head(ds):
    assert request(ds, "POST", "/chuxiong/facilities").status_code == 405
    assert request(ds, "DELETE", "/").headers["allow"] == "GET, HEAD"
    head = request(ds, "HEAD", "/chuxiong/facilities")
    assert head.status_code == 200 and head.content == b""


def test_limits_on_urls_parameters_facets(ds):
    many = "&".join(f"p{i}=1" for i in range(3000))
    response = get(ds, f"/chuxiong/villages?{many[:3000]}")
    assert response.status_code in (400, 414) and "太" in response.text
    assert (
        get(ds, "/chuxiong/villages?" + "&".join(f"p{i}=1" for i in range(60))).status_code == 400
    )
    facets = "&".join(["_facet=name"] * 10)
    assert get(ds, f"/chuxiong/villages?{facets}").status_code == 400
    assert get(ds, "/chuxiong/facilities?_sort=nope").status_code == 400
    assert "不能按" in get(ds, "/chuxiong/facilities?_sort=nope").text


@pytest.mark.parametrize(
    "sql",
    [
        "select randomblob(1e9)",
        "select zeroblob(2e8)",
        "with recursive r(s, n) as (select 'x', 0 union all select s || s, n + 1 from r "
        "where n < 40) select length(s) from r",
        "with recursive r(n) as (select 1 union all select n + 1 from r where n < 3000) "
        "select randomblob(900000) from r",
        # SQLite 3.40 loops inside one step here, where no time limit can cut it
        "select printf('%.*c', 1000000000, 'x')",
        "select length(format('%.*c', 2147483647, 'x'))",
    ],
)
def test_one_sql_request_cannot_take_the_machine(ds, sql):
    response = get(ds, "/chuxiong.json", params={"sql": sql})
    assert response.status_code in (200, 400)
    body = response.json()
    assert body.get("ok") is False or body.get("error"), body
    assert len(response.content) < 100_000


def test_the_watchdog_cuts_a_statement_between_rows_where_progress_checks_are_rare():
    import sqlite3

    from portal import sqlite_limits

    conn = sqlite3.connect(":memory:")
    sqlite_limits.apply(conn)
    # ~0.05 s a row in one LIKE step: Datasette's progress handler, called every 1,000
    # steps, would first look after dozens of rows; nothing else here may stop it
    heavy = (
        "with recursive r(n) as (select 1 union all select n + 1 from r where n < 100) "
        "select count(*) from r where (replace(hex(zeroblob(49999)), '0', 'a') || n) "
        "like '%' || replace(hex(zeroblob(95)), '0', 'a') || 'b'"
    )
    never = sqlite_limits.with_watchdog(lambda conn, ms: contextlib.nullcontext())
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        with never(conn, 300):
            conn.execute(heavy).fetchall()
    with never(conn, 5000):  # the connection is usable again, and nothing stale interrupts it
        assert conn.execute("select 1").fetchone()[0] == 1
    conn.close()


def test_costly_string_functions_are_bounded(ds):
    many = "select " + ", ".join(["'a' like 'a'"] * 9)
    refused = get(ds, "/chuxiong", params={"sql": many})
    assert refused.status_code == 400 and "最多用 8 次" in refused.text
    long_set = "select trim(name, '" + "甲" * 101 + "') from facilities limit 1"
    page = get(ds, "/chuxiong", params={"sql": long_set})
    assert page.status_code == 400 and "最多 100 个字符" in page.text
    fine = get(ds, "/chuxiong.json", params={"sql": "select trim('xxhixx', 'x'), rtrim('ab  ')"})
    assert fine.json()["rows"] == [["hi", "ab"]]


def test_printf_is_refused_with_what_to_use_instead(ds):
    page = get(ds, "/chuxiong", params={"sql": "select printf('%.1f', 3.14159)"})
    assert page.status_code == 400 and "round()" in page.text
    assert get(ds, "/chuxiong.json", params={"sql": "select round(3.14159, 1)"}).json()["ok"]


def test_etag_and_cache_control(ds):
    first = get(ds, "/chuxiong/facilities")
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = get(ds, "/chuxiong/facilities", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    css = re.search(r'href="(/static/portal\.css\?v=\w+)"', first.text).group(1)
    assert "immutable" in get(ds, css).headers["cache-control"]
    assert "set-cookie" not in first.headers


def test_csp_allows_only_the_inline_scripts_written_by_the_templates(ds):
    response = get(ds, "/chuxiong/facilities")
    policy = response.headers["content-security-policy"]
    assert "nonce" not in policy and "frame-ancestors 'none'" in policy
    allowed = set(re.findall(r"'(sha256-[^']+)'", policy))
    for script in re.findall(
        # data blocks (JSON-LD, the map's column labels) are not scripts a browser runs
        r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>(.*?)</script>",
        response.text,
        re.S,
    ):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"sha256-{digest}" in allowed
    injected = get(ds, "/chuxiong?sql=select+'<script>alert(1)</script>'+as+x").text
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;" in injected and "<script>alert(1)" not in injected
    )
    outside = r'<(?:script|img|link)[^>]+(?:src|href)="(?:https?:)?//(?!localhost[:/])'
    assert not re.findall(outside, response.text)


def test_the_interface_never_changes_data(ds):
    page = get(ds, "/chuxiong?sql=select+'Error'+as+name%2C+'Next+page'+as+note").text
    assert ">Error<" in page and ">Next page<" in page


def test_csv_is_safe_for_spreadsheets(ds):
    csv_text = get(
        ds,
        "/chuxiong.csv",
        params={"sql": "select '=1+1' as a, '-5' as b, '@SUM(1)' as c, -5 as d"},
    ).text
    assert "'=1+1" in csv_text and "'@SUM(1)" in csv_text and ",-5," in csv_text + ","
    excel = get(ds, "/chuxiong/village_coverage.csv?_stream=on&_bom=1&_dl=1")
    assert excel.content.startswith(b"\xef\xbb\xbf")
    assert excel.content.decode("utf-8-sig").count("\n") == 1106 * 9 + 1
    assert "-excel.csv" in excel.headers["content-disposition"]


def test_truncated_results_say_so(ds):
    page = get(ds, "/chuxiong?sql=select+*+from+village_coverage").text
    assert "超过 2,000 行，只显示前 2,000 行" in page and "分批查询" in page


def test_catalogue_parses_as_rdf_with_the_required_properties(ds):
    response = get(ds, "/catalog.jsonld")
    assert response.headers["content-type"].startswith("application/ld+json")
    graph = Graph().parse(data=response.text, format="json-ld")
    datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == 7
    for dataset in datasets:
        for prop in (
            DCTERMS.title,
            DCTERMS.description,
            DCTERMS.license,
            DCTERMS.publisher,
            DCTERMS.temporal,
            DCTERMS.spatial,
            DCTERMS.modified,
            DCAT.contactPoint,
            DCTERMS.accrualPeriodicity,
            DCAT3.version,
        ):
            assert graph.value(dataset, prop) is not None, (dataset, prop)
        distributions = list(graph.objects(dataset, DCAT.distribution))
        assert len(distributions) >= 3
        for distribution in distributions:
            assert graph.value(distribution, DCAT.mediaType) is not None
    turtle = Graph().parse(data=get(ds, "/catalog.ttl").text, format="turtle")
    assert len(turtle) == len(graph)
    spatial = Namespace("http://purl.org/dc/terms/")
    codes = {
        str(graph.value(loc, spatial.identifier))
        for d in datasets
        for loc in graph.objects(d, DCTERMS.spatial)
    }
    assert {"532300", "532301", "532329"} <= codes


def test_schema_org_dataset_on_table_and_county_pages(ds):
    for path in ("/chuxiong/facilities", "/county/532301"):
        block = re.search(
            r'<script type="application/ld\+json">(.*?)</script>', get(ds, path).text, re.S
        )
        data = json.loads(block.group(1))
        assert data["@type"] == "Dataset" and data["license"] and data["version"]


def test_report_a_problem_opens_a_prefilled_message(ds):
    page = get(ds, "/chuxiong/facilities/532301-F001").text
    mailto = html.unescape(re.search(r'href="(mailto:[^"]+)"', page).group(1))
    assert "data-feedback@example.invalid" in mailto
    from urllib.parse import unquote

    text = unquote(mailto)
    assert (
        "532301-F001" in text and "数据版本" in text and "/chuxiong/facilities/532301-F001" in text
    )
    assert "示例" in get(ds, "/-/report").text
    for elsewhere in ("//evil.example/x", "/\\evil.example/x", "https://evil.example/x"):
        links = re.findall(r'href="([^"]*)"', get(ds, "/-/report", params={"page": elsewhere}).text)
        assert not [link for link in links if "evil.example" in link and "mailto:" not in link]
    crafted = get(ds, "/-/report", params={"what": "x&cc=evil@example.com&bcc=b@c"}).text
    mailto = html.unescape(re.search(r'href="(mailto:[^"]+)"', crafted).group(1))
    assert "&cc=" not in mailto and "&bcc=" not in mailto  # the visitor's text stays in the body


def test_releases_page_and_release_files(ds, built):
    page = get(ds, "/-/releases").text
    release = built.summary["release"]
    assert f"版本 {release}" in page and "更正记录" in page
    manifest = get(ds, f"/-/releases/{release}/manifest.json").json()
    data = get(ds, f"/-/releases/{release}/chuxiong-open-data.zip").content
    assert hashlib.sha256(data).hexdigest() == manifest["files"]["chuxiong-open-data.zip"]["sha256"]
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "chuxiong-open-data/DATA-DICTIONARY.md" in names
    assert "chuxiong-open-data/templates/counties/532301_楚雄市/village_coverage.xlsx" in names
    assert get(ds, "/-/downloads/chuxiong-open-data.zip").content == data
    assert get(ds, "/-/releases/2026-01-01.9/chuxiong.db").status_code == 404
    assert get(ds, "/-/releases/../../etc/passwd").status_code == 404


def test_the_late_county_is_flagged_on_the_home_and_county_pages(ds):
    assert "元谋县" in get(ds, "/").text.split('id="freshness-title"')[1].split("</section>")[0]
    county = get(ds, "/county/532328").text
    assert "逾期报送，晚 42 天" in county


def test_no_small_count_reaches_the_api(ds):
    sql = get(
        ds,
        "/chuxiong.json?_shape=array&sql=select+count(*)+n+from+children_counts+where+count+between+1+and+10",
    ).json()
    assert sql == [{"n": 0}]


def test_handbook_is_served_under_handbook(ds):
    redirect = get(ds, "/handbook/")
    assert redirect.status_code == 302 and redirect.headers["location"] == "/handbook/index.html"
    assert get(ds, "/handbook/index.html").status_code == 200
    assert get(ds, "/handbook/../metadata.yml").status_code == 404


def test_robots_and_sitemap(ds):
    robots = get(ds, "/robots.txt").text
    assert "Disallow: /*?sql=" in robots
    assert (
        "Sitemap: http://localhost/sitemap.xml" in robots.splitlines()
    )  # absolute, as crawlers need
    sitemap = get(ds, "/sitemap.xml").text
    assert sitemap.count("/county/") == 10


@pytest.mark.parametrize("path", ["/sitemap.xml", "/robots.txt", "/catalog.jsonld"])
def test_a_made_up_host_never_reaches_another_visitors_page(ds, path):
    forged = get(ds, path, headers={"host": "evil.example"})
    assert "evil.example" in forged.text  # made for the one who asked ...
    honest = get(ds, path)
    assert "evil.example" not in honest.text  # ... and sent to no one else
    assert honest.headers["etag"] != forged.headers["etag"]


def test_canned_queries_have_chinese_titles_and_descriptions():
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text("utf-8"))
    for query in metadata["databases"]["chuxiong"]["queries"].values():
        assert re.search(r"[\u4e00-\u9fff]", query["title"]) and len(query["description"]) > 15


def test_the_metadata_has_no_allow_blocks(portal_metadata):
    """plugins/portal_server.py replaces Datasette's permission check with one that knows no
    "allow" blocks: the metadata must not rely on any."""

    def keys(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                yield key
                yield from keys(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from keys(inner)

    found = set(keys(json.loads(portal_metadata.read_text("utf-8"))))
    assert not found & {"allow", "allow_sql"}


def test_the_response_cache_stays_within_its_bounds():
    from portal.response_cache import Entry, ResponseCache

    cache = ResponseCache(max_bytes=1000, max_entry_bytes=400)
    for n in range(20):
        cache.put(f"/page/{n}", Entry(200, [(b"a", b"b")], b"x" * 100))
    assert cache.size <= 1000 and cache.get("/page/19") and cache.get("/page/0") is None
    cache.put("/big", Entry(200, [(b"a", b"b")], b"x" * 500))
    assert cache.get("/big") is None


def test_a_page_sent_again_is_the_same_page_and_compressed_when_asked(ds):
    first = get(ds, "/chuxiong/tasks", headers={"accept-encoding": "identity"})
    again = get(ds, "/chuxiong/tasks", headers={"accept-encoding": "identity"})
    zipped = get(ds, "/chuxiong/tasks", headers={"accept-encoding": "gzip"})
    assert first.text == again.text == zipped.text  # httpx decompresses
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in again.headers
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]


def export_links(page):
    """The download links of a page's export line(s)."""
    found = []
    for line in re.findall(r'<p class="export-links">(.*?)</p>', page, re.S):
        found += [html.unescape(h) for h in re.findall(r'href="([^"]+)"', line)]
    return found


def every_table(ds):
    db = ds.get_database("chuxiong")

    async def names():
        hidden = set(await db.hidden_table_names())
        return [t for t in await db.table_names() if t not in hidden] + await db.view_names()

    return asyncio.run(names())


def test_every_download_of_every_table_is_complete(ds):
    """Every table and view page, unfiltered: each export link answers 200 with every row
    (XLSX and Excel CSV included), and the XLSX's first sheet has one row per row."""
    import openpyxl

    db = ds.get_database("chuxiong")
    for table in every_table(ds):
        page = get(ds, f"/chuxiong/{table}")
        assert page.status_code == 200, table
        links = export_links(page.text)
        assert any(".xlsx" in link for link in links), table
        rows = asyncio.run(db.execute(f"select count(*) from [{table}]")).rows[0][0]
        for link in links:
            answer = get(ds, link)
            assert answer.status_code == 200, link
            assert "文件不完整" not in answer.content.decode("utf-8", "replace"), link
            if ".xlsx" in link:
                book = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True)
                assert book.sheetnames == ["数据", "说明"], link
                assert sum(1 for _ in book["数据"].iter_rows()) == rows + 1, link
            elif "_stream=on" in link:
                text = answer.content.decode("utf-8-sig")
                assert len(list(csv.reader(io.StringIO(text)))) == rows + 1, link


def test_every_download_of_every_canned_query_answers(ds):
    queries = yaml.safe_load((ROOT / "metadata.yml").read_text("utf-8"))["databases"]["chuxiong"][
        "queries"
    ]
    for name in queries:
        page = get(ds, f"/chuxiong/{name}")
        assert page.status_code == 200, name
        for link in export_links(page.text):
            answer = get(ds, link)
            assert answer.status_code == 200, link
            if ".xlsx" in link:
                assert answer.headers["content-type"].startswith("application/vnd.openxml"), link


def libreoffice_round_trip(tmp_path, content, name):
    """The file opened and saved again by LibreOffice (headless), as a reader's office
    program would: what it kept is what openpyxl reads back."""
    import shutil
    import subprocess

    office = shutil.which("soffice") or shutil.which("libreoffice")
    assert office, "LibreOffice is installed by `make test` (make office)"
    source = tmp_path / name
    source.write_bytes(content)
    out = tmp_path / "out"
    profile = tmp_path / "profile"
    subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out / (source.stem + ".xlsx")


def test_the_xlsx_opens_in_libreoffice_with_chinese_headers_text_codes_and_number_counts(
    ds, tmp_path
):
    import openpyxl

    counts = get(ds, "/chuxiong/children_counts.xlsx?year=2024&level=county&_dl=1")
    assert counts.status_code == 200
    assert "filename*=UTF-8''" in counts.headers["content-disposition"]
    villages = get(ds, "/chuxiong/village_coverage.xlsx?year=2024&_dl=1")
    for response, name in ((counts, "counts.xlsx"), (villages, "villages.xlsx")):
        book = openpyxl.load_workbook(libreoffice_round_trip(tmp_path, response.content, name))
        sheet = book["数据"]
        header = [c.value for c in sheet[1]]
        assert all(re.search(r"[\u4e00-\u9fff]", h) for h in header), header
        rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(2, values_only=True)]
        if name == "counts.xlsx":
            assert {r["区划代码"] for r in rows} >= {"532301", "532328"}
            assert all(isinstance(r["人数"], int) for r in rows if r["状态"] == "公布")
            assert all(r["人数"] is None for r in rows if r["状态"] == "隐藏")
            assert {r["层级"] for r in rows} == {"县市"}
        else:
            codes = [r["村（居）委会代码"] for r in rows]
            assert all(isinstance(c, str) and len(c) == 12 for c in codes), codes[:3]
            assert len(rows) == 1106
        about = [r for r in book["说明"].iter_rows(values_only=True) if r[0]]
        labels = {r[0]: r[1] for r in about}
        assert labels["数据版本"] and labels["许可"].startswith("知识共享署名")
        assert "/v" in labels["来源（固定网址）"] and "[DS/OL]" in labels["引用"]
        assert "示例数据" in labels["注意"]


def test_the_excel_csv_has_chinese_headers_and_codes_excel_keeps_as_text(ds):
    answer = get(ds, "/chuxiong/village_coverage.csv?year=2024&_stream=on&_bom=1&_dl=1")
    text = answer.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["年份", "村（居）委会代码", "村（居）委会名称"]
    assert re.fullmatch(r'="\d{12}"', rows[1][1])
    plain = get(ds, "/chuxiong/village_coverage.csv?year=2024&_stream=on").text
    assert plain.startswith("year,village_code")


def test_an_xlsx_of_a_query_that_fails_is_a_chinese_400(ds):
    answer = get(ds, "/chuxiong.xlsx?sql=select+*+from+nosuch")
    assert answer.status_code == 400 and "表" in answer.text
    assert get(ds, "/chuxiong/nosuch.xlsx").status_code == 404


def test_search_finds_places_by_name_pinyin_and_initials_counties_first(ds):
    for words in ("姚安", "yaoan", "yax", "YaoAn"):
        page = get(ds, "/search", params={"q": words}).text
        first = re.search(r'<ul class="search-results">\s*<li><a href="([^"]+)"', page)
        assert first and first.group(1) == "/county/532325", (words, first)
    village = get(ds, "/search", params={"q": "dongxing"}).text
    assert 'href="/village/532301101001"' in village
    # a character read two ways (长 chang/zhang) is found either way
    assert get(ds, "/search", params={"q": "changchong"}).text.count("/village/") == get(
        ds, "/search", params={"q": "zhangchong"}
    ).text.count("/village/")


@pytest.mark.parametrize(
    "words, page",
    [
        ("改嫁", "/handbook/reference/unsupported.html#判断工具"),
        ("坐牢", "/handbook/reference/categories/unsupported.html"),
        ("联系不上", "/handbook/reference/categories/unsupported.html"),
        ("孤儿院", "/handbook/network.html#儿童福利机构"),
    ],
)
def test_everyday_words_lead_to_the_handbook(ds, words, page):
    answer = get(ds, "/search", params={"q": words}).text
    assert "您可能在找" in answer and f'href="{page}"' in answer
    assert "不是政策原文" in answer


def test_the_synonym_links_all_resolve_in_the_handbook(handbook):
    synonyms = yaml.safe_load((ROOT / "portal" / "synonyms.yaml").read_text("utf-8"))
    for entry in synonyms:
        assert entry["words"] and entry["term"] and entry["says"], entry
        for target in entry["links"]:
            path, _, anchor = target["href"].removeprefix("/handbook/").partition("#")
            html_text = (handbook / "site" / path).read_text("utf-8")
            assert not anchor or f'id="{anchor}"' in html_text, target


def test_a_village_page_answers_the_residents_question(ds):
    db = ds.get_database("chuxiong")
    latest = asyncio.run(
        db.execute(
            "select village_code, village_name, has_childrens_home, supervisors from "
            "village_coverage where year = (select max(year) from village_coverage) "
            "order by has_childrens_home, supervisors limit 1"
        )
    ).rows[0]
    page = get(ds, f"/village/{latest['village_code']}")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert latest["village_name"] in text
    assert ("儿童之家：还没有" if not latest["has_childrens_home"] else "儿童之家：有") in text
    assert "最近的服务机构" in text and "公里" in text and "引用本页" in text
    assert get(ds, "/village/532301999999").status_code == 404
    county = get(ds, f"/county/{latest['village_code'][:6]}").text
    assert f'href="/village/{latest["village_code"]}"' in county


def test_phone_numbers_are_tappable_only_when_they_can_be_dialled(ds):
    page = get(ds, "/village/532301101001").text
    assert 'href="tel:12345"' in page
    assert "不能拨打" in page and not re.search(r'href="tel:[^"]*\*', page)
