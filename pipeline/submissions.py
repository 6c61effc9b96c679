"""Find the submissions in a folder and check them against the rules a schema cannot say.

Layout of a submissions folder (one sub-folder per submitter, named by its code):

    532301_楚雄市/facilities.csv          one county's facilities
    532301_楚雄市/village_coverage.xlsx   ... its village committees, each year
    532301_楚雄市/children_counts.csv     ... its townships' counts, each year
    532300_州直/task_progress.csv         the prefecture units' task reports

Frictionless checks types and constraints (reading.py); this module checks
what needs the divisions or the reference data: codes that exist and belong to
the submitting county, every village present each year, totals consistent
with their parts, years not in the future, units responsible for the task.
"""

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

from . import reading, schemas
from .paths import PREFECTURE_CODE
from .problems import Problem

COUNTY_TABLES = ("facilities", "village_coverage", "children_counts")
PREFECTURE_TABLES = ("task_progress",)
SUFFIXES = (".csv", ".xlsx")
FOLDER_NAME = re.compile(r"^(\d{6})(?:[_-].*)?$")
CATEGORY_FIELDS = (
    "orphan",
    "hiv",
    "unsupported",
    "severe_disability",
    "severe_illness",
    "low_income",
    "street",
    "guardianship",
)
STATUS_CODES = {
    "已完成": "completed",
    "按期推进": "on_track",
    "滞后": "lagging",
    "逾期未完成": "overdue",
    "未启动": "not_started",
}
MISSING_SHOWN = 5


@dataclass
class Submitter:
    code: str
    folder: Path
    files: dict  # table -> Path


def display_path(path, base):
    try:
        return str(Path(path).relative_to(base))
    except ValueError:
        return str(path)


def discover(folder, divisions):
    """Submitter folders in code order, and problems with the layout itself."""
    folder = Path(folder)
    problems = []
    if not folder.is_dir():
        return [], [
            Problem(str(folder), "no-folder", "报送文件夹不存在", "the folder does not exist")
        ]
    candidates = [folder] if FOLDER_NAME.match(folder.name) else sorted(folder.iterdir())
    base = folder.parent if candidates == [folder] else folder
    submitters = []
    for sub in candidates:
        if not sub.is_dir():
            continue
        match = FOLDER_NAME.match(sub.name)
        shown = display_path(sub, base)
        if not match:
            problems.append(
                Problem(
                    shown,
                    "folder-name",
                    "文件夹名应以6位县市代码开头,如 532301_楚雄市",
                    "folder names must start with a 6-digit county code, e.g. 532301_楚雄市",
                )
            )
            continue
        code = match.group(1)
        if code == PREFECTURE_CODE:
            allowed = PREFECTURE_TABLES
        elif code in divisions.counties:
            allowed = COUNTY_TABLES
        else:
            problems.append(
                Problem(
                    shown,
                    "unknown-code",
                    f"{code} 不是楚雄州的县市代码,也不是州直代码 {PREFECTURE_CODE}",
                    f"{code} is neither a county of Chuxiong nor the prefecture ({PREFECTURE_CODE})",
                    value=code,
                )
            )
            continue
        files = {}
        for path in sorted(sub.iterdir()):
            if path.name.startswith((".", "~$")) or path.suffix.lower() not in SUFFIXES:
                continue
            table = path.stem
            if table not in allowed:
                problems.append(
                    Problem(
                        display_path(path, base),
                        "unknown-file",
                        f"不认识的文件名;本文件夹只接受:{'、'.join(allowed)}(.csv 或 .xlsx)",
                        f"unknown file name; this folder takes: {', '.join(allowed)} "
                        "(.csv or .xlsx)",
                    )
                )
            elif table in files:
                problems.append(
                    Problem(
                        display_path(path, base),
                        "duplicate-file",
                        f"同一张表有两个文件:{files[table].name} 和 {path.name}",
                        f"two files for one table: {files[table].name} and {path.name}",
                    )
                )
            else:
                files[table] = path
        submitters.append(Submitter(code, sub, files))
    return submitters, problems


def not_in_future(year, file, row, column, today):
    if year > today.year:
        return Problem(
            file,
            "future-date",
            f"年份 {year} 晚于今年",
            f"year {year} is in the future",
            row=row,
            column=column,
            value=year,
        )
    return None


