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

from . import divisions, geometry, manifest, reference, submissions
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


def validate(folder, divisions_dir=DIVISIONS_SOURCES, today=None, consume=None):
    """Everything wrong with a county's folder or a whole submissions folder.

    The checked rows of each submitter go to `consume(code, {table: rows})` when
    given (the build streams them to its staging files, so a nation-sized set is
    never held in memory at once), else into `Validation.tables`.
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
    base = top_folder
    for submitter in found:
        own, problems = read_manifest(submitter.folder, submitter.code)
        out.problems += problems + manifest.timing_problems(own, submitter.folder, today)
        # A reporting year that has not ended is refused above; checking the tables against
        # it would only add a "missing year" for every year up to it.
        declared = [y for y in (own.reporting_year, out.manifest.reporting_year) if y]
        reporting_year = next((y for y in declared if y < today.year), today.year - 1)
        if out.reporting_year not in (None, reporting_year):
            out.problems.append(
                Problem(
                    str(submitter.folder.name),
                    "manifest",
                    f"报告年度 {reporting_year} 与其他报送的 {out.reporting_year} 不同",
                    f"reporting year {reporting_year} differs from {out.reporting_year} elsewhere",
                    value=reporting_year,
                )
            )
        out.reporting_year = reporting_year
        gaps = out.manifest.gaps_of(submitter.code) + own.gaps
        out.gaps += own.gaps
        out.submitted_on[submitter.code] = own.submitted_on
        context = submissions.Context(
            submitter.code,
            base,
            geo,
            out.lookups,
            today,
            reporting_year,
            gaps,
            boundaries,
        )
        tables, problems, summaries = submissions.check_submitter(submitter, context)
        if consume:
            consume(submitter.code, tables)
        else:
            out.tables[submitter.code] = tables
        out.problems += problems
        out.summaries += summaries
    out.gaps = out.manifest.gaps + out.gaps
    out.reporting_year = out.reporting_year or out.manifest.reporting_year or today.year - 1
    if out.whole and found:
        out.problems += missing_submitters(found, geo, out)
    return out


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
