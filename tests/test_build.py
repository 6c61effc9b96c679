"""A build of the bundled sample: reproducible, valid, labelled, private, searchable."""

import json
import shutil
import subprocess
import sys

import sqlite_utils

from pipeline import build
from pipeline.paths import DATA, DIVISIONS_SOURCES, SAMPLE_SUBMISSIONS
from tests.helpers import file_hashes

PACKAGES = ["reference", "divisions", "facilities", "coverage", "children", "progress", "releases"]


def test_committed_packages_are_what_the_build_makes(built):
    """data/ is committed: a build from the committed inputs must reproduce it exactly."""
    for name in PACKAGES:
        fresh = file_hashes(built.data / name)
        committed = file_hashes(DATA / name)
        assert {k.split(f"/{name}/")[1]: v for k, v in fresh.items()} == {
            k.split(f"/{name}/")[1]: v for k, v in committed.items()
        }, f"data/{name} is stale: run `make data` and commit it"


def test_building_twice_gives_identical_bytes(built, tmp_path):
    shutil.copytree(DATA, tmp_path / "data")
    build.build(
        SAMPLE_SUBMISSIONS, DIVISIONS_SOURCES, tmp_path / "data", tmp_path / "db", quiet=True
    )
    first = {k.split("/data/", 1)[1]: v for k, v in file_hashes(built.data).items()}
    second = {k.split("/data/", 1)[1]: v for k, v in file_hashes(tmp_path / "data").items()}
    assert first == second
    a, b = sqlite_utils.Database(built.db), sqlite_utils.Database(tmp_path / "db")
    for table in a.table_names():
        assert list(a[table].rows) == list(b[table].rows), table


def test_every_package_passes_frictionless_validate(built):
    for name in PACKAGES:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "frictionless",
                "validate",
                "--json",
                str(built.data / name / "datapackage.json"),
            ],
            capture_output=True,
            text=True,
        )
        report = json.loads(result.stdout)
        assert report["valid"], (name, result.stdout[:2000])


def test_sample_packages_say_so(built):
    for name in PACKAGES:
        descriptor = json.loads((built.data / name / "datapackage.json").read_text("utf-8"))
        assert descriptor["licenses"][0]["name"] == "CC-BY-4.0"
        if name in ("reference", "divisions"):
            assert descriptor["sample"] is False
        else:
            assert descriptor["sample"] is True
            assert descriptor["title"].startswith("【示例数据】")
            assert "示例数据" in descriptor["description"]
            assert descriptor["as_of"] == "2025-12-31"
    db = sqlite_utils.Database(built.db)
    for table in (
        "facilities",
        "village_coverage",
        "coverage_by_area",
        "children_counts",
        "task_progress",
    ):
        sources = {r["data_source"] for r in db.query(f"select distinct data_source from {table}")}
        assert sources == {"示例数据,非真实统计"}, table


def test_no_small_count_is_visible(built):
    db = sqlite_utils.Database(built.db)
    small = list(db.query("select * from children_counts where count between 1 and 10"))
    assert small == []
    hidden = list(db.query("select * from children_counts where status = 'suppressed'"))
    assert hidden and all(r["count"] is None for r in hidden)
    assert all(
        r["count"] is not None
        for r in db.query("select * from children_counts where status = 'published'")
    )


def test_publication_levels_are_respected(built):
    db = sqlite_utils.Database(built.db)
    rows = db.query(
        "select c.series_code, c.level from children_counts c "
        "join publication_levels p using (series_code) group by 1, 2"
    )
    levels = {}
    for row in rows:
        levels.setdefault(row["series_code"], set()).add(row["level"])
    assert levels["hiv"] == levels["street"] == {"prefecture"}
    assert levels["orphan"] == {"county", "prefecture"}
    assert levels["total"] == {"township", "county", "prefecture"}


def test_custody_facilities_have_no_location_or_headcount(built):
    db = sqlite_utils.Database(built.db)
    custody = list(
        db.query(
            "select f.* from facilities f join facility_types t on t.type_code = f.facility_type "
            "where t.holds_children_in_custody"
        )
    )
    assert custody
    for f in custody:
        assert f["latitude"] is None and f["longitude"] is None
        assert f["address"] is None and f["capacity"] is None
        assert f["location_precision"] == "area_only"
        assert f["hotline"]
    points = list(db.query("select * from facilities where location_precision = 'point'"))
    assert points and all(p["latitude"] for p in points)


def test_database_keys_and_views(built):
    db = sqlite_utils.Database(built.db)
    assert db["children_counts"].pks == ["year", "level", "area_code", "series_code"]
    fks = {(fk.column, fk.other_table) for fk in db["facilities"].foreign_keys}
    assert ("township_code", "townships") in fks and ("facility_type", "facility_types") in fks
    assert list(db.query("PRAGMA foreign_key_check")) == []
    leads = {r["task_no"]: r["lead_unit"] for r in db.query("select * from task_leads")}
    assert leads[15] == "州妇儿工委各成员单位" and leads[2] == "州人社局"
    assert db["village_coverage"].count == 1106 * 9