def check_facilities(records, county, divisions, reference, file, today):
    problems, rows = [], []
    types = reference["facility_type_codes"]
    for row_number, r in records:
        row_problems = []
        township = divisions.townships.get(r["township_code"])
        if township is None or township["county_code"] != county:
            row_problems.append(
                wrong_area(file, row_number, "所在乡镇代码", r["township_code"], county)
            )
        village = r.get("village_code")
        if (
            village
            and divisions.villages.get(village, {}).get("township_code") != r["township_code"]
        ):
            row_problems.append(
                Problem(
                    file,
                    "unknown-code",
                    "村(居)委会代码不存在,或不属于所填乡镇",
                    "unknown village code, or not in the township given",
                    row=row_number,
                    column="所在村(居)委会代码",
                    value=village,
                )
            )
        if (r.get("longitude") is None) != (r.get("latitude") is None):
            row_problems.append(
                Problem(
                    file,
                    "coordinates",
                    "经度和纬度要么都填,要么都不填",
                    "give both longitude and latitude, or neither",
                    row=row_number,
                    column="经度" if r.get("longitude") is None else "纬度",
                )
            )
        future = not_in_future(r["year_opened"], file, row_number, "建成年份", today)
        if future:
            row_problems.append(future)
        problems.extend(row_problems)
        if row_problems:
            continue
        host = r.get("host_facility_id")
        rows.append(
            {
                "facility_id": f"{county}-{r['facility_id']}",
                "county_code": county,
                "township_code": r["township_code"],
                "village_code": village or None,
                "facility_type": types[r["facility_type"]],
                "name": r["name"],
                "host_facility_id": f"{county}-{host}" if host else None,
                "address": r.get("address"),
                "latitude": r.get("latitude"),
                "longitude": r.get("longitude"),
                "capacity": r.get("capacity"),
                "year_opened": r["year_opened"],
                "services": r.get("services"),
                "hotline": r.get("hotline"),
                "row_number": row_number,
            }
        )
    ids = {row["facility_id"] for row in rows}
    for row in rows:
        if row["host_facility_id"] and (
            row["host_facility_id"] not in ids or row["host_facility_id"] == row["facility_id"]
        ):
            problems.append(
                Problem(
                    file,
                    "unknown-host",
                    "所在机构编号不是本表中另一个机构的编号",
                    "the host facility id is not another facility of this file",
                    row=row["row_number"],
                    column="所在机构编号",
                    value=row["host_facility_id"].split("-", 1)[1],
                )
            )
    for row in rows:
        del row["row_number"]
    return rows, problems


def wrong_area(file, row_number, column, code, county):
    return Problem(
        file,
        "unknown-code",
        f"代码不存在,或不属于本县市 {county}",
        f"unknown code, or not in this county ({county})",
        row=row_number,
        column=column,
        value=code,
    )


def missing_areas(file, table_zh, table_en, year, missing):
    shown = "、".join(missing[:MISSING_SHOWN]) + ("……" if len(missing) > MISSING_SHOWN else "")
    return Problem(
        file,
        "incomplete",
        f"{year} 年缺少 {len(missing)} 个{table_zh}:{shown}",
        f"{year}: {len(missing)} {table_en} missing: {shown}",
        column="年份",
        value=year,
    )


def check_village_coverage(records, county, divisions, file, today):
    problems, rows = [], []
    seen = {}
    for row_number, r in records:
        row_problems = []
        village = divisions.villages.get(r["village_code"])
        if village is None or village["county_code"] != county:
            row_problems.append(
                wrong_area(file, row_number, "村(居)委会代码", r["village_code"], county)
            )
        future = not_in_future(r["year"], file, row_number, "年份", today)
        if future:
            row_problems.append(future)
        opened = r.get("home_year_opened")
        if r["has_childrens_home"] and opened is None:
            row_problems.append(
                Problem(
                    file,
                    "required-if",
                    "建有儿童之家时必须填建成年份",
                    "the year the home opened is required when there is a home",
                    row=row_number,
                    column="儿童之家建成年份",
                )
            )
        elif r["has_childrens_home"] and opened > r["year"]:
            row_problems.append(
                Problem(
                    file,
                    "date-order",
                    f"建成年份 {opened} 晚于统计年度 {r['year']}",
                    f"opened in {opened}, after the reporting year {r['year']}",
                    row=row_number,
                    column="儿童之家建成年份",
                    value=opened,
                )
            )
        elif not r["has_childrens_home"] and opened is not None:
            row_problems.append(
                Problem(
                    file,
                    "contradiction",
                    "填了“否”(没有儿童之家),却填了建成年份",
                    "no children's home, yet an opening year is given",
                    row=row_number,
                    column="儿童之家建成年份",
                    value=opened,
                )
            )
        problems.extend(row_problems)
        seen.setdefault(r["year"], set()).add(r["village_code"])
        if row_problems:
            continue
        rows.append(
            {
                "year": r["year"],
                "village_code": r["village_code"],
                "township_code": village["township_code"],
                "county_code": county,
                "has_childrens_home": r["has_childrens_home"],
                "home_year_opened": opened,
                "supervisors": r["supervisors"],
            }
        )
    expected = divisions.villages_by_county[county]
    for year in sorted(seen):
        missing = [code for code in expected if code not in seen[year]]
        if missing:
            problems.append(missing_areas(file, "村(居)委会", "village committees", year, missing))
    return rows, problems


