"""Lighthouse scores of the portal's main page types, as `make serve` serves them.

    python scripts/lighthouse.py [--url http://127.0.0.1:8001]   # `make lighthouse` runs it

Lighthouse (npm, pinned: 12.2.3 is the last release that runs on Debian's Node 20) is
installed once into build/tools/lighthouse from the npm registry; it drives Debian's
Chromium (never a downloaded browser) in mobile emulation. Without --url the script starts
a worker on a free port over the built release. It prints one row per page: performance,
accessibility, best practices, SEO, and every audit that lost points. A measurement, not
a test: the browser tests (tests/test_browser.py, axe-core) are what fail the build.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.portal_server import served  # noqa: E402

LIGHTHOUSE_VERSION = "12.2.3"
TOOLS = ROOT / "build" / "tools" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
PAGES = [
    "/",
    "/county/532329",
    "/map",
    "/search?q=孤儿",
    "/chuxiong",
    "/chuxiong/facilities",
    "/chuxiong/facilities/532301-F001",
    "/chuxiong/below_target?year=2020",
    "/-/releases",
    "/handbook/index.html",
    "/handbook/reference/targets.html",
]
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def lighthouse():
    binary = TOOLS / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        TOOLS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(TOOLS),
             "--save-exact", f"lighthouse@{LIGHTHOUSE_VERSION}"],
            check=True,
        )  # fmt: skip
    return binary


def audit(binary, url, out):
    subprocess.run(
        [str(binary), url, "--quiet", "--form-factor=mobile",
         f"--only-categories={','.join(CATEGORIES)}",
         "--chrome-flags=--headless=new --no-sandbox",
         "--output=json", f"--output-path={out}"],
        check=True,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    report = json.loads(Path(out).read_text())
    scores = {k: round(report["categories"][k]["score"] * 100) for k in CATEGORIES}
    lost = [
        f"{ref['id']} ({report['audits'][ref['id']].get('displayValue') or 0})"
        for k in CATEGORIES
        for ref in report["categories"][k]["auditRefs"]
        if ref.get("weight") and (report["audits"][ref["id"]]["score"] or 0) < 1
        and report["audits"][ref["id"]]["score"] is not None
    ]  # fmt: skip
    return scores, lost


def run(base):
    binary = lighthouse()
    print(f"Lighthouse {LIGHTHOUSE_VERSION}, mobile, Debian's Chromium, {base}")
    print(f"{'page':40} {'perf':>5} {'a11y':>5} {'best':>5} {'seo':>5}  lost points")
    with tempfile.TemporaryDirectory() as work:
        for path in PAGES:
            scores, lost = audit(binary, base + path, Path(work) / "report.json")
            print(
                f"{path:40} {scores['performance']:5} {scores['accessibility']:5} "
                f"{scores['best-practices']:5} {scores['seo']:5}  {', '.join(lost)}"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a portal already running (default: start one)")
    args = parser.parse_args()
    if args.url:
        run(args.url.rstrip("/"))
        return
    build = ROOT / "build"
    with tempfile.TemporaryDirectory() as work:
        with served(
            ROOT / "releases",
            build / "metadata.json",
            Path(work) / "serve.log",
            handbook=build / "site",
            downloads=build / "downloads",
        ) as url:
            run(url)


if __name__ == "__main__":
    main()
