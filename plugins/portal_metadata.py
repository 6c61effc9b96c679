"""The map's tile settings, read from the environment when the server starts.

(Table and column descriptions are generated into build/metadata.json at build
time by scripts/build_metadata.py.)

    PORTAL_TILE_URL           a Leaflet URL template (default: a plain local tile, works offline)
    PORTAL_TILE_ATTRIBUTION   attribution HTML shown on the map (required by most providers)
    PORTAL_TILE_SUBDOMAINS    e.g. 01234567 for Tianditu's t0..t7 hosts
    PORTAL_TILE_MAX_ZOOM      default 18

Set at the top level of the plugin's configuration, where every map sees it: a
table-level block would replace it rather than merge with it.
"""

import os
from functools import cache

from datasette import hookimpl

LOCAL_TILES = "/-/tiles/{z}/{x}/{y}.png"


@cache
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


@hookimpl
def get_metadata(datasette, key, database, table):
    url, options = tile_settings()
    return {
        "plugins": {"datasette-cluster-map": {"tile_layer": url, "tile_layer_options": options}}
    }