def check_children_counts(records, county, divisions, file, today):
    problems, rows = [], []
    seen = {}
    for row_number, r in records:
        row_problems = []
        township = divisions.townships.get(r["township_code"])
        if township is None or township["county_code"] != county:
            row_problems.append(
                wrong_area(file, row_number, "乡镇代码", r["township_code"], county)
            )
        future = not_in_future(r["year"], file, row_number, "年份", today)
        if future:
            row_problems.append(future)
        parts = [r[c] for c in CATEGORY_FIELDS]
        if r["total"] < max(parts):
            row_problems.append(
                Problem(
                    file,
                    "total-too-small",
                    f"去重总数 {r['total']} 小于某一类别的人数 {max(parts)}",
                    f"the deduplicated total {r['total']} is below a category count {max(parts)}",
                    row=row_number,
                    column="困境儿童总数(去重)",
                    value=r["total"],
                )
            )
        elif r["total"] > sum(parts):
            row_problems.append(
                Problem(
                    file,
                    "total-too-large",
                    f"去重总数 {r['total']} 大于各类别人数之和 {sum(parts)}",
                    f"the deduplicated total {r['total']} exceeds the sum of categories {sum(parts)}",
                    row=row_number,
                    column="困境儿童总数(去重)",
                    value=r["total"],
                )
            )
        problems.extend(row_problems)
        seen.setdefault(r["year"], set()).add(r["township_code"])
        if not row_problems:
            rows.append({k: r[k] for k in ("year", "township_code", *CATEGORY_FIELDS, "total")})
    expected = divisions.townships_by_county[county]
    for year in sorted(seen):
        missing = [code for code in expected if code not in seen[year]]
        if missing:
            problems.append(missing_areas(file, "乡镇", "townships", year, missing))
    return rows, problems


def check_task_progress(records, reference, file, today):
    problems, rows = [], []
    units = reference["unit_codes"]
    roles = reference["task_roles"]
    for row_number, r in records:
        unit = units.get(r["unit"])
        if unit is None:
            problems.append(
                Problem(
                    file,
                    "unknown-unit",
                    "不是附件所列的责任单位;请按附件写法填写简称,如“州民政局”",
                    "not a unit named in the annex; use its short name, e.g. 州民政局",
                    row=row_number,
                    column="责任单位",
                    value=r["unit"],
                )
            )
            continue
        role = roles.get((r["task_no"], unit))
        row_problems = []
        if role is None:
            row_problems.append(
                Problem(
                    file,
                    "not-responsible",
                    f"该单位不是第 {r['task_no']} 项任务的责任单位",
                    f"this unit is not responsible for task {r['task_no']}",
                    row=row_number,
                    column="责任单位",
                    value=r["unit"],
                )
            )
        reported = r["reported_on"]
        if reported > today or reported.year < r["period"]:
            row_problems.append(
                Problem(
                    file,
                    "date-range",
                    f"报送日期应在报告期 {r['period']} 年开始之后、今天之前",
                    f"the report date must fall between the start of {r['period']} and today",
                    row=row_number,
                    column="报送日期",
                    value=reported.isoformat(),
                )
            )
        future = not_in_future(r["period"], file, row_number, "报告期", today)
        if future:
            row_problems.append(future)
        status = STATUS_CODES[r["status"]]
        percent = r.get("percent_complete")
        if status == "completed" and percent is not None and percent < 100:
            row_problems.append(
                Problem(
                    file,
                    "contradiction",
                    f"状态为“已完成”,完成进度却是 {percent}%",
                    f"status is completed but progress is {percent}%",
                    row=row_number,
                    column="完成进度(%)",
                    value=percent,
                )
            )
        problems.extend(row_problems)
        if row_problems:
            continue
        rows.append(
            {
                "period": r["period"],
                "task_no": r["task_no"],
                "unit_code": unit,
                "role": role,
                "status": status,
                "percent_complete": percent,
                "indicator_name": r.get("indicator_name"),
                "indicator_value": r.get("indicator_value"),
                "narrative": r["narrative"],
                "reported_on": reported,
            }
        )
    return rows, problems


def check_submitter(submitter, divisions, reference, base, today=None):
    """Read and check every file of one submitter: ({table: rows}, problems)."""
    today = today or datetime.date.today()
    tables, problems = {}, []
    expected = PREFECTURE_TABLES if submitter.code == PREFECTURE_CODE else COUNTY_TABLES
    for table in expected:
        path = submitter.files.get(table)
        if path is None:
            problems.append(
                Problem(
                    display_path(submitter.folder, base),
                    "missing-file",
                    f"缺少 {table}.csv 或 {table}.xlsx",
                    f"{table}.csv or {table}.xlsx is missing",
                )
            )
            continue
        file = display_path(path, base)
        records, file_problems = reading.read_table(path, schemas.submission(table), file)
        problems.extend(file_problems)
        if table == "facilities":
            rows, more = check_facilities(
                records, submitter.code, divisions, reference, file, today
            )
        elif table == "village_coverage":
            rows, more = check_village_coverage(records, submitter.code, divisions, file, today)
        elif table == "children_counts":
            rows, more = check_children_counts(records, submitter.code, divisions, file, today)
        else:
            rows, more = check_task_progress(records, reference, file, today)
        problems.extend(more)
        tables[table] = rows
    return tables, problems
