"""Who submitted what, when: the submission status of every submitter and period.

The dates come from each county's submission.yml (`submitted_on`) and, for the
prefecture units, from the latest 报送日期 of their task reports; the deadlines
from the reference table reporting_schedule (this portal's convention, not the
policy's). A declared gap is published with its reason. Days overdue for a
period not yet submitted depend on the day a page is read, so the portal
computes them when it shows the page; only a late submission's days are fixed.
"""

import datetime

from .paths import PREFECTURE_CODE

COUNTY_TABLE, UNITS_TABLE = "village_coverage", "task_progress"


def due_on(schedule_row, year):
    month, day = map(int, schedule_row["due_month_day"].split("-"))
    return datetime.date(year + 1, month, day)


def status_rows(checked, progress_rows, names):
    """submission_status rows for every submitter folder and period up to the reporting year."""
    schedule = checked.lookups["schedule"]
    task_dates = {}
    for row in progress_rows:
        period = row["period"]
        task_dates[period] = max(task_dates.get(period, row["reported_on"]), row["reported_on"])
    rows = []
    for code in sorted(set(checked.submitted_on) | {g.submitter for g in checked.gaps}):
        table = UNITS_TABLE if code == PREFECTURE_CODE else COUNTY_TABLE
        dates = task_dates if code == PREFECTURE_CODE else checked.submitted_on.get(code, {})
        first = schedule[table]["first_period"]
        for year in range(first, checked.reporting_year + 1):
            due = due_on(schedule[table], year)
            gap = next(
                (g for g in checked.gaps if g.submitter == code and g.year in (year, None)),
                None,
            )
            submitted = dates.get(year)
            if gap:
                status, days = "gap", None
            elif submitted is None:
                status, days = "unknown", None
            elif submitted > due:
                status, days = "late", (submitted - due).days
            else:
                status, days = "on_time", None
            rows.append(
                {
                    "submitter_code": code,
                    "submitter_name": names.get(code, "州直单位"),
                    "year": year,
                    "due_on": due,
                    "submitted_on": submitted,
                    "status": status,
                    "days_late": days,
                    "gap_reason": gap.reason if gap else None,
                }
            )
    return rows
