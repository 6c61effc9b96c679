"""Find the submissions in a folder and check them against the rules a schema cannot say.

Layout of a submissions folder (one sub-folder per submitter, named by its code):

    submission.yml                         what the folder is (sample?), gaps declared
    532301_楚雄市/facilities.csv          one county's facilities
    532301_楚雄市/village_coverage.xlsx   ... its village committees, each year
    532301_楚雄市/children_counts.csv     ... its townships' counts, each year
    532301_楚雄市/submission.yml          ... when it was submitted (optional)
    532300_州直单位/task_progress.csv     the prefecture units' task reports

Frictionless checks types and constraints (reading.py); this module checks
what needs the divisions or the reference data: codes that exist and belong to
the submitting county, every village and township present in every year up to
the reporting year, totals consistent with their parts, names matching codes,
points inside the county, units responsible for the task.
"""

import dataclasses
import datetime
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from . import geometry, manifest, reading, schemas
from .paths import PREFECTURE_CODE
from .problems import FileSummary, Problem

COUNTY_TABLES = ("facilities", "village_coverage", "children_counts")
PREFECTURE_TABLES = ("task_progress",)
SUFFIXES = (".csv", ".xlsx")
# Files a data officer may save by mistake, and how to turn them into one the build reads.
OTHER_FORMATS = {
    ".xls": "旧版 Excel 工作簿（.xls）",
    ".xlsm": "带宏的 Excel 工作簿（.xlsm）",
    ".xlsb": "Excel 二进制工作簿（.xlsb）",
    ".et": "WPS 表格文件（.et）",
    ".ods": "OpenDocument 表格（.ods）",
    ".numbers": "Numbers 表格（.numbers）",
    ".txt": "文本文件（.txt）",
    ".tsv": "制表符分隔的文本（.tsv）",
    ".json": "JSON 文件",
    ".pdf": "PDF 文件",
    ".docx": "Word 文档",
    ".doc": "Word 文档",
}
IGNORED_FILES = {manifest.NAME, "README.md", "说明.txt", "desktop.ini", "thumbs.db"}
FOLDER_NAME = re.compile(r"^(\d{6})(?:[_-].*)?$")
FORMER_CODES = {"532331": ("532302", "禄丰县", "禄丰市", 2021)}
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
LONGITUDE, LATITUDE = "经度", "纬度"


@dataclass
class Submitter:
    code: str
    folder: Path
    files: dict  # table -> Path


@dataclass
class Context:
    """What the rules of one submitter need."""

    code: str
    base: Path
    divisions: object
    reference: dict
    today: datetime.date
    reporting_year: int
    gaps: list = field(default_factory=list)
    boundaries: dict = field(default_factory=dict)

    def gap(self, table, year):
        return next((gap for gap in self.gaps if gap.covers(table, year)), None)

    def expected_years(self, table):
        first = self.reference["schedule"][table]["first_period"]
        return list(range(first, self.reporting_year + 1)) if first else []


def display_path(path, base):
    try:
        return str(Path(path).relative_to(base))
    except ValueError:
        return str(path)


def former_code_problem(file, code, row=None, column=None):
    """A code from before 禄丰县 became 禄丰市, explained."""
    new, old_name, new_name, year = FORMER_CODES[code[:6]]
    return Problem(
        file,
        "former-code",
        f"{code[:6]} 是{old_name}的旧代码：{year}年撤县设市后改为 {new}（{new_name}），"
        f"其乡镇和村（居）委会代码也改用 {new} 开头的现行代码；请按区划表改用现行代码",
        f"{code[:6]} is the former code of {old_name}; since {year} it is {new} ({new_name}), "
        f"and its townships and villages use codes starting {new}: use the current codes",
        row=row,
        column=column,
        value=code,
    )


def not_a_file(path, shown):
    """A folder, link or device where a submission file should be: never read, never skipped
    in silence (a link could bring in any file of the machine that runs the build)."""
    if path.is_symlink():
        zh = "这是一个快捷方式（符号链接），不是文件本身：请把文件本身放进来"
        en = "this is a link, not the file itself: put the file itself here"
    elif path.is_dir():
        zh = "这是一个子文件夹：检查和构建不读子文件夹里的文件；请把报送文件直接放在县市文件夹里，其他东西移到别处"
        en = "this is a sub-folder, and files in sub-folders are not read: put the submission "
        en += "files directly in the county folder and move anything else elsewhere"
    else:
        zh = "这不是普通文件：请放入 .csv 或 .xlsx 文件"
        en = "this is not a regular file: put a .csv or .xlsx file here"
    return Problem(shown, "not-a-file", zh, en, value=path.name)


