"""Start the portal as `make serve` starts it (python -m serving.worker), on a free port,
for the browser tests and the benchmarks."""

import contextlib
import os
import socket
import subprocess
import sys
import time

import httpx

from pipeline.paths import ROOT


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url, process, log_path, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            httpx.get(url + "/-/versions.json", timeout=1)
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
