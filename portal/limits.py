"""What one request may ask of the server, checked before Datasette sees it.

Datasette's table view treats every unknown query parameter as a filter and
builds its SQL in time quadratic in their number; facets each run a query. So
the portal answers too long a URL, too many parameters or facets, and methods
a page does not take at once, in Chinese, before any work is done. The limits
are generous for a person (the forms on the pages use a handful) and small
for a script.

Introspection pages that show settings, threads, versions, plugins or the
server's file paths are not for visitors: they are answered as not found.
"""

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

MAX_URL_BYTES = 4096
MAX_PARAMETERS = 40
MAX_FACETS = 5
MAX_SQL_BYTES = 20_000
METHODS = ("GET", "HEAD")
HIDDEN = re.compile(
    r"^/-/(settings|threads|versions|plugins|config|databases|actor|permissions|allow-debug|"
    r"messages|patterns|auth-token|logout|create-token|debug|inspect)(\.json)?/?$"
)
SQL_PARAMETERS = ("sql", "_where")
# Functions whose cost is the product of two strings' lengths, all inside one step of
# SQLite that no time limit can cut (portal/sqlite_limits.py): a few per statement.
PRODUCT_COST = re.compile(r"\b(like|glob|instr|replace)\b", re.IGNORECASE)
MAX_PRODUCT_CALLS = 8


@dataclass(frozen=True)
class Refusal:
    status: int
    zh: str
    en: str
    headers: tuple = ()


def parameters(query_string):
    return parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)


def check(method, path, query_string):
    """A Refusal, or None when the request may go on."""
    if HIDDEN.match(path):
        return Refusal(404, "页面不存在。", "Not found.")
    if method not in METHODS:
        return Refusal(
            405,
            f"本站只接受 GET 和 HEAD 请求，不接受 {method[:20]}。",
            f"only GET and HEAD are allowed, not {method[:20]}",
            (("allow", "GET, HEAD"),),
        )
    if len(path.encode()) + len(query_string) > MAX_URL_BYTES:
        return Refusal(
            414,
            f"网址太长（超过 {MAX_URL_BYTES} 字节）。请减少筛选条件，或下载整张表后在本地处理。",
            f"the address is longer than {MAX_URL_BYTES} bytes",
        )
    if query_string.count(b"&") + 1 > MAX_PARAMETERS:
        return Refusal(
            400,
            f"查询参数太多（最多 {MAX_PARAMETERS} 个）。请减少筛选条件。",
            f"more than {MAX_PARAMETERS} query parameters",
        )
    pairs = parameters(query_string)
    if sum(1 for name, _ in pairs if name == "_facet") > MAX_FACETS:
        return Refusal(
            400,
            f"分面统计太多（最多 {MAX_FACETS} 个）。",
            f"more than {MAX_FACETS} facets",
        )
    for name, value in pairs:
        if name in SQL_PARAMETERS and len(value.encode()) > MAX_SQL_BYTES:
            return Refusal(
                400,
                f"SQL 语句太长（最多 {MAX_SQL_BYTES} 字节）。",
                f"the SQL is longer than {MAX_SQL_BYTES} bytes",
            )
        if name in SQL_PARAMETERS and len(PRODUCT_COST.findall(value)) > MAX_PRODUCT_CALLS:
            return Refusal(
                400,
                f"一条查询里 LIKE、GLOB、instr()、replace() 合计最多用 {MAX_PRODUCT_CALLS} 次。",
                f"at most {MAX_PRODUCT_CALLS} uses of LIKE, GLOB, instr() and replace() in one query",
            )
    return None


def runs_custom_sql(query_string):
    """Whether the request runs SQL written by the visitor (?sql= or ?_where=)."""
    if b"sql=" not in query_string and b"_where=" not in query_string:
        return False
    return any(name in SQL_PARAMETERS for name, _ in parameters(query_string))
