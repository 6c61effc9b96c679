"""The portal through Datasette's own test client: every page type, query, plugin and download."""

import asyncio
import io
import json
import re
import zipfile

import pytest
import yaml
from datasette.app import Datasette

from pipeline.paths import ROOT
from tests.helpers import COUNTY_NAMES
from tests.portal_server import settings

QUERIES = [
    "search?q=督导员",
    "below_target?year=2020",
    "villages_without_supervisor?year=2025&county_code=",
    "tasks_late",
    "progress_by_unit?unit=州民政局",
    "townships_without_station",
    "facilities_by_type_and_county",
]


@pytest.fixture(scope="module")
def site(built, handbook, download_zip, monkeypatch_module):
    monkeypatch_module.setenv("PORTAL_HANDBOOK_DIR", str(handbook / "site"))
    monkeypatch_module.setenv("PORTAL_DOWNLOAD", str(download_zip))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def ds(built, site, portal_metadata):
    metadata = json.loads(portal_metadata.read_text("utf-8"))
    return Datasette(
        [],
        immutables=[str(built.db)],
        metadata=metadata,
        plugins_dir=str(ROOT / "plugins"),
        template_dir=str(ROOT / "templates"),
        static_mounts=[("static", str(ROOT / "static"))],
        settings=settings(),
    )


def get(ds, path):
    return asyncio.run(ds.client.get(path, follow_redirects=False))


def visible_english(html):
    """Interface text left in English (code-like names and numbers are fine)."""
    html = re.sub(r"<(script|style|textarea|pre|title|code)[^>]*>.*?</\1>", "", html, flags=re.S)
    html = re.sub(r"<h1[^>]*>.*?</h1>", "", html, flags=re.S)  # table, row and SQL names
    texts = {t.strip() for t in re.findall(r">([^<>]+)<", html)}
    return sorted(
        t
        for t in texts
        if re.search(r"[A-Za-z]{3,}", t)
        and not re.search(r"[\u4e00-\u9fff]", t)
        and not re.fullmatch(
            r"[a-z0-9_,. |()*&;:▼▲\-]+|CSV|JSON|json|SQL|chuxiong\.db|[\d,]+|/\S+", t
        )
    )


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/chuxiong",
        "/chuxiong/facilities",
        "/chuxiong/village_coverage",
        "/chuxiong/facilities/532301-F001",
        "/chuxiong/facility_map",
        "/chuxiong?sql=select+count(*)+from+facilities",
    ]
    + [f"/chuxiong/{q}" for q in QUERIES],
)
def test_pages_are_in_chinese_with_the_sample_notice(ds, path):
    response = get(ds, path)
    assert response.status_code == 200, path
    assert '<html lang="zh-CN">' in response.text
    assert "示例数据,非真实统计" in response.text
    assert visible_english(response.text) == [], path


def test_error_page_is_chinese(ds):
    response = get(ds, "/chuxiong/no_such_table")
    assert response.status_code == 404
    assert "找不到数据表" in response.text and visible_english(response.text) == []


def test_home_answers_before_the_question(ds):
    html = get(ds, "/").text
    for county in COUNTY_NAMES:
        assert county in html
    assert "数据截至 <strong>2025-12-31</strong>" in html
    assert html.count("<svg viewBox") >= 12
    assert 'class="target"' in html  # the target line
    county_map = re.search(r'<svg[^>]*class="chart map".*?</svg>', html, re.S).group(0)
    assert county_map.count("<circle") == 10
    for word in ["已完成", "州民政局", "牵头", "服务地图", "督查查询", "工作手册", "下载数据"]:
        assert word in html
    assert "/chuxiong/tasks_late" in html and "/chuxiong/facility_map" in html


def test_every_link_on_the_home_page_works(ds):
    html = get(ds, "/").text
    links = sorted(set(re.findall(r'href="(/[^"#]*)"', html)))
    assert len(links) > 40
    for link in links:
        link = link.replace("&amp;", "&")
        response = get(ds, link)
        if response.status_code == 302:
            response = get(ds, response.headers["location"])
        assert response.status_code == 200, link


def test_suppressed_counts_are_gaps_in_the_charts(ds):
    html = get(ds, "/").text
    assert "流浪儿童" in html and "隐藏:" in html


def test_canned_queries_have_chinese_titles_and_descriptions(ds):
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text("utf-8"))
    queries = metadata["databases"]["chuxiong"]["queries"]
    assert len(queries) == 7
    for query in queries.values():
        assert re.search(r"[\u4e00-\u9fff]", query["title"]) and len(query["description"]) > 15
    rows = get(ds, "/chuxiong/below_target.json?year=2020&_shape=array").json()
    assert rows and all(r["层级"] in ("county", "township") for r in rows)
    late = get(ds, "/chuxiong/tasks_late.json?_shape=array").json()
    assert late and all(r["状态"] in ("滞后", "逾期未完成") for r in late)
    assert all(r["牵头单位"] for r in late)


