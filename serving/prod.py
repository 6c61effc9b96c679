"""The portal as it should run in public, in the foreground: nginx in front of portal workers.

    python -m serving.prod --port 8001            # what `make serve-prod` runs
    python -m serving.prod --port 8001 --workers 4 --memory-mb 900

What runs (one process each, all children of this supervisor):
- N page workers (default: one per core) and one SQL worker, each `python -m serving.worker`
  on its own unix socket, each with an address-space limit: SQL written by visitors
  runs in its own process, so whatever it costs, the pages everyone reads are served by
  the others.
- nginx (Debian's), rendered from serving/nginx.conf.j2: response cache, gzip, rate limits
  per client address on SQL and exports, timeouts against slow clients, a cap on URL
  length, the handbook, downloads and release files served as files, Chinese error pages.

Changes of state lose no request:

- a worker or nginx that dies is started again within a fraction of a second, on the same
  socket and the same release; meanwhile nginx sends what it cannot pass to the dead worker to
  the others (no server is ever marked down: with two page workers, one reset would otherwise
  leave nginx with "no live upstreams"), and visitor SQL to the page workers when the SQL
  worker is the one restarting;
- a new release is blue-green: SIGHUP (after `make build`) makes the supervisor read which
  release `current` names, start a whole new generation of workers for it on new sockets, wait
  until every one of them answers, point nginx at them with a fresh cache key (nginx's own
  reload is graceful: old connections finish on the old workers), and only then, after a drain
  period, stop the old generation. Every worker is told its release by the supervisor and never
  reads the `current` link itself, so a worker restarted after `current` moved still serves its
  generation's release, and every answer comes from exactly one release.

Nothing here builds: on a machine where nothing was ever built it runs `make build` once
first. A failed build never moved `current`, so the last good release keeps serving.
"""

import argparse
import asyncio
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from portal import csp, limits

from . import app as portal_app

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SQL_RATE = "2r/s"
SQL_BURST = 8
SQL_DELAY = 3  # answered at once; the rest of the burst waits its turn
EXPORT_RATE = "5r/s"
RESTART_CHECK_SECONDS = 0.1
DRAIN_SECONDS = 35  # longer than nginx's proxy_read_timeout: the old workers' last answers
CACHE_LOW_BYTES = 64 * 1024 * 1024  # below this much free space, nginx stops writing its cache
CACHE_CHECK_SECONDS = 2.0
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
}


def log(message):
    print(f"[serve-prod] {message}", file=sys.stderr, flush=True)


class Layout:
    """Where everything is: the release store and build/ (read), the run folder (written)."""

    def __init__(self, releases, build, run):
        self.releases = Path(releases).resolve()
        self.build = Path(build).resolve()
        self.run = Path(run).resolve()
        self.metadata = self.build / "metadata.json"
        self.cache = self.run / "cache"
        self.baked = self.build / "baked"
        self.site = self.build / "site"
        self.downloads = self.build / "downloads"

    def missing(self):
        needed = [
            self.releases / "current" / "chuxiong.db",
            self.metadata,
            self.site / "index.html",
        ]
        return [str(p) for p in needed if not p.exists()]

    def environment(self):
        return {
            **os.environ,
            "PORTAL_RELEASES_DIR": str(self.releases),
            "PORTAL_HANDBOOK_DIR": str(self.site),
            "PORTAL_DOWNLOADS_DIR": str(self.downloads),
            # glibc gives each thread its own malloc arena; two keep the address space (and
            # so the memory limit) meaningful.
            "MALLOC_ARENA_MAX": "2",
        }


def build_once(layout):
    """Serving never builds, except on a machine where nothing was ever built."""
    missing = layout.missing()
    if not missing:
        return
    log("nothing built yet (" + ", ".join(missing) + "): running `make build` once")
    result = subprocess.run(["make", "build"], cwd=ROOT)
    if result.returncode != 0 or layout.missing():
        raise SystemExit("the first build failed: nothing to serve (see the messages above)")


