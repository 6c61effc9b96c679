"""Check a folder of submissions: the one code path that `check` and `build` both run.

`python -m pipeline check FOLDER` prints what `validate(FOLDER)` finds; the build
calls the same function on its submissions folder and publishes only when it
finds nothing. What the build refuses beyond that depends on what was
published before, not on the folder: a change to a released year without a
correction, a table no suppression can protect, real submissions kept inside
the repository.

This module imports only what reading and checking need (no numpy, no
SQLite), so that the officers' checker carries a small set of packages.
"""

import datetime
from dataclasses import dataclass, field
from pathlib import Path

from . import divisions, geometry, manifest, parallel, reference, reporting, submissions
from .manifest import Manifest
from .manifest import read as read_manifest
from .paths import DIVISIONS_SOURCES, PREFECTURE_CODE
from .problems import Problem


@dataclass
class Validation:
    problems: list = field(default_factory=list)
    summaries: list = field(default_factory=list)  # one FileSummary per file read
    tables: dict = field(default_factory=dict)  # submitter code -> {table: rows}
    manifest: Manifest = field(default_factory=Manifest)
    gaps: list = field(default_factory=list)  # every declared Gap
    submitted_on: dict = field(default_factory=dict)  # submitter code -> {year: date}
    reporting_year: int | None = None
    whole: bool = False
    lookups: dict = field(default_factory=dict)
    divisions: object = None

    @property
    def ok(self):
        return not self.problems


def validate(
    folder,
    divisions_dir=DIVISIONS_SOURCES,
    today=None,
    consume=None,
    collect=None,
    processes=1,
    ticker=None,
):
    """Everything wrong with a county's folder or a whole submissions folder.

    Each submitter's files are checked on their own, in `processes` processes
    (parallel.py). The checked rows of a submitter go to `consume(code, {table:
    rows})` in the process that checked them (the build writes them to its staging
    files there, so a nation-sized set never crosses between processes or sits in
    memory at once); what it returns goes to `collect(code, kept)` in this process.
    Without them the rows are kept in `Validation.tables`.
    """
    today = today or datetime.date.today()
    folder = Path(folder)
    out = Validation()
    reference_tables, problems = reference.load()
    if problems:
        out.problems = problems
        return out
    out.lookups = reference.lookups(reference_tables)
    out.divisions = geo = divisions.load(divisions_dir)
    boundaries = geometry.load(divisions_dir)
    found, out.problems, out.whole = submissions.discover(folder, geo)
    top_folder = folder if out.whole else folder.parent
    out.manifest, problems = read_manifest(top_folder)
    out.problems += problems + manifest.timing_problems(out.manifest, top_folder, today)
    plans = []
    for submitter in found:
        own, problems = read_manifest(submitter.folder, submitter.code)
        out.problems += problems + manifest.timing_problems(own, submitter.folder, today)
        plans.append((submitter, own))
    schedule = out.lookups["schedule"]
    out.reporting_year = expected_year(out.manifest, [own for _, own in plans], schedule, today)
    contexts = []
    for submitter, own in plans:
        gaps = out.manifest.gaps_of(submitter.code) + own.gaps
        out.gaps += own.gaps
        out.submitted_on[submitter.code] = own.submitted_on
        reporting_year = out.reporting_year
        behind = own.reporting_year and own.reporting_year < reporting_year
        if behind and not covered_by_gaps(gaps, own.reporting_year + 1, reporting_year):
            out.problems.append(behind_problem(submitter, own, reporting_year, schedule))
            reporting_year = own.reporting_year  # one problem, not a "missing year" for each
        contexts.append(
            submissions.Context(
                submitter.code,
                top_folder,
                geo,
                out.lookups,
                today,
                reporting_year,
                gaps,
                boundaries,
            )
        )

    def check_one(index):
        submitter, context = found[index], contexts[index]
        tables, problems, summaries = submissions.check_submitter(submitter, context)
        facts = submissions.facts(tables)
        kept = consume(submitter.code, tables) if consume else tables
        return submitter.code, kept, problems, summaries, facts

    if ticker:
        ticker.unit = "个报送文件夹 submitters"
    facts = []
    for code, kept, problems, summaries, found_facts in parallel.ordered_map(
        check_one, range(len(found)), processes, ticker=ticker
    ):
        if collect:
            collect(code, kept)
        elif not consume:
            out.tables[code] = kept
        out.problems += problems
        out.summaries += summaries
        facts.append(found_facts)
    if out.whole:
        out.problems += submissions.across_submitters(facts, top_folder)
    out.gaps = out.manifest.gaps + out.gaps
    if out.whole and found:
        out.problems += missing_submitters(found, geo, out)
    return out


def due_year(schedule_row, today):
    """The latest year whose figures were due by `today` under the reporting schedule."""
    year = today.year - 1
    while reporting.due_on(schedule_row, year) > today:
        year -= 1
    return year


def expected_year(top, owns, schedule, today):
    """The year a set of submissions must reach: what the folder's own submission.yml says,
    else the latest year that is due today, or a later one a submitter declares (a single
    county may send a year early)."""
    if top.reporting_year:
        return top.reporting_year
    declared = [
        o.reporting_year for o in owns if o.reporting_year and o.reporting_year < today.year
    ]
    return max([due_year(schedule["village_coverage"], today), *declared])


def covered_by_gaps(gaps, first, last):
    return all(any(g.covers("all", year) for g in gaps) for year in range(first, last + 1))


def behind_problem(submitter, own, expected, schedule):
    """A submitter whose folder stops before the year that is due: named alone."""
    table = "task_progress" if submitter.code == PREFECTURE_CODE else "village_coverage"
    due = reporting.due_on(schedule[table], expected)
    return Problem(
        f"{submitter.folder.name}/{manifest.NAME}",
        "reporting-year",
        f"{expected} 年度的数据应于 {due.isoformat()} 前报送，本文件夹只报到 {own.reporting_year} 年"
        f"（reporting_year: {own.reporting_year}）：请补上 {expected} 年的数据并把 reporting_year "
        f"改为 {expected}；确实无法报送的，请在 submission.yml 的 gaps 中声明缺报并写明原因",
        f"figures for {expected} were due by {due.isoformat()}, but this folder stops at "
        f"{own.reporting_year}: add {expected} and set reporting_year to {expected}, or declare "
        "the gap with its reason",
        value=own.reporting_year,
    )


def missing_submitters(found, geo, out):
    """In a whole submissions folder, every county and the prefecture units must be there,
    unless a gap covering every table and year says why not."""
    present = {s.code for s in found}
    problems = []
    for code in [*sorted(geo.counties), PREFECTURE_CODE]:
        if code in present:
            continue
        declared = [g for g in out.manifest.gaps_of(code) if g.covers("all", None)]
        if declared:
            continue
        name = geo.counties[code]["name"] if code in geo.counties else "州直单位"
        problems.append(
            Problem(
                f"{code}_{name}",
                "missing-county",
                f"没有{name}（{code}）的报送文件夹；确实无法报送的，请在 submission.yml 的 gaps 中"
                "声明（table: all，year: all）并写明原因",
                f"no folder for {code}; if it cannot be sent, declare a gap (table: all, "
                "year: all) with a reason in submission.yml",
                value=code,
            )
        )
    return problems
