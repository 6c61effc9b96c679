"""One build: submissions in, a release out (packages, database, data zip), or nothing at all.

Everything is written to a staging folder first. Only when every input passed
every rule, every package validated and the database was built does the build
swap the new packages and database in and record the release; a failed build
leaves what was published byte for byte as it was.

The steps, in order: check the submissions (validate.py, the same code as
`check`) and the corrections; aggregate; protect the children's counts
(released years are reused as published, corrected years audited together
with every earlier version); write the packages; compare them with the
previous release; write the release package, the database and the zip; swap;
copy the release into the store.
"""

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
    corrections,
    database,
    disclosure,
    divisions,
    downloads,
    history,
    locations,
    manifest,
    releases,
    reporting,
    schemas,
    validate,
)
from .paths import DATA, DATABASE, DIVISIONS_SOURCES, ROOT, SAMPLE_NOTICE, SAMPLE_SUBMISSIONS
from .problems import InputRejected, Problem, from_report
from .publish import TableWriter, package_descriptor, write_descriptor

ZIP_NAME = "chuxiong-open-data.zip"
STEPS = 6


class Progress:
    """One line per step on stderr, with how long it took."""

    def __init__(self, quiet=False, total=STEPS):
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


def outside_repository(submissions_dir, top):
    """Real submissions hold every count before suppression and the custody sites' addresses:
    they must never be where git could record them. Only sample data may live in the repository."""
    folder = Path(submissions_dir).resolve()
    if top.sample or (folder != ROOT and ROOT not in folder.parents):
        return []
    return [
        Problem(
            str(submissions_dir),
            "inside-repository",
            "真实报送不能放在项目文件夹内（否则可能被 git 记录并公开）；请把报送放在项目以外的文件夹，"
            "如 /srv/chuxiong/submissions，再用 --submissions 指定。只有标明 sample: true 的示例数据可以放在项目内",
            "real submissions must not be inside the project folder (git could record and publish "
            "them); keep them outside, e.g. /srv/chuxiong/submissions, and pass --submissions. "
            "Only sample data (sample: true) may live in the repository",
        )
    ]


def data_source(top, submitter_name):
    return SAMPLE_NOTICE if top.sample else f"{submitter_name}报送"


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
    releases_dir=None,
):
    """Build everything; return a summary dict, or raise InputRejected.

    `releases_dir` is the release store (default: releases/ beside data/'s parent
    when data_dir is the repository's, else a `releases` folder beside data_dir).
    """
    progress = Progress(quiet)
    data_dir, database_path = Path(data_dir), Path(database_path)
    releases_dir = Path(releases_dir or default_store(data_dir))
    data_dir.mkdir(parents=True, exist_ok=True)
    database_path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=data_dir.parent))
    today = today or datetime.date.today()
    try:
        summary = stage(staging, submissions_dir, divisions_dir, data_dir, progress, today)
        staged_db = staging / "chuxiong.db"
        database.build(staging / "data", summary["packages"], staged_db)
        staged_zip = staging / ZIP_NAME
        downloads.build(staged_zip, staging / "data", data_dir / "templates", summary["release"])
        progress("数据库和下载包已建成 / database and zip built")
        release_manifest = releases.manifest(
            summary["release_record"],
            staging / "data",
            {"chuxiong.db": staged_db, ZIP_NAME: staged_zip},
        )
        swap(staging / "data", data_dir, summary["packages"])
        os.replace(staged_db, database_path)
        zip_path = database_path.parent / "downloads" / ZIP_NAME
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged_zip, zip_path)
        report = database_path.parent / "disclosure-audit.md"
        report.write_text(summary.pop("audit_markdown") + "\n", encoding="utf-8")
        releases.publish(
            releases_dir,
            summary["release"],
            {"chuxiong.db": database_path, ZIP_NAME: zip_path},
            release_manifest,
        )
        progress(f"新版本已替换旧版本 / release {summary['release']} swapped in")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary.pop("release_record")
    summary["seconds"] = round(progress.elapsed(), 1)
    summary["database"] = str(database_path)
    summary["releases"] = str(releases_dir)
    return summary


def default_store(data_dir):
    return (
        releases.STORE
        if Path(data_dir).resolve() == DATA.resolve()
        else Path(data_dir).parent / "releases"
    )