class Child:
    """One supervised process: started again whenever it exits, unless we are stopping."""

    def __init__(self, name, command, env, ready=None, quiet=False):
        self.name, self.command, self.env, self.ready = name, command, env, ready
        self.quiet = quiet
        self.process = None
        self.restarts = 0

    def start(self):
        if self.ready and Path(self.ready).exists():
            Path(self.ready).unlink()
        # Datasette prints every failed query (with its SQL) to stdout: in public that is a
        # log line per mistyped or hostile query, so a worker's stdout goes nowhere.
        stdout = subprocess.DEVNULL if self.quiet else None
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=stdout)

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, sig=signal.SIGTERM):
        if self.alive():
            self.process.send_signal(sig)

    def wait(self, seconds):
        if self.process is None:
            return
        try:
            self.process.wait(seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def socket_answers(path):
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(str(path))
            return True
        except OSError:
            return False


def http_answers(path):
    """Whether a worker answers a real request on its socket (listening is not yet serving)."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(2)
        try:
            s.connect(str(path))
            s.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.1 200")
        except OSError:
            return False


def wait_until_serving(children, seconds=60):
    """Return when every child answers on its socket; fail if one exits or time runs out."""
    deadline = time.monotonic() + seconds
    waiting = list(children)
    while time.monotonic() < deadline:
        waiting = [c for c in waiting if not http_answers(c.ready)]
        if not waiting:
            return
        for child in waiting:
            if not child.alive():
                raise RuntimeError(f"{child.name} exited during start-up (see the messages above)")
        time.sleep(0.1)
    raise RuntimeError("the portal workers did not start within a minute")


def policy_for_pages(folder):
    """A Content-Security-Policy for pages nginx serves as files (the handbook, the error
    pages): the portal's, plus the hashes of the inline scripts those pages carry (the same
    few on every page), so no 'unsafe-inline' is needed."""
    scripts = csp.collect()
    for page in sorted(Path(folder).rglob("*.html")):
        csp.allow_scripts_of(page.read_text("utf-8"))
    return csp.policy(scripts)


def header_lines(headers):
    return "".join(f'add_header {name} "{value}" always;\n' for name, value in headers.items())


def render_error_pages(layout, folder, release):
    """nginx's own answers (404 outside the portal's addresses, 405, 414, 429, 502, ...),
    rendered once through the portal's error template so they look like every other page.
    A key such as 400-params is a second page for one status (which one nginx picks says)."""
    pages = yaml.safe_load((HERE / "error_pages.yaml").read_text("utf-8"))
    ds = portal_app.make_datasette(layout.releases, layout.metadata, release=release)

    async def render_all():
        await ds.invoke_startup()
        for status, page in pages.items():
            html = await ds.render_template(
                "error.html",
                {
                    "status": int(str(status).split("-")[0]),
                    "title": page["title"],
                    "error": page["zh"],
                    "error_en": page["en"],
                },
                view_name="error",
            )
            (folder / f"{status}.html").write_text(html, "utf-8")

    asyncio.run(render_all())
    return sorted(pages, key=str)


def nginx_user():
    """As root, nginx's workers run as nobody; as anyone else, as that user."""
    if os.geteuid() != 0:
        return None
    return "nobody nogroup"


def readable_by_everyone(path):
    """Whether nginx's workers (nobody) can reach a file or folder."""
    path = Path(path).resolve()
    for each in [path, *path.parents]:
        needed = 0o001 if each.is_dir() else 0o004  # folders: pass through; files: read
        if not each.stat().st_mode & needed:
            return False
    return True


