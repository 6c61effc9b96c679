"""Downloads of query results that either complete or say they did not.

Datasette 0.65 answers a CSV of a query that fails with 200 and an empty body,
and one that hits the row limit with the rows it got and no word about the rest:
a journalist's file would be silently empty or silently short. The portal runs
the query itself for the CSV of SQL written by a visitor or of a canned query:

- a query that cannot run (syntax, a limit, the time limit) is a 400 in Chinese,
  before any byte of CSV, and is never cached;
- a result longer than the limit ends with a line that says the file stops there
  and how to get everything (`INCOMPLETE`), in the CSV itself, where a reader of
  the file sees it.

Table exports stay Datasette's (they stream every row); a stream cut by an error
ends with the same line (csv_safety.CsvDefuser notices the unfinished last line).
"""

import csv
import io
import sqlite3
from urllib.parse import parse_qsl

from datasette.database import QueryInterrupted
from datasette.utils import InvalidSql, validate_sql_select
from datasette.utils.asgi import Forbidden

from . import errors
from .csv_safety import defuse_field

INCOMPLETE = (
    "# 文件不完整：查询结果超过 {limit} 行，这里只有前 {limit} 行。"
    "需要全部数据，请用筛选缩小范围分次下载，或下载整个数据包。"
)
BOM = b"\xef\xbb\xbf"


class Refused(Exception):
    """A query that cannot be exported: (status, Chinese message, original)."""

    def __init__(self, status, zh, original):
        super().__init__(original)
        self.status, self.zh, self.original = status, zh, original


async def query_for(datasette, database, name, args):
    """(sql, params) of a canned query `name`, or of the visitor's `sql`; None if `name` is a
    table (Datasette's own export serves it)."""
    if name is None:
        sql = args.get("sql", "")
        try:
            validate_sql_select(sql)
        except InvalidSql as error:
            raise Refused(
                400, errors.client_message(str(error)) or "只能运行 SELECT 查询。", str(error)
            ) from error
        params = {k: v for k, v in args.items() if k != "sql" and not k.startswith("_")}
        return sql, params
    canned = await datasette.get_canned_query(database, name, None)
    if canned is None:
        return None
    params = {k: v for k, v in args.items() if not k.startswith("_")}
    for parameter in canned.get("params") or []:
        params.setdefault(parameter, "")
    return canned["sql"], params


async def rows_of(datasette, database, sql, params, time_limit_ms):
    """(columns, rows, truncated) of a query, or Refused."""
    db = datasette.get_database(database)
    try:
        results = await db.execute(
            sql, params, truncate=True, custom_time_limit=time_limit_ms, log_sql_errors=False
        )
    except (QueryInterrupted, sqlite3.DatabaseError, Forbidden) as error:
        status, message, original = errors.describe(error)
        raise Refused(status if status < 500 else 400, message, original) from error
    columns = [d[0] for d in results.description or []]
    return columns, results.rows, results.truncated


def csv_bytes(columns, rows, truncated, limit, bom):
    """The CSV: a header, the rows (text a spreadsheet would run made harmless), and the
    INCOMPLETE line when there was more."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                defuse_field(value, False) if isinstance(value, str) else value
                for value in (row[c] for c in range(len(columns)))
            ]
        )
    if truncated:
        out.write(INCOMPLETE.format(limit=limit) + "\r\n")
    data = out.getvalue().encode("utf-8")
    return (BOM + data) if bom else data


def arguments(query_string):
    return dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
