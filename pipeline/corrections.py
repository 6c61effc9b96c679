"""corrections.csv: the corrections of already published years that a build brings.

A released year is never changed in silence. Whoever corrects a figure of a
year already published adds a row here, at the top of the submissions folder:
which table, year and township, village or task, why, and when. The build
publishes every correction in the corrections log, lists in the release notes
what changed, and audits the corrected year of the children's counts jointly
with every earlier version of it (pipeline/disclosure.py). A change to a
released year that no correction covers is refused.
"""

from dataclasses import dataclass
from pathlib import Path

from . import reading, schemas
from .problems import Problem

NAME = "corrections"


@dataclass(frozen=True)
class Correction:
    correction_id: str
    corrected_on: object
    table: str
    year: int
    code: str
    reason: str  # one of the schema's fixed reasons: free text could name a child or a count
    source: str
    note: str | None = None  # for reviewers; never published

    def row(self):
        return {
            "correction_id": self.correction_id,
            "corrected_on": self.corrected_on,
            "table_name": self.table,
            "year": self.year,
            "code": self.code,
            "reason": self.reason,
            "source": self.source,
        }


def find(folder):
    for suffix in (".csv", ".xlsx"):
        path = Path(folder) / f"{NAME}{suffix}"
        if path.exists():
            return path
    return None


def read(folder, divisions, lookups, released_years):
    """([Correction], problems) from the folder's corrections file (none if there is no file).

    `released_years` maps a table to the years already published: a correction of a year
    never published is a mistake (there is nothing to correct).
    """
    path = find(folder)
    if path is None:
        return [], []
    table = reading.read_table(path, schemas.submission(NAME), path.name)
    problems = list(table.problems)
    out = []
    for row_number, r in table.records:
        problem = check_row(r, divisions, lookups, released_years, path.name, row_number)
        if problem:
            problems.append(problem)
            continue
        out.append(Correction(**{k: r.get(k) for k in Correction.__dataclass_fields__}))
    return out, problems


def check_row(r, divisions, lookups, released_years, file, row_number):
    code, table = r["code"], r["table"]
    known = {
        "children_counts": code in divisions.townships,
        "village_coverage": code in divisions.villages,
        "task_progress": code.isdigit() and int(code) in lookups["task_due"],
    }[table]
    if not known:
        what = {"children_counts": "9位乡镇代码", "village_coverage": "12位村（居）委会代码"}
        return Problem(
            file,
            "correction",
            f"{table} 的更正要填{what.get(table, '任务序号（1到15）')}",
            f"a {table} correction needs a {'township code' if table == 'children_counts' else 'village code' if table == 'village_coverage' else 'task number'}",
            row=row_number,
            column="乡镇、村（居）委会代码或任务序号",
            value=code,
        )
    if r["year"] not in released_years.get(table, ()):
        return Problem(
            file,
            "correction",
            f"{r['year']} 年的 {table} 还没有发布过，不需要更正记录；新数据直接报送即可",
            f"{table} for {r['year']} was never published: there is nothing to correct",
            row=row_number,
            column="年份或报告期",
            value=r["year"],
        )
    return None


def township_codes(corrections, year):
    """Townships whose children's counts a set of corrections changes in one year."""
    return {c.code for c in corrections if c.table == "children_counts" and c.year == year}
