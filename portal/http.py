"""What every request and response goes through, as an ASGI wrapper around Datasette.

In order:
1. Limits (portal/limits.py): hidden introspection pages, methods, URL length,
   parameters, facets, SQL length: refused at once, in Chinese.
2. HEAD is answered as GET without the body.
3. A conditional request whose validator still holds gets 304 before any work:
   the database never changes while it is served, so a response is a function of
   its URL and the served version (the releases' hashes and the code's), and the
   ETag says which.
4. SQL written by the visitor waits for a slot (CUSTOM_SQL_SLOTS per process, at
   most CUSTOM_SQL_QUEUE waiting), so it can never take all of Datasette's SQL
   threads from the pages everyone else reads; beyond the queue it gets 503. It also
   gets a shorter time limit (CUSTOM_SQL_TIME_MS) than the portal's own queries.
5. Headers on the way out: security headers, a Content-Security-Policy whose
   script hashes are the inline scripts the templates actually wrote (portal/csp.py),
   Cache-Control and the ETag on successful responses, no cookies on public pages.
6. Any other response already sent once is sent again from memory (portal/response_cache.py):
   the data cannot have changed, so the second visitor to a page costs no rendering. The
   key holds the scheme and Host as well as the URL: without PORTAL_BASE_URL, absolute
   links (the catalogue, the sitemap, Datasette's next_url) come from the Host header, and
   a page made for one visitor's made-up Host must never be sent to anyone else.
7. Every CSV is made safe for spreadsheets as it streams (portal/csv_safety.py);
   `?_bom=1` prepends a byte-order mark so Excel on Chinese Windows reads UTF-8.
   A streamed export ignores the page's sort (Datasette 0.65 pages a streamed export
   by the sort column and repeats or skips rows when it is not unique).

No HTML is rewritten after it is rendered: pages are Chinese because their
templates are.
"""

import asyncio
import html
import re

from . import csp, exports, limits
from .csv_safety import CsvDefuser
from .response_cache import ResponseCache, replay

BOM = b"\xef\xbb\xbf"
CUSTOM_SQL_SLOTS = 1
CUSTOM_SQL_QUEUE = 8
CUSTOM_SQL_TIME_MS = 600  # with the answer, well inside the 1 s a refusal may take
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
]
STATIC_FOREVER = b"public, max-age=31536000, immutable"
LATER_PAGE = re.compile(rb"(^|&)(_next|_sort|_sort_desc)=")
# /<database>.csv (SQL written by the visitor) and /<database>/<canned query or table>.csv
EXPORT = re.compile(r"^/(?P<database>[^/]+?)(?:/(?P<name>[^/]+?))?\.csv$")


def cache_control(path, status, versioned):
    """Cache-Control for a response: long for fingerprinted assets, short for pages; exports
    never (a download cut short by a limit must not be kept and served again)."""
    if status != 200:
        return b"public, max-age=60" if status == 404 else b"no-store"
    if path.endswith((".csv", ".xlsx")):
        return b"no-store"
    if versioned:
        return STATIC_FOREVER
    if path.startswith(("/-/static-plugins/", "/-/tiles/", "/-/boundaries")):
        return b"public, max-age=86400"
    if path.startswith(("/v2", "/-/releases/")):
        return b"public, max-age=86400"  # a pinned release never changes
    return b"public, max-age=300, stale-while-revalidate=60"


def without(query_string, names):
    """The query string without the parameters named (bytes, as they came)."""
    prefixes = tuple(name + b"=" for name in names)
    kept = [part for part in query_string.split(b"&") if part and not part.startswith(prefixes)]
    return b"&".join(kept)


def where(scope):
    """scheme://host as the request named it: the part of a page's identity besides its URL."""
    host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}"


def refusal_page(refusal):
    body = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>请求未被处理（{refusal.status}）</title></head><body>"
        f"<h1>请求未被处理（{refusal.status}）</h1><p>{html.escape(refusal.zh)}</p>"
        f'<p lang="en">{html.escape(refusal.en)}</p><p><a href="/">回到首页</a></p></body></html>'
    )
    return body.encode("utf-8")