def table_files(folder, allowed, base):
    """{table: path} of the readable files in a submitter's folder, and problems with the rest."""
    files, problems = {}, []
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "~$")) or path.name in IGNORED_FILES:
            continue
        shown = display_path(path, base)
        if path.is_symlink() or not path.is_file():
            problems.append(not_a_file(path, shown))
            continue
        stem, suffix = path.name.split(".", 1)[0], path.suffix.lower()
        if suffix not in SUFFIXES:
            kind = OTHER_FORMATS.get(suffix, f"“{suffix or '无扩展名'}”格式的文件")
            if stem in allowed or suffix in OTHER_FORMATS:
                problems.append(
                    Problem(
                        shown,
                        "file-format",
                        f"找到的是{kind}，构建只读 .csv 和 .xlsx：请在 Excel 或 WPS 中打开，"
                        "“另存为”Excel 工作簿（.xlsx）或“CSV UTF-8（逗号分隔）”",
                        f"this is a {suffix or 'suffix-less'} file; only .csv and .xlsx are read: "
                        "open it and save as an Excel workbook (.xlsx) or 'CSV UTF-8'",
                        value=path.name,
                    )
                )
            continue
        if stem not in allowed:
            problems.append(
                Problem(
                    shown,
                    "unknown-file",
                    f"不认识的文件名；本文件夹只接受：{'、'.join(allowed)}（.csv 或 .xlsx）",
                    f"unknown file name; this folder takes: {', '.join(allowed)} (.csv or .xlsx)",
                    value=path.name,
                )
            )
        elif stem in files:
            problems.append(
                Problem(
                    shown,
                    "duplicate-file",
                    f"同一张表有两个文件：{files[stem].name} 和 {path.name}",
                    f"two files for one table: {files[stem].name} and {path.name}",
                )
            )
        else:
            files[stem] = path
    return files, problems


