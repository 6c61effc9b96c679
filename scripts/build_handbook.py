"""Write the handbook's generated pages into docs/reference/ before `mkdocs build`.

    python scripts/build_handbook.py [--database build/chuxiong.db] [--audit build/disclosure-audit.md]

Everything on these pages comes from the reference tables (data/reference/) and
the database, so the handbook cannot disagree with the data: the categories, the
14 situations and the decision aid's rules, the tasks and their units, the
targets and their readings, coverage by county, the data dictionary, the
glossary's links, the disclosure audit, and a print-all page. A plain script
(not an MkDocs hook) keeps the handbook buildable by MkDocs' successors too.
"""

import argparse
import csv
import json
import re
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.paths import BUILD, DATA, DATABASE, SAMPLE_NOTICE  # noqa: E402

DOCS = ROOT / "docs"
OUT = DOCS / "reference"
PORTAL = "/chuxiong"
NOTICE = (
    '!!! warning "示例数据"\n'
    f"    本页的统计数字是{SAMPLE_NOTICE}:由程序按固定种子生成,只用于演示,不代表任何县市的实际情况。\n"
)
# Who certifies each category, and where to apply: the policy's own words where it says,
# otherwise the usual route in Yunnan's practice, marked as such.
CERTIFIED_BY = {
    "orphan": "乡镇人民政府受理、县级民政部门审核确认(父母死亡或失踪的证明)",
    "hiv": "卫生健康部门出具诊断证明,县级民政部门审核",
    "unsupported": "乡镇人民政府受理、县级民政部门审核确认(父母重残、重病、服刑、查找不到等情况的证明)",
    "severe_disability": "残联部门评定一、二级残疾(第二部分(四)原文:“经残联部门认定”)",
    "severe_illness": "医疗机构出具重大疾病诊断证明",
    "low_income": "县级民政部门审批城乡最低生活保障(第二部分(六):“城乡最低生活保障家庭”)",
    "street": "公安机关、救助管理机构发现并甄别",
    "guardianship": "村(居)民委员会、学校、医疗机构等发现并强制报告,公安机关、民政部门评估",
}


POLICY_SAYS_WHO = {"severe_disability", "low_income"}


def read(name):
    with open(DATA / "reference" / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip() + "\n", encoding="utf-8")


def md_cell(value):
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def quote(text, clause):
    return f"> {text}\n>\n> <cite>楚政发〔2017〕33号 第{clause}</cite>\n"


