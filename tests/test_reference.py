"""The reference data must match the policy text exactly."""

import csv
import re

import pytest

from pipeline import reference
from pipeline.paths import POLICY_TEXT, REFERENCE_SOURCES
from tests.helpers import CATEGORY_NAMES


def rows(name):
    with open(REFERENCE_SOURCES / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def annex():
    """The annex table's task column and unit column, each joined up without whitespace.

    In the received text a task's words run over several lines, with the unit
    column's words between them; splitting each line on tabs takes them apart.
    """
    text = POLICY_TEXT.read_text(encoding="utf-8")
    body = text[text.rindex("重点任务分工(州直部门和单位)") :]
    tasks, units = [], []
    for line in body.splitlines():
        cells = line.split("\t")
        if len(cells) >= 2 and cells[1] != "工作任务":
            tasks.append(cells[1])
            units.append("".join(cells[2:]))
    squash = lambda parts: re.sub(r"\s+", "", "".join(parts))  # noqa: E731
    return {"tasks": squash(tasks), "units": squash(units)}


@pytest.fixture(scope="module")
def tables():
    tables, problems = reference.load()
    assert problems == []
    return tables


def test_eight_categories_with_the_policys_definitions(tables, policy):
    categories = tables["categories"]
    assert tuple(c["name"] for c in categories) == CATEGORY_NAMES
    for c in categories:
        numeral = "一二三四五六七八"[c["category_no"] - 1]
        assert c["clause"] == f"二({numeral})"
        assert c["definition"] in policy, c["name"]
        assert (
            f"({numeral}){c['name']}。{c['definition']}" in policy
            or c["category_code"] == "unsupported"
        )


def test_fourteen_unsupported_situations_in_the_tables_order(tables):
    situations = tables["unsupported_situations"]
    assert len(situations) == 14
    pairs = [(s["parent_a_status"], s["parent_b_status"]) for s in situations]
    assert len(set(pairs)) == 14
    # The policy's table header, read left to right.
    assert [s["column_label"] for s in situations] == (
        "重残 重病 查找不到 服刑 重残 重病 查找不到 服刑 重残 重病 服刑 重病 服刑 服刑".split()
    )
    groups = [s["group_name"] for s in situations]
    assert groups.count("父母双方") == 4
    assert groups.count("父母一方死亡另一方") == 4
    assert groups.count("父母一方查找不到另一方") == 3
    assert groups.count("父母一方重残另一方") == 2
    assert groups.count("父母一方重病另一方") == 1


def test_orphan_and_unsupported_situations_do_not_overlap(tables):
    orphan = {
        frozenset((s["parent_a_status"], s["parent_b_status"])) for s in tables["orphan_situations"]
    }
    unsupported = {
        frozenset((s["parent_a_status"], s["parent_b_status"]))
        for s in tables["unsupported_situations"]
    }
    assert not orphan & unsupported
    assert frozenset(("dead", "declared_missing")) in orphan


def test_fifteen_tasks_quoted_or_rebuilt(tables, policy, annex):
    tasks = tables["tasks"]
    assert [t["task_no"] for t in tasks] == list(range(1, 16))
    for t in tasks:
        if t["text_status"] == "as_received":
            assert t["text"] in annex["tasks"], t["task_no"]
        else:
            assert t["task_no"] in (7, 11)
            assert "重建" in t["note"]
    rebuilt = {t["task_no"]: t for t in tasks if t["text_status"] == "reconstructed"}
    assert set(rebuilt) == {7, 11}
    # Each phrase of a rebuilt row is in the body text or in the legible part of the garbled
    # row, once the words the project added (marked 〔〕) are taken out.
    for task in rebuilt.values():
        for phrase in re.split("[,;。]", re.sub("〔[^〕]*〕", "", task["text"])):
            if phrase:
                assert phrase in policy or phrase in annex["tasks"], (task["task_no"], phrase)
    assert rebuilt[11]["text"].startswith("建立科学的评价机制。将困境儿童信息统计纳入现行")
    # Task 11: only 为困境 of the last phrase is legible; the rest is borrowed and bracketed,
    # the lost end is marked, and no body clause is claimed for 评价机制 or 统计.
    eleven = rebuilt[11]
    assert "为困境〔儿童保障工作提供信息支持〕" in eleven["text"]
    assert eleven["text"].endswith("〔以下原文无法辨认〕")
    assert not eleven["body_clause"]
    for phrase in re.split("[,;。]", re.sub("〔[^〕]*〕", "", eleven["text"])):
        assert not phrase or phrase in annex["tasks"], phrase
    assert {t["task_no"]: t["due_date"] for t in tasks if t["due_date"]} == {
        8: __import__("datetime").date(2020, 12, 31)
    }


def test_lead_units_are_the_first_listed(tables):
    units = {u["unit_code"]: u["name"] for u in tables["units"]}
    leads = {
        r["task_no"]: units[r["unit_code"]] for r in tables["task_units"] if r["role"] == "lead"
    }
    assert leads == {
        1: "州民政局",
        2: "州人社局",
        3: "州教育局",
        4: "州民政局",
        5: "州卫计委",
        6: "州民政局",
        7: "州民政局",
        8: "州民政局",
        9: "州妇儿工委办公室",
        10: "州民政局",
        11: "州妇儿工委办公室",
        12: "州总工会",
        13: "州民政局",
        14: "州民政局",
        15: "州妇儿工委各成员单位",
    }
    for r in tables["task_units"]:
        assert (r["role"] == "lead") == (r["position"] == 1)


def test_every_unit_is_named_in_the_annex(tables, annex):
    """Units of the annex carry its wording; later units are marked and come with a dated change."""
    for unit in tables["units"]:
        if unit["in_annex"]:
            assert unit["name"] in annex["units"], unit["name"]
        else:
            assert unit["name"] not in annex["units"], unit["name"]
            changes = [
                c for c in tables["unit_changes"] if c["successor_code"] == unit["unit_code"]
            ]
            assert changes and all(c["year"] >= 2018 and c["source"] for c in changes)
    assert {u["name"] for u in tables["units"] if not u["in_annex"]} == {"州卫健委", "州医保局"}


def test_the_reform_carries_roles_over_to_successors(tables):
    from pipeline import reference

    lookups = reference.lookups(tables)
    role_of = lookups["role_of"]
    assert role_of(5, "health", 2018) == "lead"  # 州卫计委 leads task 5 in the annex
    assert role_of(5, "health_commission", 2018) is None  # 州卫健委 did not exist yet
    assert role_of(5, "health_commission", 2019) == "lead"
    assert role_of(2, "medical_security", 2020) == "partner"
    assert role_of(3, "medical_security", 2020) is None
    reporters = lookups["expected_reporters"]
    assert (5, "health") in reporters(2018) and (5, "health_commission") in reporters(2020)


def test_targets_carry_clause_and_reading(tables):
    targets = tables["targets"]
    home = {
        (t["reading_code"], t["year"]): t["value"]
        for t in targets
        if t["target_code"] == "home_coverage"
    }
    assert home[("cumulative", 2020)] == 50
    assert home[("cumulative", 2017)] == 20
    assert home[("annual_increment", 2020)] == 80
    chosen = [t for t in targets if t["target_code"] == "home_coverage" and t["chosen"]]
    assert {t["reading_code"] for t in chosen} == {"cumulative"}
    assert len({t["year"] for t in chosen}) == len(chosen)
    for t in targets:
        assert t["clause"] and t["reading"]
    supervisors = [t for t in targets if t["target_code"] == "supervisor_coverage"]
    assert {t["value"] for t in supervisors} == {100}


def test_publication_levels_keep_hiv_and_street_children_at_prefecture(tables):
    levels = {p["series_code"]: p["finest_level"] for p in tables["publication_levels"]}
    assert levels["hiv"] == levels["street"] == "prefecture"
    assert levels["total"] == "township"
    assert set(levels) == {"total"} | {c["category_code"] for c in tables["categories"]}


def test_facility_types_that_hold_children_in_custody(tables):
    custody = {t["name"] for t in tables["facility_types"] if t["holds_children_in_custody"]}
    assert custody == {"儿童福利机构", "未成年人救助保护中心"}


def test_target_clauses_hold_what_they_cite(tables, policy, annex):
    """A clause cited for a target must contain the target: 20% and 50% are only in annex row 8;
    the supervisor rule is in 四(三) and in annex row 8."""
    for t in tables["targets"]:
        if t["target_code"] == "home_coverage":
            assert t["clause"] == "附件第8项"
        if t["target_code"] == "supervisor_coverage":
            assert set(t["clause"].split(";")) == {"四(三)", "附件第8项"}
    assert "每年不低于20%" not in policy.split("附件")[0]
    assert "每个村(居)民委员会至少选配1名" in policy.split("附件")[0]
