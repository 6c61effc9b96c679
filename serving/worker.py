"""One portal server process: the Datasette app under uvicorn.

    python -m serving.worker --port 8001                  # what `make serve` runs
    python -m serving.worker --uds build/run/w1.sock      # a production worker behind nginx
    python -m serving.worker --port 8001 --memory-mb 900  # with an address-space limit

Uvicorn's own limits are set for a public server: a cap on concurrent
connections (beyond it: 503 at once), a short keep-alive, and a cap on the size
of a request's headers. Access logs are off behind nginx (nginx logs), on otherwise.
"""

import argparse
import resource

import uvicorn

from . import app as portal_app

MAX_CONCURRENCY = 1000
KEEP_ALIVE_SECONDS = 5
MAX_HEADER_BYTES = 16 * 1024


def limit_memory(megabytes):
    """An address-space limit: past it, allocations fail with MemoryError in this process only."""
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--uds", help="a unix socket to listen on instead of a port")
    parser.add_argument("--releases", default=str(portal_app.RELEASES))
    parser.add_argument(
        "--release", help="serve this release as the current one (default: what `current` names)"
    )
    parser.add_argument("--metadata", default=str(portal_app.BUILD / "metadata.json"))
    parser.add_argument("--memory-mb", type=int, help="address-space limit of this process")
    parser.add_argument("--no-access-log", action="store_true")
    args = parser.parse_args()
    if args.memory_mb:
        limit_memory(args.memory_mb)
    ds = portal_app.make_datasette(args.releases, args.metadata, release=args.release)
    uvicorn.run(
        ds.app(),
        host=args.host,
        port=args.port or 8001,
        uds=args.uds,
        lifespan="on",
        access_log=not args.no_access_log,
        log_level="warning" if args.no_access_log else "info",
        limit_concurrency=MAX_CONCURRENCY,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        server_header=False,
        date_header=True,
    )


if __name__ == "__main__":
    main()