def discover(folder, divisions):
    """(submitters in code order, problems with the layout, whole?) of a folder.

    A folder named by a code is one submitter; any other folder holds one
    sub-folder per submitter and is a whole set of submissions (`whole`), in which
    every county must then be present.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return (
            [],
            [Problem(str(folder), "no-folder", "文件夹不存在", "the folder does not exist")],
            False,
        )
    tables = COUNTY_TABLES + PREFECTURE_TABLES
    whole = not FOLDER_NAME.match(folder.name)
    if whole and any(p.name.split(".", 1)[0] in tables for p in folder.iterdir() if p.is_file()):
        return (
            [],
            [
                Problem(
                    folder.name,
                    "folder-name",
                    "这个文件夹里直接放着报送文件，但文件夹名没有以6位县市代码开头；"
                    "请改名为“县市代码_县市名”，如 532301_楚雄市（州直单位用 532300_州直单位）",
                    "this folder holds submission files but its name does not start with a "
                    "6-digit county code; rename it like 532301_楚雄市 (532300 for prefecture units)",
                    value=folder.name,
                )
            ],
            False,
        )
    candidates = sorted(p for p in folder.iterdir() if p.is_dir()) if whole else [folder]
    base = folder if whole else folder.parent
    submitters, problems = [], []
    for sub in candidates:
        if sub.name.startswith("."):
            continue
        shown = display_path(sub, base)
        match = FOLDER_NAME.match(sub.name)
        if not match:
            problems.append(
                Problem(
                    shown,
                    "folder-name",
                    "文件夹名应以6位县市代码开头，如 532301_楚雄市",
                    "folder names must start with a 6-digit county code, e.g. 532301_楚雄市",
                    value=sub.name,
                )
            )
            continue
        code = match.group(1)
        if code in FORMER_CODES:
            problems.append(former_code_problem(shown, code))
            continue
        if code == PREFECTURE_CODE:
            allowed = PREFECTURE_TABLES
        elif code in divisions.counties:
            allowed = COUNTY_TABLES
        else:
            problems.append(
                Problem(
                    shown,
                    "unknown-code",
                    f"{code} 不是楚雄州的县市代码，也不是州直代码 {PREFECTURE_CODE}",
                    f"{code} is neither a county of Chuxiong nor the prefecture ({PREFECTURE_CODE})",
                    value=code,
                )
            )
            continue
        files, more = table_files(sub, allowed, base)
        problems += more
        submitters.append(Submitter(code, sub, files))
    if not submitters and not problems:
        problems.append(
            Problem(
                str(folder),
                "no-submissions",
                "没有找到任何报送：请选择县市文件夹（如 532301_楚雄市），或包含各县市文件夹的文件夹",
                "no submissions found: choose a county folder (e.g. 532301_楚雄市) or the folder "
                "holding the county folders",
            )
        )
    return submitters, problems, whole


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


def wrong_area(file, row_number, column, code, county):
    if code[:6] in FORMER_CODES:
        return former_code_problem(file, code, row_number, column)
    return Problem(
        file,
        "unknown-code",
        f"代码不存在，或不属于本县市 {county}",
        f"unknown code, or not in this county ({county})",
        row=row_number,
        column=column,
        value=code,
    )


def same_name(given, official):
    def plain(text):
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))

    return plain(given) == plain(official)


def name_mismatch(file, row_number, column, given, code, official):
    return Problem(
        file,
        "name-mismatch",
        f"名称“{given}”与代码 {code} 不符（该代码是“{official}”）；请核对代码",
        f"the name {given!r} does not match code {code} (which is {official!r}); check the code",
        row=row_number,
        column=column,
        value=given,
    )


def swapped_coordinates(table, file):
    """One problem for a row whose longitude and latitude were typed the wrong way round,
    in place of the two out-of-range problems it would otherwise get."""
    by_row = defaultdict(dict)
    for problem in table.problems:
        if problem.column in (LONGITUDE, LATITUDE) and problem.rule in ("minimum", "maximum"):
            by_row[problem.row][problem.column] = problem
    for row, found in by_row.items():
        if len(found) < 2:
            continue
        try:
            longitude, latitude = float(found[LONGITUDE].value), float(found[LATITUDE].value)
        except (TypeError, ValueError):
            continue
        if 100 <= latitude <= 103 and 24 <= longitude <= 27:
            table.problems = [p for p in table.problems if p not in found.values()]
            table.problems.append(
                Problem(
                    file,
                    "coordinates-swapped",
                    f"经度和纬度填反了：经度 {longitude}、纬度 {latitude}；楚雄州的经度约为101到102.5，"
                    "纬度约为24.5到26.5，请对调两列",
                    f"longitude and latitude are swapped ({longitude}, {latitude}); in Chuxiong "
                    "longitude is about 101 to 102.5 and latitude 24.5 to 26.5",
                    row=row,
                    column=f"{LONGITUDE}、{LATITUDE}",
                    value=f"{longitude}, {latitude}",
                )
            )


def outside_county(r, county, ctx, file, row_number):
    """A problem if the point is not in (or within the tolerance of) its county's outline."""
    if county not in ctx.boundaries or r.get("longitude") is None:
        return None
    point = (float(r["longitude"]), float(r["latitude"]))
    if geometry.distance_metres(ctx.boundaries[county][1], point) <= geometry.TOLERANCE_METRES:
        return None
    elsewhere = geometry.county_at(ctx.boundaries, point)
    where_zh = f"在{ctx.boundaries[elsewhere][0]}境内" if elsewhere else "在楚雄州以外"
    where_en = f"in {elsewhere}" if elsewhere else "outside Chuxiong"
    return Problem(
        file,
        "outside-county",
        f"坐标不在本县市（{ctx.boundaries[county][0]}），而{where_zh}；请核对经纬度"
        "（WGS-84 十进制度，不要用高德、百度地图上的坐标）",
        f"the point is not in this county but {where_en}; check it (WGS-84 decimal degrees, "
        "not Gaode or Baidu coordinates)",
        row=row_number,
        column=f"{LONGITUDE}、{LATITUDE}",
        value=f"{r['longitude']}, {r['latitude']}",
    )


