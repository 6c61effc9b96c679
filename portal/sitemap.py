"""The pages a search engine, a journalist's readers or a crawler are sent to: the sitemap.

One list, used twice: /sitemap.xml, and scripts/bake_pages.py, which renders every one of
these pages at release time into files nginx serves directly (a full crawl of the sitemap
then never reaches a portal worker). Pages whose content depends on nothing but the
release: home, map, search, releases, every county and village, every table's first page, every canned
query with its default parameters, the row page of every place, facility, task, unit and
reference entry people look up, and the handbook.
"""

from pathlib import Path

from datasette.utils import path_from_row_pks

from . import links

PAGES = ["/", "/map", "/search", "/-/releases"]
MAX_PATHS = 50_000  # what one sitemap file may list
# Tables whose rows are things people look up by name, each with a page of its own.
ROW_TABLES = (
    "counties",
    "townships",
    "villages",
    "facilities",
    "tasks",
    "units",
    "categories",
    "measures",
    "facility_types",
    "documents",
    "unsupported_situations",
    "parent_statuses",
    "orphan_situations",
    "targets",
    "publication_levels",
)


async def paths(datasette, handbook=None):
    """Every path the sitemap lists, in a fixed order."""
    db = datasette.get_database(links.CURRENT)
    out = list(PAGES)
    counties = await db.execute("select county_code from counties order by county_code")
    out += [f"/county/{r[0]}" for r in counties.rows]
    villages = await db.execute(
        "select village_code from villages order by village_code", page_size=None
    )
    out += [f"/village/{r[0]}" for r in villages.rows]
    out.append(f"/{links.CURRENT}")
    hidden = set(await db.hidden_table_names())
    tables = [t for t in await db.table_names() if t not in hidden and not t.startswith("_")]
    out += [f"/{links.CURRENT}/{t}" for t in sorted(tables)]
    for name in sorted((await datasette.get_canned_queries(links.CURRENT, None)) or {}):
        out.append(f"/{links.CURRENT}/{name}")
    for table in ROW_TABLES:
        if table not in tables:
            continue
        keys = await db.primary_keys(table)
        columns = ", ".join(f"[{k}]" for k in keys) if keys else "rowid"
        found = await db.execute(
            f"select {columns} from [{table}] order by {columns}", page_size=None
        )
        for row in found.rows:
            out.append(
                f"/{links.CURRENT}/{table}/{path_from_row_pks(row, keys or ['rowid'], not keys)}"
            )
    if handbook and Path(handbook).is_dir():
        site = Path(handbook)
        out += [
            "/handbook/" + str(p.relative_to(site))
            for p in sorted(site.rglob("*.html"))
            if p.name != "404.html"
        ]
    return out[:MAX_PATHS]
