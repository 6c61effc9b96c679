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
# The query-string parameters Datasette reads itself (besides filters and a canned query's own
# parameters), and those it reads one value of. nginx refuses the same spellings from the same
# lists (serving/nginx.conf.j2): the proxy and the portal read a request alike.
CONTROL = frozenset(
    {
        "sql", "_where", "_timelimit", "_size", "_sort", "_sort_desc", "_sort_by_desc",
        "_next", "_search", "_searchmode", "_col", "_nocol", "_facet", "_facet_array",
        "_facet_date", "_trace", "_ttl", "_shape", "_json", "_json_infinity", "_nl",
        "_labels", "_nolabels", "_stream", "_dl", "_nofacet", "_nosuggest", "_nocount",
        "_context", "_extra", "_bom", "_header", "_hash", "_fts_table", "_fts_pk",
    }
)  # fmt: skip
SINGLE = frozenset(
    {
        "sql", "_timelimit", "_size", "_sort", "_sort_desc", "_sort_by_desc", "_next",
        "_search", "_searchmode", "_stream", "_shape", "_ttl", "_trace", "_dl", "_bom",
        "_nl", "_json_infinity",
    }
)  # fmt: skip
NAME = re.compile(r"[A-Za-z0-9_]+")
MAX_VALUE_BYTES = 500  # any parameter but sql and _where (which have MAX_SQL_BYTES)
REFUSED = frozenset({"_trace"})  # Datasette's timing trace: internals, not for visitors
# Functions whose cost is the product of two strings' lengths, all inside one step of
# SQLite that no time limit can cut (portal/sqlite_limits.py): a few per statement.
PRODUCT_COST = re.compile(r"\b(like|glob|instr|replace)\b", re.IGNORECASE)
# Table-valued pragmas that name the server's own files (Datasette itself uses the others,
# and this one on its own connections, so it is refused in the visitor's SQL, not in SQLite).
SERVER_PRAGMAS = re.compile(r"pragma_(database_list|temp_store_directory|data_store_directory)")
QUOTES = re.compile(r"[\s\"'`\[\]]")
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
    if refusal := names_refusal(query_string):
        return refusal
    pairs = parameters(query_string)
    if sum(1 for name, _ in pairs if name == "_facet") > MAX_FACETS:
        return Refusal(
            400,
            f"分面统计太多（最多 {MAX_FACETS} 个）。",
            f"more than {MAX_FACETS} facets",
        )
    for name, value in pairs:
        if name not in SQL_PARAMETERS and len(value.encode()) > MAX_VALUE_BYTES:
            return Refusal(
                400,
                f"参数“{name}”的值太长（最多 {MAX_VALUE_BYTES} 字节）。请缩短查询的内容。",
                f"the value of {name} is longer than {MAX_VALUE_BYTES} bytes",
            )
        if name in SQL_PARAMETERS and len(value.encode()) > MAX_SQL_BYTES:
            return Refusal(
                400,
                f"SQL 语句太长（最多 {MAX_SQL_BYTES} 字节）。",
                f"the SQL is longer than {MAX_SQL_BYTES} bytes",
            )
        if name in SQL_PARAMETERS and SERVER_PRAGMAS.search(QUOTES.sub("", value).lower()):
            return Refusal(
                400,
                "本站不提供服务器文件位置等信息（pragma_database_list 之类）。",
                "pragma_database_list and its kin are not available",
            )
        if name in SQL_PARAMETERS and len(PRODUCT_COST.findall(value)) > MAX_PRODUCT_CALLS:
            return Refusal(
                400,
                f"一条查询里 LIKE、GLOB、instr()、replace() 合计最多用 {MAX_PRODUCT_CALLS} 次。",
                f"at most {MAX_PRODUCT_CALLS} uses of LIKE, GLOB, instr() and replace() in one query",
            )
    return None


def names_refusal(query_string):
    """A Refusal for a query string whose parameter names could be read two ways: a name that
    is not plain letters, digits and underscores (%73ql= is sql once decoded), a control
    parameter in another case (SQL=), one that must appear once appearing twice."""
    names = [part.split(b"=", 1)[0] for part in query_string.split(b"&") if part]
    seen = set()
    for raw in names:
        name = raw.decode("latin-1")
        if not NAME.fullmatch(name):
            return params_refusal(name)
        if name.lower() in CONTROL and name != name.lower():
            return params_refusal(name)
        if name in REFUSED:
            return params_refusal(name)
        if name in SINGLE and name in seen:
            return params_refusal(name)
        seen.add(name)
    return None


def params_refusal(name):
    shown = name[:40]
    return Refusal(
        400,
        f"网址中的参数“{shown}”不对：参数名只能用英文字母、数字和下划线，不能编码；sql、_size、_sort 等"
        "控制参数要用小写，并且只出现一次。",
        f"parameter {shown!r}: names are plain letters, digits and underscores, not encoded; "
        "control parameters are lower case and appear once",
    )


def runs_custom_sql(query_string):
    """Whether the request runs SQL written by the visitor (?sql= or ?_where=)."""
    if b"sql=" not in query_string and b"_where=" not in query_string:
        return False
    return any(name in SQL_PARAMETERS for name, _ in parameters(query_string))