def check_facilities(table, ctx, file):
    problems, rows = [], []
    county, divisions = ctx.code, ctx.divisions
    types = ctx.reference["facility_type_codes"]
    swapped_coordinates(table, file)
    for row_number, r in table.records:
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
                    "村（居）委会代码不存在，或不属于所填乡镇",
                    "unknown village code, or not in the township given",
                    row=row_number,
                    column="所在村（居）委会代码",
                    value=village,
                )
            )
        if (r.get("longitude") is None) != (r.get("latitude") is None):
            row_problems.append(
                Problem(
                    file,
                    "coordinates",
                    "经度和纬度要么都填，要么都不填",
                    "give both longitude and latitude, or neither",
                    row=row_number,
                    column=LONGITUDE if r.get("longitude") is None else LATITUDE,
                )
            )
        elif outside := outside_county(r, county, ctx, file, row_number):
            row_problems.append(outside)
        future = not_in_future(r["year_opened"], file, row_number, "建成年份", ctx.today)
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
    problems += duplicate_facilities(rows, ctx, file) + [
        p for row in rows if (p := hotline_problem(row, file))
    ]
    ids = {row["facility_id"] for row in rows}
    for row in rows:
        host = row["host_facility_id"]
        if host and (host not in ids or host == row["facility_id"]):
            problems.append(
                Problem(
                    file,
                    "unknown-host",
                    "所在机构编号不是本表中另一个机构的编号",
                    "the host facility id is not another facility of this file",
                    row=row["row_number"],
                    column="所在机构编号",
                    value=host.split("-", 1)[1],
                )
            )
    for row in rows:
        del row["row_number"]
    return rows, problems


DUPLICATE_METRES = 50
# Telephone numbers a facility may publish: a landline with its area code (an extension after
# 转 or -), a short government service line (12345, 12349, 12355 ...), a 400 or 800 number.
LANDLINE = re.compile(r"0\d{2,3}-?[2-9]\d{6,7}(?:(?:-|转)\d{1,6})?")
SERVICE_LINE = re.compile(r"1\d{4}")
BUSINESS_LINE = re.compile(r"[48]00-?\d{3}-?\d{4}")
MOBILE = re.compile(r"1[3-9]\d{9}")
AREA_CODE_LOST = re.compile(r"([1-9]\d{2,3})-?(\d{7,8})")


def hotline_problem(row, file):
    """A Problem when the hotline is not a number the public can call at an office, with the
    likely cause: a leading 0 that Excel dropped, a person's mobile number."""
    hotline = (row.get("hotline") or "").strip()
    if not hotline:
        return None
    if any(p.fullmatch(hotline) for p in (LANDLINE, SERVICE_LINE, BUSINESS_LINE)):
        return None
    if MOBILE.fullmatch(hotline):
        zh = (
            "这是一个手机号：个人的手机号不能作为机构热线公布；请填机构的固定电话（带区号，"
            "如 0878-3123456）或 12345 之类的服务热线"
        )
        en = "a mobile number: a person's phone is not published as a hotline; give the office's line"
    elif (lost := AREA_CODE_LOST.fullmatch(hotline)) and len(hotline.replace("-", "")) in (10, 11):
        fixed = f"0{lost.group(1)}-{lost.group(2)}"
        zh = f"区号前的 0 丢了（Excel 把电话当成了数字）：应为 {fixed}；请把这一列设为“文本”格式后重新填写"
        en = f"the leading 0 of the area code is lost (Excel took it for a number): {fixed}"
    else:
        zh = "不是可以拨打的电话号码：请填带区号的固定电话（如 0878-3123456）、12345 之类的服务热线，或 400/800 电话"
        en = "not a callable number: give a landline with its area code, a 12345-style line or a 400/800 number"
    return Problem(
        file,
        "hotline",
        zh,
        en,
        row=row["row_number"],
        column="服务热线",
        value=hotline,
    )


