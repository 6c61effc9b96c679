"""Step 2 of a build: the children's counts to publish, under disclosure control.

The counts arrive per township; each prefecture-year is summed up its
hierarchy (aggregate.py), protected (disclosure.py) and put through the release
gate (replay.py) on its own, in a pool of processes, and its rows are written
to the staged children_counts table as soon as they come back, in the order
of the prefecture-years: a nation's 1.4 million cells never sit in memory at
once, and the table is the same whatever the number of processes.

What this step adds to disclosure control is history: a year released before
is reused exactly as published unless corrections name its townships; a
corrected year is protected and audited jointly with every earlier version of
it; and no released cell may change without a correction. Sample data is
exempt: it is synthetic, regenerated at will, and protected afresh by the
current method on every build (its earlier versions were made from other
synthetic figures, or by an earlier method, and link to nothing).
"""

import csv
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import aggregate, corrections, disclosure, parallel, schemas
from .divisions import prefecture_of
from .problems import InputRejected, Problem
from .publish import TableWriter

LEVEL_RANK = {level: i for i, level in enumerate(aggregate.LEVELS)}
SERIES_RANK = {s: i for i, s in enumerate(aggregate.SERIES)}
FIELDS = ("year", "level", "area_code", "series_code", "count")


@dataclass
class Children:
    """The staged children_counts table and what was learnt writing it."""

    resource: dict
    path: Path
    cells: int
    audit: disclosure.Report

    def rows(self):
        """The table's rows, read back one at a time (year and count as numbers)."""
        with open(self.path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                row["year"] = int(row["year"])
                row["count"] = int(row["count"]) if row["count"] else None
                yield row


@dataclass
class Outcome:
    """One prefecture-year, as a worker hands it back."""

    rows: list = field(default_factory=list)  # (year, level, area, series, count or None)
    result: object = None  # disclosure.BlockResult, or None when the year was reused
    reused: dict | None = None  # the published values reused as they were
    moved: list = field(default_factory=list)  # released cells changed with no correction
    findings: list = field(default_factory=list)  # what no suppression could protect


def protect(intake, out, processes=1, ticker=None):
    """Protect and stage the children's counts of the intake; return a Children."""
    geo, lookups = intake.geo, intake.lookups
    finest = lookups["finest_level"]
    by_block = defaultdict(list)
    for row in intake.children_rows:
        county = geo.townships[row[1]]["county_code"]
        by_block[(row[0], prefecture_of(county))].append(row)
    intake.children_rows = []  # each block holds its own now
    history = None if intake.sample else intake.published_before

    def work(key):
        return protect_block(key, by_block[key], geo, finest, history, intake.fixes)

    (out / "children").mkdir(parents=True, exist_ok=True)
    writer = TableWriter(
        out / "children", "children_counts", schemas.resource_schema("children_counts")
    )
    report = disclosure.Report()
    lines, moved, findings, cells = [], defaultdict(list), [], 0
    if ticker:
        ticker.unit = "个州·年 prefecture-years"
    for outcome in parallel.ordered_map(work, sorted(by_block), processes, 4, ticker):
        moved_year = outcome.moved[0][0] if outcome.moved else None
        if moved_year is not None:
            moved[moved_year] += outcome.moved
        findings += outcome.findings
        if outcome.result:
            disclosure.add(report, outcome.result)
        for year, level, area, series, count in outcome.rows:
            writer.write(
                {
                    "year": year,
                    "level": level,
                    "area_code": area,
                    "series_code": series,
                    "area_name": geo.area_name(level, area),
                    "count": count,
                    "status": "published" if count is not None else "suppressed",
                    "data_source": intake.notice,
                }
            )
            lines.append(digest_line(year, level, area, series, count))
            report.published_by_level[level] += 1
            report.hidden_by_level[level] += count is None
        cells += len(outcome.rows)
    resource = writer.close()
    problems = [released_year_problem(y, keys, geo, lookups) for y, keys in sorted(moved.items())]
    problems += [cannot_protect(f, geo, lookups["series_names"]) for f in findings]
    if problems:
        raise InputRejected(problems)
    report.cells = cells
    lines.sort()
    report.digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return Children(resource, writer.path, cells, report)


def digest_line(year, level, area, series, count):
    """One cell as disclosure.digest() writes it."""
    return f"{year}|{level}|{area}|{series}|{'' if count is None else count}|" + (
        "published" if count is not None else "suppressed"
    )


def protect_block(key, township_rows, geo, finest, history, fixes):
    """One prefecture-year: its rows to publish, or why it cannot be published."""
    year, prefecture = key
    cells = aggregate.children_cells(township_rows, geo)
    outcome = Outcome()
    earlier, unchanged = (), ()
    chain = history.children.get(year) if history else None
    if chain:
        latest = {k: v for k, v in chain[-1][1].items() if block_of(k, geo) == prefecture}
        corrected = corrections.township_codes(fixes, year)
        township_keys = {k for k in cells if k[1] == "township"}
        changed = disclosure.changed_keys(
            cells, {k for k in township_keys if k[2] not in corrected}, geo.parent_of
        )
        outcome.moved = [
            k for k, v in latest.items() if v is not None and k not in changed and cells.get(k) != v
        ]
        if outcome.moved:
            return outcome
        if not corrected:
            outcome.reused = latest
            outcome.rows = ordered((k, v) for k, v in latest.items())
            return outcome
        versions = history.versions(year, lambda k: block_of(k, geo)).get(prefecture)
        if versions:
            earlier_versions, links = versions
            earlier = earlier_versions
            unchanged = [*links, {k for k in township_keys if k[2] not in corrected}]
    try:
        result = disclosure.protect_block(key, cells, finest, geo.parent_of, earlier, unchanged)
    except disclosure.CannotProtect as failure:
        outcome.findings = failure.findings
        return outcome
    published = disclosure.publishable(cells, finest)
    outcome.result = result
    outcome.rows = ordered(
        (k, None if k in result.hidden else value) for k, value in published.items()
    )
    outcome.result.hidden = set()  # what crosses back is the rows; the set is not needed
    return outcome


def block_of(key, geo):
    return disclosure.prefecture_key(key, geo.parent_of)


def ordered(items):
    """(year, level, area, series, count) tuples in the table's order within a prefecture-year:
    townships, then counties, then the prefecture; by code; by the series' order."""
    return [
        (k[0], k[1], k[2], k[3], v)
        for k, v in sorted(
            items, key=lambda i: (LEVEL_RANK[i[0][1]], i[0][2], SERIES_RANK[i[0][3]])
        )
    ]


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
