"""Write the blank submission templates and their field guide from the Table Schemas.

    python scripts/build_templates.py      # writes data/templates/

Generated, never edited by hand, so a template cannot disagree with the rules
the build checks. Output is byte-identical from run to run.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import schemas  # noqa: E402
from pipeline.paths import DATA  # noqa: E402
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
    "village_coverage": "县市民政局(汇总各乡镇儿童福利服务工作站的数据)",
    "children_counts": "县市民政局(汇总各乡镇的台账人数,只报人数)",
    "task_progress": "州直各责任单位(由州民政局汇总)",
}


def rule_text(field):
    """The constraints of a field, in words a data officer reads."""
    c = field.get("constraints", {})
    parts = []
    if c.get("required"):
        parts.append("必填")
    if "enum" in c:
        parts.append("可选值:" + "、".join(map(str, c["enum"])))
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
    return ";".join(parts)


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def field_guide():
    lines = [
        "# 数据报送模板填写说明",
        "",
        "本说明由 `scripts/build_templates.py` 根据表结构(Table Schema)自动生成,"
        "与构建时的校验规则一致。",
        "",
        "## 怎样报送",
        "",
        "1. 每个县市一个文件夹,文件夹名以6位县市代码开头,如 `532301_楚雄市`;"
        "州直单位的任务进展放在 `532300_州直单位` 文件夹。",
        "2. 下载本文件夹中的空白模板(CSV 或 XLSX 均可),不要改动表头,从第2行起每行填一条。",
        "3. CSV 可以是 UTF-8(含 Excel 的“CSV UTF-8”)或 GBK 编码;XLSX 只读第一个工作表,表头必须在第1行。",
        "4. 只填汇总人数,**不得填写任何儿童的姓名、身份证号、住址等个人信息**。",
        "5. 报送前先运行 `python -m pipeline check 你的文件夹` 检查;有问题时会列出文件、行、列、值和违反的规则。",
        "",
    ]
    for table in schemas.SUBMISSION_TABLES:
        schema = schemas.submission(table)
        key = "、".join(
            next(f["title"] for f in schema["fields"] if f["name"] == k)
            for k in schema["primaryKey"]
        )
        lines += [
            f"## {schema['title']}(`{table}.csv` / `{table}.xlsx`)",
            "",
            schema["description"].split(" / ")[0],
            "",
            f"- 报送单位:{WHO[table]}",
            f"- 每行唯一:{key}(同一组合只能出现一次)",
            "",
            "| 列(表头) | 英文字段名 | 类型 | 规则 | 说明 |",
            "|---|---|---|---|---|",
        ]
        for f in schema["fields"]:
            description = f.get("description", "").split(" / ")[0]
            lines.append(
                f"| {cell(f['title'])} | `{f['name']}` | {TYPE_ZH[f['type']]} | "
                f"{cell(rule_text(f))} | {cell(description)} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_xlsx(path, schema):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "数据"
    sheet.append([f["title"] for f in schema["fields"]])
    for column, field in enumerate(schema["fields"], start=1):
        sheet.cell(row=1, column=column).font = Font(bold=True)
        sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = max(
            12, 2 * len(field["title"])
        )
        if field["name"].endswith("_code") or field["name"] in ("facility_id", "hotline"):
            for row in range(2, 2000):
                sheet.cell(row=row, column=column).number_format = "@"
    guide = workbook.create_sheet("填写说明")
    guide.append(["列(表头)", "英文字段名", "类型", "规则", "说明"])
    for f in schema["fields"]:
        guide.append(
            [f["title"], f["name"], TYPE_ZH[f["type"]], rule_text(f), f.get("description", "")]
        )
    save_reproducibly(workbook, path)


def build(out=OUT):
    out.mkdir(parents=True, exist_ok=True)
    for table in schemas.SUBMISSION_TABLES:
        schema = schemas.submission(table)
        header = ",".join(f["title"] for f in schema["fields"]) + "\r\n"
        (out / f"{table}.csv").write_bytes(header.encode("utf-8-sig"))
        write_xlsx(out / f"{table}.xlsx", schema)
    (out / "README.md").write_text(field_guide(), encoding="utf-8")
    return out


if __name__ == "__main__":
    print(f"wrote {build()}")