def categories_pages(db):
    categories = read("categories")
    measures = {m["measure_code"]: m for m in read("measures")}
    applies = {}
    for row in read("category_measures"):
        applies.setdefault(row["category_code"], []).append(row)
    levels = {p["series_code"]: p for p in read("publication_levels")}
    level_names = {"township": "乡镇", "county": "县市", "prefecture": "全州"}
    overview = [
        "# 八类困境儿童",
        "",
        "政策第二部分按儿童自身和家庭经济状况、受监护情况,把困境儿童分为八类。"
        "一名儿童可能同时属于几类(例如既是孤儿又是重残儿童),各类保障可以叠加。",
        "",
        table(
            ["序号", "类别", "定义(摘要)", "条款"],
            [
                [
                    c["category_no"],
                    f"[{c['name']}]({c['category_code']}.md)",
                    c["definition"][:40] + ("……" if len(c["definition"]) > 40 else ""),
                    c["clause"],
                ]
                for c in categories
            ],
        ),
        "",
        "不确定一名儿童属于孤儿还是事实无人抚养儿童?用[判断工具](../unsupported.md#判断工具)。",
    ]
    write(OUT / "categories" / "index.md", "\n".join(overview))
    for c in categories:
        code = c["category_code"]
        level = levels[code]
        rows = [
            [
                f"[{measures[a['measure_code']]['name']}](../../measures.md#{measures[a['measure_code']]['name']})",
                measures[a["measure_code"]]["clause"],
                a["basis"],
            ]
            for a in sorted(
                applies.get(code, []), key=lambda a: int(measures[a["measure_code"]]["measure_no"])
            )
        ]
        extra = ""
        if code == "unsupported":
            extra = "\n14种父母情况见[事实无人抚养儿童的14种情形](../unsupported.md)。\n"
        if code == "orphan":
            extra = (
                "\n注意:孤儿定义用“失踪”(经人民法院宣告失踪),事实无人抚养儿童列表用“查找不到”,两者不同;"
                "见[判断工具](../unsupported.md#判断工具)。\n"
            )
        page = [
            f"# {c['name']}",
            "",
            f"*{c['name_en']}* · 政策第{c['clause']}",
            "",
            "## 定义",
            "",
            quote(c["definition"], c["clause"]),
            extra,
            "## 谁来认定",
            "",
            CERTIFIED_BY[code]
            + "。"
            + (
                ""
                if code in POLICY_SAYS_WHO
                else "(政策原文没有规定由谁认定,这里按通常做法整理;以县市民政部门的要求为准。)"
            ),
            "",
            "## 适用的保障措施",
            "",
            table(["措施", "条款", "依据(概括)"], rows),
            "",
            "## 怎样申请",
            "",
            "1. 儿童的监护人、亲属,或村(居)儿童福利督导员发现后,向村(居)民委员会或乡镇儿童福利服务工作站提出。",
            "2. 乡镇人民政府受理,一门受理、协同办理:需要其他部门办理的,由工作站转交,不让家庭来回跑。",
            "3. 县级民政部门(或负责认定的部门)审核认定,纳入困境儿童信息台账(一人一档案)。",
            "4. 保障金和补贴按年度标准按时足额发放;情况变化时动态调整。",
            "",
            "## 统计数字",
            "",
            f"本类别公布到{level_names[level['finest_level']]}一级:{level['reason']}。",
            f"[在门户中查看{c['name']}的人数]({PORTAL}/children_counts?series_code={code})。",
        ]
        write(OUT / "categories" / f"{code}.md", "\n".join(page))


def situations_page():
    situations = read("unsupported_situations")
    orphan = read("orphan_situations")
    statuses = read("parent_statuses")
    rules = {
        "statuses": [{"code": s["status_code"], "name": s["name"]} for s in statuses],
        "orphan": [
            {
                "a": o["parent_a_status"],
                "b": o["parent_b_status"],
                "name": o["name"],
                "clause": o["clause"],
            }
            for o in orphan
        ],
        "unsupported": [
            {
                "no": int(s["situation_no"]),
                "a": s["parent_a_status"],
                "b": s["parent_b_status"],
                "name": s["name"],
                "clause": s["clause"],
            }
            for s in situations
        ],
    }
    # A script, not JSON to fetch: the staff copy opened from file:// cannot fetch files.
    write(
        DOCS / "assets" / "generated" / "situation-rules.js",
        "window.SITUATION_RULES = " + json.dumps(rules, ensure_ascii=False, indent=1) + ";",
    )
    groups = []
    for s in situations:
        if not groups or groups[-1][0] != s["group_name"]:
            groups.append((s["group_name"], []))
        groups[-1][1].append(s["column_label"])
    options = "".join(f'<option value="{s["status_code"]}">{s["name"]}</option>' for s in statuses)
    page = [
        "# 事实无人抚养儿童的14种情形",
        "",
        quote("指父母无法履行监护职责的儿童,按照列表分以下几种情况:", "二(三)"),
        "政策原表按父母双方的情况分为五组,共14种:",
        "",
        table(
            ["分组(原表表头)", "另一方(或双方)的情况"], [[g, "、".join(cols)] for g, cols in groups]
        ),
        "",
        "逐项列出:",
        "",
        table(
            ["序号", "情形", "父母一方", "另一方"],
            [
                [
                    s["situation_no"],
                    s["name"],
                    next(x["name"] for x in statuses if x["status_code"] == s["parent_a_status"]),
                    next(x["name"] for x in statuses if x["status_code"] == s["parent_b_status"]),
                ]
                for s in situations
            ],
        ),
        "",
        "孤儿(第二部分(一))是另外三种情况:" + "、".join(o["name"] for o in orphan) + "。",
        "",
        "## 判断工具",
        "",
        "选择父母双方各自的情况,立即显示这名儿童按本政策属于孤儿、事实无人抚养儿童,还是都不属于,"
        "以及依据的条款。判断在本页内完成,不联网,也不记录或发送任何信息。"
        "规则直接取自参考数据表 unsupported_situations 和 orphan_situations。",
        "",
        '<script src="../assets/generated/situation-rules.js"></script>',
        '<div class="decision-aid">',
        f'<label>父母一方:<select id="parent-a" name="parent-a">{options}</select></label>',
        f'<label>另一方:<select id="parent-b" name="parent-b">{options}</select></label>',
        '<output id="decision" for="parent-a parent-b" aria-live="polite">请选择父母双方的情况。</output>',
        "<noscript>本工具需要浏览器启用 JavaScript;也可以直接查上面的表。</noscript>",
        "</div>",
        "",
        "“失踪”指经人民法院宣告失踪;“查找不到”指下落不明、尚未宣告失踪。两者在政策中分属孤儿和事实无人抚养儿童,请按实际证明材料选择。",
    ]
    write(OUT / "unsupported.md", "\n".join(page))


