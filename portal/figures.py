"""The figures each page shows, read from a release's database: plain data for the templates.

Computed once per database (it never changes while served) and kept by the
pages plugin; the charts and maps are drawn here too, from portal/charts.py and
portal/maps.py, so a template only places them.
"""

import datetime
import re
from collections import defaultdict

from . import charts, maps, words

STATUS_ORDER = ("overdue", "lagging", "not_started", "on_track", "completed")
CHOSEN, OTHER = "cumulative", "annual_increment"


async def rows(db, sql, params=None):
    return [dict(r) for r in (await db.execute(sql, params or {})).rows]


async def targets(db):
    """{target_code: {reading_code: {"years": {year: value}, "chosen", "reading", "clause"}}}."""
    out = defaultdict(dict)
    for t in await rows(db, "select * from targets order by year"):
        entry = out[t["target_code"]].setdefault(
            t["reading_code"],
            {
                "years": {},
                "chosen": bool(t["chosen"]),
                "reading": t["reading"],
                "clause": t["clause"],
            },
        )
        entry["years"][t["year"]] = t["value"]
        entry["reading"] = t["reading"]  # the later rows carry the note for after 2020
    return out


def verdict(value, target):
    if target is None or value is None:
        return None
    return value >= target


def target_for(readings, code, reading, year):
    return readings.get(code, {}).get(reading, {}).get("years", {}).get(year)


async def coverage_years(db):
    return [
        r["year"]
        for r in await rows(db, "select distinct year from coverage_by_area order by year")
    ]


def coverage_row(row, readings):
    """A coverage_by_area row with its verdicts under both readings of the 20%-a-year clause."""
    year = row["year"]
    other = target_for(readings, "home_coverage", OTHER, year)
    return {
        **row,
        "home_target_other": other,
        "meets_home_other": verdict(row["home_coverage_pct"], other),
    }


async def home(db, labels, urls):
    years = await coverage_years(db)
    latest = years[-1]
    readings = await targets(db)
    counties = [
        coverage_row(r, readings)
        for r in await rows(
            db,
            "select c.*, k.boundary, k.label_longitude, k.label_latitude from coverage_by_area c "
            "join counties k on k.county_code = c.area_code "
            "where c.level = 'county' and c.year = :y order by c.area_code",
            {"y": latest},
        )
    ]
    prefecture = await rows(
        db, "select * from coverage_by_area where level = 'prefecture' and year = :y", {"y": latest}
    )
    history = defaultdict(dict)
    for r in await rows(
        db,
        "select year, area_code, home_coverage_pct, supervisor_coverage_pct from coverage_by_area "
        "where level = 'county'",
    ):
        history[r["area_code"]][r["year"]] = r
    chosen_home = readings.get("home_coverage", {}).get(CHOSEN, {}).get("years", {})
    other_home = readings.get("home_coverage", {}).get(OTHER, {}).get("years", {})
    multiples = []
    for county in counties:
        values = history[county["area_code"]]
        multiples.append(
            {
                "code": county["area_code"],
                "name": county["area_name"],
                "svg": charts.line_chart(
                    [
                        (
                            "儿童之家覆盖率",
                            "s0",
                            {y: v["home_coverage_pct"] for y, v in values.items()},
                        ),
                        (
                            "督导员覆盖率",
                            "s1",
                            {y: v["supervisor_coverage_pct"] for y, v in values.items()},
                        ),
                    ],
                    years,
                    f"{county['area_name']}历年覆盖率",
                    f"{years[0]}到{years[-1]}年{county['area_name']}建有儿童之家和配备督导员的村（居）委会占比，"
                    "虚线是儿童之家目标的两种读法",
                    targets=[
                        ("本站采用的读法", "t0", chosen_home),
                        ("另一种读法", "t1", other_home),
                    ],
                    maximum=100,
                ),
            }
        )
    map_svg = maps.choropleth(
        [
            {
                "code": c["area_code"],
                "name": c["area_name"],
                "boundary": c["boundary"],
                "label_longitude": c["label_longitude"],
                "label_latitude": c["label_latitude"],
                "css": "below" if c["meets_home_target"] == 0 else "meets",
                "caption": f"{c['home_coverage_pct']}%",
            }
            for c in counties
        ],
        f"{latest}年各县市儿童之家覆盖率（示意图）",
        "楚雄州10个县市的轮廓示意图，橙色是低于本站采用的目标的县市，蓝色是达到的；数字是建有儿童之家的村（居）委会占比",
        link=lambda c: urls.county(c["code"]),
    )
    bars = {
        key: charts.bar_chart(
            [
                {
                    "label": c["area_name"],
                    "value": c[f"{key}_coverage_pct"],
                    "below": c[f"meets_{key}_target"] == 0,
                }
                for c in counties
            ],
            title,
            f"{latest}年各县市的{title}，虚线是当年目标（本站采用的读法）",
            target=counties[0][f"{key}_target_pct"] if counties else None,
        )
        for key, title in (
            ("home", "建有儿童之家的村（居）委会占比"),
            ("supervisor", "配备督导员的村（居）委会占比"),
        )
    }
    return {
        "latest_year": latest,
        "years": years,
        "prefecture": prefecture[0] if prefecture else None,
        "counties": counties,
        "map_svg": map_svg,
        "home_bars": bars["home"],
        "supervisor_bars": bars["supervisor"],
        "multiples": multiples,
        "readings": readings,
        "tasks": await task_state(db),
        "late_tasks": await late_tasks(db),
        "facilities": await rows(
            db,
            "select t.type_code, t.name, t.holds_children_in_custody as custody, "
            "count(f.facility_id) as n from facility_types t left join facilities f "
            "on f.facility_type = t.type_code where t.reported_in = 'facilities' "
            "group by t.type_code order by t.rowid",
        ),
        "homes": prefecture[0]["villages_with_home"] if prefecture else None,
        "children": await children_series(db, "prefecture", None),
        "freshness": await freshness(db),
    }


