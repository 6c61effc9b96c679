"""Render every page the sitemap lists into files nginx serves as they are, at release time.

    python scripts/bake_pages.py                 # the current release, into build/baked/<release>/

A crawler following the sitemap, a search engine, or a journalist's readers arriving at row
pages would otherwise all be cache misses for a portal worker to render. Each page is
rendered once through the portal's own app (serving/app.py, the same templates), written as
<path>.html with a gzip copy beside it (nginx's gzip_static), and the hashes of every inline
script those pages carry are kept in csp.txt, for the Content-Security-Policy nginx sends
with them. serve-prod serves a release's pages from here when its folder is complete.
"""

import argparse
import asyncio
import gzip
import json
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import csp, sitemap  # noqa: E402
from serving import app  # noqa: E402

COMPLETE = ".complete.json"


def target(folder, path):
    """Where nginx looks for a page: /county/532301 -> county/532301.html, / -> index.html."""
    path = unquote(path).strip("/")
    return folder / (f"{path}.html" if path else "index.html")


async def bake(store, metadata, out):
    release = app.current_release(store)
    folder = Path(out) / release
    partial = folder.with_name(f".{release}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    ds = app.make_datasette(store, metadata, release=release)
    await ds.invoke_startup()
    started = time.perf_counter()
    scripts = csp.collect()
    paths = [p for p in await sitemap.paths(ds) if not p.startswith("/handbook/")]
    baked = 0
    for path in paths:
        response = await ds.client.get(path)
        if response.status_code != 200 or "text/html" not in response.headers["content-type"]:
            continue
        html = response.text
        csp.allow_scripts_of(html)
        file = target(partial, path)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(html, "utf-8")
        file.with_suffix(".html.gz").write_bytes(gzip.compress(html.encode("utf-8"), 9, mtime=0))
        baked += 1
    (partial / "csp.txt").write_text(csp.policy(scripts), "utf-8")
    seconds = round(time.perf_counter() - started, 1)
    (partial / COMPLETE).write_text(
        json.dumps({"release": release, "pages": baked, "seconds": seconds}) + "\n", "utf-8"
    )
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return release, baked, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", default=str(app.RELEASES))
    parser.add_argument("--metadata", default=str(app.BUILD / "metadata.json"))
    parser.add_argument("--out", default=str(app.BUILD / "baked"))
    args = parser.parse_args()
    release, pages, seconds = asyncio.run(bake(args.releases, args.metadata, args.out))
    print(f"baked {pages} pages of release {release} in {seconds} s into {args.out}/{release}")


if __name__ == "__main__":
    main()