def stage(staging, submissions_dir, divisions_dir, data_dir, progress, today):
    out = staging / "data"
    spec = schemas.packages()
    top, problems = manifest.read(submissions_dir)
    if problems := problems or outside_repository(submissions_dir, top):
        raise InputRejected(problems)
    for name in ("facilities", "coverage", "children", "progress", "releases"):
        (out / name).mkdir(parents=True)
    facilities, children_rows, progress_rows = [], [], []
    tally = aggregate.CoverageTally()
    coverage_writer = TableWriter(
        out / "coverage", "village_coverage", schemas.resource_schema("village_coverage")
    )

    def collect(code, tables):
        source = data_source(top, geo_names.get(code, "州直单位"))
        for row in tables.get("facilities", []):
            facilities.append({**row, "data_source": source})
        for row in sorted(
            tables.get("village_coverage", []), key=lambda r: (r["village_code"], r["year"])
        ):
            tally.add(row)
            coverage_writer.write({**row, **names_of(row, geo), "data_source": source})
        children_rows.extend(tables.get("children_counts", []))
        for row in tables.get("task_progress", []):
            progress_rows.append({**row, "data_source": source})

    geo = divisions.load(divisions_dir)
    geo_names = {code: row["name"] for code, row in geo.counties.items()}
    checked = validate.validate(submissions_dir, divisions_dir, today, consume=collect)
    coverage_resource = coverage_writer.close()
    published_before = history.load(data_dir)
    fixes, problems = corrections.read(
        submissions_dir, geo, checked.lookups, published_before.years
    )
    earlier_ids = {c["correction_id"] for c in published_before.corrections}
    fixes = [c for c in fixes if c.correction_id not in earlier_ids]
    if checked.problems or problems:
        raise InputRejected(checked.problems + problems)
    lookups = checked.lookups
    progress(
        f"检查报送 {len(checked.summaries)} 个文件、{len(fixes)} 条更正，0 个问题"
        f" / {len(checked.summaries)} files checked"
    )
    years = tally.years()
    if not years:
        raise InputRejected(
            [Problem(str(submissions_dir), "no-coverage", "没有覆盖情况数据", "no coverage data")]
        )
    as_of = f"{max(years)}-12-31"
    sample = top.sample
    notice = SAMPLE_NOTICE if sample else "各县市报送"

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
    children_rows, audit = protect_children(
        cells, geo, lookups, published_before, fixes, sample, notice
    )
    progress(
        f"汇总与披露控制：{len(children_rows)} 个格子，隐藏 {audit.hidden} 个，"
        f"审计{'通过 PASS' if audit.passed else '未通过 FAIL'}"
    )
    cells_digest = disclosure.digest(children_rows)
    resources["children"] = [
        TableWriter(out / "children", "children_counts", schemas.resource_schema("children_counts"))
        .write_all(children_rows)
        .close()
    ]
    type_names = {code: name for name, code in lookups["facility_type_codes"].items()}
    facilities = [
        {**row, **names_of(row, geo), "facility_type_name": type_names[row["facility_type"]]}
        for row in locations.publishable_rows(
            facilities, lookups["custody_types"], lookups["housed_in"]
        )
    ]
    task_titles = {t["task_no"]: t["title"] for t in lookups["tables"]["tasks"]}
    progress_rows = [
        {
            **row,
            "task_title": task_titles[row["task_no"]],
            "unit_name": lookups["unit_names"][row["unit_code"]],
        }
        for row in progress_rows
    ]
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
    (out / "reference").mkdir()
    reference_tables = lookups["tables"]
    resources["reference"] = [
        TableWriter(out / "reference", r["name"], schemas.load(r["schema"]))
        .write_all(reference_tables[r["name"]])
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
    descriptors = {}
    for name, package_spec in spec["packages"].items():
        if name == "releases":
            continue
        descriptors[name] = write_package(
            out, name, package_spec, resources[name], sample, as_of, spec, audit, cells_digest
        )
    progress(f"写出 {len(descriptors)} 个数据包 / wrote the data packages")

    previous = published_before.latest
    # A first release is compared with nothing: every value is new.
    changes = releases.diff(data_dir if previous else staging / "nothing", out, spec["packages"])
    if not sample and (problems := undeclared_changes(changes, published_before, fixes)):
        raise InputRejected(problems)
    if (
        previous
        and not fixes
        and previous.get("builder") == releases.builder()
        and releases.same_files(data_dir, out, spec["packages"])
    ):
        release_id = previous["release_id"]
        record_row = None  # the same release again
    else:
        release_id = releases.next_id([r["release_id"] for r in published_before.releases], today)
        record_row = releases.release_row(
            release_id,
            previous["release_id"] if previous else None,
            today,
            as_of,
            checked.reporting_year,
            sample,
            changes,
            fixes,
        )
    names = {**geo_names, "532300": "州直单位"}
    resources["releases"] = release_resources(
        out,
        published_before,
        record_row,
        release_id,
        changes,
        fixes,
        children_rows,
        reporting.status_rows(checked, progress_rows, names),
        geo,
        lookups,
    )
    write_package(
        out,
        "releases",
        spec["packages"]["releases"],
        resources["releases"],
        sample,
        as_of,
        spec,
        audit,
        cells_digest,
    )
    problems = validate_packages(out, spec["packages"])
    if problems:
        raise InputRejected(problems)
    progress(f"Frictionless 校验全部数据包通过；版本 {release_id} / every package is valid")
    release_record = {
        "row": record_row
        or next(r for r in published_before.releases if r["release_id"] == release_id),
        "changes": changes,
        "corrections": [c.row() for c in fixes],
    }
    return {
        "packages": list(spec["packages"]),
        "submitters": len(checked.submitted_on),
        "as_of": as_of,
        "sample": sample,
        "release": release_id,
        "new_release": record_row is not None,
        "changes": len(changes),
        "corrections": len(fixes),
        "cells": len(children_rows),
        "hidden": audit.hidden,
        "facilities": len(facilities),
        "village_years": sum(counts[0] for counts in tally.by_township.values()),
        "audit": audit.summary(cells_digest),
        "audit_seconds_by_year": dict(audit.seconds_by_year),
        "audit_markdown": audit.markdown(cells_digest),
        "release_record": release_record,
    }


def names_of(row, geo):
    """The names beside the codes of a row (county, township, village), for the packages."""
    out = {}
    if row.get("county_code"):
        out["county_name"] = geo.counties[row["county_code"]]["name"]
    if row.get("township_code"):
        out["township_name"] = geo.townships[row["township_code"]]["name"]
    if row.get("village_code"):
        out["village_name"] = geo.villages[row["village_code"]]["name"]
    return out


def write_package(out, name, package_spec, resources, sample, as_of, spec, audit, cells_digest):
    descriptor = package_descriptor(
        name,
        package_spec,
        resources,
        sample=sample and package_spec.get("from_submissions", False),
        as_of=as_of,
        policy_source=spec["policy_source"],
        licenses=spec["licenses"],
    )
    if name == "children":
        descriptor["disclosure_audit"] = audit.summary(cells_digest)
    write_descriptor(out / name, descriptor)
    return descriptor


def protect_children(cells, geo, lookups, published_before, fixes, sample, notice):
    """The children's counts to publish, and the audit Report.

    A year released before is reused exactly as published unless corrections name
    its townships; a corrected year is suppressed and audited jointly with every
    earlier version of it; a new year is suppressed on its own. The new counts of a
    released year must agree with every published cell no correction touches.
    """
    finest = lookups["finest_level"]
    frozen, history_by_group, problems = {}, {}, []
    for year in sorted({k[0] for k in cells}):
        chain = published_before.children.get(year)
        if not chain:
            continue
        latest = chain[-1][1]
        corrected = corrections.township_codes(fixes, year)
        changed = disclosure.changed_keys(
            {k: v for k, v in cells.items() if k[0] == year},
            {k for k in cells if k[0] == year and k[1] == "township" and k[2] not in corrected},
            geo.parent_of,
        )
        moved = [
            k for k, v in latest.items() if v is not None and k not in changed and cells.get(k) != v
        ]
        if moved and not sample:
            problems.append(released_year_problem(year, moved, geo, lookups))
            continue
        if not corrected and not moved:
            frozen[year] = latest
            continue
        group_versions = published_before.versions(
            year, lambda key: disclosure.prefecture_key(key, geo.parent_of)
        )
        for prefecture, (earlier, links) in group_versions.items():
            unchanged = {
                k
                for k in cells
                if k[0] == year
                and k[1] == "township"
                and k[2] not in corrected
                and disclosure.prefecture_key(k, geo.parent_of) == prefecture
            }
            history_by_group[(year, prefecture)] = (
                earlier,
                [*links, unchanged if corrected else set()],
            )
    if problems:
        raise InputRejected(problems)
    fresh = {k: v for k, v in cells.items() if k[0] not in frozen}
    try:
        published, hidden, audit = disclosure.protect(
            fresh, finest, geo.parent_of, history=history_by_group
        )
    except disclosure.CannotProtect as failure:
        raise InputRejected(
            cannot_protect(f, geo, lookups["series_names"]) for f in failure.findings
        ) from failure
    for values in frozen.values():
        for key, value in values.items():
            published[key] = value
            if value is None:
                hidden.add(key)
        audit.count(values)
    level_rank = {level: i for i, level in enumerate(aggregate.LEVELS)}
    series_rank = {s: i for i, s in enumerate(aggregate.SERIES)}
    ordered = sorted(published, key=lambda k: (k[0], level_rank[k[1]], k[2], series_rank[k[3]]))
    rows = [
        {
            "year": key[0],
            "level": key[1],
            "area_code": key[2],
            "series_code": key[3],
            "area_name": geo.area_name(key[1], key[2]),
            "count": None if key in hidden else published[key],
            "status": "suppressed" if key in hidden else "published",
            "data_source": notice,
        }
        for key in ordered
    ]
    return rows, audit


def released_year_problem(year, moved, geo, lookups):
    shown = "、".join(
        f"{geo.area_name(k[1], k[2])}{lookups['series_names'][k[3]]}" for k in sorted(moved)[:5]
    )
    return Problem(
        "children_counts",
        "released-year",
        f"{year} 年的困境儿童人数已经发布，新报送改变了 {len(moved)} 个已公布的格子（{shown}……），"
        "但 corrections.csv 没有写明更正了哪些乡镇；请为每个改动的乡镇写一条更正（原因、日期）",
        f"{year} was already released and {len(moved)} published cells would change with no "
        "correction naming their townships; add a correction row (reason, date) for each",
        value=year,
    )


def undeclared_changes(changes, published_before, fixes):
    """Problems for released years of the other tables that changed with no correction."""
    tables = {
        "village_coverage": "village_coverage",
        "coverage_by_area": "village_coverage",
        "task_progress": "task_progress",
    }
    problems = []
    for table, year, counts in changes:
        source = tables.get(table)
        if source is None or not year.isdigit():
            continue
        year = int(year)
        if year not in published_before.years.get(source, ()):
            continue
        if counts["changed"] or counts["removed"]:
            if not any(c.table == source and c.year == year for c in fixes):
                problems.append(
                    Problem(
                        table,
                        "released-year",
                        f"{year} 年的 {table} 已经发布，这次改变了 {counts['changed'] + counts['removed']} 个值，"
                        "但 corrections.csv 中没有这一年这张表的更正记录；请写明更正原因和日期",
                        f"{table} {year} was already released and would change with no correction",
                        value=year,
                    )
                )
    return problems


def release_resources(
    out, before, record_row, release_id, changes, fixes, children_rows, status, geo, lookups
):
    """The release package: the releases list, the changes and corrections of each, every
    published version of the children's counts, and the submission status."""
    folder = out / "releases"
    release_rows = list(before.releases)
    change_rows = list(before.changes)
    correction_rows = list(before.corrections)
    history_rows = list(before.history_rows)
    if record_row:
        release_rows.append(record_row)
        change_rows += [
            {"release_id": release_id, "table_name": table, "year": year, **counts}
            for table, year, counts in changes
        ]
        names = {
            "children_counts": lambda code: geo.townships[code]["name"],
            "village_coverage": lambda code: geo.villages[code]["name"],
            "task_progress": lambda code: f"第{code}项任务",
        }
        correction_rows += [
            {**c.row(), "release_id": release_id, "area_name": names[c.table](c.code)}
            for c in fixes
        ]
        changed_years = {int(y) for t, y, _ in changes if t == "children_counts" and y.isdigit()}
        new_years = changed_years | (
            {r["year"] for r in children_rows} if not before.releases else set()
        )
        history_rows += [
            {k: r[k] for k in ("year", "level", "area_code", "series_code", "count", "status")}
            | {"release_id": release_id}
            for r in children_rows
            if r["year"] in new_years
        ]
    return [
        TableWriter(folder, "releases", schemas.resource_schema("releases"))
        .write_all(release_rows)
        .close(),
        TableWriter(folder, "release_changes", schemas.resource_schema("release_changes"))
        .write_all(change_rows)
        .close(),
        TableWriter(folder, "corrections", schemas.resource_schema("corrections"))
        .write_all(sorted(correction_rows, key=lambda r: r["correction_id"]))
        .close(),
        TableWriter(
            folder, "children_counts_history", schemas.resource_schema("children_counts_history")
        )
        .write_all(history_rows)
        .close(),
        TableWriter(folder, "submission_status", schemas.resource_schema("submission_status"))
        .write_all(status)
        .close(),
    ]


def cannot_protect(finding, geo, series_names):
    """A Problem naming the cell that no suppression pattern can protect."""
    year, level, area, series = finding.key
    name = geo.area_name(level, area)
    rule_zh = {"pinned": "可被唯一确定", "narrow": "可能取值被缩小", "nonzero": "可被证明不为0"}
    version = "" if finding.version == 0 else "（与此前发布的版本一起看）"
    return Problem(
        "children_counts",
        "disclosure-audit",
        f"披露控制无法保护 {year} 年{name}（{area}）的“{series_names[series]}”人数"
        f"（{rule_zh[finding.rule]}）{version}：任何补充隐藏都不够，请在更高层级公布该系列或合并地区，"
        "或核对报送的数字",
        f"disclosure control cannot protect the {series} count of {area} in {year} "
        f"({finding.rule}): no further suppression is enough; publish the series at a coarser "
        "level, merge areas or check the submitted figures",
        column=series,
        value=year,
    )


def validate_packages(out, packages):
    problems = []
    for name in packages:
        report = Package(str(out / name / "datapackage.json")).validate()
        problems += from_report(
            report,
            f"data/{name}",
            "发布前校验失败（程序错误，请报告）：",
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
