"""The portal's own pages and routes: the home page's figures and charts, the handbook,
offline map tiles, the data download, robots.txt.

Charts are drawn as SVG on the server: they need no JavaScript library and no
network, they print, and they read on a phone.
"""

import html
import os
import struct
import zlib
from pathlib import Path

from datasette import hookimpl
from datasette.utils.asgi import Response, asgi_send_file

ROOT = Path(__file__).resolve().parent.parent


def site_dir():
    """The built handbook (PORTAL_HANDBOOK_DIR, default build/site)."""
    return Path(os.environ.get("PORTAL_HANDBOOK_DIR") or ROOT / "build" / "site").resolve()


def download_path():
    """The bundled packages (PORTAL_DOWNLOAD, default build/downloads/chuxiong-open-data.zip)."""
    default = ROOT / "build" / "downloads" / "chuxiong-open-data.zip"
    return Path(os.environ.get("PORTAL_DOWNLOAD") or default)


DATABASE = "chuxiong"
SAMPLE_NOTICE = "示例数据,非真实统计"
STATUS_NAMES = {
    "completed": "已完成",
    "on_track": "按期推进",
    "lagging": "滞后",
    "overdue": "逾期未完成",
    "not_started": "未启动",
}
STATUS_COLOURS = {
    "completed": "#1b7a3a",
    "on_track": "#2f6db3",
    "lagging": "#b36b00",
    "overdue": "#b3261e",
    "not_started": "#6b6b6b",
}


def tile_png():
    """A 256x256 plain tile, for maps with no tile server (offline, or none configured)."""
    width = height = 256
    raw = b"".join(b"\x00" + bytes((0xEE, 0xF1, 0xF4)) * width for _ in range(height))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


TILE = tile_png()