def test_coverage_adds_up(built):
    db = sqlite_utils.Database(built.db)
    for row in db.query(
        "select year, sum(villages) v, sum(villages_with_home) h from coverage_by_area "
        "where level = 'county' group by year"
    ):
        prefecture = next(
            db.query(
                "select villages, villages_with_home from coverage_by_area "
                "where level = 'prefecture' and year = ?",
                [row["year"]],
            )
        )
        assert (row["v"], row["h"]) == (prefecture["villages"], prefecture["villages_with_home"])
        direct = next(
            db.query(
                "select count(*) n, sum(has_childrens_home) h from village_coverage where year = ?",
                [row["year"]],
            )
        )
        assert (direct["n"], direct["h"]) == (row["v"], row["h"])
    missed = list(
        db.query(
            "select area_name from coverage_by_area where level = 'county' and year = 2020 "
            "and not meets_home_target"
        )
    )
    assert missed, "the sample should show some counties missing the 2020 target"


def search(db, table, query):
    return [
        r["name"] if "name" in r else r["title"]
        for r in db.query(
            f"select * from {table} where rowid in (select rowid from {table}_fts where {table}_fts match ?)",
            [query],
        )
    ]


def test_full_text_search_finds_two_character_words(built):
    db = sqlite_utils.Database(built.db)
    assert "孤儿" in search(db, "categories", "孤儿")
    assert "儿童之家与儿童福利督导员" in search(db, "tasks", "督导员")
    assert "儿童之家与儿童福利督导员" in search(db, "tasks", "儿童之家")
    assert len(search(db, "tasks", "儿童")) >= 10
    assert any("工作站" in name for name in search(db, "facilities", "工作站"))
    assert "事实无人抚养儿童" in search(db, "categories", "抚养")


def test_summary_reports_the_build(built):
    s = built.summary
    assert s["sample"] is True and s["submitters"] == 11 and s["village_years"] == 1106 * 9
    assert s["hidden"] > 0


def test_one_process_and_two_build_the_same_bytes(tmp_path):
    """Counties are checked and prefecture-years protected in parallel; the packages and the
    database do not depend on how many processes did it."""
    outputs = []
    for processes in (1, 2):
        out = tmp_path / str(processes)
        summary = build.build(
            SAMPLE_SUBMISSIONS,
            DIVISIONS_SOURCES,
            out / "data",
            out / "chuxiong.db",
            quiet=True,
            processes=processes,
        )
        assert summary["processes"] == processes
        outputs.append(out)
    first, second = (
        {k.split("/data/", 1)[1]: v for k, v in file_hashes(o / "data").items()} for o in outputs
    )
    assert first == second
    assert (
        file_hashes(outputs[0] / "chuxiong.db").popitem()[1]
        == file_hashes(outputs[1] / "chuxiong.db").popitem()[1]
    )


def test_a_build_says_what_it_is_doing_step_by_step(tmp_path):
    """In a log (no terminal) every step prints when it starts and ends, with its seconds and
    peak memory; the summary keeps the same table for the benchmark."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "build",
            "--json",
            "--data-dir",
            str(tmp_path / "data"),
            "--database",
            str(tmp_path / "chuxiong.db"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    log = result.stderr.splitlines()
    summary = json.loads(result.stdout)
    assert [s["step"] for s in summary["steps"]][0].startswith("检查报送")
    assert len(summary["steps"]) == 6
    for number, step in enumerate(summary["steps"], start=1):
        assert any(line.startswith(f"[{number}/6]") and "完成 done" in line for line in log)
        assert step["seconds"] >= 0 and step["peak_mb"] > 0


def test_a_large_table_is_checked_for_order_and_duplicate_keys_in_one_pass(tmp_path):
    """The nation-sized coverage table is validated without Frictionless's memory of every
    key: the build checks its declared order and its keys itself, and catches both faults."""
    from pipeline import packages

    path = tmp_path / "village_coverage.csv"
    lines = ["year,village_code,x", "2017,532301100001,1", "2018,532301100001,1"]
    path.write_text("\n".join([*lines, "2018,532301100001,2", "2017,532301100000,1"]) + "\n")
    problems = packages.keys_unique(path, ["year", "village_code"], ["village_code", "year"], "c")
    assert [(p.row, p.zh.rsplit("：", 1)[1]) for p in problems] == [
        (4, "主键重复"),
        (5, "行的顺序不对"),
    ]
    path.write_text("\n".join(lines) + "\n")
    assert packages.keys_unique(path, ["year", "village_code"], ["village_code", "year"], "c") == []
