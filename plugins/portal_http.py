"""What every response gets on its way out: security headers, a Chinese interface, and
Excel-ready CSV.

- Security: a Content-Security-Policy that runs only this site's scripts (inline
  scripts carry a per-response nonce), X-Content-Type-Options, Referrer-Policy,
  no framing.
- Chinese: Datasette 0.65 has no translations, so the English phrases of its
  pages are replaced here, in text outside tags only, never inside <textarea>,
  <script>, <style> or <pre>. TRANSLATIONS is the one list to check when
  Datasette is upgraded (tests/test_portal.py fails if a page shows English again).
- Excel: `?_bom=1` on any .csv URL prepends a UTF-8 byte-order mark, so Excel on
  Chinese Windows opens the file as UTF-8 instead of GBK.
- Complete exports: a streamed CSV export ignores the page's sort (see without_sort).
"""

import os
import re
import secrets
from urllib.parse import parse_qs, urlparse

from datasette import hookimpl

BOM = b"\xef\xbb\xbf"

# (pattern, replacement) for text between tags; patterns match whole phrases.
TRANSLATIONS = [
    (r"^Table actions$", "表操作"),
    (r"^Search:$", "搜索:"),
    (r"^- remove filter -$", "- 去掉条件 -"),
    (r"^- column -$", "- 选择列 -"),
    (r"^Sort\.\.\.$", "排序……"),
    (r"^Sort by$", "排序"),
    (r"^descending$", "降序"),
    (r"^remove$", "去掉"),
    (r"^View and edit SQL$", "查看和编辑 SQL"),
    (r"^This data as$", "下载本页数据:"),
    (r"^advanced$", "更多选项"),
    (r"^These facets timed out:$", "以下分面超时:"),
    (r"^Next page$", "下一页"),
    (r"^Advanced export$", "高级导出"),
    (r"^JSON shape:$", "JSON 格式:"),
    (r"^default$", "默认"),
    (r"^array$", "数组"),
    (r"^newline-delimited$", "逐行"),
    (r"^object$", "对象"),
    (r"^CSV options:$", "CSV 选项:"),
    (r"^download file$", "下载为文件"),
    (r"^expand labels$", "展开标签"),
    (r"^stream all rows$", "导出全部行"),
    (r"^0 records$", "没有记录"),
    (r"^Custom SQL query$", "自定义 SQL 查询"),
    (r"^Query parameters$", "查询参数"),
    (r"^Format SQL$", "格式化 SQL"),
    (r"^Edit SQL$", "编辑 SQL"),
    (r"^0 results$", "没有结果"),
    (r"^Links from other tables$", "其他表中的引用"),
    (r"^Queries$", "预设查询"),
    (r"^Tables$", "数据表"),
    (r"^Views$", "视图"),
    (r"^\(hidden\)$", "(隐藏)"),
    (r"^Download SQLite DB:$", "下载 SQLite 数据库:"),
    (r"^Suggested facets:$", "建议分面:"),
    (r"^Error$", "出错了"),
    (r"^Data license:$", "数据许可:"),
    (r"^Data source:$", "数据来源:"),
    (r"^About:$", "说明:"),
    (
        r"^This query cannot be executed because the database is immutable\.$",
        "数据库只读,不能执行此查询。",
    ),
    (r"^Powered by$", "技术支持:"),
    (r"^(\d[\d,]*) rows?$", r"\1 行"),
    (r"^(\d[\d,]*) rows? where$", r"\1 行,条件:"),
    (r"^Custom SQL query returning$", "自定义 SQL 查询,返回"),
    (r"^Custom SQL query returning more than$", "自定义 SQL 查询,返回超过"),
    (r"^more than$", "超过"),
    (r"^(\d[\d,]*) tables?$", r"\1 张表"),
    (r"^\.\.\. and$", "……以及"),
    (r"^Not found$", "未找到"),
    (r"^Table not found: (.*)$", r"找不到数据表:\1"),
    (r"^Database not found: (.*)$", r"找不到数据库:\1"),
    (r"^Row not found: (.*)$", r"找不到记录:\1"),
    (r"^(\d[\d,]*) rows?\s+sorted by (\S+) descending$", r"\1 行,按 \2 降序排列"),
    (r"^(\d[\d,]*) rows?\s+sorted by (\S+)$", r"\1 行,按 \2 排序"),
    (r"^sorted by (.*)$", r"按 \1 排序"),
    (r"^Sort by (.*)$", r"按 \1 排序"),
    (r"^Custom SQL query returning (more than )?(\d[\d,]*) rows?$", r"自定义 SQL 查询,返回 \2 行"),
    (r"^&middot;\s*Data source:$", "&middot; 数据来源:"),
    (r"^&middot;\s*Data license:$", "&middot; 数据许可:"),
    (r"^&middot;\s*About:$", "&middot; 说明:"),
    (r"^(\d[\d,]*) hidden tables?$", r"\1 张隐藏表"),
    (r"^Error (\d+)$", r"出错了(\1)"),
    (r"^Table not found$", "找不到数据表"),
    (r"^Database not found$", "找不到数据库"),
    (r"^Row not found$", "找不到记录"),
    (r"^home$", "首页"),
    (r"^(.*) \(view\)$", r"\1(视图)"),
    (r"^hide$", "收起"),
    (r"^show$", "展开"),
    (r"^Link$", "链接"),
    (r"^contains$", "包含"),
    (r"^array contains$", "数组包含"),
    (r"^array does not contain$", "数组不包含"),
    (r"^ends with$", "结尾是"),
    (r"^starts with$", "开头是"),
    (r"^not like$", "不像(not like)"),
    (r"^like$", "像(like)"),
    (r"^not in$", "不在其中"),
    (r"^in$", "在其中"),
    (r"^glob$", "通配(glob)"),
    (r"^is null$", "为空值"),
    (r"^is not null$", "不为空值"),
    (r"^is blank$", "为空"),
    (r"^is not blank$", "不为空"),
    (r"^date$", "日期是"),
]
ATTRIBUTE_TRANSLATIONS = {
    'value="Apply"': 'value="应用"',
    'value="Export CSV"': 'value="导出 CSV"',
    'value="Run SQL"': 'value="运行 SQL"',
    'value="Search"': 'value="搜索"',
    "<html>": '<html lang="zh-CN">',
}
COMPILED = [(re.compile(p), r) for p, r in TRANSLATIONS]
RAW_ELEMENTS = ("textarea", "script", "style", "pre")
PIECES = re.compile(r"(<[^>]*>)")


