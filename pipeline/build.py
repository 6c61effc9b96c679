"""One build: submissions in, published packages and the database out, or nothing at all.

Everything is written to a staging folder first. Only when every input passed
every rule, every package validated and the database was built does the build
swap the new packages and database in; a failed build leaves what was
published byte for byte as it was.
"""

import csv
import datetime
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from frictionless import Package

from . import (
    aggregate,
    database,
    disclosure,
    divisions,
    locations,
    manifest,
    reference,
    schemas,
    validate,
)
from .paths import DATA, DATABASE, DIVISIONS_SOURCES, ROOT, SAMPLE_NOTICE, SAMPLE_SUBMISSIONS
from .problems import InputRejected, Problem, from_report
from .publish import TableWriter, package_descriptor, write_descriptor


class Progress:
    """One line per step on stderr, with how long it took."""

    def __init__(self, quiet=False, total=7):
        self.quiet = quiet
        self.total = total
        self.step = 0
        self.started = time.perf_counter()
        self.last = self.started

    def __call__(self, message):
        now = time.perf_counter()
        self.step += 1
        if not self.quiet:
            print(
                f"[{self.step}/{self.total}] {message}  ({now - self.last:.1f}s)",
                file=sys.stderr,
                flush=True,
            )
        self.last = now

    def elapsed(self):
        return time.perf_counter() - self.started


def outside_repository(submissions_dir, manifest):
    """Real submissions hold every count before suppression and the custody sites' addresses:
    they must never be where git could record them. Only sample data may live in the repository."""
    folder = Path(submissions_dir).resolve()
    if manifest.sample or (folder != ROOT and ROOT not in folder.parents):
        return []
    return [
        Problem(
            str(submissions_dir),
            "inside-repository",
            "真实报送不能放在项目文件夹内(否则可能被 git 记录并公开);请把报送放在项目以外的文件夹,"
            "如 /srv/chuxiong/submissions,再用 --submissions 指定。只有标明 sample: true 的示例数据可以放在项目内",
            "real submissions must not be inside the project folder (git could record and publish "
            "them); keep them outside, e.g. /srv/chuxiong/submissions, and pass --submissions. "
            "Only sample data (sample: true) may live in the repository",
        )
    ]


def data_source(manifest, submitter_name):
    if manifest.sample:
        return SAMPLE_NOTICE
    return f"{submitter_name}报送"


def check(folder, divisions_dir=DIVISIONS_SOURCES, today=None):
    """Problems in one submitter's folder (or a whole submissions folder); publishes nothing."""
    return validate.validate(folder, divisions_dir, today).problems


def build(
    submissions_dir=SAMPLE_SUBMISSIONS,
    divisions_dir=DIVISIONS_SOURCES,
    data_dir=DATA,
    database_path=DATABASE,
    quiet=False,
    today=None,
):
    """Build everything; return a summary dict, or raise InputRejected."""
    progress = Progress(quiet)
    data_dir, database_path = Path(data_dir), Path(database_path)
    data_dir.mkdir(parents=True, exist_ok=True)
    database_path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=data_dir.parent))
    try:
        summary = stage(
            staging,
            submissions_dir,
            divisions_dir,
            progress,
            today or datetime.date.today(),
            released=released_cells(data_dir),
        )
        staged_db = staging / "chuxiong.db"
        database.build(staging / "data", summary["packages"], staged_db)
        progress("数据库已建成 / database built")
        swap(staging / "data", data_dir, summary["packages"])
        os.replace(staged_db, database_path)
        report = database_path.parent / "disclosure-audit.md"
        report.write_text(summary.pop("audit_markdown") + "\n", encoding="utf-8")
        progress("新版本已替换旧版本 / new release swapped in")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary["seconds"] = round(progress.elapsed(), 1)
    summary["database"] = str(database_path)
    return summary


def released_cells(data_dir):
    """{year: {(level, area, series): (count, status)}} of the children's counts already published."""
    path = Path(data_dir) / "children" / "children_counts.csv"
    released = {}
    if path.exists():
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                key = (row["level"], row["area_code"], row["series_code"])
                released.setdefault(int(row["year"]), {})[key] = (row["count"], row["status"])
    return released