def tasks_page(db):
    tasks = read("tasks")
    units = {u["unit_code"]: u for u in read("units")}
    task_units = read("task_units")
    by_task = {}
    for row in sorted(task_units, key=lambda r: (int(r["task_no"]), int(r["position"]))):
        by_task.setdefault(int(row["task_no"]), []).append(row)
    latest = {}
    period = None
    if db:
        period = db.execute("select max(period) from task_progress").fetchone()[0]
        for row in db.execute(
            "select task_no, unit_code, status, percent_complete from task_progress where period = ?",
            [period],
        ):
            latest[(row[0], row[1])] = row
    status_names = {
        "completed": "已完成",
        "on_track": "按期推进",
        "lagging": "滞后",
        "overdue": "逾期未完成",
        "not_started": "未启动",
    }
    unit_order = [u["unit_code"] for u in read("units")]
    matrix = []
    for code in unit_order:
        row = [units[code]["name"]]
        for n in range(1, 16):
            roles = [r["role"] for r in by_task[n] if r["unit_code"] == code]
            row.append("**牵头**" if roles == ["lead"] else "配合" if roles else "")
        matrix.append(row)
    page = [
        "# 15项重点任务和责任单位",
        "",
        "政策附件“重点任务分工(州直部门和单位)”列出15项任务;每项任务的责任单位中,**列首位的为牵头单位**。",
        "第7、11项在所收到的文本中因扫描识别错乱,已依据正文重建,重建部分在各项的说明中注明。",
        "",
        NOTICE if db else "",
        "## 单位 × 任务",
        "",
        table(["单位"] + [str(n) for n in range(1, 16)], matrix),
        "",
    ]
    for t in tasks:
        n = int(t["task_no"])
        lines = [
            f"## 第{n}项 {t['title']}",
            "",
            quote(
                t["text"],
                f"附件第{n}项"
                if t["text_status"] == "as_received"
                else f"附件第{n}项(依据正文{t['body_clause']}重建)",
            ),
            "责任单位:"
            + "、".join(
                ("**" + units[r["unit_code"]]["name"] + "**(牵头)")
                if r["role"] == "lead"
                else units[r["unit_code"]]["name"]
                for r in by_task[n]
            )
            + "。",
            "",
        ]
        if t["due_date"]:
            lines.append(f"完成时限:{t['due_date']}。")
            lines.append("")
        if t["note"]:
            lines += [f"说明:{t['note']}", ""]
        if db:
            states = []
            for r in by_task[n]:
                row = latest.get((n, r["unit_code"]))
                if row:
                    states.append(f"{units[r['unit_code']]['name']} {status_names[row[2]]}")
            if states:
                lines.append(f"{period}年度进展:" + ";".join(states) + "。")
            lines.append(f"[查看第{n}项各年度进展]({PORTAL}/task_progress?task_no={n})")
            lines.append("")
        page += lines
    write(OUT / "tasks.md", "\n".join(page))