def test_search_finds_two_character_words_and_longer_ones(ds):
    def search(term):
        return get(ds, f"/chuxiong/search.json?_shape=array&q={term}").json()

    assert {"类别": "困境儿童类别", "名称": "孤儿"} in [
        {"类别": r["类别"], "名称": r["名称"]} for r in search("孤儿")
    ]
    assert any(r["名称"].endswith("儿童之家与儿童福利督导员") for r in search("督导员"))
    assert any(r["类别"] == "服务机构" for r in search("工作站"))
    assert any(r["名称"] == "州民政局" for r in search("州民政局"))
    assert search('"; drop table x; --') == []
    assert search("孤") == [] and search("") == []
    assert "site-search" in get(ds, "/").text


def test_column_descriptions_come_from_the_schemas(ds):
    data = get(ds, "/-/metadata.json").json()
    columns = data["databases"]["chuxiong"]["tables"]["children_counts"]["columns"]
    assert columns["count"].startswith("人数")
    assert "suppressed" in columns["status"]
    assert data["databases"]["chuxiong"]["tables"]["facilities"]["description"].startswith(
        "【示例数据"
    )


def test_security_headers_and_only_own_scripts(ds):
    response = get(ds, "/chuxiong/facility_map")
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert "strict-origin" in headers["referrer-policy"]
    policy = headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy and "frame-ancestors 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    for tag in re.findall(r"<script[^>]*>", response.text):
        assert f'nonce="{nonce}"' in tag
    outside = r'<(?:script|img|link)[^>]+(?:src|href)="(?:https?:)?//(?!localhost[:/])'
    assert not re.findall(outside, response.text)


def test_data_with_html_is_shown_as_text(ds):
    html = get(ds, "/chuxiong?sql=select+'<script>alert(1)</script>'+as+x").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_excel_csv_has_a_bom_and_all_rows(ds):
    html = get(ds, "/chuxiong/village_coverage").text
    link = re.search(r'href="([^"]+_bom=1[^"]*)"', html).group(1).replace("&amp;", "&")
    response = get(ds, link)
    assert response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("utf-8-sig")
    assert text.count("\n") == 1106 * 9 + 1
    assert "示例数据,非真实统计" in text
    assert "-excel.csv" in response.headers["content-disposition"]
    plain = get(ds, "/chuxiong/facilities.csv?_size=max")
    assert not plain.content.startswith(b"\xef\xbb\xbf")


def test_map_uses_local_tiles_and_chinese_popups(ds):
    html = get(ds, "/chuxiong/facility_map").text
    assert "datasette-cluster-map.js" in html
    assert 'DATASETTE_CLUSTER_MAP_TILE_LAYER = "/-/tiles/{z}/{x}/{y}.png"' in html
    tile = get(ds, "/-/tiles/8/200/110.png")
    assert tile.content.startswith(b"\x89PNG")
    rows = get(ds, "/chuxiong/facility_map.json?_shape=array&_size=3").json()
    assert "title" in rows[0]["popup"] and "热线" in rows[0]["popup"]
    custody = get(ds, "/chuxiong/facility_map.json?_shape=array&类型=未成年人救助保护中心").json()
    assert custody == []


def test_handbook_is_served_under_handbook(ds):
    redirect = get(ds, "/handbook/")
    assert redirect.status_code == 302 and redirect.headers["location"] == "/handbook/index.html"
    page = get(ds, "/handbook/index.html")
    assert page.status_code == 200 and "工作手册" in page.text
    assert get(ds, "/handbook/../metadata.yml").status_code == 404


def test_download_zip_has_packages_and_dictionary(ds):
    response = get(ds, "/-/downloads/chuxiong-open-data.zip")
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "chuxiong-open-data/DATA-DICTIONARY.md" in names
    assert "chuxiong-open-data/children/datapackage.json" in names
    assert "chuxiong-open-data/templates/village_coverage.xlsx" in names


def test_robots_keep_out_of_arbitrary_sql(ds):
    text = get(ds, "/robots.txt").text
    assert "Disallow: /*?sql=" in text and "Allow: /" in text


def test_no_small_count_reaches_the_api(ds):
    sql = get(
        ds,
        "/chuxiong.json?_shape=array&sql=select+count(*)+n+from+children_counts+where+count+between+1+and+10",
    ).json()
    assert sql == [{"n": 0}]