def revisions(released, rows):
    """Problems for every released year whose published children's counts would change.

    A released year is frozen: publishing a second version of a year lets anyone
    subtract one from the other, so a revision would have to be suppressed and
    audited together with the first version. Until that joint audit exists, the
    build refuses and says so.
    """
    new = {}
    for row in rows:
        key = (row["level"], row["area_code"], row["series_code"])
        count = "" if row["count"] is None else str(row["count"])
        new.setdefault(row["year"], {})[key] = (count, row["status"])
    problems = []
    for year in sorted(set(released) & set(new)):
        if released[year] != new[year]:
            changed = sum(
                released[year].get(k) != new[year].get(k)
                for k in set(released[year]) | set(new[year])
            )
            problems.append(
                Problem(
                    "children/children_counts.csv",
                    "released-year",
                    f"{year} 年的困境儿童人数已经发布,新报送会改变其中 {changed} 个格子。已发布的年份不能修订"
                    "(两个版本相减会暴露被隐藏的人数);确需修订的,须先删除该年已发布的数据并说明原因。",
                    f"{year} was already released and this build would change {changed} of its cells. "
                    "Released years are frozen (two versions of a year can be subtracted); "
                    "a revision needs the year's published data removed first, with a reason.",
                    value=year,
                )
            )
    return problems


def stage(staging, submissions_dir, divisions_dir, progress, today, released=None):
    out = staging / "data"
    spec = schemas.packages()
    ref_tables, problems = reference.load()
    if problems:
        raise InputRejected(problems)
    lookups = reference.lookups(ref_tables)
    geo = divisions.load(divisions_dir)
    progress(
        f"参考数据 {len(ref_tables)} 张表;区划 {len(geo.counties)} 县市、"
        f"{len(geo.townships)} 乡镇、{len(geo.villages)} 村(居)委会"
    )

    top, problems = manifest.read(submissions_dir)
    if problems := problems or outside_repository(submissions_dir, top):
        raise InputRejected(problems)
    for name in ("facilities", "coverage", "children", "progress"):
        (out / name).mkdir(parents=True)
    facilities, children_rows, progress_rows = [], [], []
    tally = aggregate.CoverageTally()
    coverage_writer = TableWriter(
        out / "coverage", "village_coverage", schemas.resource_schema("village_coverage")
    )

    def collect(code, tables):
        source = data_source(top, geo.counties.get(code, {}).get("name", "州直单位"))
        for row in tables.get("facilities", []):
            facilities.append({**row, "data_source": source})
        for row in sorted(
            tables.get("village_coverage", []), key=lambda r: (r["village_code"], r["year"])
        ):
            tally.add(row)
            coverage_writer.write({**row, "data_source": source})
        children_rows.extend(tables.get("children_counts", []))
        for row in tables.get("task_progress", []):
            progress_rows.append({**row, "data_source": source})

    checked = validate.validate(submissions_dir, divisions_dir, today, consume=collect)
    coverage_resource = coverage_writer.close()
    if checked.problems:
        raise InputRejected(checked.problems)
    years = tally.years()
    if not years:
        raise InputRejected(
            [Problem(str(submissions_dir), "no-coverage", "没有覆盖情况数据", "no coverage data")]
        )
    as_of = f"{max(years)}-12-31"
    sample = top.sample
    notice = SAMPLE_NOTICE if sample else "各县市报送"
    progress(f"检查报送 {len(checked.summaries)} 个文件，0 个问题")

    resources = {}
    resources["coverage"] = [
        coverage_resource,
        TableWriter(
            out / "coverage", "coverage_by_area", schemas.resource_schema("coverage_by_area")
        )
        .write_all(tally.rows(geo, lookups["targets"], notice))
        .close(),
    ]
    cells = aggregate.children_cells(children_rows, geo)
    try:
        published, hidden, audit = disclosure.protect(cells, lookups["finest_level"], geo.parent_of)
    except disclosure.CannotProtect as failure:
        raise InputRejected(
            cannot_protect(f, geo, lookups["series_names"]) for f in failure.findings
        ) from failure
    level_rank = {level: i for i, level in enumerate(aggregate.LEVELS)}
    series_rank = {s: i for i, s in enumerate(aggregate.SERIES)}
    ordered = sorted(published, key=lambda k: (k[0], level_rank[k[1]], k[2], series_rank[k[3]]))
    children_rows = [
        {
            "year": key[0],
            "level": key[1],
            "area_code": key[2],
            "series_code": key[3],
            "count": None if key in hidden else published[key],
            "status": "suppressed" if key in hidden else "published",
            "data_source": notice,
        }
        for key in ordered
    ]
    problems = revisions(released or {}, children_rows)
    if problems and not sample:
        raise InputRejected(problems)
    cells_digest = disclosure.digest(children_rows)
    resources["children"] = [
        TableWriter(out / "children", "children_counts", schemas.resource_schema("children_counts"))
        .write_all(children_rows)
        .close()
    ]
    facilities = locations.publishable_rows(
        facilities, lookups["custody_types"], lookups["housed_in"]
    )
    resources["facilities"] = [
        TableWriter(out / "facilities", "facilities", schemas.resource_schema("facilities"))
        .write_all(sorted(facilities, key=lambda r: r["facility_id"]))
        .close()
    ]
    resources["progress"] = [
        TableWriter(out / "progress", "task_progress", schemas.resource_schema("task_progress"))
        .write_all(sorted(progress_rows, key=lambda r: (r["period"], r["task_no"], r["unit_code"])))
        .close()
    ]
    progress(
        f"汇总与披露控制:{len(published)} 个格子,隐藏 {len(hidden)} 个,"
        f"审计{'通过 PASS' if audit.passed else '未通过 FAIL'}"
    )

    (out / "reference").mkdir()
    resources["reference"] = [
        TableWriter(out / "reference", r["name"], schemas.load(r["schema"]))
        .write_all(ref_tables[r["name"]])
        .close()
        for r in spec["packages"]["reference"]["resources"]
    ]
    (out / "divisions").mkdir()
    resources["divisions"] = [
        TableWriter(out / "divisions", "counties", schemas.resource_schema("counties"))
        .write_all(geo.counties[c] for c in sorted(geo.counties))
        .close(),
        TableWriter(out / "divisions", "townships", schemas.resource_schema("townships"))
        .write_all(geo.townships[c] for c in sorted(geo.townships))
        .close(),
        TableWriter(out / "divisions", "villages", schemas.resource_schema("villages"))
        .write_all(geo.villages[c] for c in sorted(geo.villages))
        .close(),
    ]
    for name, package_spec in spec["packages"].items():
        descriptor = package_descriptor(
            name,
            package_spec,
            resources[name],
            sample=sample and package_spec.get("from_submissions", False),
            as_of=as_of,
            policy_source=spec["policy_source"],
            licenses=spec["licenses"],
        )
        if name == "children":
            descriptor["disclosure_audit"] = audit.summary(cells_digest)
        write_descriptor(out / name, descriptor)
    progress(f"写出 {len(spec['packages'])} 个数据包 / wrote the data packages")

    problems = validate_packages(out, spec["packages"])
    if problems:
        raise InputRejected(problems)
    progress("Frictionless 校验全部数据包通过 / every package is valid")
    return {
        "packages": list(spec["packages"]),
        "submitters": len(checked.submitted_on),
        "as_of": as_of,
        "sample": sample,
        "cells": len(published),
        "hidden": len(hidden),
        "facilities": len(facilities),
        "village_years": tally_rows(tally),
        "audit": audit.summary(cells_digest),
        "audit_markdown": audit.markdown(cells_digest),
    }


