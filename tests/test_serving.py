"""The production stack as `make serve-prod` runs it (serving/prod.py): Debian's nginx in
front of real portal workers, checked from outside over HTTP: caching, compression, files
served by nginx, hostile URLs refused at once, rate limits, a worker killed under load."""

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

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
    downloads = build / "downloads"
    downloads.mkdir()
    (downloads / built.zip.name).symlink_to(built.zip)
    # What `make handbook` and `make checker` add beside it (the checker's wheels come from
    # PyPI, so a stand-in here: the test is that the release page's links reach the file).
    shutil.make_archive(str(downloads / "handbook-offline"), "zip", handbook / "offline")
    (downloads / "chuxiong-checker.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    subprocess.run(
        [
            sys.executable,
            "scripts/bake_pages.py",
            "--releases",
            str(built.releases),
            "--metadata",
            str(portal_metadata),
            "--out",
            str(build / "baked"),
        ],
        check=True,
        capture_output=True,
    )
    log = root / "serve-prod.log"
    with served_prod(built.releases, build, root / "run", log) as (url, process):
        yield url, process, root / "run", log


def get(prod, path, **kwargs):
    return httpx.get(prod[0] + path, timeout=10, **kwargs)


def test_pages_come_cached_and_compressed_with_the_portals_headers(prod):
    page = "/chuxiong/facilities?_size=20"  # not a baked page: from a worker, then the cache
    first = get(prod, page)
    again = get(prod, page, headers={"Cookie": "anything=1"})
    assert first.status_code == again.status_code == 200
    assert again.headers["x-cache-status"] == "HIT", "a cookie must not split the cache"
    assert again.text == first.text
    assert "content-security-policy" in again.headers and "etag" in again.headers
    assert again.headers["x-frame-options"] == "DENY"
    assert "set-cookie" not in again.headers and "vary" not in again.headers.get("vary", "")
    assert again.headers["server"] == "nginx", "no version in the Server header"
    raw = httpx.get(prod[0] + page, headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert raw.headers["content-encoding"] == "gzip"
    unchanged = get(prod, page, headers={"If-None-Match": first.headers["etag"]})
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


def worker_pids(run, which):
    """Processes listening on a socket of the current generation ending with `which`."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if b"serving.worker" in arguments and any(
            a.startswith(str(run).encode()) and a.endswith(which.encode()) for a in arguments
        ):
            pids.append(int(entry.name))
    return pids


@pytest.fixture
def own_prod(built, handbook, portal_metadata, tmp_path):
    """A production stack of its own, on a copy of the release store (a test that publishes a
    release must not move the others' `current`)."""
    store = tmp_path / "releases"
    shutil.copytree(built.releases, store, symlinks=True)
    build = tmp_path / "build"
    build.mkdir()
    (build / "metadata.json").symlink_to(portal_metadata)
    (build / "site").symlink_to(handbook / "site")
    (build / "downloads").symlink_to(built.zip.parent)
    log = tmp_path / "serve-prod.log"
    with served_prod(store, build, tmp_path / "run", log) as (url, process):
        yield url, process, tmp_path / "run", log, store


def test_changes_of_state_lose_no_request_and_one_release_answers(own_prod):
    """Under load, a page worker and then the SQL worker are killed with -9, and a new release
    is published with SIGHUP: no request fails, every answer names one release, and the new one
    answers everywhere within 5 seconds of the signal."""
    url, process, run, log, store = own_prod
    first = (store / "current").resolve().name
    answers, failures, stop = [], [], threading.Event()

    def load(offset):
        with httpx.Client(timeout=10) as client:
            n = offset
            while not stop.is_set():
                n += 1
                path = (
                    f"/chuxiong/facilities?name=load-{n}"  # past every cache, to the workers
                    if n % 3
                    else ("/" if n % 2 else "/county/532301")
                )
                response = client.get(url + path)
                if response.status_code != 200:
                    failures.append((path, response.status_code))
                answers.append((time.monotonic(), response.headers.get("x-portal-release")))

    threads = [threading.Thread(target=load, args=(i * 1_000_000,)) for i in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        for which in ("-page-1.sock", "-sql.sock"):
            [pid] = worker_pids(run, which)
            os.kill(pid, signal.SIGKILL)
            if which == "-sql.sock":
                for n in range(6):  # visitor SQL while its worker is down goes elsewhere
                    answer = httpx.get(url + "/chuxiong.json", params={"sql": f"select {n}"})
                    assert answer.status_code in (200, 429), answer.status_code
            time.sleep(2)
        second = "2099-01-01.1"
        shutil.copytree(store / first, store / second)
        (store / ".current.new").symlink_to(second)
        (store / ".current.new").replace(store / "current")
        process.send_signal(signal.SIGHUP)
        signalled = time.monotonic()
        time.sleep(7)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert {release for _, release in answers} <= {first, second}
    after = [release for when, release in answers if when > signalled + 5]
    assert after and set(after) == {second}, "the new release answers everywhere within 5 s"
    text = log.read_text()
    assert "page worker 1 exited" in text and "SQL worker exited" in text
    assert f"now serving release {second}" in text


def test_every_spelling_of_a_control_parameter_is_read_once(prod):
    """nginx and the portal read parameter names alike: encoded names, control parameters in
    another case and single ones given twice are refused in Chinese by both (the worker's own
    check is the same list, portal/limits.py)."""
    from portal import limits

    spellings = []
    for name in sorted(limits.CONTROL):
        spellings.append("".join(f"%{ord(c):02X}" for c in name) + "=1")  # percent-encoded
        spellings.append(name.upper() + "=1")
        spellings.append(name[:-1] + f"%{ord(name[-1]):02X}=1")
        if name in limits.SINGLE:
            spellings.append(f"{name}=1&{name}=2")
    host, port = prod[0].removeprefix("http://").split(":")
    for query in spellings:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", f"/chuxiong/facilities?{query}")
        response = connection.getresponse()
        text = response.read().decode("utf-8")
        connection.close()
        assert response.status == 400, query
        assert "参数" in text, query
        assert limits.check("GET", "/chuxiong/facilities", query.encode()).status == 400, query
    assert get(prod, "/chuxiong/facilities?_size=5&_sort=name").status_code == 200


def test_every_canned_query_parameter_is_bounded(prod, portal_metadata):
    import json

    queries = json.loads(portal_metadata.read_text("utf-8"))["databases"]["chuxiong"]["queries"]
    names = [
        (q, p)
        for q, spec in queries.items()
        for p in dict.fromkeys(spec.get("params") or re.findall(r":(\w+)", spec["sql"]))
    ]
    assert len(names) >= 3
    for query, parameter in names:
        answer = get(prod, f"/chuxiong/{query}", params={parameter: "楚" * 200})
        assert answer.status_code == 400 and "太长" in answer.text, (query, parameter)


def test_a_refused_or_cut_export_never_answers_an_empty_or_short_200(prod):
    refused = get(prod, "/chuxiong.csv", params={"sql": "select randomblob(1e9)"})
    assert refused.status_code == 400 and "上限" in refused.text
    assert refused.headers["cache-control"] == "no-store"
    typo = get(prod, "/chuxiong.csv", params={"sql": "selec 1"})
    assert typo.status_code == 400 and "拼写" in typo.text
    long = get(
        prod,
        "/chuxiong.csv",
        params={
            "sql": "with recursive r(i) as (select 1 union all select i + 1 from r) select i from r"
        },
    )
    assert long.status_code == 200 and long.headers["cache-control"] == "no-store"
    assert long.text.rstrip().splitlines()[-1].startswith("# 文件不完整")
    whole = get(prod, "/chuxiong/village_coverage.csv?_stream=1&_size=max&_labels=on")
    assert whole.status_code == 200 and len(whole.text.splitlines()) > 9000
    assert "文件不完整" not in whole.text
    file = get(prod, f"/-/releases/{whole.headers['x-portal-release']}/manifest.json?_size=max")
    assert file.status_code == 200


def test_small_refusals_are_chinese_and_give_nothing_away(prod):
    assert (
        get(prod, "/handbook", headers={"Host": "evil.example"}).headers["location"] == "/handbook/"
    )
    pragma = get(prod, "/chuxiong.json", params={"sql": "select * from [PRAGMA_database_list]"})
    assert pragma.status_code == 400 and "/work" not in pragma.text and "/tmp" not in pragma.text
    report = get(prod, "/-/report", params={"page": "/\t/evil.example/x"})
    assert (
        'href="/\t/evil' not in report.text
        and "evil.example/x" not in report.text.split("mailto")[0]
    )
    host, port = prod[0].removeprefix("http://").split(":")
    for raw, status, words in (
        (b"GET / HTTP/1.1\r\n\r\n", b"400", "请求有误"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", b"501", "不支持"),
    ):
        with socket.create_connection((host, int(port)), timeout=5) as connection:
            connection.sendall(raw)
            data = b""
            while chunk := connection.recv(65536):
                data += chunk
        assert data.split(b" ")[1] == status and words in data.decode("utf-8", "replace")
    slow = get(
        prod,
        "/chuxiong",
        params={
            "sql": "with recursive r(i) as (select 1 union all select i + 1 from r) "
            "select count(*) from r"
        },
    )
    assert "&lt;a" not in slow.text and '<a href="https://docs.datasette' not in slow.text


def test_the_sitemap_is_served_from_files_and_other_pages_from_workers(prod):
    sitemap = get(prod, "/sitemap.xml")
    paths = re.findall(r"<loc>https?://[^/<]+(/[^<]*)</loc>", sitemap.text)
    assert len(paths) > 1000
    for path in paths[:: max(1, len(paths) // 60)]:
        answer = get(prod, path.replace("&amp;", "&"))
        assert answer.status_code == 200, path
        if not path.startswith("/handbook/"):
            assert answer.headers["x-cache-status"] == "BAKED", path
            assert "script-src" in answer.headers["content-security-policy"]
    sorted_page = get(prod, "/chuxiong/facilities?_sort=name")
    assert sorted_page.headers["x-cache-status"] in ("MISS", "HIT") and "第一页" in sorted_page.text


def test_a_full_cache_disk_costs_no_answer(built, handbook, portal_metadata, tmp_path):
    """The cache has a disk of its own (a 4 MB tmpfs here) and it fills up: every answer still
    comes, and the log says so once, not once per failed write."""
    cache = tmp_path / "cache"
    cache.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(cache)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode()[:200]}")
    try:
        build = tmp_path / "build"
        build.mkdir()
        (build / "metadata.json").symlink_to(portal_metadata)
        (build / "site").symlink_to(handbook / "site")
        (build / "downloads").symlink_to(built.zip.parent)
        log = tmp_path / "serve-prod.log"
        with served_prod(
            built.releases, build, tmp_path / "run", log, extra=("--cache", str(cache))
        ) as (url, _):
            with contextlib.suppress(OSError), open(cache / "ballast", "wb") as out:
                out.write(b"\0" * (8 * 1024 * 1024))  # fills the disk, then fails
            statuses = [
                httpx.get(url + f"/chuxiong/facilities?name=full-{n}", timeout=10).status_code
                for n in range(60)
            ]
        assert statuses == [200] * 60
        text = log.read_text()
        assert text.count("nginx stops writing its cache") == 1
        assert text.count("No space left") <= 3
    finally:
        subprocess.run(["umount", str(cache)], capture_output=True)


def test_the_supervisor_stops_cache_writes_when_the_disk_is_low(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from serving import prod as prod_module

    calls = []
    supervisor = prod_module.Supervisor.__new__(prod_module.Supervisor)
    supervisor.layout = SimpleNamespace(cache=tmp_path)
    supervisor.cache_writes, supervisor.cache_checked = True, 0.0
    supervisor.current = object()
    supervisor.configure = lambda generation: calls.append(supervisor.cache_writes)
    supervisor.nginx = SimpleNamespace(stop=lambda sig: calls.append(sig))
    free = {"value": 10}
    monkeypatch.setattr(
        prod_module.shutil, "disk_usage", lambda path: SimpleNamespace(free=free["value"])
    )
    supervisor.check_cache_disk()
    assert supervisor.cache_writes is False and calls[0] is False
    supervisor.cache_checked = 0.0
    free["value"] = 10 * prod_module.CACHE_LOW_BYTES
    supervisor.check_cache_disk()
    assert supervisor.cache_writes is True


def test_a_client_without_gzip_gets_the_same_page_unpacked(prod):
    plain = get(prod, "/chuxiong/tasks", headers={"Accept-Encoding": "identity"})
    packed = get(prod, "/chuxiong/tasks", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert plain.text == packed.text and "任务" in plain.text


def test_every_link_and_download_of_the_main_pages_answers_through_serve_prod(prod):
    """A reader's walk through serve-prod: the home page, the list of tables, every table and
    canned query page, a county page and the releases page; every link each offers (pages,
    downloads in every form, the handbook, release files) answers 200, one after another as a
    link checker would ask (the export rate limit slows such a walk down, never refuses it)."""
    import html as htmllib
    from urllib.parse import urljoin, urlsplit

    base = prod[0]
    client = httpx.Client(timeout=60)
    home = client.get(base + "/").text
    database = client.get(base + "/chuxiong").text
    pages = ["/", "/chuxiong", "/-/releases", "/county/532301", "/map", "/search?q=姚安"]
    pages += sorted(
        {htmllib.unescape(h) for h in re.findall(r'href="(/chuxiong/[a-z_]+)"', database + home)}
    )
    checked, failures = {}, []
    for page in pages:
        answer = client.get(base + page)
        assert answer.status_code == 200, page
        for href in re.findall(r'href="([^"#]+)', answer.text):
            target = urljoin(base + page, htmllib.unescape(href))
            if urlsplit(target).netloc != urlsplit(base).netloc or target in checked:
                continue
            status = client.get(target).status_code
            checked[target] = status
            if status != 200:
                failures.append((page, target, status))
    downloads = [t for t in checked if re.search(r"\.(xlsx|csv)(\?|$)|_stream=on", t)]
    assert len(downloads) > 100 and any(".xlsx" in t for t in downloads)
    assert failures == [], "\n".join(map(str, failures))