async def task_state(db):
    """Each task with its lead unit and the status of the lead's report in the latest period."""
    period = (await rows(db, "select max(period) as p from task_progress"))[0]["p"]
    tasks = await rows(
        db,
        "select l.task_no, l.title, l.lead_unit, l.lead_unit_code, t.due_date, p.status, "
        "p.unit_code as reporting_unit "
        "from task_leads l join tasks t on t.task_no = l.task_no "
        "left join task_progress p on p.task_no = l.task_no and p.period = :p "
        "and p.unit_code in (l.lead_unit_code, (select successor_code from unit_changes "
        "where unit_code = l.lead_unit_code and kind = 'renamed')) order by l.task_no",
        {"p": period},
    )
    by_lead = defaultdict(list)
    counts = defaultdict(int)
    for task in tasks:
        by_lead[(task["lead_unit_code"], task["lead_unit"])].append(task)
        counts[task["status"]] += 1
    return {"period": period, "by_lead": dict(by_lead), "counts": dict(counts)}


async def late_tasks(db):
    return await rows(
        db,
        "select p.task_no, t.title, p.status, p.unit_code, u.name as unit, p.role, "
        "l.lead_unit, l.lead_unit_code, p.period from task_progress p "
        "join tasks t on t.task_no = p.task_no join units u on u.unit_code = p.unit_code "
        "join task_leads l on l.task_no = p.task_no "
        "where p.status in ('overdue', 'lagging') "
        "and p.period = (select max(period) from task_progress) "
        "order by p.status = 'lagging', p.task_no, p.role = 'partner', u.name",
    )


