"""The Datasette app the portal serves, built in one place for `make serve`, the production
workers, the benchmarks and the tests.

It serves a release (releases/current by default): its database as `chuxiong`,
and every release's database, read-only, at a route named after it
(/v2026-11-29-1/...), the current one included: a URL copied on the day a
release is published is the one that keeps showing its numbers after the next. The handbook, the downloads and the portal's
metadata come from build/ (code artefacts, rebuilt by `make build`).
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path

from datasette.app import Datasette
from datasette.database import Database

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
RELEASES = Path(os.environ.get("PORTAL_RELEASES_DIR") or ROOT / "releases")
CURRENT = "chuxiong"

# The one list of Datasette settings (the README explains each).
SETTINGS = {
    "sql_time_limit_ms": 1500,
    "max_returned_rows": 2000,
    "default_page_size": 50,
    "max_csv_mb": 50,
    "facet_time_limit_ms": 300,
    "facet_suggest_time_limit_ms": 50,
    "suggest_facets": False,
    "allow_download": False,
    "allow_csv_stream": True,
    "num_sql_threads": 3,
    "default_cache_ttl": 300,
    "truncate_cells_html": 300,
}


def release_route(release_id):
    """URL segment of an earlier release's database: no dots (Datasette reads them as formats)."""
    return "v" + release_id.replace(".", "-")


@dataclass(frozen=True)
class Served:
    """What a server process serves: the current release and the earlier ones."""

    current: str  # release id
    database: Path
    earlier: tuple  # ((release id, database path), ...), newest first
    store: Path


def current_release(store=RELEASES):
    """The release `current` names in the store (read by the supervisor once per start or
    reload, never by each worker as it happens to start)."""
    return (Path(store) / "current").resolve().name


def served(store=RELEASES, release=None):
    """What to serve: `release` as the current one (default: what `current` names now)."""
    store = Path(store)
    current_folder = store / release if release else (store / "current").resolve()
    if not (current_folder / "chuxiong.db").exists():
        raise SystemExit(
            f"no release {release or ''} in {store}: run `make build` first "
            "(or `make serve`, which builds once)"
        )
    earlier = []
    for folder in sorted(store.iterdir(), reverse=True):
        if folder.name.startswith(".") or folder.name == "current" or folder == current_folder:
            continue
        if (folder / "chuxiong.db").exists():
            earlier.append((folder.name, folder / "chuxiong.db"))
    return Served(current_folder.name, current_folder / "chuxiong.db", tuple(earlier), store)


def make_datasette(store=RELEASES, metadata=BUILD / "metadata.json", settings=None, release=None):
    """The portal's Datasette instance (call `await ds.invoke_startup()` before use in tests).
    `release` pins the current release (the production supervisor passes the one it chose)."""
    what = served(store, release)
    os.environ.setdefault("PORTAL_RELEASES_DIR", str(what.store))
    ds = Datasette(
        [],
        metadata=json.loads(Path(metadata).read_text("utf-8")) if Path(metadata).exists() else {},
        plugins_dir=str(ROOT / "plugins"),
        template_dir=str(ROOT / "templates"),
        static_mounts=[("static", str(ROOT / "static"))],
        settings={**SETTINGS, **(settings or {})},
    )
    ds.add_database(Database(ds, path=str(what.database), is_mutable=False), name=CURRENT)
    for release_id, path in ((what.current, what.database), *what.earlier):
        route = release_route(release_id)
        ds.add_database(Database(ds, path=str(path), is_mutable=False), name=route, route=route)
    ds.portal_served = what
    return ds
