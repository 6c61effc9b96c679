"""Write the blank submission templates and their field guide from the Table Schemas.

    python scripts/build_templates.py                       # writes data/templates/
    python scripts/build_templates.py --reporting-year 2026 # county templates for 2017-2026

data/templates/ holds the blank CSV and XLSX templates, the field guide, and, under
counties/, one folder per county (named as its submission folder) with workbooks
prefilled with its townships and villages for every year up to the reporting year:
codes, names and years locked, dropdowns and number ranges as Excel data validation.

Generated, never edited by hand, so a template cannot disagree with the rules
the build checks. Output is byte-identical from run to run.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import divisions, reference, schemas  # noqa: E402
from pipeline.manifest import read as read_manifest  # noqa: E402
from pipeline.paths import DATA, PREFECTURE_CODE, SAMPLE_SUBMISSIONS  # noqa: E402
from pipeline.xlsx import save_reproducibly  # noqa: E402

OUT = DATA / "templates"
TYPE_ZH = {
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否",
    "date": "日期",
    "string": "文本",
}
WHO = {
    "facilities": "县市民政局",
    "village_coverage": "县市民政局（汇总各乡镇儿童福利服务工作站的数据）",
    "children_counts": "县市民政局（汇总各乡镇的台账人数，只报人数）",
    "task_progress": "州直各责任单位（由州民政局汇总）",
}
SUBMITTERS = {"county": "县市民政局", "prefecture_units": "州直责任单位"}
GUIDE = Path(__file__).with_name("templates") / "field_guide.md"


def rule_text(field):
    """The constraints of a field, in words a data officer reads."""
    c = field.get("constraints", {})
    parts = []
    if c.get("required"):
        parts.append("必填")
    if "enum" in c:
        parts.append("可选值\uff1a" + "、".join(map(str, c["enum"])))
    if field["type"] == "boolean":
        parts.append("填“是”或“否”")
    if "minimum" in c and "maximum" in c:
        parts.append(f"{c['minimum']} 到 {c['maximum']}")
    elif "minimum" in c:
        parts.append(f"不小于 {c['minimum']}")
    if "pattern" in c:
        digits = {"[0-9]{6}": "6位数字", "[0-9]{9}": "9位数字", "[0-9]{12}": "12位数字"}
        parts.append(digits.get(c["pattern"], f"格式 {c['pattern']}"))
    if "maxLength" in c:
        parts.append(f"不超过 {c['maxLength']} 字")
    return "\uff1b".join(parts)


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def field_guide(reporting_year):
    """The field guide (data/templates/README.md), from scripts/templates/field_guide.md."""
    import jinja2
    import yaml

    tables = []
    for name in schemas.SUBMISSION_TABLES:
        schema = schemas.submission(name)
        titles = {f["name"]: f["title"] for f in schema["fields"]}
        tables.append(
            {
                "name": name,
                "title": schema["title"],
                "description": schema["description"].split(" / ")[0],
                "key": "、".join(titles[k] for k in schema["primaryKey"]),
                "fields": [
                    {
                        "title": cell(f["title"]),
                        "name": f["name"],
                        "type": TYPE_ZH[f["type"]],
                        "rule": cell(rule_text(f)),
                        "description": cell(f.get("description", "").split(" / ")[0]),
                    }
                    for f in schema["fields"]
                ],
            }
        )
    reference_tables, _ = reference.load()
    rules = yaml.safe_load((ROOT / "schemas" / "problem_rules.yaml").read_text("utf-8"))
    environment = jinja2.Environment(keep_trailing_newline=True)
    return environment.from_string(GUIDE.read_text("utf-8")).render(
        tables=tables,
        who=WHO,
        submitters=SUBMITTERS,
        schedule=reference_tables["reporting_schedule"],
        rules=[{**r, "fix": cell(r["fix"])} for r in rules],
        reporting_year=reporting_year,
    )


def header_cell(field):
    return field["title"]


def validation_for(field, lists):
    """The Excel data validation that enforces a field's Table Schema constraints, or None.

    `lists` maps a field name to a cell range on the 代码表 sheet holding its allowed
    values (codes of this county's townships, the units' names); other enums are short
    enough to write inline.
    """
    from openpyxl.worksheet.datavalidation import DataValidation

    c = field.get("constraints", {})
    title = field["title"]
    if field["name"] in lists:
        rule = DataValidation(type="list", formula1=lists[field["name"]], allow_blank=True)
    elif "enum" in c:
        rule = DataValidation(
            type="list", formula1='"' + ",".join(map(str, c["enum"])) + '"', allow_blank=True
        )
    elif field["type"] == "boolean":
        rule = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    elif field["type"] in ("integer", "number") and ("minimum" in c or "maximum" in c):
        rule = DataValidation(
            type="whole" if field["type"] == "integer" else "decimal",
            operator="between",
            formula1=str(c.get("minimum", -(10**9))),
            formula2=str(c.get("maximum", 10**9)),
            allow_blank=True,
        )
    elif field["type"] == "date":
        low = c.get("minimum", "2017-01-01").split("-")
        high = c.get("maximum", "2100-12-31").split("-")
        rule = DataValidation(
            type="date",
            operator="between",
            formula1=f"DATE({low[0]},{int(low[1])},{int(low[2])})",
            formula2=f"DATE({high[0]},{int(high[1])},{int(high[2])})",
            allow_blank=True,
        )
    elif "maxLength" in c:
        rule = DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(c["maxLength"]),
            allow_blank=True,
        )
    else:
        return None
    rule.showErrorMessage = True
    rule.errorTitle = f"{title}填写有误"
    rule.error = rule_text(field) or "请按填写说明填写"
    rule.showInputMessage = True
    rule.promptTitle = title
    rule.prompt = (rule_text(field) or field.get("description", "").split(" / ")[0])[:250]
    return rule


def write_xlsx(path, schema, rows=(), locked=(), codes=None, max_rows=2000, protect=None):
    """A template workbook: the 数据 sheet (header, prefilled rows, validations on every
    fillable cell), a 代码表 sheet for long dropdowns, and the 填写说明 sheet.

    Columns in `locked` (prefilled codes, names and years) cannot be edited: the sheet is
    protected (without a password) and only the other cells are unlocked. A county's own
    templates are protected even without locked columns (`protect`), so that the header
    cannot be changed; the blank templates are not, since a county elsewhere may need more
    rows than they unlock.
    """
    protect = bool(locked) if protect is None else protect
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill, Protection

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "数据"
    fields = schema["fields"]
    sheet.append([header_cell(f) for f in fields])
    for row in rows:
        sheet.append([row.get(f["name"]) for f in fields])
    last = max(len(rows) + 1, max_rows if not rows else 1)
    lists = {}
    if codes:
        table = workbook.create_sheet("代码表")
        for column, (name, values) in enumerate(sorted(codes.items()), start=1):
            letter = table.cell(row=1, column=column).column_letter
            table.cell(row=1, column=column, value=name)
            for index, value in enumerate(values, start=2):
                table.cell(row=index, column=column, value=value)
            lists[name] = f"代码表!${letter}$2:${letter}${len(values) + 1}"
        table.sheet_state = "hidden"
    grey = PatternFill("solid", fgColor="EEEEEE")
    for column, field in enumerate(fields, start=1):
        letter = sheet.cell(row=1, column=column).column_letter
        sheet.cell(row=1, column=column).font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(12, 2 * len(field["title"]))
        text = field["name"].endswith(("_code", "_id")) or field["name"] == "hotline"
        for row in range(2, last + 1):
            cell = sheet.cell(row=row, column=column)
            if text:
                cell.number_format = "@"
            if field["name"] in locked:
                cell.fill = grey
            else:
                cell.protection = Protection(locked=False)
        if field["name"] not in locked:
            rule = validation_for(field, lists)
            if rule is not None:
                rule.add(f"{letter}2:{letter}{last}")
                sheet.add_data_validation(rule)
    sheet.freeze_panes = "A2"
    if protect:
        sheet.protection.sheet = True
        sheet.protection.formatRows = False
        sheet.protection.formatColumns = False
        sheet.protection.autoFilter = False
        sheet.protection.insertRows = False
        sheet.protection.deleteRows = False
        sheet.auto_filter.ref = f"A1:{sheet.cell(row=1, column=len(fields)).column_letter}{last}"
    guide = workbook.create_sheet("填写说明")
    guide.append(["列（表头）", "英文字段名", "类型", "规则", "说明"])
    for f in fields:
        guide.append(
            [f["title"], f["name"], TYPE_ZH[f["type"]], rule_text(f), f.get("description", "")]
        )
    guide.append([])
    for line in INSTRUCTIONS:
        guide.append([line])
    save_reproducibly(workbook, path)


INSTRUCTIONS = [
    "灰色的列（年份、代码、名称）已按区划预填并锁定，不要改动；只填白色的格子，下拉列表和数值范围会提示正确的写法。",
    "只填汇总人数，不得填写任何儿童的姓名、身份证号、住址等个人信息。",
    "以 = + - @ 开头的文字会被当作公式，检查时会被拒绝；不要用公式，计算结果请“选择性粘贴为数值”。",
    "填好后保存为 .xlsx（不要改文件名），放在“县市代码_县市名”文件夹中，先用报送检查工具检查，再报送。",
]


def county_templates(out, reporting_year):
    """One folder per submitter, named as its submission folder, with prefilled workbooks."""
    geo = divisions.load()
    tables, _ = reference.load()
    lookups = reference.lookups(tables)
    schedule = lookups["schedule"]
    for code in sorted(geo.counties):
        folder = out / "counties" / f"{code}_{geo.counties[code]['name']}"
        folder.mkdir(parents=True, exist_ok=True)
        townships = geo.townships_by_county[code]
        first = schedule["village_coverage"]["first_period"]
        write_xlsx(
            folder / "village_coverage.xlsx",
            schemas.submission("village_coverage"),
            rows=[
                {"year": year, "village_code": v, "village_name": geo.villages[v]["name"]}
                for year in range(first, reporting_year + 1)
                for v in geo.villages_by_county[code]
            ],
            locked={"year", "village_code", "village_name"},
        )
        first = schedule["children_counts"]["first_period"]
        write_xlsx(
            folder / "children_counts.xlsx",
            schemas.submission("children_counts"),
            rows=[
                {"year": year, "township_code": t, "township_name": geo.townships[t]["name"]}
                for year in range(first, reporting_year + 1)
                for t in townships
            ],
            locked={"year", "township_code", "township_name"},
        )
        write_xlsx(
            folder / "facilities.xlsx",
            schemas.submission("facilities"),
            codes={
                "township_code": townships,
                "village_code": geo.villages_by_county[code],
            },
            max_rows=200,
            protect=True,
        )
    folder = out / "counties" / f"{PREFECTURE_CODE}_州直单位"
    folder.mkdir(parents=True, exist_ok=True)
    first = schedule["task_progress"]["first_period"]
    names = lookups["unit_names"]
    write_xlsx(
        folder / "task_progress.xlsx",
        schemas.submission("task_progress"),
        rows=[
            {"period": period, "task_no": task, "unit": names[unit]}
            for period in range(first, reporting_year + 1)
            for task, unit in lookups["expected_reporters"](period)
        ],
        locked={"period", "task_no", "unit"},
    )


def sample_reporting_year():
    manifest, _ = read_manifest(SAMPLE_SUBMISSIONS)
    return manifest.reporting_year


def build(out=OUT, reporting_year=None):
    out.mkdir(parents=True, exist_ok=True)
    for table in schemas.SUBMISSION_TABLES:
        schema = schemas.submission(table)
        header = ",".join(f["title"] for f in schema["fields"]) + "\r\n"
        (out / f"{table}.csv").write_bytes(header.encode("utf-8-sig"))
        write_xlsx(out / f"{table}.xlsx", schema)
    reporting_year = reporting_year or sample_reporting_year()
    county_templates(out, reporting_year)
    (out / "README.md").write_text(field_guide(reporting_year), encoding="utf-8")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reporting-year",
        type=int,
        help="the last year the county templates cover (default: the bundled sample's)",
    )
    args = parser.parse_args()
    print(f"wrote {build(reporting_year=args.reporting_year)}")


if __name__ == "__main__":
    main()