class PortalHttp:
    def __init__(self, app, datasette):
        self.app = app
        self.datasette = datasette
        self.slots = asyncio.Semaphore(CUSTOM_SQL_SLOTS)
        self.waiting = 0
        self.responses = ResponseCache()

    def version(self):
        return getattr(self.datasette, "portal_version", "dev")

    def release(self):
        """The release this process serves as the current one (every answer names it)."""
        served = getattr(self.datasette, "portal_served", None)
        return served.current if served else ""

    def etag(self, scope):
        key = f"{self.version()}|{where(scope)}{scope['path']}|{scope.get('query_string', b'').decode('latin-1')}"
        return f'W/"{csp.short_hash(key)}"'.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"")
        refusal = limits.check(method, path, query)
        if refusal:
            await self.refuse(send, refusal, head=method == "HEAD")
            return
        head = method == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        etag = self.etag(scope)
        if (dict(scope["headers"]).get(b"if-none-match") or b"") == etag:
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": [(b"etag", etag), *SECURITY_HEADERS],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        is_csv = path.endswith(".csv")
        # The time limit is the portal's to set (a visitor's value could only raise or break it).
        query = without(query, (b"_timelimit",))
        export = EXPORT.match(path) if is_csv else None
        if is_csv and b"_stream=" in query:
            query = without(query, (b"_sort", b"_sort_desc", b"_sort_by_desc"))
        if LATER_PAGE.search(query) and "." not in path.rsplit("/", 1)[-1]:
            # A later page, or the same rows in another order, has the first page's facets: not
            # worked out again for every page a crawler or reader follows (a third of a page's
            # cost). The page says where they are (templates/table.html).
            query += b"&_nofacet=1"
        scope = {**scope, "query_string": query}
        if limits.runs_custom_sql(query):
            # Datasette honours a lower ?_timelimit= than its setting: the visitor's SQL
            # gets a shorter one than the portal's own pages.
            query += b"&_timelimit=%d" % CUSTOM_SQL_TIME_MS
            scope = {**scope, "query_string": query}
            if self.waiting >= CUSTOM_SQL_QUEUE:
                await self.refuse(
                    send,
                    limits.Refusal(
                        503,
                        "自定义查询太多，请稍后再试。预设查询和表格页面不受影响。",
                        "too many custom queries at once: try again shortly",
                        (("retry-after", "5"),),
                    ),
                    head,
                )
                return
            self.waiting += 1
            try:
                await self.slots.acquire()
            finally:
                self.waiting -= 1
            try:
                if not (export and await self.export(export, query, send, head)):
                    await self.serve(scope, receive, send, head, etag, is_csv)
            finally:
                self.slots.release()
            return
        if export and await self.export(export, query, send, head):
            return
        key = where(scope) + scope["path"] + "?" + query.decode("latin-1")
        if b"_stream=" in query:
            await self.serve(scope, receive, send, head, etag, is_csv)
            return
        kept = self.responses.get(key)
        if kept is not None:
            await replay(kept, scope, send, head)
            return
        if head:
            await self.serve(scope, receive, send, head, etag, is_csv)
            return
        recording = self.responses.recording(key, scope, send)
        await self.serve(scope, receive, recording, head, etag, is_csv)

    async def export(self, match, query, send, head):
        """The CSV of a visitor's SQL or a canned query (portal/exports.py); False for a table,
        which Datasette exports itself."""
        database, name = match.group("database"), match.group("name")
        if database not in self.datasette.databases:
            return False
        args = exports.arguments(query)
        if name is None and "sql" not in args:
            return False
        try:
            found = await exports.query_for(self.datasette, database, name, args)
            if found is None:
                return False
            limit = CUSTOM_SQL_TIME_MS if name is None else None
            columns, rows, truncated = await exports.rows_of(
                self.datasette, database, *found, limit
            )
        except exports.Refused as refused:
            await self.refuse(
                send, limits.Refusal(refused.status, refused.zh, refused.original), head
            )
            return True
        bom = args.get("_bom") == "1"
        body = exports.csv_bytes(
            columns, rows, truncated, self.datasette.setting("max_returned_rows"), bom
        )
        filename = f"{name or database}{'-excel' if bom else ''}.csv"
        headers = [
            (b"content-type", b"text/csv; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            *SECURITY_HEADERS,
        ]
        if args.get("_dl"):
            headers.append((b"content-disposition", f'attachment; filename="{filename}"'.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})
        return True

    async def refuse(self, send, refusal, head=False):
        body = refusal_page(refusal)
        headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            *SECURITY_HEADERS,
            (b"content-security-policy", csp.policy(()).encode()),
            *((k.encode(), v.encode()) for k, v in refusal.headers),
        ]
        await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})

    async def serve(self, scope, receive, send, head, etag, is_csv):
        scripts = csp.collect()  # the templates add the inline scripts they write
        query = scope.get("query_string", b"")
        bom = is_csv and b"_bom=1" in query
        versioned = b"v=" in query and scope["path"].startswith("/static/")
        state = {"defuser": None, "bom": bom}

        async def capture(message):
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower()
                    not in (
                        b"set-cookie",
                        b"cache-control",
                        b"x-content-type-options",
                        b"referrer-policy",
                        b"x-frame-options",
                        b"content-security-policy",
                    )
                ]
                content_type = dict(headers).get(b"content-type", b"")
                headers += SECURITY_HEADERS
                headers.append((b"x-portal-release", self.release().encode()))
                headers.append((b"cache-control", cache_control(scope["path"], status, versioned)))
                if status == 200:
                    headers.append((b"etag", etag))
                if content_type.startswith(b"text/html"):
                    headers.append((b"content-security-policy", csp.policy(scripts).encode()))
                if content_type.startswith(b"text/csv") or is_csv:
                    state["defuser"] = CsvDefuser()
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                    if bom:
                        headers = [
                            (k, v.replace(b".csv", b"-excel.csv"))
                            if k.lower() == b"content-disposition"
                            else (k, v)
                            for k, v in headers
                        ]
                await send({**message, "headers": headers})
                return
            if message["type"] == "http.response.body":
                body = message.get("body", b"")
                defuser = state["defuser"]
                if defuser is not None:
                    body = defuser.feed(body)
                    if not message.get("more_body"):
                        body += defuser.close()
                    if state["bom"]:
                        body, state["bom"] = BOM + body, False
                if head:
                    body = b""
                await send({**message, "body": body})
                return
            await send(message)

        await self.app(scope, receive, capture)
