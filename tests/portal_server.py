"""Start the portal as `make serve` starts it (python -m serving.worker), on a free port,
for the browser tests and the benchmarks."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pipeline.paths import ROOT


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url, process, log_path, seconds=30, probe="/robots.txt"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            httpx.get(url + probe, timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the portal did not start:\n" + log_path.read_text()[-3000:])


@contextlib.contextmanager
def served(releases, metadata, log_path, handbook=None, downloads=None, extra_args=(), env=None):
    """A running worker: yields its base URL; stops it on exit."""
    port = free_port()
    environment = {
        "PATH": "/usr/bin:/bin",
        "PORTAL_RELEASES_DIR": str(releases),
        **({"PORTAL_HANDBOOK_DIR": str(handbook)} if handbook else {}),
        **({"PORTAL_DOWNLOADS_DIR": str(downloads)} if downloads else {}),
        **(env or {}),
    }
    if "HOME" in os.environ:
        environment["HOME"] = os.environ["HOME"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "serving.worker",
                "--port",
                str(port),
                "--releases",
                str(releases),
                "--metadata",
                str(metadata),
                *extra_args,
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, process, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def open_to_nginx(path):
    """As root, nginx's workers run as nobody: let them through the folders above `path`
    (pytest's temporary folders are private to their owner)."""
    for folder in [Path(path).resolve(), *Path(path).resolve().parents]:
        mode = folder.stat().st_mode
        if not mode & 0o001:
            folder.chmod(mode | 0o001)


@contextlib.contextmanager
def served_prod(releases, build, run, log_path, workers=2, extra=()):
    """The production stack (python -m serving.prod): yields (base URL, the process)."""
    port = free_port()
    Path(run).mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        for path in (releases, run, *Path(build).iterdir()):
            open_to_nginx(path)
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "serving.prod",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--nginx-workers",
                "2",
                "--releases",
                str(releases),
                "--build",
                str(build),
                "--run",
                str(run),
                *extra,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, process, log_path, seconds=60, probe="/robots.txt")
            yield url, process
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