async def tile(request):
    return Response(
        TILE,
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


async def handbook(request, send):
    """Serve build/site/, resolving a folder to its index.html (Datasette's --static cannot)."""
    path = request.url_vars.get("path", "")
    site = site_dir()
    target = (site / path).resolve()
    if target != site and site not in target.parents:
        await Response.text("Not found", status=404).asgi_send(send)
        return
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        await Response.html(
            "<p>手册页面不存在。/ Handbook page not found.</p>", status=404
        ).asgi_send(send)
        return
    await asgi_send_file(send, str(target), headers={"Cache-Control": "public, max-age=3600"})


async def handbook_redirect(request):
    return Response.redirect("/handbook/index.html")


async def download(request, send):
    path = download_path()
    if not path.exists():
        await Response.text("Run `make build` first.", status=404).asgi_send(send)
        return
    await asgi_send_file(
        send,
        str(path),
        filename=path.name,
        content_type="application/zip",
        headers={"Cache-Control": "public, max-age=3600"},
    )


async def robots(request):
    return Response.text(
        "User-agent: *\n"
        "Disallow: /*?sql=\n"
        "Disallow: /*&sql=\n"
        "Disallow: /chuxiong?\n"
        "Disallow: /chuxiong.json?\n"
        "Disallow: /chuxiong.csv?\n"
        "Allow: /\n"
    )


async def home(datasette, request):
    """The home page, without Datasette's own index work (table counts it does not show)."""
    html = await datasette.render_template(
        "index.html",
        {"home": await cached_home_figures(datasette), "databases": [], "metadata": {}},
        request=request,
        view_name="index",
    )
    return Response.html(html)


@hookimpl
def register_routes():
    return [
        (r"^/$", home),
        (r"^/handbook/?$", handbook_redirect),
        (r"^/handbook/(?P<path>.+)$", handbook),
        (r"^/-/tiles/(?P<z>\d+)/(?P<x>\d+)/(?P<y>\d+)\.png$", tile),
        (r"^/-/downloads/chuxiong-open-data\.zip$", download),
        (r"^/robots\.txt$", robots),
    ]


# --- SVG charts ---------------------------------------------------------------------------


def esc(value):
    return html.escape(str(value), quote=True)


def bar_chart(rows, value_key, target_key, title, link):
    """Horizontal bars per county with the year's target as a dashed line."""
    bar_height, gap, label_width, width = 22, 8, 56, 250
    height = len(rows) * (bar_height + gap) + 30
    parts = [
        f'<svg viewBox="0 0 {label_width + width + 56} {height}" role="img" '
        f'aria-labelledby="t-{value_key}" class="chart">',
        f'<title id="t-{value_key}">{esc(title)}</title>',
    ]
    target = None
    for i, row in enumerate(rows):
        y = 20 + i * (bar_height + gap)
        value = row[value_key] or 0
        target = row[target_key]
        ok = target is None or value >= target
        colour = "#2f6db3" if ok else "#b36b00"
        parts.append(
            f'<a href="{esc(link(row))}"><text x="{label_width - 6}" y="{y + 15}" '
            f'text-anchor="end" class="label">{esc(row["area_name"])}</text>'
            f'<rect x="{label_width}" y="{y}" width="{width * value / 100:.1f}" '
            f'height="{bar_height}" fill="{colour}"><title>{esc(row["area_name"])} '
            f"{value}%{'' if target is None else f',目标 {target}%'}</title></rect>"
            f'<text x="{label_width + width * value / 100 + 4:.1f}" y="{y + 15}" '
            f'class="value">{value}%</text></a>'
        )
    if target is not None:
        x = label_width + width * target / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="12" x2="{x:.1f}" y2="{height - 4}" class="target"/>'
            f'<text x="{x:.1f}" y="10" text-anchor="middle" class="value">目标 {target}%</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(series, targets, years, title, y_max=100, unit="%"):
    """Small line chart: one line per series, and the target trajectory as a dashed step line.

    `series` is [(label, {year: value or None})]; a None is a gap, never a zero.
    """
    width, height, left, bottom, top = 300, 150, 34, 22, 10
    span = max(1, len(years) - 1)

    def x(year):
        return left + (width - left - 8) * (years.index(year)) / span

    def y(value):
        return top + (height - top - bottom) * (1 - value / y_max)

    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" class="chart small">'
        f"<title>{esc(title)}</title>"
    ]
    for tick in (0, y_max / 2, y_max):
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - 8}" y2="{y(tick):.1f}" '
            f'class="grid"/><text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" '
            f'class="axis">{tick:g}{unit}</text>'
        )
    for year, anchor in ((years[0], "start"), (years[-1], "end")):
        parts.append(
            f'<text x="{x(year):.1f}" y="{height - 6}" text-anchor="{anchor}" class="axis">'
            f"{year}</text>"
        )
    if targets:
        points = []
        for year in years:
            if year in targets:
                points.append(f"{x(year):.1f},{y(targets[year]):.1f}")
        parts.append(f'<polyline points="{" ".join(points)}" class="target"/>')
    for index, (label, values) in enumerate(series):
        segment = []
        segments = []
        for year in years:
            value = values.get(year)
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
            else:
                segment.append((x(year), y(value), year, value))
        if segment:
            segments.append(segment)
        css = f"line s{index}"
        for seg in segments:
            parts.append(
                f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b, _, _ in seg)}" '
                f'class="{css}"/>'
            )
            for a, b, year, value in seg:
                parts.append(
                    f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.5" class="{css}">'
                    f"<title>{esc(label)} {year}: {value:g}{unit}</title></circle>"
                )
    parts.append("</svg>")
    return "".join(parts)


# --- the home page ------------------------------------------------------------------------


