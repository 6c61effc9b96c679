"""Write the handbook's generated pages into docs/reference/ before `mkdocs build`.

    python scripts/build_handbook.py [--database build/chuxiong.db] [--audit build/disclosure-audit.md]

What the pages say comes from data: the reference tables (data/reference/), the database,
the schemas, and the handbook's own wording in sources/handbook/*.yaml; how they say it is
in the Markdown templates of scripts/templates/handbook/. So the handbook cannot disagree
with the data, and no sentence of it lives in this file. A plain script (not an MkDocs
hook) keeps the handbook buildable by MkDocs' successors too.
"""

import argparse
import csv
import json
import re
import sqlite3
import sys
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.paths import BUILD, DATA, DATABASE  # noqa: E402
from portal.spreadsheets import citation  # noqa: E402

DOCS = ROOT / "docs"
OUT = DOCS / "reference"
WORDING = ROOT / "sources" / "handbook"
TEMPLATES = ROOT / "scripts" / "templates" / "handbook"
PORTAL = ""  # the portal is served at the site's root; the handbook under /handbook/
LEVEL_NAMES = {"township": "乡镇", "county": "县市", "prefecture": "全州"}
TYPE_NAMES = {
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否",
    "date": "日期",
    "string": "文本",
    "geojson": "地理形状（GeoJSON）",
}
CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’《》〔〕—……"
HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）", "?": "？", "!": "！"}
HALF_NEXT_TO_CJK = re.compile(rf"(?<=[{CJK}])[,;:()?!]|[,;:()?!](?=[{CJK}])")


def zh(text):
    """Chinese punctuation for Chinese text: a half-width , ; : ( ) ? ! next to a Chinese
    character becomes full-width (the policy copy and the reference data carry the scan's
    half-width marks; the words stay exactly as they are)."""
    text = str(text if text is not None else "")
    previous = None
    while previous != text:
        previous, text = text, HALF_NEXT_TO_CJK.sub(lambda m: HALF_TO_FULL[m.group(0)], text)
    return text


def clause(text):
    """A clause as the handbook writes it: 二（三）, 附件第8项; several joined by 、."""
    return "、".join(zh(part.strip()) for part in str(text).split(";") if part.strip())


def number(value):
    return "—" if value is None or value == "" else f"{float(value):g}"


def md_cell(value):
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")