def duplicate_facilities(rows, ctx, file):
    """The same facility twice under two ids (same type and township, and the same name or
    a point within DUPLICATE_METRES), and a second of a type a county has one of."""
    from .locations import distance_metres, point

    problems, seen, by_type = [], [], defaultdict(list)
    limits = ctx.reference["per_county"]
    type_names = {code: name for name, code in ctx.reference["facility_type_codes"].items()}
    for row in rows:
        name = re.sub(r"\s+", "", unicodedata.normalize("NFKC", row["name"]))
        here = point(row)
        for other, other_name, other_point in seen:
            if other["facility_type"] != row["facility_type"]:
                continue
            if other["township_code"] != row["township_code"]:
                continue
            close = here and other_point and distance_metres(here, other_point) < DUPLICATE_METRES
            if name == other_name or close:
                problems.append(
                    Problem(
                        file,
                        "duplicate-facility",
                        f"与第 {other['row_number']} 行（编号 {other['facility_id'].split('-', 1)[1]}）"
                        "是同一类型、同一乡镇"
                        + ("、同名" if name == other_name else "、坐标相距不到50米")
                        + "的机构，像是同一个机构填了两次：请删去一行；确是两个机构的，请写清各自的名称",
                        f"looks like the facility of row {other['row_number']} again under another id "
                        "(same type, township and name or point): delete one, or name them apart",
                        row=row["row_number"],
                        column="机构编号",
                        value=row["facility_id"].split("-", 1)[1],
                    )
                )
                break
        seen.append((row, name, here))
        by_type[row["facility_type"]].append(row)
        limit = limits.get(row["facility_type"])
        if limit and len(by_type[row["facility_type"]]) > limit:
            first = by_type[row["facility_type"]][0]
            problems.append(
                Problem(
                    file,
                    "one-per-county",
                    f"每个县市只有 {limit} 个{type_names[row['facility_type']]}（县级机构，"
                    f"见数据报送页）：第 {first['row_number']} 行已经填了一个；是同一个机构的，请删去一行，"
                    "把信息合并到一行",
                    f"a county has {limit} {row['facility_type']}; row {first['row_number']} is one "
                    "already: delete the second or merge them",
                    row=row["row_number"],
                    column="机构类型",
                    value=type_names[row["facility_type"]],
                )
            )
    return problems


def shown(codes):
    return "、".join(codes[:MISSING_SHOWN]) + ("……" if len(codes) > MISSING_SHOWN else "")


def completeness(table, ctx, file, name, area_field, expected, what_zh, what_en):
    """Every expected area in every year from the table's first period to the reporting year,
    unless a gap is declared; and no year after the reporting year.

    Counted over every row read, rows with problems included, so that a row
    rejected for a bad value is not reported missing too. When a row's year could
    not be read, no year is checked; when only its area code could not be, that
    year's areas are not (the unreadable cell is reported, and may be the area
    that would otherwise be called missing).
    """
    keys = table.keys
    if not keys or any(key.get("year") is None or area_field not in key for key in keys):
        return []  # an unreadable file, a missing column or an unreadable year: said already
    seen, unreadable = defaultdict(set), set()
    for key in table.keys:
        seen[key["year"]].add(key[area_field])
        if key[area_field] is None:
            unreadable.add(key["year"])
    problems = []
    years = ctx.expected_years(name)
    for year in years:
        gap = ctx.gap(name, year)
        if gap and year in seen:
            problems.append(
                Problem(
                    file,
                    "manifest",
                    f"submission.yml 声明 {year} 年缺报（{gap.reason}），但文件中有 {year} 年的数据；"
                    "请删去缺报声明或删去这些行",
                    f"submission.yml declares {year} missing, yet the file has {year} rows",
                    column="年份",
                    value=year,
                )
            )
        elif gap:
            continue
        elif year not in seen:
            problems.append(
                Problem(
                    file,
                    "missing-year",
                    f"缺少 {year} 年的数据：应包含 {years[0]} 到 {years[-1]} 年的每一年；"
                    "确实无法报送的，请在 submission.yml 中声明缺报并写明原因",
                    f"no rows for {year}: every year from {years[0]} to {years[-1]} is expected; "
                    "declare a gap in submission.yml if it cannot be sent",
                    column="年份",
                    value=year,
                )
            )
        elif year not in unreadable:
            missing = [code for code in expected if code not in seen[year]]
            if missing:
                problems.append(
                    Problem(
                        file,
                        "incomplete",
                        f"{year} 年缺少 {len(missing)} 个{what_zh}：{shown(missing)}",
                        f"{year}: {len(missing)} {what_en} missing: {shown(missing)}",
                        column="年份",
                        value=year,
                    )
                )
    for year in sorted(y for y in seen if y > ctx.reporting_year and y <= ctx.today.year):
        problems.append(
            Problem(
                file,
                "date-range",
                f"{year} 年晚于报告年度 {ctx.reporting_year}：报告年度结束后才报送该年的数据",
                f"{year} is after the reporting year {ctx.reporting_year}: send it once it ends",
                column="年份",
                value=year,
            )
        )
    return problems