def write_nginx_config(
    layout, args, page_sockets, sql_socket, cache_prefix, release, cache_writes=True
):
    run = layout.run
    for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (run / "nginx" / folder).mkdir(parents=True, exist_ok=True)
    layout.cache.mkdir(parents=True, exist_ok=True)
    errors = run / "errors"
    errors.mkdir(exist_ok=True)
    statuses = render_error_pages(layout, errors, release)
    user = nginx_user()
    if user:
        nobody = pwd.getpwnam("nobody")
        for folder in [run, *(run / "nginx").rglob("*"), run / "nginx", layout.cache]:
            if folder.is_dir():
                os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        for served in (layout.site, layout.downloads, layout.releases, errors, layout.baked):
            if served.exists() and not readable_by_everyone(served):
                raise SystemExit(
                    f"nginx runs as nobody and cannot read {served}: make it (and the folders "
                    "above it) readable by everyone, or run serve-prod as an ordinary user"
                )
    baked = layout.baked / release
    if not (baked / ".complete.json").exists():
        log(f"no pages baked for release {release} (scripts/bake_pages.py): workers render all")
        baked = None
    baked_policy = (baked / "csp.txt").read_text("utf-8") if baked else csp.policy(())
    for name, policy in (
        ("security-headers.conf", csp.policy(())),
        ("security-headers-errors.conf", policy_for_pages(errors)),
        ("security-headers-handbook.conf", policy_for_pages(layout.site)),
        ("security-headers-baked.conf", baked_policy),
    ):
        (run / name).write_text(
            header_lines({**SECURITY_HEADERS, "Content-Security-Policy": policy}), "utf-8"
        )
    template = Environment(
        loader=FileSystemLoader(HERE), undefined=StrictUndefined, keep_trailing_newline=True
    ).get_template("nginx.conf.j2")
    text = template.render(
        user=user,
        nginx_workers=args.nginx_workers,
        run=run,
        access_log=str(run / "access.log") + " portal buffer=64k flush=5s"
        if args.access_log
        else "off",
        release=release,
        cache_prefix=cache_prefix,
        baked=baked,
        cache=layout.cache,
        cache_writes=cache_writes,
        control=sorted(limits.CONTROL),
        single=sorted(limits.SINGLE),
        sql_rate=SQL_RATE,
        sql_burst=SQL_BURST,
        sql_delay=SQL_DELAY,
        export_rate=EXPORT_RATE,
        page_sockets=page_sockets,
        sql_socket=sql_socket,
        host=args.host,
        port=args.port,
        error_statuses=statuses,
        site=layout.site,
        downloads=layout.downloads,
        releases=layout.releases,
    )
    path = run / "nginx.conf"
    path.write_text(text, "utf-8")
    check = subprocess.run([NGINX, "-t", "-q", "-c", str(path)], capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit("nginx refused its configuration:\n" + check.stderr)
    return path


class Generation:
    """The workers serving one release: page workers and an SQL worker, on sockets of their own
    (named by the generation, so that two generations can run side by side during a reload)."""

    def __init__(self, number, release, layout, args):
        self.number, self.release = number, release
        sockets = layout.run / "sockets"
        sockets.mkdir(parents=True, exist_ok=True)
        os.chmod(sockets, 0o755)
        env = layout.environment()
        worker = [sys.executable, "-m", "serving.worker", "--no-access-log"]
        worker += ["--releases", str(layout.releases), "--release", release]
        worker += ["--metadata", str(layout.metadata)]
        if args.memory_mb:
            worker += ["--memory-mb", str(args.memory_mb)]
        self.page_sockets = [
            sockets / f"g{number}-page-{i}.sock" for i in range(1, args.workers + 1)
        ]
        self.sql_socket = sockets / f"g{number}-sql.sock"
        self.workers = [
            Child(f"page worker {i}", [*worker, "--uds", str(s)], env, ready=s, quiet=True)
            for i, s in enumerate(self.page_sockets, 1)
        ]
        self.workers.append(
            Child(
                "SQL worker", [*worker, "--uds", str(self.sql_socket)], env, self.sql_socket, True
            )
        )
        self.stop_at = None  # when a newer generation took over: drain until then

    def start(self):
        for worker in self.workers:
            worker.start()

    def stop(self):
        for worker in self.workers:
            worker.stop()
        for worker in self.workers:
            worker.wait(10)
            Path(worker.ready).unlink(missing_ok=True)


class Supervisor:
    def __init__(self, layout, args):
        self.layout, self.args = layout, args
        self.stopping = False
        self.reload_requested = False
        self.serial = int(time.time())  # part of nginx's cache key: a fresh one per generation
        self.current = None
        self.draining = []
        self.nginx = None
        self.cache_writes = True
        self.cache_checked = 0.0

    def generation(self):
        self.serial += 1
        release = portal_app.current_release(self.layout.releases)
        return Generation(self.serial, release, self.layout, self.args)

    def configure(self, generation):
        return write_nginx_config(
            self.layout,
            self.args,
            generation.page_sockets,
            generation.sql_socket,
            f"{generation.release}/{generation.number}",
            generation.release,
            self.cache_writes,
        )

    def check_cache_disk(self):
        """A full cache disk must cost no answer (nginx would log every failed write, many a
        second): below CACHE_LOW_BYTES free, nginx stops writing to the cache; once there is
        twice that again, it starts again. Each change is logged once."""
        now = time.monotonic()
        if now - self.cache_checked < CACHE_CHECK_SECONDS:
            return
        self.cache_checked = now
        try:
            free = shutil.disk_usage(self.layout.cache).free
        except OSError:
            return
        if self.cache_writes and free < CACHE_LOW_BYTES:
            self.cache_writes = False
            log(f"the cache disk has {free // 1024} KB free: nginx stops writing its cache")
        elif not self.cache_writes and free > 2 * CACHE_LOW_BYTES:
            self.cache_writes = True
            log("the cache disk has room again: nginx writes its cache again")
        else:
            return
        self.configure(self.current)
        self.nginx.stop(signal.SIGHUP)

    def start(self):
        self.current = self.generation()
        self.current.start()
        try:
            wait_until_serving(self.current.workers)
        except RuntimeError as failure:
            self.current.stop()
            raise SystemExit(str(failure)) from failure
        config = self.configure(self.current)
        self.nginx = Child(
            "nginx", [NGINX, "-c", str(config), "-g", "daemon off;"], os.environ.copy()
        )
        self.nginx.start()
        log(
            f"serving release {self.current.release} at http://{self.args.host}:{self.args.port}/ "
            f"with {self.args.workers} page worker(s), 1 SQL worker and nginx (Ctrl-C stops)"
        )

    def reload(self):
        """Blue-green: a new generation for the release `current` names, serving before nginx
        is pointed at it; the old one drains and stops later."""
        started = time.monotonic()
        fresh = self.generation()
        log(f"reloading: starting workers for release {fresh.release}")
        fresh.start()
        try:
            wait_until_serving(fresh.workers)
        except RuntimeError as failure:
            log(f"the new workers did not start ({failure}); still serving {self.current.release}")
            fresh.stop()
            return
        self.configure(fresh)
        self.nginx.stop(signal.SIGHUP)
        old, self.current = self.current, fresh
        old.stop_at = time.monotonic() + DRAIN_SECONDS
        self.draining.append(old)
        log(
            f"now serving release {fresh.release} (switched in {time.monotonic() - started:.1f} s;"
            f" the previous workers stop in {DRAIN_SECONDS} s)"
        )

    def watch(self):
        while not self.stopping:
            if self.reload_requested:
                self.reload_requested = False
                self.reload()
            for child in [*self.current.workers, self.nginx]:
                if not child.alive() and not self.stopping:
                    child.restarts += 1
                    log(f"{child.name} exited ({child.process.returncode}); starting it again")
                    child.start()
            for old in [g for g in self.draining if time.monotonic() >= g.stop_at]:
                old.stop()
                self.draining.remove(old)
            self.check_cache_disk()
            time.sleep(RESTART_CHECK_SECONDS)

    def stop(self, *_):
        self.stopping = True

    def shutdown(self):
        self.nginx and self.nginx.stop(signal.SIGQUIT)
        for generation in [g for g in (self.current, *self.draining) if g]:
            for worker in generation.workers:
                worker.stop()
        self.nginx and self.nginx.wait(10)
        for generation in [g for g in (self.current, *self.draining) if g]:
            for worker in generation.workers:
                worker.wait(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--nginx-workers", default="auto")
    parser.add_argument("--memory-mb", type=int, default=900, help="per worker; 0: no limit")
    parser.add_argument("--releases", default=str(portal_app.RELEASES))
    parser.add_argument("--build", default=str(portal_app.BUILD))
    parser.add_argument("--run", default=str(portal_app.BUILD / "run"))
    parser.add_argument("--access-log", action="store_true", help="write run/access.log")
    parser.add_argument(
        "--cache", help="nginx's response cache (default: RUN/cache; a disk of its own is best)"
    )
    args = parser.parse_args()
    if not Path(NGINX).exists():
        raise SystemExit("nginx is needed: `make serve-prod` installs Debian's package")
    layout = Layout(args.releases, args.build, args.run)
    if args.cache:
        layout.cache = Path(args.cache).resolve()
    build_once(layout)
    supervisor = Supervisor(layout, args)
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    signal.signal(signal.SIGHUP, lambda *_: setattr(supervisor, "reload_requested", True))
    try:
        supervisor.start()
        supervisor.watch()
    finally:
        supervisor.shutdown()


if __name__ == "__main__":
    main()