def svg_lines(series, targets, years, title):
    width, height, left, bottom, top = 360, 170, 36, 22, 10
    span = max(1, len(years) - 1)

    def x(year):
        return left + (width - left - 10) * years.index(year) / span

    def y(value):
        return top + (height - top - bottom) * (1 - value / 100)

    out = [
        f'<svg class="hb-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{title}"><title>{title}</title>'
    ]
    for tick in (0, 50, 100):
        out.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" class="grid"/><text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}%</text>'
        )
    out.append(
        f'<text x="{x(years[0]):.1f}" y="{height - 4}">{years[0]}</text><text x="{x(years[-1]):.1f}" y="{height - 4}" text-anchor="end">{years[-1]}</text>'
    )
    out.append(
        '<polyline class="target" points="'
        + " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in sorted(targets.items()) if yr in years)
        + '"/>'
    )
    for i, (name, values) in enumerate(series):
        out.append(
            f'<polyline class="s{i}" points="'
            + " ".join(
                f"{x(yr):.1f},{y(v):.1f}" for yr, v in sorted(values.items()) if v is not None
            )
            + f'"><title>{name}</title></polyline>'
        )
    out.append("</svg>")
    return "".join(out)


def targets_page(db):
    targets = read("targets")
    page = [
        "# 目标和进展",
        "",
        "政策中可以量化的目标,以及各县市逐年的完成情况。",
        "",
        "## 目标从哪里来",
        "",
        quote(
            "从2017年起,充分利用城乡社区现有设施设备,整合有效资源,按照每年不低于20%的社区建立儿童之家,到2020年,实现50%以上的城乡社区至少建立1所儿童之家",
            "附件第8项",
        ),
        "“按照每年不低于20%的社区建立儿童之家”有两种读法:",
        "",
    ]
    readings = {}
    for t in targets:
        readings.setdefault((t["target_code"], t["reading_code"]), t)
    page.append(
        table(
            ["目标", "读法", "本站是否采用", "说明", "条款"],
            [
                [
                    t["indicator"],
                    t["reading_code"],
                    "采用" if t["chosen"] == "true" else "不采用",
                    t["reading"],
                    t["clause"],
                ]
                for t in readings.values()
            ],
        )
    )
    page += ["", "各年的目标值:", ""]
    years = sorted({int(t["year"]) for t in targets})
    codes = list(dict.fromkeys((t["target_code"], t["reading_code"]) for t in targets))
    values = {(t["target_code"], t["reading_code"], int(t["year"])): t["value"] for t in targets}
    page.append(
        table(
            ["目标(读法)"] + [str(y) for y in years],
            [
                [f"{readings[c]['indicator']}({c[1]})"]
                + [(values.get((*c, y)) or "—") for y in years]
                for c in codes
            ],
        )
    )
    if db:
        page += ["", "## 各县市逐年覆盖率", "", NOTICE, ""]
        rows = db.execute(
            "select area_code, area_name, year, home_coverage_pct, home_target_pct, supervisor_coverage_pct "
            "from coverage_by_area where level in ('county', 'prefecture') order by level = 'county', area_code, year"
        ).fetchall()
        data_years = sorted({r[2] for r in rows})
        areas = list(dict.fromkeys((r[0], r[1]) for r in rows))
        home = {(r[0], r[2]): r[3] for r in rows}
        target = {r[2]: r[4] for r in rows}
        supervisors = {(r[0], r[2]): r[5] for r in rows}
        page += ["儿童之家覆盖率(%),括号内为当年目标(采用的读法):", ""]
        page.append(
            table(
                ["地区"] + [f"{y}({target[y]:g})" for y in data_years],
                [
                    [f"[{name}]({PORTAL}/coverage_by_area?area_code={code})"]
                    + [f"{home[(code, y)]:g}" for y in data_years]
                    for code, name in areas
                ],
            )
        )
        page += ["", "督导员覆盖率(%):", ""]
        page.append(
            table(
                ["地区"] + [str(y) for y in data_years],
                [
                    [name] + [f"{supervisors[(code, y)]:g}" for y in data_years]
                    for code, name in areas
                ],
            )
        )
        page += [
            "",
            "### 图:全州和各县市的儿童之家覆盖率",
            "",
            '<p class="hb-legend"><span class="k s0"></span>儿童之家覆盖率 <span class="k s1"></span>督导员覆盖率 <span class="k target"></span>儿童之家目标</p>',
            '<div class="hb-charts">',
        ]
        for code, name in areas:
            page.append(
                '<figure markdown="span">'
                + svg_lines(
                    [
                        ("儿童之家覆盖率", {y: home[(code, y)] for y in data_years}),
                        ("督导员覆盖率", {y: supervisors[(code, y)] for y in data_years}),
                    ],
                    {y: target[y] for y in data_years},
                    data_years,
                    f"{name}覆盖率",
                )
                + f"<figcaption>{name}</figcaption></figure>"
            )
        page.append("</div>")
    write(OUT / "targets.md", "\n".join(page))