def translate_text(text):
    stripped = text.strip()
    if not stripped or not re.search("[A-Za-z]", stripped):
        return text
    for pattern, replacement in COMPILED:
        new, count = pattern.subn(replacement, stripped)
        if count:
            return text.replace(stripped, new)
    return text


def translate_html(body):
    """Translate the interface's English phrases, leaving tags and raw elements alone."""
    out, raw = [], None
    for piece in PIECES.split(body):
        if piece.startswith("<"):
            name = re.match(r"</?\s*([a-zA-Z0-9]+)", piece)
            tag = name.group(1).lower() if name else ""
            if raw is None and tag in RAW_ELEMENTS and not piece.startswith("</"):
                raw = tag
            elif raw == tag and piece.startswith("</"):
                raw = None
            for english, chinese in ATTRIBUTE_TRANSLATIONS.items():
                if english in piece:
                    piece = piece.replace(english, chinese)
            out.append(piece)
        elif raw is None:
            out.append(translate_text(piece))
        else:
            out.append(piece)
    return "".join(out)


EXCEL_LINK = re.compile(r'<a href="([^"]+\.csv\?[^"]*)">CSV</a>')


def add_excel_link(body):
    """Beside each CSV download, one that Excel on Chinese Windows opens correctly."""
    return EXCEL_LINK.sub(
        lambda m: (
            f'<a href="{m.group(1)}&amp;_bom=1&amp;_stream=on&amp;_dl=1">Excel 用 CSV(全部行)</a>, '
            f'<a href="{m.group(1)}">CSV</a>'
        ),
        body,
        count=1,
    )


def add_nonce(body, nonce):
    return re.sub(r"<script(?=[\s>])", f'<script nonce="{nonce}"', body)


def without_sort(query_string):
    """Drop _sort and _sort_desc from a streamed CSV export.

    Datasette 0.65 pages a streamed export by the sort column and, when that
    column is not unique (year, say), repeats some rows and skips others. In
    primary-key order every row comes exactly once.
    """
    kept = [
        part
        for part in query_string.split(b"&")
        if not part.startswith((b"_sort=", b"_sort_desc=", b"_sort_by_desc="))
    ]
    return b"&".join(kept)


def tile_origin():
    url = os.environ.get("PORTAL_TILE_URL", "")
    if url.startswith(("http://", "https://")):
        parsed = urlparse(url.replace("{s}", "*"))
        return f"{parsed.scheme}://{parsed.netloc}"
    return ""


def csp(nonce):
    tiles = tile_origin()
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data:{' ' + tiles if tiles else ''}",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
]


def wrap(app):
    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        bom = scope["path"].endswith(".csv") and query.get("_bom") == ["1"]
        if scope["path"].endswith(".csv") and query.get("_stream", [""])[0] in ("on", "1"):
            scope = {**scope, "query_string": without_sort(scope.get("query_string", b""))}
        nonce = secrets.token_urlsafe(16)
        state = {"html": False, "start": None, "body": [], "bom_sent": False}

        async def capture(message):
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {h for h, _ in SECURITY_HEADERS}
                ]
                content_type = dict((k.lower(), v) for k, v in headers).get(b"content-type", b"")
                headers += SECURITY_HEADERS
                if content_type.startswith(b"text/html"):
                    state["html"] = True
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                    headers.append((b"content-security-policy", csp(nonce).encode()))
                elif bom:
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                    headers = [
                        (k, v.replace(b".csv", b"-excel.csv"))
                        if k.lower() == b"content-disposition"
                        else (k, v)
                        for k, v in headers
                    ]
                state["start"] = {**message, "headers": headers}
                if not state["html"]:
                    await send(state["start"])
                return
            if message["type"] == "http.response.body" and state["html"]:
                state["body"].append(message.get("body", b""))
                if message.get("more_body"):
                    return
                text = b"".join(state["body"]).decode("utf-8", "replace")
                body = add_nonce(add_excel_link(translate_html(text)), nonce).encode("utf-8")
                start = state["start"]
                start["headers"].append((b"content-length", str(len(body)).encode()))
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            if message["type"] == "http.response.body" and bom and not state["bom_sent"]:
                state["bom_sent"] = True
                message = {**message, "body": BOM + message.get("body", b"")}
            await send(message)

        await app(scope, receive, capture)

    return wrapped


@hookimpl
def asgi_wrapper(datasette):
    return wrap
