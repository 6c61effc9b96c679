"""Load and abuse the portal three ways in one run and print one table (loopback only, bounded).

    python scripts/bench_serving.py [--seconds 15] [--levels 10,50,200]   # `make bench` runs it

Servers, started here on free ports and stopped at the end:
  plain    `datasette build/chuxiong.db` with Datasette's defaults (the baseline)
  serve    the portal as `make serve` runs it (one serving.worker process)
  prod     the production stack as `make serve-prod` runs it (serving.prod: nginx + workers)

For each, the same mix of seven pages (home, database page, a table, its JSON, a canned query,
the handbook, a static file) is sent by wrk at each concurrency level for --seconds, with
`Accept-Encoding: gzip` as a browser sends it. Plain Datasette has no canned query, handbook
or portal CSS: its mix uses the canned query's SQL as ?sql=, a row page and its own CSS.
Then serve and prod are measured again while 4 clients loop abusive SQL (randomblob(1e9),
zeroblob(2e8), an unbounded recursive CTE, a doubling string, a LIKE that costs 0.05 s a
row, printf('%.*c', 1e9, 'x')) and 1 client floods 404s with
new URLs. Plain Datasette is not abused: randomblob(1e9) alone takes it past 7 GB.
Peak RSS (VmHWM) of every process of every server is printed at the end.
Needs wrk (Debian's; `make nginx` installs it) and a built release (`make build`).
"""

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.portal_server import free_port, served, served_prod, wait_until_up  # noqa: E402

CANNED_SQL = (
    "select year, level, area_name, area_code, home_coverage_pct, home_target_pct, "
    "supervisor_coverage_pct, supervisor_target_pct from coverage_by_area where year = 2020 "
    "and level in ('county', 'township') and (meets_home_target = 0 or meets_supervisor_target "
    "= 0) order by level = 'township', home_coverage_pct"
)
PORTAL_MIX = [
    "/",
    "/chuxiong",
    "/chuxiong/facilities",
    "/chuxiong/facilities.json",
    "/chuxiong/below_target?year=2020",
    "/handbook/index.html",
    "/static/portal.css",
]
PLAIN_MIX = [
    "/",
    "/chuxiong",
    "/chuxiong/facilities",
    "/chuxiong/facilities.json",
    "/chuxiong?sql=" + quote(CANNED_SQL, safe=""),
    "/chuxiong/facilities/532301-F001",
    "/-/static/app.css",
]
ABUSIVE_SQL = [
    "select randomblob(1e9)",
    "select zeroblob(2e8)",
    "with recursive r(i) as (select 1 union all select i+1 from r) select count(*) from r",
    "with recursive d(s,n) as (select 'x',0 union all select s||s,n+1 from d where n<40) "
    "select length(s) from d",
    # one long step per row, where SQLite's progress checks are rare (portal/sqlite_limits.py)
    "with recursive r(n) as (select 1 union all select n+1 from r where n<100000) "
    "select count(*) from r where (replace(hex(zeroblob(49999)),'0','a')||n) "
    "like '%'||replace(hex(zeroblob(95)),'0','a')||'b'",
    "select printf('%.*c', 1000000000, 'x')",
]


def lua_cycle(paths):
    listed = ", ".join('"' + p.replace('"', '\\"') + '"' for p in paths)
    return (
        f"local paths = {{{listed}}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n"
        '  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n'
    )


LUA_404 = (
    "local i = 0\nrequest = function()\n  i = i + 1\n"
    '  return wrk.format("GET", "/chuxiong/no_such_table_" .. os.time() .. "_" .. i)\nend\n'
)


def script(folder, name, text):
    path = Path(folder) / name
    path.write_text(text, "utf-8")
    return str(path)


def wrk(url, lua, connections, seconds, latency=True):
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        lua,
    ]
    command += ["-H", "Accept-Encoding: gzip"]
    if latency:
        command.append("--latency")
    return subprocess.Popen(command + [url], stdout=subprocess.PIPE, text=True)


def milliseconds(text):
    found = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not found:
        return float("nan")
    number, unit = found.groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def parse(output):
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not found:
        print("wrk said:\n" + output, file=sys.stderr)
        return {"rps": float("nan"), "p50": None, "p99": None, "errors": -1}
    rps = float(found.group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(n) for n in sockets.groups()) if sockets else 0
    )
    return {
        "rps": rps,
        "p50": milliseconds(p50.group(1)) if p50 else None,
        "p99": milliseconds(p99.group(1)) if p99 else None,
        "errors": errors,
    }


