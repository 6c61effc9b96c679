"""Table and column descriptions from the published Table Schemas, and the map's tile settings.

metadata.yml holds what is written by hand; this adds what can be generated,
so a column's description is written once, in its schema. Datasette merges
both (metadata.yml wins where both say something).

Tiles are configuration, read from the environment when the server starts:

    PORTAL_TILE_URL           a Leaflet URL template (default: a plain local tile, works offline)
    PORTAL_TILE_ATTRIBUTION   attribution HTML shown on the map (required by most providers)
    PORTAL_TILE_SUBDOMAINS    e.g. 01234567 for Tianditu's t0..t7 hosts
    PORTAL_TILE_MAX_ZOOM      default 18
"""

import json
import os
from functools import cache
from pathlib import Path

from datasette import hookimpl

DATA = Path(__file__).resolve().parent.parent / "data"
DATABASE = "chuxiong"
LOCAL_TILES = "/-/tiles/{z}/{x}/{y}.png"
ENUM_NAMES = {
    "level": {"township": "乡镇", "county": "县市", "prefecture": "全州"},
    "status": {"published": "公布", "suppressed": "隐藏"},
    "role": {"lead": "牵头单位", "partner": "配合单位"},
}


def tile_settings():
    url = os.environ.get("PORTAL_TILE_URL") or LOCAL_TILES
    options = {
        "maxZoom": int(os.environ.get("PORTAL_TILE_MAX_ZOOM") or 18),
        "attribution": os.environ.get("PORTAL_TILE_ATTRIBUTION")
        or ("底图:无(离线);点位为示例数据" if url == LOCAL_TILES else ""),
    }
    if os.environ.get("PORTAL_TILE_SUBDOMAINS"):
        options["subdomains"] = os.environ["PORTAL_TILE_SUBDOMAINS"]
    return url, options


def column_description(field):
    parts = [field.get("title", "")]
    if field.get("description"):
        parts.append(field["description"])
    enum = field.get("constraints", {}).get("enum")
    if enum:
        names = ENUM_NAMES.get(field["name"], {})
        parts.append(
            "取值:" + "、".join(f"{v}({names[v]})" if v in names else str(v) for v in enum)
        )
    return "。".join(p for p in parts if p)


@cache
def generated():
    tables = {}
    for descriptor_path in sorted(DATA.glob("*/datapackage.json")):
        descriptor = json.loads(descriptor_path.read_text("utf-8"))
        sample = descriptor.get("sample")
        for resource in descriptor["resources"]:
            schema = resource["schema"]
            description = schema.get("description", "").split(" / ")[0]
            if sample:
                description = f"【示例数据,非真实统计】{description}"
            tables[resource["name"]] = {
                "description": f"{description}(数据包:{descriptor['name']})",
                "columns": {f["name"]: column_description(f) for f in schema["fields"]},
            }
    url, options = tile_settings()
    return {
        "databases": {DATABASE: {"tables": tables}},
        "plugins": {"datasette-cluster-map": {"tile_layer": url, "tile_layer_options": options}},
    }


@hookimpl
def get_metadata(datasette, key, database, table):
    return generated()
