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
from urllib.parse import parse_qsl, quote, urlencode

from . import csp, exports, labels, limits, spreadsheets, words
from .config import config
from .csv_safety import CUT_SHORT, CsvDefuser
from .response_cache import Entry, ResponseCache, replay

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
# /<database>.csv|.xlsx (SQL written by the visitor), /<database>/<query or table>.csv|.xlsx
EXPORT = re.compile(r"^/(?P<database>[^/]+?)(?:/(?P<name>[^/]+?))?\.(?P<form>csv|xlsx)$")
XLSX = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPREADSHEET_SLOTS = 1  # XLSX files built at once per process (each is CPU in a thread)
SPREADSHEET_QUEUE = 8
FILES_MAX_BYTES = 24 * 1024 * 1024  # finished XLSX files kept for the next visitor
FILE_MAX_BYTES = 8 * 1024 * 1024


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


def disposition(filename, title=None):
    """Content-Disposition: an ASCII name for every client, and the Chinese one (RFC 6266)
    for those that read it."""
    value = f'attachment; filename="{filename}"'
    if title:
        value += "; filename*=UTF-8''" + quote(title, safe="")
    return [(b"content-disposition", value.encode("latin-1"))]


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
        self.spreadsheets = asyncio.Semaphore(SPREADSHEET_SLOTS)
        self.spreadsheets_waiting = 0
        self.files = ResponseCache(FILES_MAX_BYTES, FILE_MAX_BYTES)

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
        export = EXPORT.match(path) if is_csv or path.endswith(".xlsx") else None
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
                if not (export and await self.export(export, query, send, head, where(scope))):
                    await self.serve(scope, receive, send, head, etag, is_csv)
            finally:
                self.slots.release()
            return
        if export and await self.export(export, query, send, head, where(scope)):
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

    async def export(self, match, query, send, head, origin):
        """A download the portal makes itself (portal/exports.py): an XLSX, an Excel CSV, or
        the CSV of a query. False for the plain CSV of a table, which Datasette streams."""
        database, name, form = match.group("database"), match.group("name"), match.group("form")
        if database not in self.datasette.databases:
            return False
        args = exports.arguments(query)
        excel = form == "xlsx" or args.get("_bom") == "1"
        if name is None and "sql" not in args:
            return False
        try:
            found = await exports.query_for(self.datasette, database, name, args)
            if found is None:
                if not excel:
                    return False
                export = await exports.table_export(
                    self.datasette,
                    database,
                    name,
                    query.decode("latin-1"),
                    self.labels(database),
                    words.INTERFACE["lookups"],
                )
                if export is None:
                    return False
                if form == "csv":
                    await self.stream_excel_csv(database, export, send, head)
                    return True
                rows = None
            else:
                sql, params, canned = found
                limit = CUSTOM_SQL_TIME_MS if name is None else None
                columns, rows, truncated = await exports.rows_of(
                    self.datasette, database, sql, params, limit
                )
                export = exports.query_export(name or database, canned, columns, rows, truncated)
                if form == "csv":
                    body = exports.csv_bytes(
                        columns,
                        rows,
                        truncated,
                        self.datasette.setting("max_returned_rows"),
                        excel,
                        export.columns if excel else None,
                    )
                    filename = f"{name or database}{'-excel' if excel else ''}.csv"
                    await self.send_file(
                        send, head, body, b"text/csv; charset=utf-8", filename, args
                    )
                    return True
            await self.send_xlsx(database, export, rows, query, send, head, origin)
        except exports.Refused as refused:
            await self.refuse(
                send, limits.Refusal(refused.status, refused.zh, refused.original), head
            )
        return True

    def labels(self, database):
        return getattr(self.datasette, "portal_labels", {}).get(database) or labels.Labels()

    def about(self, database, export, rows_count, query, origin):
        """The 说明 sheet's lines: what, which conditions, which release, where from."""
        release = self.labels(database).release
        route = "/v" + (release.get("release_id") or "").replace(".", "-")
        kept = [
            (k, v)
            for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            if k not in ("_bom", "_dl", "_stream", "_timelimit", "_nofacet", "_size", "_next")
        ]
        path = f"{route}/{export.name}" if export.name != database else route
        base = config().base_url or origin
        url = base + path + ("?" + urlencode(kept) if kept else "")
        words_about = words.EXPORTS["about"]
        lines = [("title", export.title)]
        if export.description:
            lines.append(("description", export.description))
        lines += [
            ("conditions", export.conditions or words_about["no_conditions"]),
            ("rows", rows_count),
            ("release", release.get("release_id")),
            ("released_on", release.get("released_on")),
            ("as_of", release.get("as_of")),
            ("source", url),
            ("publisher", words.EXPORTS["publisher"]),
            ("licence", words.EXPORTS["licence"]),
            ("citation", spreadsheets.citation(export.title, release, url)),
        ]
        if any(c.name == "status" for c in export.columns) and export.table:
            lines.append(("suppressed", words_about["suppressed_text"]))
        if str(release.get("sample")).lower() in ("1", "true"):
            lines.insert(0, ("sample", words_about["sample_text"]))
        return lines

    async def send_xlsx(self, database, export, rows, query, send, head, origin):
        """Build the XLSX (one at a time per process, in a thread: the event loop keeps
        answering others) or send the one built for the same URL before."""
        key = f"{origin}|{database}|{export.name}|{query.decode('latin-1')}"
        kept = self.files.get(key)
        if kept is None:
            if self.spreadsheets_waiting >= SPREADSHEET_QUEUE:
                raise exports.Refused(503, words.EXPORTS["busy"], "too many downloads at once")
            self.spreadsheets_waiting += 1
            try:
                await self.spreadsheets.acquire()
            finally:
                self.spreadsheets_waiting -= 1
            try:
                kept = self.files.get(key)
                if kept is None:
                    body = await self.build_xlsx(database, export, rows, query, origin)
                    self.files.put(key, Entry(200, [], body))
                    kept = self.files.get(key)
            finally:
                self.spreadsheets.release()
        release = self.labels(database).release.get("release_id") or ""
        await self.send_file(
            send,
            head,
            kept.body,
            XLSX,
            f"{export.name}-{release}.xlsx",
            {"_dl": "1"},
            f"{export.title}-{release}.xlsx",
        )

    async def build_xlsx(self, database, export, rows, query, origin):
        writer = spreadsheets.XlsxWriter(export.columns)
        if rows is not None:  # a query's result, already read
            await asyncio.to_thread(writer.append_all, [tuple(r) for r in rows])
            total = len(rows)
            if export.truncated:
                writer.note(exports.WORDING["incomplete"].format(limit=f"{total:,}"))
        else:
            total = await exports.count(self.datasette, database, export)
            if total > exports.XLSX_MAX_ROWS:
                raise exports.Refused(
                    400,
                    exports.WORDING["too_many_rows"].format(
                        rows=f"{total:,}", limit=f"{exports.XLSX_MAX_ROWS:,}"
                    ),
                    f"{total} rows: more than an XLSX download may hold",
                )
            async for page in exports.pages(self.datasette, database, export, total):
                await asyncio.to_thread(writer.append_all, page)
        return await asyncio.to_thread(
            writer.finish, self.about(database, export, writer.rows, query, origin)
        )

    async def stream_excel_csv(self, database, export, send, head):
        """The Excel CSV of a table, page by page: Chinese headers, codes as text."""
        total = await exports.count(self.datasette, database, export)
        most = exports.most_rows_of_csv()
        headers = [
            (b"content-type", b"text/csv; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-portal-release", self.release().encode()),
            *SECURITY_HEADERS,
            *disposition(f"{export.name}-excel.csv", f"{export.title}-excel.csv"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if head:
            await send({"type": "http.response.body", "body": b""})
            return
        await send(
            {
                "type": "http.response.body",
                "body": exports.excel_csv_header(export),
                "more_body": True,
            }
        )
        try:
            async for page in exports.pages(self.datasette, database, export, most):
                body = exports.excel_csv_rows(export, page)
                await send({"type": "http.response.body", "body": body, "more_body": True})
            tail = exports.incomplete_line(most) if total > most else b""
        except exports.Refused:
            tail = ("\r\n" + CUT_SHORT + "\r\n").encode("utf-8")
        await send({"type": "http.response.body", "body": tail})

    async def send_file(self, send, head, body, content_type, filename, args, title=None):
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            (b"x-portal-release", self.release().encode()),
            *SECURITY_HEADERS,
        ]
        if args.get("_dl"):
            headers += disposition(filename, title)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else body})

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