def warm(url, paths):
    import httpx

    for path in paths:
        httpx.get(url + path, timeout=30)


def tree(pid):
    """A process and all its descendants (from /proc)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def peak_rss(pid):
    """[(command, VmHWM in MB)] for a process tree."""
    peaks = []
    for each in tree(pid):
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{each}/status").read_text()
            name = " ".join(
                Path(f"/proc/{each}/cmdline").read_bytes().decode().split("\0")[:4]
            ).strip()
            hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
            if hwm:
                peaks.append((name[:60], int(hwm.group(1)) / 1024))
    return peaks


@contextlib.contextmanager
def plain_datasette(database, log):
    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "datasette", "serve", str(database), "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, Path(log), probe="/-/versions.json")
        yield url, process
    finally:
        process.terminate()
        process.wait(20)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--levels", default="10,50,200")
    parser.add_argument("--abuse-connections", type=int, default=200)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: `make nginx` installs Debian's wrk")
    levels = [int(n) for n in args.levels.split(",")]
    build = ROOT / "build"
    work = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    abusive = [f"/chuxiong.json?sql={quote(sql, safe='')}" for sql in ABUSIVE_SQL]
    results, abuse_results, peaks = [], [], {}

    def measure(name, url, paths, process):
        warm(url, paths)
        lua = script(work, f"{name}.lua", lua_cycle(paths))
        for level in levels:
            run = wrk(url, lua, level, args.seconds)
            out = run.communicate()[0]
            results.append((name, level, parse(out)))
            print(f"  {name} at {level}: {results[-1][2]}", file=sys.stderr, flush=True)
        if name != "plain":
            abusers = [
                wrk(url, script(work, "abuse.lua", lua_cycle(abusive)), 4, args.seconds + 2),
                wrk(url, script(work, "flood.lua", LUA_404), 1, args.seconds + 2),
            ]
            time.sleep(1)
            run = wrk(url, lua, args.abuse_connections, args.seconds)
            out = run.communicate()[0]
            side = [parse(a.communicate()[0]) for a in abusers]
            abuse_results.append((name, parse(out), side))
            print(f"  {name} under abuse: {abuse_results[-1][1]}", file=sys.stderr, flush=True)
        peaks[name] = peak_rss(process.pid)

    print(f"benchmarking, {args.seconds} s per run ...", file=sys.stderr)
    with plain_datasette(build / "chuxiong.db", work / "plain.log") as (url, process):
        measure("plain", url, PLAIN_MIX, process)
    env_site = {"handbook": build / "site", "downloads": build / "downloads"}
    with served(
        ROOT / "releases",
        build / "metadata.json",
        work / "serve.log",
        handbook=env_site["handbook"],
        downloads=env_site["downloads"],
        extra_args=["--no-access-log"],
    ) as url:
        pid = int(
            subprocess.run(
                ["pgrep", "-n", "-f", "serving.worker --port"], capture_output=True, text=True
            ).stdout.split()[0]
        )
        measure("serve", url, PORTAL_MIX, type("P", (), {"pid": pid}))
    with served_prod(ROOT / "releases", build, work / "run", work / "prod.log") as (url, process):
        measure("prod", url, PORTAL_MIX, process)

    plain = {level: r for name, level, r in results if name == "plain"}
    print(f"\nPage mix, {args.seconds} s per row, wrk -t2, gzip, loopback, {os.cpu_count()} cores")
    print("| server | clients | req/s | p50 ms | p99 ms | errors | × plain |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, level, r in results:
        ratio = r["rps"] / plain[level]["rps"] if plain[level]["rps"] else float("nan")
        print(
            f"| {name} | {level} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
            f"{r['errors']} | {ratio:.1f} |"
        )
    print(
        f"\nSame mix at {args.abuse_connections} clients while 4 clients loop abusive SQL "
        "and 1 floods 404s"
    )
    print("| server | req/s | p50 ms | p99 ms | errors | abusive SQL req/s | 404 flood req/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r, (sql, flood) in abuse_results:
        print(
            f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} | "
            f"{sql['rps']:.0f} | {flood['rps']:.0f} |"
        )
    print("\nPeak RSS (VmHWM) of every process")
    print("| server | process | MB |")
    print("|---|---|---:|")
    for name, rows in peaks.items():
        for command, mb in rows:
            print(f"| {name} | {command} | {mb:.0f} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
