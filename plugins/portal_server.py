"""Server-level hooks: the HTTP wrapper, SQLite limits, Chinese error pages, the served version.

The logic lives in portal/ (http.py, sqlite_limits.py, errors.py); this file wires it in.
"""

import hashlib
import sys
from pathlib import Path

from datasette import Response, hookimpl
from datasette.database import Database
from datasette.plugins import pm

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from portal import errors, sqlite_limits  # noqa: E402
from portal.config import config  # noqa: E402
from portal.http import PortalHttp  # noqa: E402

# Datasette's own handler prints a rich traceback with locals for every handled error,
# a 404 included: ~360 ms of event-loop time and 16 KB of log each. This one replaces it.
# Datasette's default permission check deep-copies the whole metadata on every call, and a
# database page makes one call per table: ~330 ms for /chuxiong. The portal has no "allow"
# blocks (tests/test_portal.py checks), so its rule is short; it replaces that one too.
REPLACED = ("datasette.handle_exception", "datasette.default_permissions")
for plugin in list(pm.get_plugins()):
    if getattr(plugin, "__name__", "") in REPLACED:
        pm.unregister(plugin)

CODE = ("templates", "static", "plugins", "portal", "serving")

# Datasette writes every failed query, with its SQL and parameters, to stderr: a line per
# mistyped or hostile query a visitor sends, as long as they make it. The visitor gets the
# error in Chinese; the server's log keeps what concerns the server (portal/errors.py).
Database.execute.__defaults__ = Database.execute.__defaults__[:-1] + (False,)


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: PortalHttp(app, datasette)


@hookimpl
def permission_allowed(actor, action, resource):
    """Everyone reads everything that is published; nobody sees Datasette's internal database
    or its debugging pages. Anything else falls to the caller's default."""
    if action == "view-database" and resource == "_internal":
        return False
    if action in ("permissions-debug", "debug-menu"):
        return False
    return None


sqlite_limits.install()


@hookimpl
def prepare_connection(conn):
    sqlite_limits.apply(conn)


@hookimpl
def startup(datasette):
    """The served version: the databases' hashes and the code's, the basis of every ETag."""
    digest = hashlib.sha256()
    for name, db in sorted(datasette.databases.items()):
        digest.update(f"{name}:{db.hash}".encode())
    for folder in CODE:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.read_bytes())
    datasette.portal_version = digest.hexdigest()[:16]


@hookimpl
def get_metadata(datasette, key, database, table):
    """Tiles for datasette-cluster-map from the deployment's settings (a plain local tile by
    default, so no request leaves the site), and for every earlier release's database the
    current one's titles, facets and queries. Computed once: Datasette asks dozens of times
    a page."""
    # Keyed by the databases served: the first call comes before the releases are added.
    served = tuple(datasette.databases)
    cached = getattr(datasette, "_portal_metadata", None)
    if cached is not None and cached[0] == served:
        return cached[1]
    cfg = config()
    options = {"maxZoom": cfg.tile_max_zoom, "attribution": cfg.tile_attribution or "无在线底图"}
    if cfg.tile_subdomains:
        options["subdomains"] = cfg.tile_subdomains
    metadata = {
        "plugins": {
            "datasette-cluster-map": {
                "tile_layer": cfg.tile_url or "/-/tiles/{z}/{x}/{y}.png",
                "tile_layer_options": options,
                "latitude_column": "latitude",
                "longitude_column": "longitude",
            }
        }
    }
    current = (
        datasette._metadata_local.get("databases", {}).get("chuxiong")
        if hasattr(datasette, "_metadata_local")
        else None
    )
    if current:
        metadata["databases"] = {
            name: current for name in datasette.databases if name.startswith("v2")
        }
    datasette._portal_metadata = (served, metadata)
    return metadata


@hookimpl
def handle_exception(datasette, request, exception):
    async def inner():
        status, message, original = errors.describe(exception)
        if status >= 500:
            print(
                f"{status} {request.path}: {type(exception).__name__}: {original[:200]}",
                file=sys.stderr,
                flush=True,
            )
        if request.path.split("?")[0].endswith(".json"):
            return Response.json(
                {"ok": False, "status": status, "error": message, "error_en": original},
                status=status,
            )
        page = await datasette.render_template(
            "error.html",
            {
                "status": status,
                "title": errors.title(status),
                "error": message,
                "error_en": original if status < 500 else "",
            },
            request=request,
            view_name="error",
        )
        return Response.html(page, status=status)

    return inner