def dictionary_page():
    type_names = {
        "integer": "整数",
        "number": "数字",
        "boolean": "是/否",
        "date": "日期",
        "string": "文本",
        "geojson": "地理形状（GeoJSON）",
    }
    page = ["# 数据字典", "", "每个数据包的每张表、每个字段,由发布的表结构(Table Schema)生成。", ""]
    for path in sorted(DATA.glob("*/datapackage.json")):
        descriptor = json.loads(path.read_text("utf-8"))
        page += [
            f"## {descriptor['title']}",
            "",
            f"数据包 `{descriptor['name']}`。"
            + (f"数据截至 {descriptor['as_of']}。" if descriptor.get("as_of") else ""),
            "",
        ]
        for resource in descriptor["resources"]:
            schema = resource["schema"]
            page += [
                f"### {resource['name']}",
                "",
                schema.get("description", "").split(" / ")[0],
                f"[在门户中查看]({PORTAL}/{resource['name']}) · 主键:"
                + "、".join(schema.get("primaryKey", [])),
                "",
            ]
            page.append(
                table(
                    ["字段", "中文名", "类型", "说明"],
                    [
                        [
                            f"`{f['name']}`",
                            f.get("title", ""),
                            type_names[f["type"]],
                            (f.get("description", "") or "").split(" / ")[0],
                        ]
                        for f in schema["fields"]
                    ],
                )
            )
            page.append("")
    write(OUT / "dictionary.md", "\n".join(page))


def audit_page(audit_path):
    text = (
        audit_path.read_text("utf-8")
        if audit_path and audit_path.exists()
        else "(尚未生成:请先运行 `make data`。)"
    )
    page = [
        "# 披露控制审计报告",
        "",
        "这是最近一次构建时披露控制审计的结果,证明公布的困境儿童人数表不能推算出被隐藏的小数字。"
        "规则和方法见[为记者和研究者](../data.md#为什么有的格子是空的)。",
        "",
        text,
    ]
    write(OUT / "audit.md", "\n".join(page))


