"""The portal's own pages and files: home, county pages, search, the map, releases, reporting a
problem, the catalogue, downloads, the handbook, robots and sitemap.

Each page is a template (templates/); what it shows comes from portal/figures.py,
computed once per database and kept (the database never changes while served),
so a page costs about as much as the template it renders.
"""

import html
import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import quote

from datasette import Response, hookimpl
from datasette.utils.asgi import NotFound, asgi_send_file

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from portal import catalog, csp, figures, links  # noqa: E402
from portal import sitemap as portal_sitemap  # noqa: E402
from portal.config import config  # noqa: E402

BUILD = ROOT / "build"
DOWNLOADS = {
    "chuxiong-open-data.zip": "application/zip",
    "chuxiong-checker.zip": "application/zip",
    "handbook-offline.zip": "application/zip",
}
RELEASE_FILES = {
    "chuxiong.db": "application/vnd.sqlite3",
    "chuxiong-open-data.zip": "application/zip",
    "manifest.json": "application/json",
}
RELEASE_ID = re.compile(r"^\d{4}-\d{2}-\d{2}\.\d+$")
SITE_PATH = re.compile(r"/(?![/\\])[^\s\\\x00-\x1f\x7f]*")


def site_dir():
    return Path(os.environ.get("PORTAL_HANDBOOK_DIR") or BUILD / "site").resolve()


def downloads_dir():
    return Path(os.environ.get("PORTAL_DOWNLOADS_DIR") or BUILD / "downloads")


def store(datasette):
    return Path(datasette.portal_served.store)


_figures = {}


async def cached(datasette, key, compute):
    """A page's figures, computed once per served version."""
    full = (getattr(datasette, "portal_version", ""), *key)
    if full not in _figures:
        if len(_figures) > 256:
            _figures.clear()
        _figures[full] = await compute()
    return _figures[full]


def database_for(datasette, request):
    """The current release's database, or an earlier release's when ?release= names it."""
    release = request.args.get("release")
    if release:
        if not RELEASE_ID.match(release):
            raise NotFound("no such release")
        name = "v" + release.replace(".", "-")
        if name not in datasette.databases:
            raise NotFound("no such release")
        return name
    return links.CURRENT


async def page(datasette, request, template, context, database=links.CURRENT, status=200):
    html = await datasette.render_template(
        template,
        {**context, "database": database},
        request=request,
        view_name=template.split(".")[0],
    )
    return Response.html(html, status=status)


async def home(datasette, request):
    db = datasette.get_database(links.CURRENT)
    found = datasette.portal_labels[links.CURRENT]
    urls = links.Urls()
    data = await cached(datasette, ("home",), lambda: figures.home(db, found, urls))
    return await page(datasette, request, "index.html", {"home": data})


async def county(datasette, request):
    code = request.url_vars["code"]
    name = database_for(datasette, request)
    found = datasette.portal_labels[name]
    if code not in found.counties:
        raise NotFound("no such county")
    db = datasette.get_database(name)
    urls = links.Urls(name, found.release.get("release_id"))
    data = await cached(
        datasette, ("county", name, code), lambda: figures.county(db, found, urls, code)
    )
    return await page(datasette, request, "county.html", {"county": data}, database=name)


async def village(datasette, request):
    code = request.url_vars["code"]
    name = database_for(datasette, request)
    found = datasette.portal_labels[name]
    if code not in found.villages:
        raise NotFound("no such village")
    db = datasette.get_database(name)
    urls = links.Urls(name, found.release.get("release_id"))
    data = await cached(
        datasette, ("village", name, code), lambda: figures.village(db, found, urls, code)
    )
    return await page(datasette, request, "village.html", {"village": data}, database=name)


async def search(datasette, request):
    text = (request.args.get("q") or "").strip()[:40]
    db = datasette.get_database(links.CURRENT)
    urls = links.Urls()
    groups = await cached(datasette, ("search", text), lambda: figures.search(db, text, urls))
    related = figures.synonyms(text)
    instead = None
    if not groups and related:
        instead = related[0]["term"]
        groups = await cached(
            datasette, ("search", instead), lambda: figures.search(db, instead, urls)
        )
    return await page(
        datasette,
        request,
        "search.html",
        {"q": text, "groups": groups, "related": related, "instead": instead},
    )