async def home_figures(datasette):
    db = datasette.get_database(DATABASE)

    async def rows(sql, params=None):
        return [dict(r) for r in (await db.execute(sql, params or {})).rows]

    latest = (await rows("select max(year) as y from coverage_by_area"))[0]["y"]
    sample = bool(
        await rows(
            "select 1 from coverage_by_area where data_source = :n limit 1",
            {"n": SAMPLE_NOTICE},
        )
    )
    counties = await rows(
        "select c.*, s.latitude as seat_latitude, s.longitude as seat_longitude "
        "from coverage_by_area c join counties s on s.county_code = c.area_code "
        "where c.level = 'county' and c.year = :y order by c.area_code",
        {"y": latest},
    )
    prefecture = (
        await rows(
            "select * from coverage_by_area where level = 'prefecture' and year = :y", {"y": latest}
        )
    )[0]
    history = await rows(
        "select year, area_code, area_name, home_coverage_pct, supervisor_coverage_pct "
        "from coverage_by_area where level = 'county' order by area_code, year"
    )
    years = sorted({r["year"] for r in history})
    targets = {
        (t["target_code"], t["year"]): t["value"]
        for t in await rows("select * from targets where chosen")
    }
    readings = await rows(
        "select distinct target_code, reading, clause from targets where chosen and measured "
        "and year = (select max(year) from targets where chosen)"
    )

    def county_link(row):
        return (
            f"/{DATABASE}/coverage_by_area?year={row['year']}&level=county"
            f"&area_code={row['area_code']}"
        )

    small_multiples = []
    for county in counties:
        values = {r["year"]: r for r in history if r["area_code"] == county["area_code"]}
        small_multiples.append(
            {
                "name": county["area_name"],
                "link": f"/{DATABASE}/coverage_by_area?level=county&area_code={county['area_code']}",
                "svg": line_chart(
                    [
                        ("儿童之家覆盖率", {y: v["home_coverage_pct"] for y, v in values.items()}),
                        (
                            "督导员覆盖率",
                            {y: v["supervisor_coverage_pct"] for y, v in values.items()},
                        ),
                    ],
                    {
                        y: targets[("home_coverage", y)]
                        for y in years
                        if ("home_coverage", y) in targets
                    },
                    years,
                    f"{county['area_name']}历年覆盖率与儿童之家目标",
                ),
            }
        )

    task_state = await rows(
        "select l.task_no, l.title, l.lead_unit, l.lead_unit_code, p.status, p.period "
        "from task_leads l left join task_progress p on p.task_no = l.task_no "
        "and p.unit_code = l.lead_unit_code "
        "and p.period = (select max(period) from task_progress) order by l.task_no"
    )
    status_counts = {}
    for task in task_state:
        status_counts[task["status"]] = status_counts.get(task["status"], 0) + 1
    by_lead = {}
    for task in task_state:
        by_lead.setdefault(task["lead_unit"], []).append(task)

    facilities = await rows(
        "select t.type_code, t.name, t.holds_children_in_custody as custody, count(f.facility_id) as n "
        "from facility_types t left join facilities f on f.facility_type = t.type_code "
        "where t.reported_in = 'facilities' group by t.type_code order by t.rowid"
    )
    homes = prefecture["villages_with_home"]

    children = await rows(
        "select c.year, c.series_code, p.name, c.count, c.status from children_counts c "
        "join publication_levels p using (series_code) where c.level = 'prefecture' "
        "order by c.series_code, c.year"
    )
    series = {}
    for row in children:
        series.setdefault((row["series_code"], row["name"]), {})[row["year"]] = row["count"]
    child_years = sorted({r["year"] for r in children})
    children_charts = []
    for (code, name), values in series.items():
        known = [v for v in values.values() if v is not None]
        top = max(known) if known else 10
        children_charts.append(
            {
                "name": name,
                "code": code,
                "hidden": [y for y, v in sorted(values.items()) if v is None],
                "link": f"/{DATABASE}/children_counts?level=prefecture&series_code={code}",
                "svg": line_chart(
                    [(name, values)],
                    {},
                    child_years,
                    f"全州{name}人数(隐藏的年份为空缺)",
                    y_max=nice_ceiling(top),
                    unit="",
                ),
            }
        )

    return {
        "latest_year": latest,
        "as_of": f"{latest}-12-31",
        "sample": sample,
        "prefecture": prefecture,
        "counties": counties,
        "coverage_map": coverage_map(
            counties, f"{latest}年各县市儿童之家覆盖率(圆圈大小表示村(居)委会数量)"
        ),
        "home_chart": bar_chart(
            counties,
            "home_coverage_pct",
            "home_target_pct",
            f"{latest}年各县市建有儿童之家的村(居)委会占比",
            county_link,
        ),
        "supervisor_chart": bar_chart(
            counties,
            "supervisor_coverage_pct",
            "supervisor_target_pct",
            f"{latest}年各县市配备督导员的村(居)委会占比",
            county_link,
        ),
        "small_multiples": small_multiples,
        "readings": readings,
        "tasks_by_lead": by_lead,
        "task_status_counts": status_counts,
        "task_period": task_state[0]["period"] if task_state else None,
        "status_names": STATUS_NAMES,
        "status_colours": STATUS_COLOURS,
        "facilities": facilities,
        "homes": homes,
        "children_charts": children_charts,
    }


