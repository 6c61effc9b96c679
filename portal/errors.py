"""Errors said for a visitor, in Chinese, and the status each deserves.

Datasette 0.65 raises a 500 for some mistakes that are the request's, not the
server's (`?_sort=` on a column that does not exist); those are 400 here. A
500 is logged as one line; nothing prints a traceback for a visitor's mistake,
which would cost the event loop and fill the log on a flood.
"""

import re
import sqlite3

from datasette.database import QueryInterrupted
from datasette.utils.asgi import BadRequest, Base400, Forbidden, NotFound
from datasette.views.base import DatasetteError

from .sqlite_limits import MAX_TRIM_CHARACTERS, MAX_VALUE_BYTES

CLIENT_MESSAGES = [
    (re.compile(r"Cannot sort table by (.*)"), "不能按“{0}”排序：没有这一列，或这一列不能排序。"),
    (re.compile(r"Cannot use _sort and _sort_desc"), "不能同时用 _sort 和 _sort_desc。"),
    (re.compile(r"_size must be"), "_size 必须是正整数，最多 2,000。"),
    (re.compile(r"Invalid _next"), "分页参数 _next 不对。"),
    (re.compile(r"no such column: (.*)"), "没有“{0}”这一列。"),
    (re.compile(r"no such table: (.*)"), "没有“{0}”这张表。"),
    (
        re.compile(r"string or blob too big"),
        f"单个值超过 {MAX_VALUE_BYTES // 1000} KB 的上限，查询被拒绝。",
    ),
    (
        re.compile(r"user-defined function raised exception"),
        f"trim()、ltrim()、rtrim() 的第二个参数最多 {MAX_TRIM_CHARACTERS} 个字符。",
    ),
    (re.compile(r"LIKE or GLOB pattern too complex"), "LIKE 或 GLOB 的模式太长（最多 200 字节）。"),
    (
        re.compile(r"interrupted|SQL query took too long"),
        "查询用时超过上限，已被中止。请缩小范围后再试。",
    ),
    (
        re.compile(r"Statement must be a SELECT"),
        "只能运行以 SELECT 或 WITH 开头的查询（只读查询）。请检查第一个词是否拼写正确。",
    ),
    (
        re.compile(r"not authorized"),
        "本站不提供 printf() 和 format() 函数（它们可以让一条查询占住服务器）；"
        "请用 round() 取小数位，用 || 拼接文字。",
    ),
    (re.compile(r"near \"(.*)\": syntax error"), "SQL 语法错误（在“{0}”附近）。"),
]
TITLES = {
    400: "请求有误",
    403: "没有权限",
    404: "页面不存在",
    405: "不接受这种请求",
    500: "服务器出错",
}


def client_message(text):
    for pattern, chinese in CLIENT_MESSAGES:
        match = pattern.search(text)
        if match:
            return chinese.format(*match.groups())
    return None


TAG = re.compile(r"<[^>]+>")


def describe(exception):
    """(status, Chinese message, original message) for an exception raised by a request.
    The original is plain text (Datasette writes a link into its time-limit message)."""
    original = str(exception.args[0]) if getattr(exception, "args", None) else str(exception)
    original = TAG.sub("", original)
    if isinstance(exception, NotFound):
        return 404, "找不到这个页面。可能是网址有误，或数据表、记录不存在。", original
    if isinstance(exception, Forbidden):
        return 403, "没有权限访问这个页面。", original
    if isinstance(exception, QueryInterrupted):
        return 400, "查询用时超过上限，已被中止。请缩小范围后再试。", original
    if isinstance(exception, (BadRequest, Base400)):
        return exception.status, client_message(original) or "请求有误。", original
    if isinstance(exception, sqlite3.DatabaseError):
        return 400, client_message(original) or "查询出错。", original
    if isinstance(exception, DatasetteError):
        message = exception.message if isinstance(exception.message, str) else original
        message = " ".join(TAG.sub(" ", message).split())
        chinese = client_message(message)
        if chinese:
            return 400, chinese, message
        return exception.status, "出错了。", message
    return 500, "服务器出错了。我们会尽快处理；请稍后再试。", original


def title(status):
    return TITLES.get(status, "出错了")