def check_village_coverage(table, ctx, file):
    problems, rows = [], []
    county, divisions = ctx.code, ctx.divisions
    opened_first = {}  # village -> (year, opening year) of its first row with a home
    for row_number, r in sorted(table.records, key=lambda item: item[1]["year"]):
        row_problems = []
        village = divisions.villages.get(r["village_code"])
        if village is None or village["county_code"] != county:
            row_problems.append(
                wrong_area(file, row_number, "村（居）委会代码", r["village_code"], county)
            )
        elif r.get("village_name") and not same_name(r["village_name"], village["name"]):
            row_problems.append(
                name_mismatch(
                    file,
                    row_number,
                    "村（居）委会名称",
                    r["village_name"],
                    r["village_code"],
                    village["name"],
                )
            )
        future = not_in_future(r["year"], file, row_number, "年份", ctx.today)
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
                    "填了“否”（没有儿童之家），却填了建成年份",
                    "no children's home, yet an opening year is given",
                    row=row_number,
                    column="儿童之家建成年份",
                    value=opened,
                )
            )
        elif r["has_childrens_home"]:
            first = opened_first.setdefault(r["village_code"], (r["year"], opened))
            if first[1] != opened:
                row_problems.append(
                    Problem(
                        file,
                        "opening-year-changed",
                        f"同一个儿童之家，{first[0]} 年填的建成年份是 {first[1]}，这一行是 {opened}",
                        f"the same home was opened in {first[1]} by the {first[0]} row, "
                        f"in {opened} by this one",
                        row=row_number,
                        column="儿童之家建成年份",
                        value=opened,
                    )
                )
        problems.extend(row_problems)
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
    problems += completeness(
        table,
        ctx,
        file,
        "village_coverage",
        "village_code",
        divisions.villages_by_county[county],
        "村（居）委会",
        "village committees",
    )
    return rows, problems


def check_children_counts(table, ctx, file):
    problems, rows = [], []
    county, divisions = ctx.code, ctx.divisions
    for row_number, r in table.records:
        row_problems = []
        township = divisions.townships.get(r["township_code"])
        if township is None or township["county_code"] != county:
            row_problems.append(
                wrong_area(file, row_number, "乡镇代码", r["township_code"], county)
            )
        elif r.get("township_name") and not same_name(r["township_name"], township["name"]):
            row_problems.append(
                name_mismatch(
                    file,
                    row_number,
                    "乡镇名称",
                    r["township_name"],
                    r["township_code"],
                    township["name"],
                )
            )
        future = not_in_future(r["year"], file, row_number, "年份", ctx.today)
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
                    column="困境儿童总数（去重）",
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
                    column="困境儿童总数（去重）",
                    value=r["total"],
                )
            )
        problems.extend(row_problems)
        if not row_problems:
            rows.append({k: r[k] for k in ("year", "township_code", *CATEGORY_FIELDS, "total")})
    problems += completeness(
        table,
        ctx,
        file,
        "children_counts",
        "township_code",
        divisions.townships_by_county[county],
        "乡镇",
        "townships",
    )
    return rows, problems


