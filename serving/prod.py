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

A worker or nginx that dies is started again within a fraction of a second; nginx retries an
interrupted GET on another worker meanwhile. Nothing here builds: the supervisor serves the
release `releases/current` points at when it starts (and, on a machine where nothing was ever
built, runs `make build` once first). To serve a newer release after `make build`, send SIGHUP:
workers restart one at a time and nginx reloads with a fresh cache key; a failed build never
moved `current`, so the last good release keeps serving.
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

from portal import csp

from . import app as portal_app

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SQL_RATE = "2r/s"
SQL_BURST = 5
EXPORT_RATE = "5r/s"
RESTART_CHECK_SECONDS = 0.1
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


def wait_for_sockets(paths, children, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(socket_answers(p) for p in paths):
            return
        for child in children:
            if not child.alive():
                raise SystemExit(f"{child.name} exited during start-up (see the messages above)")
        time.sleep(0.1)
    raise SystemExit("the portal workers did not start within a minute")


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


def render_error_pages(layout, folder):
    """nginx's own answers (404 outside the portal's addresses, 405, 414, 429, 502, ...),
    rendered once through the portal's error template so they look like every other page."""
    pages = yaml.safe_load((HERE / "error_pages.yaml").read_text("utf-8"))
    ds = portal_app.make_datasette(layout.releases, layout.metadata)

    async def render_all():
        await ds.invoke_startup()
        for status, page in pages.items():
            html = await ds.render_template(
                "error.html",
                {
                    "status": status,
                    "title": page["title"],
                    "error": page["zh"],
                    "error_en": page["en"],
                },
                view_name="error",
            )
            (folder / f"{status}.html").write_text(html, "utf-8")

    asyncio.run(render_all())
    return sorted(pages)


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


def write_nginx_config(layout, args, page_sockets, sql_socket, generation):
    run = layout.run
    for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
        (run / "nginx" / folder).mkdir(parents=True, exist_ok=True)
    errors = run / "errors"
    errors.mkdir(exist_ok=True)
    statuses = render_error_pages(layout, errors)
    user = nginx_user()
    if user:
        nobody = pwd.getpwnam("nobody")
        for folder in [run, *(run / "nginx").rglob("*"), run / "nginx"]:
            if folder.is_dir():
                os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        for served in (layout.site, layout.downloads, layout.releases, errors):
            if served.exists() and not readable_by_everyone(served):
                raise SystemExit(
                    f"nginx runs as nobody and cannot read {served}: make it (and the folders "
                    "above it) readable by everyone, or run serve-prod as an ordinary user"
                )
    for name, policy in (
        ("security-headers.conf", csp.policy(())),
        ("security-headers-errors.conf", policy_for_pages(errors)),
        ("security-headers-handbook.conf", policy_for_pages(layout.site)),
    ):
        (run / name).write_text(
            header_lines({**SECURITY_HEADERS, "Content-Security-Policy": policy}), "utf-8"
        )
    release = (layout.releases / "current").resolve().name
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
        cache_prefix=f"{release}/{generation}",
        sql_rate=SQL_RATE,
        sql_burst=SQL_BURST,
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


class Supervisor:
    def __init__(self, layout, args):
        self.layout, self.args = layout, args
        self.stopping = False
        self.reload_requested = False
        self.generation = int(time.time())
        sockets = layout.run / "sockets"
        sockets.mkdir(parents=True, exist_ok=True)
        os.chmod(sockets, 0o755)
        env = layout.environment()
        worker = [sys.executable, "-m", "serving.worker", "--no-access-log"]
        worker += ["--releases", str(layout.releases), "--metadata", str(layout.metadata)]
        if args.memory_mb:
            worker += ["--memory-mb", str(args.memory_mb)]
        self.page_sockets = [sockets / f"page-{i}.sock" for i in range(1, args.workers + 1)]
        self.sql_socket = sockets / "sql.sock"
        self.workers = [
            Child(f"page worker {i}", [*worker, "--uds", str(s)], env, ready=s, quiet=True)
            for i, s in enumerate(self.page_sockets, 1)
        ]
        self.workers.append(
            Child(
                "SQL worker",
                [*worker, "--uds", str(self.sql_socket)],
                env,
                ready=self.sql_socket,
                quiet=True,
            )
        )
        self.nginx = None

    def start(self):
        for worker in self.workers:
            worker.start()
        wait_for_sockets([w.ready for w in self.workers], self.workers)
        config = write_nginx_config(
            self.layout, self.args, self.page_sockets, self.sql_socket, self.generation
        )
        self.nginx = Child(
            "nginx", [NGINX, "-c", str(config), "-g", "daemon off;"], os.environ.copy()
        )
        self.nginx.start()
        log(
            f"serving release {(self.layout.releases / 'current').resolve().name} at "
            f"http://{self.args.host}:{self.args.port}/ with {self.args.workers} page "
            "worker(s), 1 SQL worker and nginx (Ctrl-C stops)"
        )

    def reload(self):
        """A newer release: restart workers one at a time, then nginx with a fresh cache key."""
        log("reloading: restarting workers one at a time")
        for worker in self.workers:
            worker.stop()
            worker.wait(10)
            worker.start()
            wait_for_sockets([worker.ready], [worker])
        self.generation += 1
        write_nginx_config(
            self.layout, self.args, self.page_sockets, self.sql_socket, self.generation
        )
        self.nginx.stop(signal.SIGHUP)
        log(f"now serving release {(self.layout.releases / 'current').resolve().name}")

    def watch(self):
        while not self.stopping:
            if self.reload_requested:
                self.reload_requested = False
                self.reload()
            for child in [*self.workers, self.nginx]:
                if not child.alive() and not self.stopping:
                    child.restarts += 1
                    log(f"{child.name} exited ({child.process.returncode}); starting it again")
                    child.start()
            time.sleep(RESTART_CHECK_SECONDS)

    def stop(self, *_):
        self.stopping = True

    def shutdown(self):
        self.nginx and self.nginx.stop(signal.SIGQUIT)
        for worker in self.workers:
            worker.stop()
        for child in [self.nginx, *self.workers]:
            child and child.wait(10)


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
    args = parser.parse_args()
    if not Path(NGINX).exists():
        raise SystemExit("nginx is needed: `make serve-prod` installs Debian's package")
    layout = Layout(args.releases, args.build, args.run)
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