def read(name):
    with open(DATA / "reference" / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def wording(name):
    return yaml.safe_load((WORDING / f"{name}.yaml").read_text("utf-8"))


def status_labels():
    """The Chinese labels of task_progress.status, from its schema's categories."""
    schema = yaml.safe_load(
        (ROOT / "schemas" / "published" / "task_progress.yaml").read_text("utf-8")
    )
    field = next(f for f in schema["fields"] if f["name"] == "status")
    return {c["value"]: c["label"] for c in field["categories"]}


def disclosure_rule():
    return yaml.safe_load((ROOT / "schemas" / "disclosure_rule.yaml").read_text("utf-8"))


def environment():
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(zh=zh, clause=clause, num=number, cell=md_cell)
    notices = wording("notices")
    env.globals.update(
        kinds=notices["kinds"],
        portal=PORTAL,
        suppression_rule=disclosure_rule()["rule_zh"],
        sample_notice_text=notices["sample"],
    )
    return env


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    path.write_text(text, encoding="utf-8")


def render(env, template, path, **context):
    write(path, env.get_template(template).render(**context))


def categories_pages(env):
    categories = read("categories")
    measures = {m["measure_code"]: m for m in read("measures")}
    applies = {}
    for row in read("category_measures"):
        applies.setdefault(row["category_code"], []).append(row)
    levels = {p["series_code"]: p for p in read("publication_levels")}
    extras = wording("categories")
    for c in categories:
        definition = c["definition"]
        c["short_definition"] = definition[:40] + ("……" if len(definition) > 40 else "")
    render(env, "categories_index.md.j2", OUT / "categories" / "index.md", categories=categories)
    for c in categories:
        code = c["category_code"]
        rows = [
            {
                "name": measures[a["measure_code"]]["name"],
                "anchor": measures[a["measure_code"]]["name"],
                "clause": measures[a["measure_code"]]["clause"],
                "basis": a["basis"],
            }
            for a in sorted(
                applies.get(code, []), key=lambda a: int(measures[a["measure_code"]]["measure_no"])
            )
        ]
        render(
            env,
            "category.md.j2",
            OUT / "categories" / f"{code}.md",
            c=c,
            extra=extras[code],
            measures=rows,
            level=levels[code],
            level_name=LEVEL_NAMES[levels[code]["finest_level"]],
        )


def situations_page(env):
    situations = read("unsupported_situations")
    orphan = read("orphan_situations")
    statuses = read("parent_statuses")
    aid = wording("decision_aid")
    names = {s["status_code"]: s["name"] for s in statuses}
    able = "able"
    unable = [s["status_code"] for s in statuses if s["status_code"] != able]
    decided = {frozenset((r["parent_a_status"], r["parent_b_status"])) for r in situations + orphan}
    undecided = [
        (a, b) for i, a in enumerate(unable) for b in unable[i:] if frozenset((a, b)) not in decided
    ]
    rules = {
        "able_to_care": able,
        "messages": {
            "orphan": aid["orphan"],
            "unsupported": aid["unsupported"],
            "neither": aid["neither"],
            "undecided": aid["undecided"]["answer"],
        },
        "statuses": [{"code": s["status_code"], "name": s["name"]} for s in statuses],
        "orphan": [
            {
                "a": o["parent_a_status"],
                "b": o["parent_b_status"],
                "name": o["name"],
                "clause": clause(o["clause"]),
            }
            for o in orphan
        ],
        "unsupported": [
            {
                "no": int(s["situation_no"]),
                "a": s["parent_a_status"],
                "b": s["parent_b_status"],
                "name": s["name"],
                "clause": clause(s["clause"]),
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
    others = [names[b if a == "declared_missing" else a] for a, b in undecided]
    render(
        env,
        "unsupported.md.j2",
        OUT / "unsupported.md",
        situations=situations,
        groups=groups,
        statuses=statuses,
        status_names=names,
        orphan_names=[o["name"] for o in orphan],
        undecided=undecided,
        undecided_others=others,
        aid=aid,
    )


def tasks_page(env, db):
    units = {u["unit_code"]: u for u in read("units")}
    by_task = {}
    for row in sorted(read("task_units"), key=lambda r: (int(r["task_no"]), int(r["position"]))):
        by_task.setdefault(int(row["task_no"]), []).append(row)
    latest, period = {}, None
    if db:
        status_names = status_labels()
        period = db.execute("select max(period) from task_progress").fetchone()[0]
        for row in db.execute(
            "select task_no, unit_code, status from task_progress where period = ?", [period]
        ):
            latest[(row[0], row[1])] = status_names.get(row[2], row[2])
    annex_units = [u for u in read("units") if u["in_annex"] == "true"]
    matrix = []
    for unit in annex_units:
        row = [unit["name"]]
        for n in range(1, 16):
            roles = [r["role"] for r in by_task[n] if r["unit_code"] == unit["unit_code"]]
            row.append("**牵头**" if roles == ["lead"] else "配合" if roles else "")
        matrix.append(row)
    changes = [
        {
            "old": units[c["unit_code"]]["name"],
            "new": units[c["successor_code"]]["name"],
            "year": c["year"],
            "change": c["change"],
            "tasks": "、".join(f"第{t}项" for t in c["tasks"].split(";") if t),
        }
        for c in read("unit_changes")
    ]
    tasks = []
    for t in read("tasks"):
        n = int(t["task_no"])
        named = [
            ("**" + units[r["unit_code"]]["name"] + "**（牵头）")
            if r["role"] == "lead"
            else units[r["unit_code"]]["name"]
            for r in by_task[n]
            if units[r["unit_code"]]["in_annex"] == "true"
        ]
        states = [
            f"{units[r['unit_code']]['name']} {latest[(n, r['unit_code'])]}"
            for r in by_task[n]
            if (n, r["unit_code"]) in latest
        ]
        tasks.append(
            {
                "task_no": n,
                "title": t["title"],
                "text": t["text"],
                "units": "、".join(named),
                "due_date": t["due_date"],
                "note": t["note"],
                "progress": "；".join(states),
            }
        )
    source = read("unit_changes")[0]["source"] if changes else ""
    render(
        env,
        "tasks.md.j2",
        OUT / "tasks.md",
        tasks=tasks,
        matrix=matrix,
        changes=changes,
        changes_source=zh(source),
        period=period,
        has_data=db is not None,
    )


def svg_lines(series, targets, years, title):
    """A small line chart (coverage and target, percent) as inline SVG."""
    width, height, left, bottom, top = 360, 170, 36, 22, 10
    span = max(1, len(years) - 1)

    def x(year):
        return left + (width - left - 10) * years.index(year) / span

    def y(value):
        return top + (height - top - bottom) * (1 - value / 100)

    out = [f'<svg class="hb-chart" viewBox="0 0 {width} {height}" role="img" aria-label="{title}">']
    out.append(f"<title>{title}</title>")
    for tick in (0, 50, 100):
        out.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'class="grid"/><text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{tick}%</text>"
        )
    out.append(
        f'<text x="{x(years[0]):.1f}" y="{height - 4}">{years[0]}</text>'
        f'<text x="{x(years[-1]):.1f}" y="{height - 4}" text-anchor="end">{years[-1]}</text>'
    )
    points = " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, v in sorted(targets.items()) if yr in years)
    out.append(f'<polyline class="target" points="{points}"/>')
    for i, (name, values) in enumerate(series):
        points = " ".join(
            f"{x(yr):.1f},{y(v):.1f}" for yr, v in sorted(values.items()) if v is not None
        )
        out.append(f'<polyline class="s{i}" points="{points}"><title>{name}</title></polyline>')
    out.append("</svg>")
    return "".join(out)


def targets_page(env, db):
    targets = read("targets")
    for t in targets:
        t["chosen"] = t["chosen"].lower() == "true"
    readings = list({(t["target_code"], t["reading_code"]): t for t in targets}.values())
    notes = wording("targets")
    years = sorted({int(t["year"]) for t in targets})
    values = {(t["target_code"], t["reading_code"], int(t["year"])): t["value"] for t in targets}
    value_rows = [
        [f"{zh(r['indicator'])}（{notes['readings'][r['reading_code']]}）"]
        + [values.get((r["target_code"], r["reading_code"], y)) or "—" for y in years]
        for r in readings
    ]
    coverage = None
    if db:
        rows = db.execute(
            "select area_code, area_name, year, home_coverage_pct, home_target_pct, "
            "supervisor_coverage_pct from coverage_by_area where level in ('county', 'prefecture') "
            "order by level = 'county', area_code, year"
        ).fetchall()
        data_years = sorted({r[2] for r in rows})
        other = {
            int(t["year"]): float(t["value"])
            for t in targets
            if t["target_code"] == "home_coverage" and not t["chosen"]
        }
        chosen = {r[2]: r[4] for r in rows}
        areas = []
        for code, name in dict.fromkeys((r[0], r[1]) for r in rows):
            home = {r[2]: r[3] for r in rows if r[0] == code}
            supervisors = {r[2]: r[5] for r in rows if r[0] == code}
            svg = svg_lines(
                [("儿童之家覆盖率", home), ("督导员覆盖率", supervisors)],
                chosen,
                data_years,
                f"{name}逐年覆盖率",
            )
            areas.append(
                {"code": code, "name": name, "home": home, "supervisors": supervisors, "svg": svg}
            )
        coverage = {
            "years": data_years,
            "latest": data_years[-1],
            "chosen": chosen,
            "other": other,
            "areas": areas,
        }
    render(
        env,
        "targets.md.j2",
        OUT / "targets.md",
        readings=readings,
        notes=notes,
        years=years,
        value_rows=value_rows,
        coverage=coverage,
    )


def dictionary_page(env):
    packages = []
    for path in sorted(DATA.glob("*/datapackage.json")):
        descriptor = json.loads(path.read_text("utf-8"))
        resources = []
        for resource in descriptor["resources"]:
            schema = resource["schema"]
            resources.append(
                {
                    "name": resource["name"],
                    "title": resource.get("title") or resource["name"],
                    "description": schema.get("description", "").split(" / ")[0],
                    "primary_key": schema.get("primaryKey", []),
                    "fields": [
                        {
                            "name": f["name"],
                            "title": md_cell(f.get("title", "")),
                            "type": TYPE_NAMES[f["type"]],
                            "description": md_cell((f.get("description") or "").split(" / ")[0]),
                        }
                        for f in schema["fields"]
                    ],
                }
            )
        packages.append(
            {
                "name": descriptor["name"],
                "title": descriptor["title"],
                "as_of": descriptor.get("as_of"),
                "resources": resources,
            }
        )
    render(env, "dictionary.md.j2", OUT / "dictionary.md", packages=packages)


def audit_page(env, audit_path):
    report = (
        audit_path.read_text("utf-8")
        if audit_path and audit_path.exists()
        else "（尚未生成：请先运行 `make data`。）"
    )
    render(env, "audit.md.j2", OUT / "audit.md", report=report)


def glossary_page(env):
    items = wording("glossary")
    for item in items:
        target = item["see"]
        item["label"] = target.split("#")[-1] if "#" in target else target.split("/")[-1][:-3]
    render(env, "glossary.md.j2", OUT / "glossary.md", glossary=items)


def print_page(nav_files):
    """One page with every chapter, for printing the whole handbook.

    Chapters are copied from their Markdown with headings moved one level down and links
    within the handbook turned into plain text (they would not resolve from this page);
    each chapter starts on a new printed page.
    """
    parts = ["---", "search:", "  exclude: true", "---", "", "# 全书打印版", ""]
    parts += ["本页包含手册全部章节，供打印或另存为 PDF，每章从新的一页开始。", ""]
    for relative in nav_files:
        text = (DOCS / relative).read_text("utf-8")
        text = re.sub(r"^--8<--.*$", "", text, flags=re.M)
        text = re.sub(r"^(#{1,5}) ", r"#\1 ", text, flags=re.M)
        text = re.sub(r"\[([^\]]+)\]\((?!https?:|/)[^)]*\)", r"\1", text)
        text = re.sub(
            r'<div class="decision-aid".*?</div>',
            "（判断工具只在网页版中使用。）",
            text,
            flags=re.S,
        )
        parts += ['<div class="page-break"></div>', "", text, ""]
    write(OUT / "print.md", "\n".join(parts))


def nav_files():
    """The Markdown files in mkdocs.yml's nav, in order (the print page excluded)."""

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


def rule_snippet():
    """The disclosure rule's one wording, for the hand-written pages (--8<-- "rule.md")."""
    write(BUILD / "handbook-snippets" / "rule.md", disclosure_rule()["rule_zh"])


def cite_snippet(env, db):
    """怎样引用 (--8<-- "cite.md"), with the current release's real id, route and a county of it:
    the handbook's example is an address that answers."""
    release = {"release_id": "", "released_on": "", "as_of": "", "sample": True}
    county = {"code": "532301", "name": "楚雄市"}
    if db:
        row = db.execute(
            "select release_id, released_on, as_of, sample from releases order by rowid desc limit 1"
        ).fetchone()
        if row:
            release = dict(zip(("release_id", "released_on", "as_of", "sample"), row, strict=True))
        found = db.execute("select county_code, name from counties order by county_code").fetchone()
        if found:
            county = {"code": found[0], "name": found[1]}
    route = "v" + release["release_id"].replace(".", "-")
    example = citation(
        f"{county['name']}困境儿童保障数据",
        release,
        f"https://（门户网址）/county/{county['code']}?release={release['release_id']}",
    )
    text = env.get_template("cite.md.j2").render(
        release=release, route=route, county=county, example=example
    )
    write(BUILD / "handbook-snippets" / "cite.md", text)


def banner(env, db):
    """The notice bar of every handbook page (overrides/partials/banner.html): the sample-data
    notice when the data is sample data, the release shown, links to the portal."""
    release, sample = None, True
    if db:
        row = db.execute(
            "select release_id, as_of, sample from releases order by released_on desc, "
            "release_id desc limit 1"
        ).fetchone()
        if row:
            release = {"release_id": row[0], "as_of": row[1]}
            sample = bool(row[2])
    text = env.get_template("banner.html.j2").render(release=release, sample=sample)
    path = ROOT / "overrides" / "partials" / "banner.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=str(DATABASE))
    parser.add_argument("--audit", default=str(BUILD / "disclosure-audit.md"))
    args = parser.parse_args()
    db = sqlite3.connect(args.database) if Path(args.database).exists() else None
    env = environment()
    categories_pages(env)
    situations_page(env)
    tasks_page(env, db)
    targets_page(env, db)
    dictionary_page(env)
    audit_page(env, Path(args.audit))
    glossary_page(env)
    field_guide_snippet()
    rule_snippet()
    cite_snippet(env, db)
    banner(env, db)
    print_page(nav_files())
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
