"""The production stack as `make serve-prod` runs it (serving/prod.py): Debian's nginx in
front of real portal workers, checked from outside over HTTP: caching, compression, files
served by nginx, hostile URLs refused at once, rate limits, a worker killed under load."""

import http.client
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from serving.prod import socket_answers
from tests.portal_server import served_prod

NGINX = Path("/usr/sbin/nginx")


@pytest.fixture(scope="module")
def prod(built, handbook, portal_metadata, tmp_path_factory):
    assert NGINX.exists(), "Debian's nginx is needed: `make test` installs it"
    root = tmp_path_factory.mktemp("prod")
    build = root / "build"
    build.mkdir()
    (build / "metadata.json").symlink_to(portal_metadata)
    (build / "site").symlink_to(handbook / "site")
    (build / "downloads").symlink_to(built.zip.parent)
    log = root / "serve-prod.log"
    with served_prod(built.releases, build, root / "run", log) as (url, process):
        yield url, process, root / "run", log


def get(prod, path, **kwargs):
    return httpx.get(prod[0] + path, timeout=10, **kwargs)


def test_pages_come_cached_and_compressed_with_the_portals_headers(prod):
    first = get(prod, "/chuxiong/facilities")
    again = get(prod, "/chuxiong/facilities", headers={"Cookie": "anything=1"})
    assert first.status_code == again.status_code == 200
    assert again.headers["x-cache-status"] == "HIT", "a cookie must not split the cache"
    assert again.text == first.text
    assert "content-security-policy" in again.headers and "etag" in again.headers
    assert again.headers["x-frame-options"] == "DENY"
    assert "set-cookie" not in again.headers and "vary" not in again.headers.get("vary", "")
    assert again.headers["server"] == "nginx", "no version in the Server header"
    raw = httpx.get(
        prod[0] + "/chuxiong/facilities", headers={"Accept-Encoding": "gzip"}, timeout=10
    )
    assert raw.headers["content-encoding"] == "gzip"
    unchanged = get(prod, "/chuxiong/facilities", headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304


def test_the_handbook_downloads_and_release_files_are_files(prod, built):
    page = get(prod, "/handbook/")
    assert page.status_code == 200 and "x-cache-status" not in page.headers
    policy = page.headers["content-security-policy"]
    assert (
        "'sha256-" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    )
    zipped = get(prod, "/-/downloads/chuxiong-open-data.zip")
    assert zipped.content == built.zip.read_bytes()
    assert zipped.headers["content-disposition"] == "attachment"
    release = (built.releases / "current").resolve().name
    manifest = get(prod, f"/-/releases/{release}/manifest.json")
    assert manifest.status_code == 200 and manifest.json()["release_id"] == release
    assert get(prod, "/-/releases/../../etc/passwd").status_code == 404


@pytest.mark.parametrize(
    "sql",
    [
        "select randomblob(1e9)",
        "select zeroblob(2e8)",
        "with recursive r(i) as (select 1 union all select i + 1 from r) select count(*) from r",
        "with recursive d(s, n) as (select 'x', 0 union all select s || s, n + 1 from d "
        "where n < 40) select length(s) from d",
    ],
)
def test_hostile_sql_is_refused_within_a_second_in_chinese(prod, sql):
    started = time.monotonic()
    response = get(prod, "/chuxiong", params={"sql": sql})
    assert time.monotonic() - started < 1.0
    assert response.status_code in (400, 429)
    assert re.search(r"超过|上限|中止|太频繁", response.text)
    time.sleep(0.6)  # below the SQL rate limit, so the next case reaches the worker


def test_hostile_urls_are_refused_at_once_in_chinese(prod):
    cases = {
        "/chuxiong/villages?" + "&".join(f"p{i}=1" for i in range(10_000)): (414, "网址太长"),
        "/chuxiong/villages?" + "&".join(f"p{i}=1" for i in range(60)): (400, "查询参数太多"),
        "/-/settings.json": (404, "页面不存在"),
        "/-/threads.json": (404, "页面不存在"),
        "/-/versions.json": (404, "页面不存在"),
        "/etc/passwd": (404, "页面不存在"),
        "/chuxiong/facilities?_sort=nope": (400, "不能按"),
    }
    host, port = prod[0].removeprefix("http://").split(":")
    for path, (status, words) in cases.items():
        started = time.monotonic()
        # http.client sends any URL as it is (httpx refuses those over 64 KB itself)
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()
        text = response.read().decode("utf-8")
        connection.close()
        assert time.monotonic() - started < 1.0, path[:60]
        assert response.status == status, path[:60]
        assert words in text, path[:60]
        assert "Traceback" not in text and "/work/" not in text and "/tmp/" not in text
    posted = httpx.post(prod[0] + "/chuxiong/facilities", data={"a": "1"}, timeout=10)
    assert posted.status_code == 405 and "不接受这种请求" in posted.text
    head = httpx.head(prod[0] + "/chuxiong/facilities", timeout=10)
    assert head.status_code == 200 and head.content == b""


def test_a_made_up_host_is_not_cached_for_everyone(prod):
    forged = get(prod, "/sitemap.xml", headers={"Host": "evil.example"})
    assert forged.status_code == 200 and "evil.example" in forged.text
    for _ in range(2):  # the second answer comes from nginx's cache
        honest = get(prod, "/sitemap.xml")
        assert honest.status_code == 200 and "evil.example" not in honest.text
    assert honest.headers["x-cache-status"] == "HIT"


def test_custom_sql_and_exports_are_rate_limited_per_client(prod):
    # All at once, so the bucket (2 a second, a burst of 5) cannot refill between them on a
    # slow machine: most are refused, and the HTML page of a refusal says why in Chinese.
    paths = [("/chuxiong.json", i) for i in range(16)] + [("/chuxiong", i) for i in range(8)]
    with ThreadPoolExecutor(len(paths)) as pool:
        answers = list(
            pool.map(lambda job: get(prod, job[0], params={"sql": f"select {job[1]}"}), paths)
        )
    statuses = [answer.status_code for answer in answers]
    assert 429 in statuses and 200 in statuses
    assert statuses.count(429) > statuses.count(200)
    refused_pages = [
        answer
        for (path, _), answer in zip(paths, answers, strict=True)
        if path == "/chuxiong" and answer.status_code == 429
    ]
    assert refused_pages and all("太频繁" in answer.text for answer in refused_pages)
    assert get(prod, "/chuxiong/facilities?name=limit-test").status_code == 200
    time.sleep(3)  # the bucket refills
    assert get(prod, "/chuxiong.json", params={"sql": "select 1"}).status_code == 200


def worker_pids(run):
    """Processes serving the first page worker's socket (read from /proc)."""
    wanted = f"{run}/sockets/page-1.sock"
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if b"serving.worker" in arguments and wanted.encode() in arguments:
            pids.append(int(entry.name))
    return pids


def test_a_worker_killed_under_load_loses_no_request_and_comes_back(prod):
    url, _, run, log = prod
    failures, done, stop = [], [], threading.Event()

    def load(offset):
        with httpx.Client(timeout=10) as client:
            n = offset
            while not stop.is_set():
                n += 1
                # a new filter value every time: past the cache, to the workers
                response = client.get(url + f"/chuxiong/facilities?name=load-{n}")
                (done if response.status_code == 200 else failures).append(response.status_code)

    threads = [threading.Thread(target=load, args=(i * 1_000_000,)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        [pid] = worker_pids(run)
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        while time.monotonic() - killed < 5:
            pids = worker_pids(run)
            if pids and pids != [pid] and socket_answers(run / "sockets" / "page-1.sock"):
                break
            time.sleep(0.05)
        back = time.monotonic() - killed
        time.sleep(1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert len(done) > 20
    assert back < 5, f"the worker was back after {back:.1f} s"
    assert "page worker 1 exited" in log.read_text()
    assert get(prod, "/chuxiong/facilities?name=after-restart").status_code == 200


def test_a_client_without_gzip_gets_the_same_page_unpacked(prod):
    plain = get(prod, "/chuxiong/tasks", headers={"Accept-Encoding": "identity"})
    packed = get(prod, "/chuxiong/tasks", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert plain.text == packed.text and "任务" in plain.text