def cannot_protect(finding, geo, series_names):
    """A Problem naming the cell that no suppression pattern can protect."""
    year, level, area, series = finding.key
    name = geo.area_name(level, area)
    rule_zh = {"pinned": "可被唯一确定", "narrow": "可能取值被缩小", "nonzero": "可被证明不为0"}
    return Problem(
        "children_counts",
        "disclosure-audit",
        f"披露控制无法保护 {year} 年{name}({area})的“{series_names[series]}”人数"
        f"({rule_zh[finding.rule]}):任何补充隐藏都不够,请在更高层级公布该系列或合并地区,"
        "或核对报送的数字",
        f"disclosure control cannot protect the {series} count of {area} in {year} "
        f"({finding.rule}): no further suppression is enough; publish the series at a coarser "
        "level, merge areas or check the submitted figures",
        column=series,
        value=year,
    )


def tally_rows(tally):
    return sum(counts[0] for counts in tally.by_township.values())


def validate_packages(out, packages):
    problems = []
    for name in packages:
        report = Package(str(out / name / "datapackage.json")).validate()
        problems += from_report(
            report,
            f"data/{name}",
            "发布前校验失败(程序错误,请报告):",
            "the package failed validation before publishing (a bug): ",
        )
    return problems


def swap(staged, data_dir, names):
    """Replace each published package folder with the staged one."""
    for name in names:
        target = data_dir / name
        old = data_dir / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(staged / name, target)
        shutil.rmtree(old, ignore_errors=True)