async def map_page(datasette, request):
    db = datasette.get_database(links.CURRENT)
    found = datasette.portal_labels[links.CURRENT]
    township = request.args.get("township") or ""
    near = []
    point, how = None, None
    if township in found.townships:
        near, point, how = await figures.nearest(db, township_code=township)
    counties = await figures.rows(db, "select county_code, name from counties order by county_code")
    townships = await figures.rows(
        db, "select township_code, name, county_code from townships order by township_code"
    )
    cfg = config()
    return await page(
        datasette,
        request,
        "map.html",
        {
            "township": township,
            "near": near,
            "point": point,
            "how": how,
            "counties": counties,
            "townships": townships,
            "tiles": {
                "url": cfg.tile_url,
                "attribution": cfg.tile_attribution,
                "subdomains": cfg.tile_subdomains,
                "max_zoom": cfg.tile_max_zoom,
            },
        },
    )


async def boundaries(datasette, request):
    db = datasette.get_database(links.CURRENT)
    data = await cached(datasette, ("boundaries",), lambda: boundary_collection(db))
    return Response(data, content_type="application/geo+json; charset=utf-8")


async def boundary_collection(db):
    counties = await figures.rows(
        db, "select county_code, name, label_longitude, label_latitude, boundary from counties"
    )
    return json.dumps(
        {
            "type": "FeatureCollection",
            "note": "示意图：简化的县市轮廓，不是测绘边界 / sketch outlines, not surveyed boundaries",
            "features": [
                {
                    "type": "Feature",
                    "properties": {
                        "county_code": c["county_code"],
                        "name": c["name"],
                        "label": [c["label_latitude"], c["label_longitude"]],
                    },
                    "geometry": json.loads(c["boundary"]),
                }
                for c in counties
                if c["boundary"]
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


async def releases_page(datasette, request):
    db = datasette.get_database(links.CURRENT)

    async def load():
        changes = await figures.rows(
            db, "select * from release_changes order by release_id, table_name, year"
        )
        corrections = await figures.rows(db, "select * from corrections order by corrected_on desc")
        listed = await figures.rows(db, "select * from releases order by rowid desc")
        kept = store(datasette)
        for release in listed:
            folder = kept / release["release_id"]
            release["files"] = [
                {"name": n, "bytes": (folder / n).stat().st_size}
                for n in RELEASE_FILES
                if (folder / n).exists()
            ]
            release["route"] = "v" + release["release_id"].replace(".", "-")
            release["served"] = release["route"] in datasette.databases
            release["changes"] = [c for c in changes if c["release_id"] == release["release_id"]]
            release["corrections"] = [
                c for c in corrections if c["release_id"] == release["release_id"]
            ]
        return {"releases": listed, "corrections": corrections}

    data = await cached(datasette, ("releases",), load)
    return await page(datasette, request, "releases.html", data)


async def release_file(datasette, request, send):
    release, name = request.url_vars["release"], request.url_vars["name"]
    path = store(datasette) / release / name
    if not RELEASE_ID.match(release) or name not in RELEASE_FILES or not path.is_file():
        raise NotFound("no such release file")
    await send_file(
        send,
        path,
        RELEASE_FILES[name],
        f"chuxiong-{release}-{name}" if name != "manifest.json" else None,
    )


async def send_file(send, path, content_type, filename=None):
    await asgi_send_file(send, str(path), filename=filename, content_type=content_type)


async def download(datasette, request, send):
    name = request.url_vars["name"]
    if name == "chuxiong-open-data.zip":
        path = store(datasette) / "current" / name
    else:
        path = downloads_dir() / name
    if name not in DOWNLOADS or not path.is_file():
        raise NotFound("no such download")
    await send_file(send, path, DOWNLOADS[name], name)


async def report(datasette, request):
    what = (request.args.get("what") or "")[:200]
    source = (request.args.get("page") or "")[:300]
    # Only a page of this site: "//host/..." and "/\\host/..." are other sites to a browser,
    # and a browser drops tabs and line breaks from a URL before reading it ("/<tab>/host").
    if not SITE_PATH.fullmatch(source):
        source = ""
    return await page(datasette, request, "report.html", {"what": what, "source": source})


async def catalogue(datasette, request):
    fmt = request.url_vars["format"]
    db = datasette.get_database(links.CURRENT)
    base = public_base(request)
    graph = await cached(
        datasette, ("catalog", base), lambda: catalog.build(db, base, datasette.portal_served)
    )
    if fmt == "ttl":
        return Response(catalog.turtle(graph), content_type="text/turtle; charset=utf-8")
    return Response(
        json.dumps(graph, ensure_ascii=False, indent=1),
        content_type="application/ld+json; charset=utf-8",
    )


async def handbook(request, send):
    """build/site/, a folder resolved to its index.html (Datasette's --static cannot)."""
    path = request.url_vars.get("path", "")
    site = site_dir()
    target = (site / path).resolve()
    if target != site and site not in target.parents:
        raise NotFound("not in the handbook")
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        raise NotFound("no such handbook page")
    types = {
        ".html": "text/html; charset=utf-8",
        ".js": "text/javascript",
        ".css": "text/css",
        ".json": "application/json",
        ".svg": "image/svg+xml",
        ".png": "image/png",
        ".xml": "application/xml",
        ".txt": "text/plain; charset=utf-8",
    }
    if target.suffix == ".html":
        csp.allow_scripts_of(target.read_text("utf-8"))
    await asgi_send_file(send, str(target), content_type=types.get(target.suffix))


async def handbook_redirect(request):
    return Response.redirect("/handbook/index.html")


def plain_tile():
    import struct
    import zlib

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


TILE = plain_tile()


async def tile(request):
    return Response(TILE, content_type="image/png")


def public_base(request):
    """The portal's public address: PORTAL_BASE_URL, or else the one the visitor used."""
    return config().base_url or f"{request.scheme}://{request.host}"


async def robots(request):
    # The sitemap's address must be absolute (robots.txt has no base to resolve it against).
    return Response.text(
        "User-agent: *\nDisallow: /*?sql=\nDisallow: /*&sql=\nDisallow: /*_where=\n"
        f"Disallow: /-/report\nAllow: /\nSitemap: {public_base(request)}/sitemap.xml\n"
    )


async def sitemap(datasette, request):
    base = public_base(request)
    paths = await cached(
        datasette, ("sitemap",), lambda: portal_sitemap.paths(datasette, site_dir())
    )
    body = "".join(f"<url><loc>{base}{html.escape(quote(p))}</loc></url>" for p in paths)
    return Response(
        f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>',
        content_type="application/xml",
    )


async def favicon(request, send):
    await asgi_send_file(send, str(ROOT / "static" / "favicon.svg"), content_type="image/svg+xml")


@hookimpl
def register_routes():
    return [
        (r"^/$", home),
        (r"^/county/(?P<code>\d{6})$", county),
        (r"^/village/(?P<code>\d{12})$", village),
        (r"^/search$", search),
        (r"^/map$", map_page),
        (r"^/-/boundaries\.geojson$", boundaries),
        (r"^/-/releases$", releases_page),
        (r"^/-/releases/(?P<release>[0-9.\-]+)/(?P<name>[a-z\-.]+)$", release_file),
        (r"^/-/downloads/(?P<name>[a-z\-.]+)$", download),
        (r"^/-/report$", report),
        (r"^/catalog\.(?P<format>jsonld|ttl)$", catalogue),
        (r"^/handbook/?$", handbook_redirect),
        (r"^/handbook/(?P<path>.+)$", handbook),
        (r"^/-/tiles/(?P<z>\d+)/(?P<x>\d+)/(?P<y>\d+)\.png$", tile),
        (r"^/robots\.txt$", robots),
        (r"^/sitemap\.xml$", sitemap),
        (r"^/favicon\.ico$", favicon),
    ]
