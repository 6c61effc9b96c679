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


def as_year(value, path, what, what_en):
    if isinstance(value, int) and not isinstance(value, bool) and 2017 <= value <= 2100:
        return value, []
    return None, [
        problem(path, f"{what}应是2017到2100之间的年份", f"{what_en} must be a year", value=value)
    ]


def read(folder, submitter=None):
    """(Manifest, problems) of a folder: the top of a submissions folder when `submitter` is
    None, else that submitter's own folder."""
    path = Path(folder) / NAME
    shown = f"{Path(folder).name}/{NAME}"
    manifest = Manifest()
    if not path.exists():
        return manifest, []
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as error:
        # ValueError: a date that does not exist (2026-13-45) fails as YAML reads it
        return manifest, [
            problem(
                shown,
                "不是有效的 YAML（须用 UTF-8 保存；日期要写成真实存在的日期，如 2026-01-19）",
                f"not valid YAML in UTF-8 ({error})",
            )
        ]
    if not isinstance(data, dict):
        return manifest, [
            problem(shown, "应是“键: 值”的列表", "must be a mapping of keys to values")
        ]
    allowed = TOP_KEYS if submitter is None else COUNTY_KEYS
    problems = [
        problem(
            shown,
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
        manifest.reporting_year, more = as_year(
            data["reporting_year"], shown, "reporting_year", "reporting_year"
        )
        problems += more
    gaps = data.get("gaps") or []
    if not isinstance(gaps, list):
        problems.append(
            problem(
                shown,
                "gaps 应是列表：每个缺报一项，以“- table: …”开头",
                "gaps must be a list, one item (starting '- table: ...') per gap",
                gaps if isinstance(gaps, str | int) else None,
            )
        )
        gaps = []
    for entry in gaps:
        gap, more = read_gap(entry, shown, submitter)
        problems += more
        if gap:
            manifest.gaps.append(gap)
    dates = data.get("submitted_on")
    if isinstance(dates, datetime.date):
        dates = {manifest.reporting_year: dates} if manifest.reporting_year else {}
        if not manifest.reporting_year:
            problems.append(
                problem(
                    shown,
                    "只写一个 submitted_on 日期时，要同时写 reporting_year",
                    "a single submitted_on date needs reporting_year",
                )
            )
    if dates is not None and not isinstance(dates, dict | datetime.date):
        problems.append(
            problem(
                shown,
                "submitted_on 应是一个日期（如 2026-01-19），或每行一个“年份: 日期”",
                "submitted_on is one date (2026-01-19) or one 'year: date' per line",
                dates if isinstance(dates, str | int) else None,
            )
        )
        dates = {}
    for year, date in (dates or {}).items():
        year, more = as_year(year, shown, "submitted_on 的年份", "a year of submitted_on")
        problems += more
        if not isinstance(date, datetime.date):
            problems.append(
                problem(shown, "submitted_on 的日期应写成 2026-01-19", "dates as 2026-01-19", date)
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
        year, more = as_year(year, path, "gaps 的 year（或 all）", "a gap's year (or all)")
        problems += more
    else:
        year = None  # every year
    reason = str(entry.get("reason") or "").strip()
    if not reason:
        problems.append(problem(path, "gaps 的每一项要写明原因（reason）", "a gap needs a reason"))
    if problems:
        return None, problems
    return Gap(who, table, year, reason), []


def timing_problems(manifest, folder, today):
    """Dates in a folder's submission.yml that cannot be true on `today`: a reporting year
    that has not ended, a submission dated in the future or before its year was over."""
    shown = f"{Path(folder).name}/{NAME}"
    problems = []
    year = manifest.reporting_year
    if year and year >= today.year:
        problems.append(
            problem(
                shown,
                f"reporting_year {year} 还没有结束：数字截至12月31日，最晚是 {today.year - 1}",
                f"reporting_year {year} has not ended: figures are as of 31 December, "
                f"so at most {today.year - 1}",
                year,
            )
        )
    for year, date in sorted(manifest.submitted_on.items()):
        if date > today:
            problems.append(
                problem(
                    shown,
                    f"{year} 年的报送日期 {date.isoformat()} 晚于今天",
                    f"the submission date of {year}, {date.isoformat()}, is after today",
                    date.isoformat(),
                )
            )
        elif date.year <= year:
            problems.append(
                problem(
                    shown,
                    f"{year} 年的数字截至 {year}-12-31，{year + 1} 年才能报送；"
                    f"报送日期 {date.isoformat()} 不对",
                    f"figures for {year} are as of {year}-12-31: they cannot be sent on "
                    f"{date.isoformat()}",
                    date.isoformat(),
                )
            )
    return problems
