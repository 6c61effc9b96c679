"""Step 4 of a build: what this release is, and the `releases` package that records it.

The staged packages are compared with the ones under data/ (the previous
release) by releases.diff. Identical packages built by the same code are the
previous release again; anything else is a new release whose notes are
computed from the differences. A released year may change only through a
correction (corrections.csv) for real data; the sample is regenerated freely.
The `releases` package carries every release, every change, every correction
and every published version of the children's counts, so that any clone can
audit a corrected year against all of them.
"""

from dataclasses import dataclass

from . import packages, releases, reporting, schemas
from .problems import InputRejected, Problem

HISTORY_FIELDS = ("year", "level", "area_code", "series_code", "count", "status")


@dataclass
class Release:
    release_id: str
    row: dict  # its row of releases.csv
    new: bool  # False: the previous release again
    changes: list  # [(table, year, counts)] against the previous release
    corrections: list  # rows of the corrections it brings


def record(out, intake, children, data_dir, today):
    """Decide the release, write the `releases` package; return the Release."""
    before = intake.published_before
    previous = before.latest
    spec = schemas.packages()["packages"]
    # A first release is compared with nothing: every value is new.
    changes = releases.diff(data_dir if previous else out / "nothing", out, spec)
    if not intake.sample and (problems := undeclared_changes(changes, before, intake.fixes)):
        raise InputRejected(problems)
    if (
        previous
        and not intake.fixes
        and previous.get("builder") == releases.builder()
        and releases.same_files(data_dir, out, spec)
    ):
        release_id, row = previous["release_id"], None  # the same release again
    else:
        release_id = releases.next_id([r["release_id"] for r in before.releases], today)
        row = releases.release_row(
            release_id,
            previous["release_id"] if previous else None,
            today,
            intake.as_of,
            intake.checked.reporting_year,
            intake.sample,
            changes,
            intake.fixes,
            withdrawn(before, children, intake.lookups["series_names"]),
        )
    names = {code: c["name"] for code, c in intake.geo.counties.items()} | {"532300": "州直单位"}
    status = reporting.status_rows(intake.checked, intake.progress_rows, names)
    resources = release_resources(
        out, before, row, release_id, changes, intake.fixes, children, status, intake.geo
    )
    packages.describe(out, "releases", resources, intake, children.audit)
    return Release(
        release_id=release_id,
        row=row or next(r for r in before.releases if r["release_id"] == release_id),
        new=row is not None,
        changes=changes,
        corrections=[c.row() for c in intake.fixes],
    )


def withdrawn(before, children, series_names):
    """Counts the latest earlier release showed that this one hides: "2024年武定县孤儿", ..."""
    out = []
    if not before.children:
        return out
    for row in children.rows():
        if row["count"] is not None:
            continue
        chain = before.children.get(row["year"])
        if not chain:
            continue
        key = (row["year"], row["level"], row["area_code"], row["series_code"])
        if chain[-1][1].get(key) is not None:
            out.append(f"{row['year']}年{row['area_name']}{series_names[row['series_code']]}")
    return out


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


def release_resources(out, before, record_row, release_id, changes, fixes, children, status, geo):
    """The release package: the releases list, the changes and corrections of each, every
    published version of the children's counts, and the submission status.

    The history of the counts is the earlier history followed by this release's rows of
    every year it changed (every year, for a first release), streamed from the staged table."""
    folder = out / "releases"
    release_rows = list(before.releases)
    change_rows = list(before.changes)
    correction_rows = list(before.corrections)
    new_years = set()
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
        new_years = {int(y) for t, y, _ in changes if t == "children_counts" and y.isdigit()}
        first = not before.releases

    def history_rows():
        yield from before.history_rows
        if not record_row:
            return
        for r in children.rows():
            if first or r["year"] in new_years:
                yield {k: r[k] for k in HISTORY_FIELDS} | {"release_id": release_id}

    return [
        packages.table(folder, "releases", release_rows),
        packages.table(folder, "release_changes", change_rows),
        packages.table(
            folder, "corrections", sorted(correction_rows, key=lambda r: r["correction_id"])
        ),
        packages.table(folder, "children_counts_history", history_rows()),
        packages.table(folder, "submission_status", status),
    ]