GLOSSARY = [
    ("困境儿童", "children in difficulty", "categories/index.md"),
    ("孤儿", "orphan", "categories/orphan.md"),
    ("事实无人抚养儿童", "de facto unsupported child", "unsupported.md"),
    ("失踪", "missing (declared by a court)", "unsupported.md#判断工具"),
    ("查找不到", "cannot be found", "unsupported.md#判断工具"),
    ("重残儿童", "child with a severe disability (grade 1-2)", "categories/severe_disability.md"),
    ("低保(最低生活保障)", "minimum living allowance", "categories/low_income.md"),
    (
        "儿童之家",
        "children's home (community children's centre, not residential)",
        "../network.md#儿童之家",
    ),
    ("儿童福利督导员", "child welfare supervisor", "../network.md#儿童福利督导员"),
    (
        "儿童福利服务工作站",
        "township child welfare service station",
        "../network.md#儿童福利服务工作站",
    ),
    ("儿童福利指导中心", "county child welfare guidance centre", "../network.md#儿童福利指导中心"),
    (
        "未成年人救助保护中心",
        "minors' rescue and protection centre",
        "../network.md#未成年人救助保护中心",
    ),
    (
        "一人一档案",
        "one file per child (ledger kept by the township station)",
        "../mechanisms.md#一人一档案",
    ),
    ("强制报告", "mandatory reporting", "../mechanisms.md#强制报告"),
    ("应急处置", "emergency response", "../mechanisms.md#应急处置"),
    ("评估帮扶", "assessment and assistance", "../mechanisms.md#评估帮扶"),
    ("监护干预", "guardianship intervention", "../mechanisms.md#监护干预"),
    ("一门受理、协同办理", "one-door intake, joint handling", "../mechanisms.md#一门受理协同办理"),
    ("牵头单位", "lead unit", "tasks.md"),
    ("妇儿工委", "Working Committee on Women and Children", "tasks.md"),
    ("披露控制", "statistical disclosure control", "../data.md#为什么有的格子是空的"),
]


def glossary_page():
    page = [
        "# 术语表",
        "",
        "本手册和数据中用到的术语,附英文对照和使用的位置。",
        "",
        table(
            ["术语", "英文", "见"],
            [
                [
                    term,
                    english,
                    f"[{link.split('#')[-1] if '#' in link else link.split('/')[-1].replace('.md', '')}]({link})",
                ]
                for term, english, link in GLOSSARY
            ],
        ),
    ]
    write(OUT / "glossary.md", "\n".join(page))


def print_page(nav_files):
    """One page with every chapter, for printing the whole handbook.

    Chapters are copied from their Markdown with headings moved one level down
    and links within the handbook turned into plain text (they would not resolve
    from this page); each chapter starts on a new printed page.
    """
    parts = [
        "---",
        "search:",
        "  exclude: true",
        "---",
        "",
        "# 全书打印版",
        "",
        "本页包含手册全部章节,供打印或另存为 PDF,每章从新的一页开始。",
        "",
    ]
    for relative in nav_files:
        text = (DOCS / relative).read_text("utf-8")
        text = re.sub(r"^--8<--.*$", "", text, flags=re.M)
        text = re.sub(r"^(#{1,5}) ", r"#\1 ", text, flags=re.M)
        text = re.sub(r"\[([^\]]+)\]\((?!https?:|/)[^)]*\)", r"\1", text)
        text = re.sub(
            r'<div class="decision-aid".*?</div>', "(判断工具只在网页版中使用。)", text, flags=re.S
        )
        parts += ['<div class="page-break"></div>', "", text, ""]
    write(OUT / "print.md", "\n".join(parts))


def nav_files():
    """The Markdown files in mkdocs.yml's nav, in order (the print page excluded)."""
    import yaml

    class Loader(yaml.SafeLoader):
        """mkdocs.yml uses tags (!ENV, !!python/name) that only the nav does not need."""

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text("utf-8"), Loader=Loader)
    files = []

    def walk(items):
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            if isinstance(value, list):
                walk(value)
            elif value.endswith(".md") and value != "reference/print.md":
                files.append(value)

    walk(config["nav"])
    return files


def field_guide_snippet():
    """The templates' field guide, headings moved down a level, for the 数据报送 page."""
    text = (DATA / "templates" / "README.md").read_text("utf-8")
    text = re.sub(r"^# .*\n", "", text, count=1)
    text = re.sub(r"^(#{1,5}) ", r"#\1 ", text, flags=re.M)
    write(BUILD / "handbook-snippets" / "field-guide.md", text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=str(DATABASE))
    parser.add_argument("--audit", default=str(BUILD / "disclosure-audit.md"))
    args = parser.parse_args()
    db = sqlite3.connect(args.database) if Path(args.database).exists() else None
    categories_pages(db)
    situations_page()
    tasks_page(db)
    targets_page(db)
    dictionary_page()
    audit_page(Path(args.audit))
    glossary_page()
    field_guide_snippet()
    print_page(nav_files())
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