async def children_series(db, level, area):
    """Counts by series and year at one area, hidden cells as None, with one small chart each."""
    where = "c.level = :level" + (" and c.area_code = :area" if area else "")
    found = await rows(
        db,
        "select c.year, c.series_code, p.name, c.count, c.status from children_counts c "
        f"join publication_levels p using (series_code) where {where} "
        "order by p.rowid, c.year",
        {"level": level, "area": area},
    )
    years = sorted({r["year"] for r in found})
    series = {}
    for r in found:
        entry = series.setdefault(
            r["series_code"], {"code": r["series_code"], "name": r["name"], "values": {}}
        )
        entry["values"][r["year"]] = r["count"]
    out = []
    for entry in series.values():
        hidden = [y for y, v in sorted(entry["values"].items()) if v is None]
        entry["hidden"] = hidden
        entry["svg"] = charts.line_chart(
            [(entry["name"], "s0", entry["values"])],
            years,
            f"{entry['name']}人数",
            f"{years[0]}到{years[-1]}年的{entry['name']}人数"
            + (f"；{'、'.join(map(str, hidden))}年的数字被隐藏，图中为空缺" if hidden else ""),
            unit="",
        )
        out.append(entry)
    return {"years": years, "series": out}


async def freshness(db, submitter=None):
    """The reporting year's submission status: who is late, who has not submitted."""
    where = (
        "where year = (select max(year) from submission_status where submitter_code != '532300')"
    )
    params = {}
    if submitter:
        where = "where submitter_code = :s"
        params = {"s": submitter}
    found = await rows(
        db, f"select * from submission_status {where} order by year, submitter_code", params
    )
    # Whether a due date has passed, not by how many days: a page is the same all day and
    # every day (it can be served from a file), and the date says it exactly.
    today = datetime.date.today()
    for r in found:
        r["overdue"] = r["status"] in ("gap", "missing") and today > datetime.date.fromisoformat(
            r["due_on"]
        )
    return found