def check_task_progress(table, ctx, file):
    problems, rows, numbers = [], [], []
    units = ctx.reference["unit_codes"]
    role_of = ctx.reference["role_of"]
    for row_number, r in table.records:
        unit = units.get(r["unit"])
        if unit is None:
            problems.append(
                Problem(
                    file,
                    "unknown-unit",
                    "不是附件所列的责任单位或其承接单位；请填单位简称，如“州民政局”“州卫健委”",
                    "not a unit named in the annex or its successor; use its short name, "
                    "e.g. 州民政局 or 州卫健委",
                    row=row_number,
                    column="责任单位",
                    value=r["unit"],
                )
            )
            continue
        role = role_of(r["task_no"], unit, r["period"])
        row_problems = []
        if role is None:
            row_problems.append(
                Problem(
                    file,
                    "not-responsible",
                    f"该单位在 {r['period']} 年不是第 {r['task_no']} 项任务的责任单位",
                    f"this unit is not responsible for task {r['task_no']} in {r['period']}",
                    row=row_number,
                    column="责任单位",
                    value=r["unit"],
                )
            )
        reported = r["reported_on"]
        if reported > ctx.today or reported.year < r["period"]:
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
        future = not_in_future(r["period"], file, row_number, "报告期", ctx.today)
        if future:
            row_problems.append(future)
        status = STATUS_CODES[r["status"]]
        percent = r.get("percent_complete")
        if status == "completed" and percent is not None and percent < 100:
            row_problems.append(
                Problem(
                    file,
                    "contradiction",
                    f"状态为“已完成”，完成进度却是 {percent}%",
                    f"status is completed but progress is {percent}%",
                    row=row_number,
                    column="完成进度（%）",
                    value=percent,
                )
            )
        if clash := due_date_clash(status, r["period"], ctx.reference["task_due"][r["task_no"]]):
            row_problems.append(
                Problem(
                    file,
                    "contradiction",
                    clash[0],
                    clash[1],
                    row=row_number,
                    column="进展状态",
                    value=r["status"],
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
        numbers.append(row_number)
    problems += progress_fell(rows, numbers, ctx, file)
    problems += task_completeness(table, ctx, file)
    return rows, problems


def progress_fell(rows, numbers, ctx, file):
    """完成进度 is how much of a task is done so far: it does not go down from one period to
    the next for the same task and unit (a unit renamed in the 2019 reform is the same)."""
    lineage = {
        c["unit_code"]: c["successor_code"]
        for c in ctx.reference["tables"]["unit_changes"]
        if c["kind"] == "renamed"
    }
    last, problems = {}, []
    for row, number in sorted(zip(rows, numbers, strict=True), key=lambda p: p[0]["period"]):
        percent = row["percent_complete"]
        if percent is None:
            continue
        key = (row["task_no"], lineage.get(row["unit_code"], row["unit_code"]))
        before = last.get(key)
        if before and percent < before[1]:
            problems.append(
                Problem(
                    file,
                    "progress-fell",
                    f"第 {row['task_no']} 项任务的完成进度从 {before[0]} 年的 {before[1]}% 降到 "
                    f"{row['period']} 年的 {percent}%：完成进度是累计完成的比例，不会下降；请核对",
                    f"task {row['task_no']}: progress fell from {before[1]}% ({before[0]}) to "
                    f"{percent}% ({row['period']}); it is cumulative, so check it",
                    row=number,
                    column="完成进度（%）",
                    value=percent,
                )
            )
        last[key] = (row["period"], percent)
    return problems


def due_date_clash(status, period, due):
    """(zh, en) when a status contradicts the task's due date (reference table tasks), else None.

    The portal's own flags rest on these: after its due date a task is either completed
    or overdue; a task with no due date cannot be overdue, nor one before its due year.
    """
    if due is not None and period > due.year and status not in ("completed", "overdue"):
        return (
            f"该任务的完成时限是 {due.isoformat()}，{period} 年的状态只能是“已完成”或“逾期未完成”",
            f"the task was due {due.isoformat()}: in {period} it is completed or overdue",
        )
    if status == "overdue" and due is None:
        return (
            "该任务没有完成时限（附件未规定），不能是“逾期未完成”；进度落后请填“滞后”",
            "the task has no due date, so it cannot be overdue: use lagging",
        )
    if status == "overdue" and period < due.year:
        return (
            f"该任务的完成时限是 {due.isoformat()}，{period} 年还不能是“逾期未完成”",
            f"the task is due {due.isoformat()}: it cannot be overdue in {period}",
        )
    return None


def task_completeness(table, ctx, file):
    """Every responsible unit reports on each of its tasks for every period."""
    if not table.keys_known:
        return []
    units, expected = ctx.reference["unit_codes"], ctx.reference["expected_reporters"]
    names = ctx.reference["unit_names"]
    seen = {(k["period"], k["task_no"], units.get(k["unit"])) for k in table.keys}
    problems = []
    for period in ctx.expected_years("task_progress"):
        if ctx.gap("task_progress", period):
            continue
        missing = [
            f"第{task}项 {names[unit]}"
            for task, unit in expected(period)
            if (period, task, unit) not in seen
        ]
        if missing:
            problems.append(
                Problem(
                    file,
                    "missing-year" if len(missing) == len(expected(period)) else "incomplete",
                    f"{period} 年缺少 {len(missing)} 条任务进展：{shown(missing)}",
                    f"{period}: {len(missing)} task reports missing: {shown(missing)}",
                    column="报告期",
                    value=period,
                )
            )
    return problems


CHECKS = {
    "facilities": check_facilities,
    "village_coverage": check_village_coverage,
    "children_counts": check_children_counts,
    "task_progress": check_task_progress,
}


def check_submitter(submitter, ctx):
    """Read and check every file of one submitter: ({table: rows}, problems, [FileSummary])."""
    tables, problems, summaries = {}, [], []
    expected = PREFECTURE_TABLES if submitter.code == PREFECTURE_CODE else COUNTY_TABLES
    for name in expected:
        path = submitter.files.get(name)
        if path is None:
            formats = [p for p in submitter.folder.iterdir() if p.name.split(".", 1)[0] == name]
            if not formats and not all(ctx.gap(name, y) for y in ctx.expected_years(name) or [0]):
                problems.append(
                    Problem(
                        display_path(submitter.folder, ctx.base),
                        "missing-file",
                        f"缺少 {name}.csv 或 {name}.xlsx",
                        f"{name}.csv or {name}.xlsx is missing",
                    )
                )
            continue
        file = display_path(path, ctx.base)
        table = reading.read_table(path, schemas.submission(name), file)
        rows, more = CHECKS[name](table, ctx, file)
        more = [
            dataclasses.replace(p, letter=table.letters[p.column])
            if p.letter is None and p.column in table.letters
            else p
            for p in more
        ]
        file_problems = table.problems + more
        problems += file_problems
        summaries.append(FileSummary(file, table.rows, len(file_problems)))
        tables[name] = rows
    return tables, problems, summaries


HOMES_TASK = 8  # 附件第8项: children's homes in half the communities by 2020, a supervisor in each


def facts(tables):
    """What the rules across submitters need from one submitter's checked rows, kept small:
    {"coverage": {year: [villages, without a supervisor, with a home]}, "homes_task": [...]}."""
    coverage = defaultdict(lambda: [0, 0, 0])
    for row in tables.get("village_coverage", []):
        counts = coverage[row["year"]]
        counts[0] += 1
        counts[1] += row["supervisors"] == 0
        counts[2] += bool(row["has_childrens_home"])
    homes_task = [
        (row["period"], row["status"])
        for row in tables.get("task_progress", [])
        if row["task_no"] == HOMES_TASK
    ]
    return {"coverage": dict(coverage), "homes_task": homes_task}


def across_submitters(all_facts, base):
    """Rules that need every submitter: task 8 cannot be reported complete while the counties'
    own figures show villages without a supervisor that year."""
    coverage = defaultdict(lambda: [0, 0, 0])
    for found in all_facts:
        for year, counts in found["coverage"].items():
            for i, value in enumerate(counts):
                coverage[year][i] += value
    problems = []
    for found in all_facts:
        for period, status in found["homes_task"]:
            villages, unsupervised, _ = coverage.get(period, (0, 0, 0))
            if status == "completed" and unsupervised:
                problems.append(
                    Problem(
                        f"{PREFECTURE_CODE}_州直单位/task_progress",
                        "contradiction",
                        f"第 {HOMES_TASK} 项任务 {period} 年报为“已完成”，但各县市报送的 {period} 年"
                        f"覆盖情况中还有 {unsupervised} 个村（居）委会没有儿童福利督导员（共 {villages} 个）："
                        "请核对进展状态，或核对县市的覆盖情况",
                        f"task {HOMES_TASK} is reported completed for {period}, but the counties' own "
                        f"figures show {unsupervised} of {villages} village committees without a "
                        "supervisor that year",
                        column="进展状态",
                        value=period,
                    )
                )
    return problems
