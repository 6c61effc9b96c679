"""The handbook: built for real with `mkdocs build --strict`, checked against the reference data."""

import csv
import json
import re

from pipeline.paths import DATA


def reference(name):
    with open(DATA / "reference" / f"{name}.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def page(handbook, path):
    return (handbook / "site" / path).read_text("utf-8")


def text_of(html):
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


def test_every_category_has_a_page_quoting_its_definition(handbook):
    for c in reference("categories"):
        html = page(handbook, f"reference/categories/{c['category_code']}.html")
        assert c["name"] in html
        assert c["definition"] in text_of(html)
        assert f"第{c['clause']}" in html


def test_every_situation_appears_and_the_rules_are_the_reference_table(handbook):
    html = text_of(page(handbook, "reference/unsupported.html"))
    situations = reference("unsupported_situations")
    for s in situations:
        assert s["name"] in html
    rules = (handbook / "site" / "assets" / "generated" / "situation-rules.js").read_text("utf-8")
    data = json.loads(rules.removeprefix("window.SITUATION_RULES = ").rstrip().rstrip(";"))
    assert [(r["no"], r["a"], r["b"]) for r in data["unsupported"]] == [
        (int(s["situation_no"]), s["parent_a_status"], s["parent_b_status"]) for s in situations
    ]
    assert len(data["orphan"]) == 3


def test_every_task_appears_with_its_lead_unit(handbook):
    html = text_of(page(handbook, "reference/tasks.html"))
    units = {u["unit_code"]: u["name"] for u in reference("units")}
    for t in reference("tasks"):
        assert t["text"] in html, t["task_no"]
    for r in reference("task_units"):
        if r["role"] == "lead":
            assert units[r["unit_code"]] + "(牵头)" in html


def test_targets_page_shows_readings_and_coverage(handbook):
    html = page(handbook, "reference/targets.html")
    assert "cumulative" in html and "annual_increment" in html
    assert "楚雄市" in html and "示例数据" in html and "<svg" in html


def test_search_index_has_the_policy_words_as_terms(handbook):
    index = json.loads((handbook / "site" / "search" / "search_index.json").read_text("utf-8"))
    assert index["config"]["lang"] == ["zh"]
    text = "\u200b".join(d["title"] + "\u200b" + d["text"] for d in index["docs"])
    for word in ["孤儿", "儿童之家", "督导员", "抚养"]:
        assert re.search(rf"(?<![\u4e00-\u9fff]){word}(?![\u4e00-\u9fff])", text), word


def test_no_page_loads_anything_from_another_host(handbook):
    outside = re.compile(r'<(?:script|link|img|source)[^>]+(?:src|href)="(?:https?:)?//', re.I)
    for html_file in (handbook / "site").rglob("*.html"):
        html = html_file.read_text("utf-8")
        assert not outside.findall(html), html_file
        assert "fonts.googleapis" not in html and "unpkg.com" not in html
    css = "".join(p.read_text("utf-8") for p in (handbook / "site").rglob("*.css"))
    assert "fonts.googleapis" not in css and "@import url(http" not in css


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


def test_sample_figures_carry_the_notice(handbook):
    for path in ["reference/targets.html", "reference/tasks.html", "index.html"]:
        assert "示例数据" in page(handbook, path)