async def county(db, labels, urls, code):
    years = await coverage_years(db)
    latest = years[-1]
    readings = await targets(db)
    info = (await rows(db, "select * from counties where county_code = :c", {"c": code}))[0]
    history = [
        coverage_row(r, readings)
        for r in await rows(
            db,
            "select * from coverage_by_area where level = 'county' and area_code = :c order by year",
            {"c": code},
        )
    ]
    now = history[-1] if history and history[-1]["year"] == latest else None
    townships = [
        coverage_row(r, readings)
        for r in await rows(
            db,
            "select * from coverage_by_area where level = 'township' and county_code = :c "
            "and year = :y order by home_coverage_pct desc, area_code",
            {"c": code, "y": latest},
        )
    ]
    gaps = await rows(
        db,
        "select v.township_code, v.village_code, v.village_name, v.has_childrens_home, v.supervisors "
        "from village_coverage v where v.county_code = :c and v.year = :y "
        "and (v.has_childrens_home = 0 or v.supervisors = 0) order by v.village_code",
        {"c": code, "y": latest},
    )
    villages = defaultdict(lambda: {"no_home": [], "no_supervisor": []})
    for v in gaps:
        if not v["has_childrens_home"]:
            villages[v["township_code"]]["no_home"].append(v)
        if not v["supervisors"]:
            villages[v["township_code"]]["no_supervisor"].append(v)
    facilities = await rows(
        db,
        "select * from facilities where county_code = :c order by facility_type, facility_id",
        {"c": code},
    )
    number = 0
    points = []
    for f in facilities:
        if f["latitude"] is not None:
            number += 1
            f["number"] = number
            points.append(
                {
                    "number": number,
                    "longitude": f["longitude"],
                    "latitude": f["latitude"],
                    "css": f["facility_type"],
                }
            )
    neighbours = [
        r["boundary"]
        for r in await rows(
            db,
            "select boundary from counties where county_code != :c and boundary is not null",
            {"c": code},
        )
    ]
    chosen_home = readings.get("home_coverage", {}).get(CHOSEN, {}).get("years", {})
    other_home = readings.get("home_coverage", {}).get(OTHER, {}).get("years", {})
    supervisor_target = readings.get("supervisor_coverage", {}).get("by_2020", {}).get("years", {})
    return {
        "code": code,
        "name": info["name"],
        "info": info,
        "latest_year": latest,
        "years": years,
        "history": history,
        "now": now,
        "readings": readings,
        "coverage_svg": charts.line_chart(
            [
                ("儿童之家覆盖率", "s0", {r["year"]: r["home_coverage_pct"] for r in history}),
                ("督导员覆盖率", "s1", {r["year"]: r["supervisor_coverage_pct"] for r in history}),
            ],
            years,
            f"{info['name']}历年覆盖率与目标",
            f"{info['name']}{years[0]}到{years[-1]}年建有儿童之家和配备督导员的村（居）委会占比；"
            "虚线是儿童之家目标的两种读法和督导员目标",
            targets=[
                ("儿童之家目标（本站采用的读法）", "t0", chosen_home),
                ("儿童之家目标（另一种读法）", "t1", other_home),
                ("督导员目标", "t2", supervisor_target),
            ],
            maximum=100,
        ),
        "townships": townships,
        "township_bars": charts.bar_chart(
            [
                {
                    "label": t["area_name"],
                    "value": t["home_coverage_pct"],
                    "below": t["meets_home_target"] == 0,
                }
                for t in townships
            ],
            f"{latest}年{info['name']}各乡镇儿童之家覆盖率",
            f"{latest}年{info['name']}各乡镇建有儿童之家的村（居）委会占比，从高到低；虚线是当年目标",
            target=townships[0]["home_target_pct"] if townships else None,
        )
        if townships
        else "",
        "villages": dict(villages),
        "facilities": facilities,
        "facility_svg": maps.facility_map(
            info["boundary"],
            neighbours,
            points,
            f"{info['name']}的服务机构（示意图）",
            f"{info['name']}轮廓示意图上的{len(points)}个服务机构点位，编号与下面的列表对应；"
            "临时监护儿童的机构和设在其内或附近的机构不标点位",
        )
        if info["boundary"]
        else "",
        "children": await children_series(db, "county", code),
        "township_children": await rows(
            db,
            "select c.area_code, c.area_name, c.count, c.status from children_counts c "
            "join townships t on t.township_code = c.area_code where t.county_code = :c "
            "and c.level = 'township' and c.series_code = 'total' and c.year = :y "
            "order by c.area_code",
            {
                "c": code,
                "y": (await rows(db, "select max(year) as y from children_counts"))[0]["y"],
            },
        ),
        "freshness": await freshness(db, code),
    }


GRAM = re.compile(r"[\s\"'*():^\-+]")


def match_expression(text):
    """An FTS5 query that finds any Chinese word of two characters or more: the text's
    overlapping two-character pieces, each quoted, all required (the index holds every
    two-character run; see pipeline/database.py). No input can break the syntax."""
    text = GRAM.sub("", text or "")[:40]
    if len(text) < 2:
        return None
    grams = dict.fromkeys(text[i : i + 2] for i in range(len(text) - 1))
    return " AND ".join(f'"{g}"' for g in grams)


SEARCHES = [
    (
        "facilities",
        "服务机构",
        "select f.facility_id as key, f.name as title, ft.name || ' · ' || f.county_name || f.township_name "
        "as detail from facilities f join facility_types ft on ft.type_code = f.facility_type "
        "where f.rowid in (select rowid from facilities_fts where facilities_fts match :q)",
    ),
    (
        "townships",
        "乡镇",
        "select t.township_code as key, t.name as title, c.name as detail, t.county_code as county "
        "from townships t join counties c on c.county_code = t.county_code "
        "where t.rowid in (select rowid from townships_fts where townships_fts match :q)",
    ),
    (
        "villages",
        "村（居）委会",
        "select v.village_code as key, v.name as title, c.name || t.name as detail, "
        "v.township_code as township, v.county_code as county from villages v "
        "join townships t on t.township_code = v.township_code "
        "join counties c on c.county_code = v.county_code "
        "where v.rowid in (select rowid from villages_fts where villages_fts match :q)",
    ),
    (
        "tasks",
        "重点任务",
        "select task_no as key, '第' || task_no || '项 ' || title as title, substr(text, 1, 60) as detail "
        "from tasks where rowid in (select rowid from tasks_fts where tasks_fts match :q)",
    ),
    (
        "units",
        "责任单位",
        "select unit_code as key, name as title, full_name as detail from units "
        "where rowid in (select rowid from units_fts where units_fts match :q)",
    ),
    (
        "categories",
        "困境儿童类别",
        "select category_code as key, name as title, definition as detail from categories "
        "where rowid in (select rowid from categories_fts where categories_fts match :q)",
    ),
    (
        "documents",
        "相关文件",
        "select doc_code as key, title, coalesce(number, '') as detail from documents "
        "where rowid in (select rowid from documents_fts where documents_fts match :q)",
    ),
]
SEARCH_LIMIT = 20


