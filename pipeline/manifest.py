"""submission.yml: what a submissions folder says about itself.

At the top of a submissions folder (written by whoever assembles the build):

    sample: true                  # synthetic sample data: labelled as such everywhere
    reporting_year: 2025          # the last year the submissions must cover
    gaps:                         # what is knowingly missing, and why (shown on the portal)
      - county: "532329"
        table: all                # or one table
        year: 2025                # or all
        reason: 尚未报送

In a county's own folder (written by its data officer):

    reporting_year: 2025
    submitted_on: 2026-01-19      # or one date per year, one per line: "2025: 2026-01-19"
    gaps:
      - table: children_counts
        year: 2025
        reason: 数据尚在核对

(Block style, one key per line: in a {flow, mapping} an ASCII comma inside a
reason would silently cut it, so unknown keys are refused.)

Without reporting_year, a folder covers every year up to last year: figures are
reported as of 31 December, so a year is complete once it has ended.
"""

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .problems import Problem

NAME = "submission.yml"
TABLES = ("facilities", "village_coverage", "children_counts", "task_progress")
ALL_TABLES = ALL_YEARS = "all"
TOP_KEYS = {"sample", "notice", "notice_en", "seed", "scale", "reporting_year", "gaps"}
COUNTY_KEYS = {"reporting_year", "submitted_on", "gaps"}
GAP_KEYS = {"county", "table", "year", "reason"}


@dataclass(frozen=True)
class Gap:
    """A table-year a submitter knowingly did not send."""

    submitter: str
    table: str  # a table, or "all"
    year: int | None  # None: every year
    reason: str

    def covers(self, table, year):
        return self.table in (table, ALL_TABLES) and self.year in (year, None)


@dataclass
class Manifest:
    sample: bool = False
    notice: str | None = None
    reporting_year: int | None = None
    gaps: list = field(default_factory=list)
    submitted_on: dict = field(default_factory=dict)  # year -> date

    def gaps_of(self, submitter):
        return [gap for gap in self.gaps if gap.submitter == submitter]


def problem(path, zh, en, value=None):
    return Problem(str(path), "manifest", zh, en, value=value)


def as_year(value, path, what):
    if isinstance(value, int) and 2017 <= value <= 2100:
        return value, []
    return None, [
        problem(path, f"{what}应是2017到2100之间的年份", f"{what} must be a year", value=value)
    ]


def read(folder, submitter=None):
    """(Manifest, problems) of a folder: the top of a submissions folder when `submitter` is
    None, else that submitter's own folder."""
    path = Path(folder) / NAME
    manifest = Manifest()
    if not path.exists():
        return manifest, []
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        return manifest, [
            problem(path, "不是有效的 YAML（UTF-8）", f"not valid YAML in UTF-8 ({error})")
        ]
    if not isinstance(data, dict):
        return manifest, [
            problem(path, "应是“键: 值”的列表", "must be a mapping of keys to values")
        ]
    allowed = TOP_KEYS if submitter is None else COUNTY_KEYS
    problems = [
        problem(
            path,
            f"不认识的键“{key}”；可用：{'、'.join(sorted(allowed))}",
            f"unknown key {key!r}; allowed: {', '.join(sorted(allowed))}",
            value=key,
        )
        for key in data
        if key not in allowed
    ]
    manifest.sample = data.get("sample") is True
    manifest.notice = data.get("notice")
    if "reporting_year" in data:
        manifest.reporting_year, more = as_year(data["reporting_year"], path, "reporting_year")
        problems += more
    for entry in data.get("gaps") or []:
        gap, more = read_gap(entry, path, submitter)
        problems += more
        if gap:
            manifest.gaps.append(gap)
    dates = data.get("submitted_on")
    if isinstance(dates, datetime.date):
        dates = {manifest.reporting_year: dates} if manifest.reporting_year else {}
        if not manifest.reporting_year:
            problems.append(
                problem(
                    path,
                    "只写一个 submitted_on 日期时，要同时写 reporting_year",
                    "a single submitted_on date needs reporting_year",
                )
            )
    for year, date in (dates or {}).items():
        year, more = as_year(year, path, "submitted_on 的年份")
        problems += more
        if not isinstance(date, datetime.date):
            problems.append(
                problem(path, "submitted_on 的日期应写成 2026-01-19", "dates as 2026-01-19", date)
            )
        elif year:
            manifest.submitted_on[year] = date
    return manifest, problems


def read_gap(entry, path, submitter):
    if not isinstance(entry, dict):
        return None, [problem(path, "gaps 的每一项应是“键: 值”", "each gap is a mapping", entry)]
    problems = [
        problem(
            path,
            f"gaps 中不认识的键“{key}”（原因里的英文逗号会把它截断：请一项一行，或改用中文逗号）",
            f"unknown key {key!r} in a gap (an ASCII comma in a reason cuts it: one key a line)",
            value=key,
        )
        for key in entry
        if key not in GAP_KEYS
    ]
    who = str(entry.get("county", submitter or ""))
    if submitter is None and not who:
        problems.append(problem(path, "gaps 的每一项要写 county（县市代码）", "a gap needs county"))
    table = entry.get("table", ALL_TABLES)
    if table not in (*TABLES, ALL_TABLES):
        problems.append(
            problem(
                path,
                f"gaps 的 table 应是 {'、'.join(TABLES)} 或 all",
                f"a gap's table is one of {', '.join(TABLES)} or all",
                table,
            )
        )
    year = entry.get("year")
    if year != ALL_YEARS:
        year, more = as_year(year, path, "gaps 的 year（或 all）")
        problems += more
    else:
        year = None  # every year
    reason = str(entry.get("reason") or "").strip()
    if not reason:
        problems.append(problem(path, "gaps 的每一项要写明原因（reason）", "a gap needs a reason"))
    if problems:
        return None, problems
    return Gap(who, table, year, reason), []