def coverage_map(counties, title):
    """Proportional symbols at the county seats: area by committees, colour by coverage.

    Drawn from the county seats' coordinates (an equirectangular projection is
    close enough across one prefecture), so it needs no tiles and no boundary
    data whose licence would have to allow publishing.
    """
    placed = [c for c in counties if c["seat_latitude"] is not None]
    if not placed:
        return ""
    west = min(c["seat_longitude"] for c in placed) - 0.25
    east = max(c["seat_longitude"] for c in placed) + 0.25
    south = min(c["seat_latitude"] for c in placed) - 0.25
    north = max(c["seat_latitude"] for c in placed) + 0.25
    width = 340
    height = width * (north - south) / ((east - west) * 0.9)
    biggest = max(c["villages"] for c in placed)
    parts = [
        f'<svg viewBox="0 0 {width} {height:.0f}" role="img" class="chart map" '
        f'aria-labelledby="t-map"><title id="t-map">{esc(title)}</title>'
    ]
    for c in sorted(placed, key=lambda c: -c["villages"]):
        x = width * (c["seat_longitude"] - west) / (east - west)
        y = height * (north - c["seat_latitude"]) / (north - south)
        r = 6 + 16 * (c["villages"] / biggest) ** 0.5
        below = c["meets_home_target"] == 0
        parts.append(
            f'<a href="/{DATABASE}/coverage_by_area?year={c["year"]}&amp;level=township'
            f'&amp;county_code={c["area_code"]}"><circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" '
            f'class="{"below" if below else "meets"}"><title>{esc(c["area_name"])}:'
            f"{c['villages_with_home']}/{c['villages']} 个村(居)委会建有儿童之家"
            f"({c['home_coverage_pct']}%)</title></circle>"
            f'<text x="{x:.1f}" y="{y + r + 11:.1f}" text-anchor="middle" class="label">'
            f"{esc(c['area_name'])} {c['home_coverage_pct']}%</text></a>"
        )
    parts.append("</svg>")
    return "".join(parts)


def nice_ceiling(value):
    for step in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000):
        if value <= step:
            return step
    return value


_home_cache = {}


async def cached_home_figures(datasette):
    """The home page's figures, computed once per immutable database (its hash is its version)."""
    db = datasette.get_database(DATABASE)
    if not db.hash:
        return await home_figures(datasette)
    if db.hash not in _home_cache:
        _home_cache.clear()
        _home_cache[db.hash] = await home_figures(datasette)
    return _home_cache[db.hash]


@hookimpl
def extra_css_urls():
    return ["/static/portal.css"]


@hookimpl
def extra_js_urls():
    return [{"url": "/static/portal.js", "module": False}]