PLACE_SEARCHES = [
    (
        "counties",
        "县市",
        "select county_code as key, name as title, '楚雄彝族自治州' as detail from counties "
        "where instr(name, :text) > 0 order by county_code",
    ),
]
PINYIN = re.compile(r"[a-z]{2,30}")
PLACE_TITLES = {"county": ("counties", "县市"), "township": ("townships", "乡镇")}
PLACE_TITLES["village"] = ("villages", "村（居）委会")


async def places_by_pinyin(db, text):
    """Counties, townships and villages whose name's pinyin or initials start with what was
    typed (pipeline/place_names.py): a key range on an index, however many villages."""
    key = re.sub(r"[\s']", "", text.lower())
    if not PINYIN.fullmatch(key):
        return []
    found = await rows(
        db,
        "select kind, code, min(length(key)) as closeness from _place_names "
        "where key >= :k and key < :k || '{' group by kind, code "
        "order by case kind when 'county' then 0 when 'township' then 1 else 2 end, "
        "closeness, code limit 61",
        {"k": key},
    )
    groups = []
    for kind, (group, title) in PLACE_TITLES.items():
        codes = [r["code"] for r in found if r["kind"] == kind]
        if not codes:
            continue
        items = await place_items(db, kind, codes[:SEARCH_LIMIT])
        groups.append(
            {"kind": group, "title": title, "more": len(codes) > SEARCH_LIMIT, "items": items}
        )
    return groups


async def place_items(db, kind, codes):
    marks = ", ".join(f":c{i}" for i in range(len(codes)))
    params = {f"c{i}": code for i, code in enumerate(codes)}
    sql = {
        "county": "select county_code as key, name as title, '楚雄彝族自治州' as detail "
        f"from counties where county_code in ({marks})",
        "township": "select t.township_code as key, t.name as title, c.name as detail, "
        "t.county_code as county from townships t join counties c on c.county_code = "
        f"t.county_code where t.township_code in ({marks})",
        "village": "select v.village_code as key, v.name as title, c.name || t.name as detail, "
        "v.township_code as township, v.county_code as county from villages v "
        "join townships t on t.township_code = v.township_code "
        f"join counties c on c.county_code = v.county_code where v.village_code in ({marks})",
    }[kind]
    found = {r["key"]: r for r in await rows(db, sql, params)}
    return [found[c] for c in codes if c in found]


