"""The handbook: built for real with `mkdocs build --strict`, checked against the policy and the
reference data. Each test of a careful reading pins one statement the handbook must (not) make."""

import csv
import gzip
import html as htmllib
import json
import re
import sqlite3

import yaml

from pipeline.paths import DATA, ROOT
from scripts.build_handbook import clause, zh

CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’《》〔〕"
HALF_WIDTH_IN_CHINESE = re.compile(rf"(?<=[{CJK}])[,;:()?!]|[,;:()?!](?=[{CJK}])")


def reference(name):
    with open(DATA / "reference" / f"{name}.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def page(handbook, path):
    return (handbook / "site" / path).read_text("utf-8")


def article(html):
    """The visible text of a page's article: no code, scripts or markup."""
    found = re.search(r"<article[^>]*>(.*)</article>", html, re.S)
    body = found.group(1) if found else html
    body = re.sub(r"<(pre|code|script|style|svg)[^>]*>.*?</\1>", " ", body, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", "", body))


def text_of(html):
    return re.sub(r"\s+", "", article(html))


def pages(handbook):
    return sorted((handbook / "site").rglob("*.html"))


def test_every_category_has_a_page_quoting_its_definition(handbook):
    for c in reference("categories"):
        html = page(handbook, f"reference/categories/{c['category_code']}.html")
        assert c["name"] in html
        assert zh(c["definition"]) in text_of(html)
        assert f"楚政发〔2017〕33号，{clause(c['clause'])}（原文）" in text_of(html)


def test_who_certifies_is_the_policys_only_where_the_policy_says_so(handbook):
    extras = yaml.safe_load((ROOT / "sources" / "handbook" / "categories.yaml").read_text())
    policy_says = {code for code, e in extras.items() if e["certified_by"]["kind"] == "policy"}
    assert policy_says == {"severe_disability"}  # 二(四): 经残联部门认定
    low_income = text_of(page(handbook, "reference/categories/low_income.html"))
    section = low_income.split("谁来认定")[1].split("适用的保障措施")[0]
    assert "通常做法，不是政策原文" in section and "社会救助暂行办法" in section
    assert "没有规定由谁认定" in section


def test_how_to_apply_is_marked_as_practice_and_differs_by_category(handbook):
    steps = {}
    for c in reference("categories"):
        text = text_of(page(handbook, f"reference/categories/{c['category_code']}.html"))
        section = text.split("怎样申请")[1].split("统计数字")[0]
        assert "通常做法，不是政策原文" in section, c["name"]
        steps[c["category_code"]] = section
    assert len(set(steps.values())) == 8
    assert "110" in steps["street"] and "救助管理机构" in steps["street"]
    assert "不由监护人申请" in steps["guardianship"]
    assert "没有专门的基本生活费" in steps["severe_illness"]


def test_rehabilitation_is_given_to_the_disabled_persons_federation(handbook):
    text = text_of(page(handbook, "measures.html"))
    assert "残疾儿童康复由卫计委牵头" not in text
    assert "落实残疾儿童福利服务要求（附件第5项）由州卫计委牵头" in text
    assert "组织实施残疾儿童康复救助项目是残联组织的职责（五（二））" in text


def test_guardianship_steps_are_cited_to_the_2014_opinion(handbook):
    text = text_of(page(handbook, "mechanisms.html"))
    intervention = text.split("监护干预¶")[-1].split("一门受理")[0]
    assert "出自法发〔2014〕24号，不是本政策" in intervention
    assert "本政策三（六）只是引用了这份文件" in intervention


def test_one_door_intake_belongs_to_the_social_assistance_departments(handbook):
    for path in pages(handbook):
        text = text_of(path.read_text("utf-8"))
        assert not re.search(r"工作站[：:]?一个窗口|工作站受理|一门受理[^。]{0,20}工作站", text), (
            path
        )
    text = text_of(page(handbook, "mechanisms.html"))
    assert "社会救助管理部门" in text and "没有指定由哪一个窗口受理" in text


def test_missing_and_cannot_be_found_are_marked_as_interpretation(handbook):
    text = text_of(page(handbook, "reference/unsupported.html"))
    assert "本手册的解读：“失踪”和“查找不到”" in text
    assert "政策对“失踪”和“查找不到”都没有下定义" in text


def test_the_decision_aid_says_when_the_policy_does_not_decide(handbook):
    rules = (handbook / "site" / "assets" / "generated" / "situation-rules.js").read_text("utf-8")
    data = json.loads(rules.removeprefix("window.SITUATION_RULES = ").rstrip().rstrip(";"))
    assert "政策未明确，请向县市民政部门确认" in data["messages"]["undecided"]
    assert "民发〔2019〕62号" in data["messages"]["undecided"]
    text = text_of(page(handbook, "reference/unsupported.html"))
    assert "一方“失踪”、另一方" in text and "它不把这些儿童排除在保障之外" in text


def test_every_situation_appears_and_the_rules_are_the_reference_table(handbook):
    text = text_of(page(handbook, "reference/unsupported.html"))
    situations = reference("unsupported_situations")
    for s in situations:
        assert s["name"] in text
    rules = (handbook / "site" / "assets" / "generated" / "situation-rules.js").read_text("utf-8")
    data = json.loads(rules.removeprefix("window.SITUATION_RULES = ").rstrip().rstrip(";"))
    assert [(r["no"], r["a"], r["b"]) for r in data["unsupported"]] == [
        (int(s["situation_no"]), s["parent_a_status"], s["parent_b_status"]) for s in situations
    ]
    assert len(data["orphan"]) == 3


def test_every_task_appears_with_its_lead_unit_and_task_11_is_bracketed(handbook):
    text = text_of(page(handbook, "reference/tasks.html"))
    units = {u["unit_code"]: u["name"] for u in reference("units")}
    for t in reference("tasks"):
        assert zh(t["text"]) in text, t["task_no"]
    for r in reference("task_units"):
        if r["role"] == "lead" and units[r["unit_code"]] not in ("州卫健委", "州医保局"):
            assert units[r["unit_code"]] + "（牵头）" in text
    assert "为困境〔儿童保障工作提供信息支持〕。〔以下原文无法辨认〕" in text


def test_the_reform_since_2017_is_shown_with_the_policys_names_kept(handbook):
    text = text_of(page(handbook, "reference/tasks.html"))
    assert "2017年以后的机构变化" in text
    assert "州卫计委" in text and "州卫健委" in text and "州医保局" in text
    assert "民发〔2019〕34号" in text and "儿童主任" in text


def test_claims_without_a_basis_are_gone(handbook):
    everything = "".join(text_of(p.read_text("utf-8")) for p in pages(handbook))
    assert "各类保障可以叠加" not in everything
    assert "取代了《法律援助条例》" not in everything
    assert "《中华人民共和国法律援助法》自2022年1月1日起施行" in everything


def test_targets_page_argues_its_reading_and_shows_the_other(handbook):
    text = text_of(page(handbook, "reference/targets.html"))
    for word in [
        "累计覆盖率读法",
        "每年新增读法",
        "本站的延伸",
        "城乡社区",
        "村（居）民委员会当作一个城乡社区",
    ]:
        assert word in text, word
    assert "两种读法的结论" in text and "楚雄市" in text
    for code in ["cumulative", "annual_increment", "by_2020", "every_year", "chosen", "targets表"]:
        assert code not in text, code
    assert "附件第8项；四（三）" not in text and "附件第8项、四（三）" not in text


def test_one_wording_of_the_disclosure_rule_everywhere(handbook, built):
    rule = yaml.safe_load((ROOT / "schemas" / "disclosure_rule.yaml").read_text())["rule_zh"]
    assert rule.startswith("1到10的人数")
    published = [p.read_text("utf-8") for p in pages(handbook)]
    published += [p.read_text("utf-8") for p in built.data.glob("*/datapackage.json")]
    published += [p.read_text("utf-8") for p in (ROOT / "templates").glob("*.html")]
    everything = "".join(published)
    assert "小于11" not in everything and "少于11" not in everything
    assert rule in text_of(page(handbook, "data.html"))
    assert rule in text_of(page(handbook, "reference/dictionary.html"))


def test_citations_are_written_one_way(handbook):
    for path in pages(handbook):
        text = text_of(path.read_text("utf-8"))
        assert "第附件" not in text, path
        assert not re.search(r"第[一二三四五]\(", text), path
        assert not re.search(r"政策第[一二三四五]（", text), path
        assert "法发[2014]" not in text, path


def test_chinese_text_uses_full_width_punctuation(handbook):
    found = []
    for path in pages(handbook):
        body = article(path.read_text("utf-8"))
        for hit in HALF_WIDTH_IN_CHINESE.finditer(body):
            found.append(f"{path.name}: {body[max(0, hit.start() - 12) : hit.end() + 12]!r}")
    assert found == []


def test_no_english_left_for_readers(handbook):
    for path in pages(handbook):
        text = article(path.read_text("utf-8"))
        assert "OCR" not in text, path
        assert "Made with" not in path.read_text("utf-8"), path
    glossary = text_of(page(handbook, "reference/glossary.html"))
    assert "children'scentre(non-residential)" in glossary


def test_targets_page_shows_coverage_as_sample_data(handbook):
    html = page(handbook, "reference/targets.html")
    assert "楚雄市" in html and "示例数据" in html and "<svg" in html


def test_every_page_has_the_sample_notice_and_links_to_the_portal(handbook):
    for path in pages(handbook):
        html = path.read_text("utf-8")
        if "md-banner" not in html and path.name == "404.html":
            continue
        assert "示例数据，非真实统计" in html, path
        assert ">回到数据门户</a>" in html and "-/report?page=/handbook/" in html, path


def test_search_index_has_the_policy_words_as_terms(handbook):
    index = json.loads((handbook / "site" / "search" / "search_index.json").read_text("utf-8"))
    assert index["config"]["lang"] == ["zh"]
    text = "\u200b".join(d["title"] + "\u200b" + d["text"] for d in index["docs"])
    for word in ["孤儿", "儿童之家", "督导员", "抚养"]:
        assert re.search(rf"(?<![\u4e00-\u9fff]){word}(?![\u4e00-\u9fff])", text), word


def test_no_page_loads_anything_from_another_host(handbook):
    outside = re.compile(r'<(?:script|link|img|source)[^>]+(?:src|href)="(?:https?:)?//', re.I)
    for site in ("site", "offline"):
        for html_file in (handbook / site).rglob("*.html"):
            html = html_file.read_text("utf-8")
            assert not outside.findall(html), html_file
            assert "fonts.googleapis" not in html and "unpkg.com" not in html, html_file
    css = "".join(p.read_text("utf-8") for p in (handbook / "site").rglob("*.css"))
    assert "fonts.googleapis" not in css and "@import url(http" not in css


def test_pages_are_light_and_load_no_diagram_library(handbook):
    site = handbook / "site"
    assert not list(site.rglob("*mermaid*"))
    for path in pages(handbook):
        html = path.read_text("utf-8")
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
        size = len(gzip.compress(html.encode()))  # as transferred: the server gzips text
        for asset in assets:
            target = (path.parent / asset.split("?")[0]).resolve()
            if target.is_file():
                size += len(gzip.compress(target.read_bytes()))
        if path.name != "print.html":
            assert size < 300_000, (path, size)


def test_print_all_page_has_every_chapter(handbook):
    html = page(handbook, "reference/print.html")
    assert html.count('class="page-break"') >= 20
    for word in [
        "八类困境儿童",
        "六项保障措施",
        "服务网络",
        "工作机制",
        "重点任务和责任单位",
        "术语表",
    ]:
        assert word in html


def test_offline_copy_has_search_without_a_server(handbook):
    offline = handbook / "offline"
    script = (offline / "search" / "search_index.js").read_text("utf-8")
    index = json.loads(script.split("=", 1)[1].strip().rstrip(";"))
    assert any("督导员" in doc["text"] for doc in index["docs"])
    assert "iframe-worker-shim" in (offline / "index.html").read_text("utf-8")


def test_the_journalists_page_says_how_to_cite_with_a_release(handbook, built):
    html = page(handbook, "data.html")
    assert 'id="怎样引用"' in html
    assert "?release=" in html and "版本号" in text_of(html)
    release = (
        sqlite3.connect(built.db).execute("select max(release_id) from releases").fetchone()[0]
    )
    route = "/v" + release.replace(".", "-") + "/"
    assert route in html and "[DS/OL]. 版本 " + release in htmllib.unescape(html)


def test_sample_figures_carry_the_notice(handbook):
    for path in ["reference/targets.html", "reference/tasks.html", "index.html"]:
        assert "示例数据" in page(handbook, path)
