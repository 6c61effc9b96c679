"""Load-test the portal against a plain `datasette build/chuxiong.db`, in the same run.

    python scripts/bench_portal.py [--requests 400] [--concurrency 10]

Starts both servers on loopback ports (the portal as `make serve` runs it: serving.worker), sends a fixed number of requests per
page at a fixed concurrency (bounded, stops by itself), and prints requests per
second and p50/p99 latency for the home page, a table page and a JSON API call,
with the portal/plain ratio. Run `make build` first.
"""

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.portal_server import served  # noqa: E402

PAGES = {
    "home page": "/",
    "table page": "/chuxiong/facilities",
    "JSON API": "/chuxiong/children_counts.json?_size=100",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(arguments):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "datasette", "serve", *arguments, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/-/versions.json", timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    sys.exit("server did not start")


async def load(url, requests, concurrency):
    latencies = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await client.get(url)  # warm up
        queue = asyncio.Queue()
        for _ in range(requests):
            queue.put_nowait(None)

        async def worker():
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                response = await client.get(url)
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": requests / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(0.99 * (len(latencies) - 1))] * 1000,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    database = str(ROOT / "build" / "chuxiong.db")
    plain = start([database])
    log = ROOT / "build" / "bench-portal.log"
    portal = served(ROOT / "releases", ROOT / "build" / "metadata.json", log)
    servers = {"plain datasette": plain[1]}
    results = {}
    try:
        servers["portal"] = portal.__enter__()
        for name, url in servers.items():
            for page, path in PAGES.items():
                results[(name, page)] = asyncio.run(
                    load(url + path, args.requests, args.concurrency)
                )
    finally:
        plain[0].terminate()
        plain[0].wait(10)
        portal.__exit__(None, None, None)
    print(f"{args.requests} requests per page, {args.concurrency} concurrent connections, loopback")
    print(f"{'page':<12}{'server':<17}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for page in PAGES:
        for name in servers:
            r = results[(name, page)]
            print(f"{page:<12}{name:<17}{r['rps']:>8.1f}{r['p50']:>9.1f}{r['p99']:>9.1f}")
        ratio = results[("portal", page)]["rps"] / results[("plain datasette", page)]["rps"]
        print(f"{'':<12}{'portal / plain':<17}{ratio:>8.2f}")


if __name__ == "__main__":
    main()