def synonyms(text):
    """The entries of portal/synonyms.yaml a search text calls up."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    return [
        entry
        for entry in words.SYNONYMS
        if any(word in text or text in word for word in entry["words"] + [entry["term"]])
    ]


def href(kind, item, urls):
    if kind == "counties":
        return urls.county(item["key"])
    if kind == "facilities":
        return urls.facility(item["key"])
    if kind == "townships":
        return urls.township(item["key"], item["county"])
    if kind == "villages":
        return urls.village(item["key"])
    if kind == "tasks":
        return urls.task(item["key"])
    if kind == "units":
        return urls.unit(item["key"])
    if kind == "categories":
        return f"/handbook/reference/categories/{item['key']}.html"
    return urls.row("documents", item["key"])


async def search(db, text, urls):
    """Results grouped by kind (places first), each a link, with the words found marked; a
    text in Latin letters is read as the pinyin or initials of a place's name."""
    groups = await places_by_pinyin(db, text)
    expression = match_expression(text)
    if expression is None:
        return with_links(groups, urls)
    for kind, title, sql in PLACE_SEARCHES:
        found = await rows(db, f"{sql} limit {SEARCH_LIMIT + 1}", {"text": text})
        if found:
            groups.append(group(kind, title, found))
    for kind, title, sql in SEARCHES:
        found = await rows(db, f"{sql} limit {SEARCH_LIMIT + 1}", {"q": expression})
        if found:
            groups.append(group(kind, title, found))
    return with_links(groups, urls)


def group(kind, title, found):
    return {
        "kind": kind,
        "title": title,
        "more": len(found) > SEARCH_LIMIT,
        "items": found[:SEARCH_LIMIT],
    }


def with_links(groups, urls):
    for g in groups:
        g["items"] = [{**item, "href": href(g["kind"], item, urls)} for item in g["items"]]
    return groups


async def nearest(db, township_code=None, point=None, limit=10):
    """Services nearest to a point, or to a township (its service station's point, else its
    county seat): [(facility, km)], and the point used and how it was chosen."""
    how = "坐标"
    if township_code:
        station = await rows(
            db,
            "select latitude, longitude from facilities where township_code = :t "
            "and facility_type = 'township_station' and latitude is not null limit 1",
            {"t": township_code},
        )
        if station:
            point, how = (
                (station[0]["latitude"], station[0]["longitude"]),
                "乡镇儿童福利服务工作站的位置",
            )
        else:
            seat = await rows(
                db,
                "select c.latitude, c.longitude from townships t join counties c "
                "on c.county_code = t.county_code where t.township_code = :t",
                {"t": township_code},
            )
            if seat and seat[0]["latitude"] is not None:
                point, how = (
                    (seat[0]["latitude"], seat[0]["longitude"]),
                    "所在县市政府驻地的约略位置",
                )
    if point is None:
        return [], None, how
    found = await rows(db, "select * from facilities where latitude is not null")
    ranked = sorted(
        ((f, maps.distance_km(point, (f["latitude"], f["longitude"]))) for f in found),
        key=lambda item: item[1],
    )
    return ranked[:limit], point, how


async def village(db, labels, urls, code):
    """A village's page: has it a 儿童之家 and a 儿童福利督导员, year by year; the nearest
    services (from its township's service station, else its county seat); whom to call."""
    name, township, county = labels.villages[code]
    history = await rows(
        db,
        "select year, has_childrens_home, home_year_opened, supervisors from village_coverage "
        "where village_code = :c order by year",
        {"c": code},
    )
    contact = await rows(
        db,
        "select contact_name, phone from county_contacts where county_code in (:county, '532300') "
        "order by county_code = :county desc limit 1",
        {"county": county},
    )
    near, point, how = await nearest(db, township_code=township, limit=5)
    neighbours = await rows(
        db,
        "select v.village_code, v.name, vc.has_childrens_home, vc.supervisors "
        "from villages v join village_coverage vc on vc.village_code = v.village_code "
        "and vc.year = (select max(year) from village_coverage) "
        "where v.township_code = :t and v.village_code != :c order by v.village_code",
        {"t": township, "c": code},
    )
    return {
        "code": code,
        "name": name,
        "township_code": township,
        "township": labels.townships.get(township, ("",))[0],
        "county_code": county,
        "county": labels.counties.get(county, ""),
        "history": history,
        "now": history[-1] if history else None,
        "near": near,
        "how": how,
        "contact": contact[0] if contact else None,
        "neighbours": [{**n, "href": urls.village(n["village_code"])} for n in neighbours],
        "county_href": urls.county(county),
        "township_href": urls.township(township, county),
    }
