"""Bundle the published packages, templates and a data dictionary into one zip for download.

    python scripts/build_downloads.py [OUT]    # default build/downloads/chuxiong-open-data.zip

The data dictionary is generated from the packages' own Table Schemas, so it
cannot disagree with the data. The zip is byte-identical for the same data.
"""

import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.paths import BUILD, DATA  # noqa: E402

OUT = BUILD / "downloads" / "chuxiong-open-data.zip"
PREFIX = "chuxiong-open-data"
FIXED_TIME = (2017, 11, 30, 0, 0, 0)
TYPE_ZH = {
    "integer": "整数",
    "number": "数字",
    "boolean": "布尔(true/false)",
    "date": "日期",
    "string": "文本",
}


def descriptors():
    for path in sorted(DATA.glob("*/datapackage.json")):
        yield path.parent.name, json.loads(path.read_text("utf-8"))


def data_dictionary():
    lines = [
        "# 数据字典",
        "",
        "由 `scripts/build_downloads.py` 根据各数据包的表结构(Table Schema)生成。",
        "",
    ]
    for name, descriptor in descriptors():
        lines += [f"## {descriptor['title']}(`{name}`)", "", descriptor["description"], ""]
        if descriptor.get("as_of"):
            lines += [f"- 数据截至:{descriptor['as_of']}", ""]
        for resource in descriptor["resources"]:
            schema = resource["schema"]
            key = "、".join(schema.get("primaryKey", []))
            lines += [
                f"### `{name}/{resource['path']}`",
                "",
                schema.get("description", ""),
                "",
                f"- 行数唯一标识(主键):{key}",
                "",
                "| 字段 | 中文名 | 类型 | 说明 |",
                "|---|---|---|---|",
            ]
            for field in schema["fields"]:
                description = field.get("description", "").replace("|", "\\|")
                enum = field.get("constraints", {}).get("enum")
                if enum:
                    description += f"(取值:{'、'.join(map(str, enum))})"
                lines.append(
                    f"| `{field['name']}` | {field.get('title', '')} | "
                    f"{TYPE_ZH.get(field['type'], field['type'])} | {description} |"
                )
            lines.append("")
    return "\n".join(lines)


def readme():
    as_of = max((d.get("as_of", "") for _, d in descriptors()), default="")
    sample = any(d.get("sample") for _, d in descriptors())
    notice = (
        "**示例数据,非真实统计。** 统计数字由程序按固定种子生成,仅供演示。\n\n" if sample else ""
    )
    return (
        "# 楚雄州困境儿童保障公开数据\n\n"
        f"{notice}"
        f"数据截至 {as_of}。每个文件夹是一个 Frictionless 数据包(datapackage.json 描述表结构、许可和来源)。\n\n"
        "- 许可:知识共享署名 4.0(CC BY 4.0)\n"
        "- 依据:楚雄州人民政府关于加强困境儿童保障工作的实施意见(楚政发〔2017〕33号)\n"
        "- 引用:楚雄州困境儿童保障数据公开门户,数据包名称,数据截至日期\n"
        "- 数据字典:DATA-DICTIONARY.md;报送模板:templates/\n"
        "- CSV 为 UTF-8 编码;在 Excel 中打开请用门户表格页上的“Excel 用 CSV”下载,或用“数据 > 从文本/CSV”导入并选 UTF-8。\n"
    )


def add(archive, name, content):
    info = zipfile.ZipInfo(f"{PREFIX}/{name}", FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, content)


def build(out=OUT):
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        add(archive, "README.md", readme())
        add(archive, "DATA-DICTIONARY.md", data_dictionary())
        for path in sorted(
            p for p in DATA.rglob("*") if p.is_file() and not p.name.startswith(".")
        ):
            add(archive, str(path.relative_to(DATA)), path.read_bytes())
    return out


if __name__ == "__main__":
    print(f"wrote {build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)}")
