"""Downloads that either complete or say they did not, in the forms people open.

What the portal makes itself (Datasette's own plain CSV of a table, which streams every
row with API names, stays Datasette's):

- **XLSX** of a table (with the page's filters) or of a query: typed cells, Chinese
  headers, a 说明 sheet (portal/spreadsheets.py);
- the **Excel CSV** (`?_bom=1`) of a table or a query: Chinese headers, codes kept text;
- the plain CSV of SQL written by a visitor or of a canned query. Datasette 0.65 answers
  a CSV of a query that fails with 200 and an empty body, and one that hits the row limit
  with the rows it got and no word about the rest.

A query that cannot run is a 400 in Chinese before any byte of the file; a result
longer than the limit ends with a line that says so (in the file, where its reader sees
it). A table's rows are read in pages by rowid, with the same filters the table page
applies (Datasette's own Filters and filters_from_request hooks), so memory stays small
for any length.
"""

import csv
import io
import sqlite3
from dataclasses import dataclass
from urllib.parse import parse_qsl

from datasette.database import QueryInterrupted
from datasette.filters import Filters
from datasette.plugins import pm
from datasette.utils import (
    InvalidSql,
    await_me_maybe,
    derive_named_parameters,
    escape_sqlite,
    validate_sql_select,
)
from datasette.utils.asgi import Forbidden, Request

from . import errors, words
from .csv_safety import defuse_field
from .spreadsheets import EXCEL_MAX_ROWS, Column, excel_csv_field

WORDING = words.EXPORTS
INCOMPLETE = "# " + WORDING["incomplete"]
BOM = b"\xef\xbb\xbf"
PAGE_ROWS = 1000
XLSX_MAX_ROWS = 200_000  # beyond this, filters or the data package serve better


class Refused(Exception):
    """A query that cannot be exported: (status, Chinese message, original)."""

    def __init__(self, status, zh, original):
        super().__init__(original)
        self.status, self.zh, self.original = status, zh, original


@dataclass
class Export:
    """What a download holds: its columns, the SQL that gives its rows, and what it is."""

    name: str
    title: str
    description: str
    columns: list
    select: str  # "select [a], [b]"
    source: str  # "from [table]"
    where: list
    params: dict
    conditions: str = ""
    table: str = None  # a table (paged by rowid) or a view; None for a query
    has_rowid: bool = False
    time_limit_ms: int = None
    truncated: bool = False


def arguments(query_string):
    return dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))


async def query_for(datasette, database, name, args):
    """(sql, params, canned metadata) of a canned query `name`, or of the visitor's `sql`;
    None if `name` is not a canned query."""
    if name is None:
        sql = args.get("sql", "")
        try:
            validate_sql_select(sql)
        except InvalidSql as error:
            raise Refused(
                400, errors.client_message(str(error)) or WORDING["only_select"], str(error)
            ) from error
        params = {k: v for k, v in args.items() if k != "sql" and not k.startswith("_")}
        return sql, params, {}
    canned = await datasette.get_canned_query(database, name, None)
    if canned is None:
        return None
    params = {k: v for k, v in args.items() if not k.startswith("_")}
    named = canned.get("params") or await derive_named_parameters(
        datasette.get_database(database), canned["sql"]
    )
    for parameter in named:
        params.setdefault(parameter, "")
    return canned["sql"], params, canned


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


def csv_bytes(columns, rows, truncated, limit, bom, fields=None):
    """The CSV: a header, the rows (text a spreadsheet would run made harmless), and the
    INCOMPLETE line when there was more. `fields` (Columns) makes it the Excel CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f.title for f in fields] if fields else columns)
    for row in rows:
        values = [row[c] for c in range(len(columns))]
        if fields:
            writer.writerow([excel_csv_field(v, f) for v, f in zip(values, fields, strict=True)])
        else:
            writer.writerow([defuse_field(v, False) if isinstance(v, str) else v for v in values])
    if truncated:
        out.write(INCOMPLETE.format(limit=limit) + "\r\n")
    data = out.getvalue().encode("utf-8")
    return (BOM + data) if bom else data


def query_columns(names, rows):
    """Columns of a query's result: its own names (the canned queries' are Chinese), typed
    by what SQLite gave back (text stays text: a code is never a number)."""
    kinds = []
    for index, _ in enumerate(names):
        seen = {type(row[index]) for row in rows[:200] if row[index] is not None}
        kinds.append("integer" if seen == {int} else "number" if seen <= {int, float} else "any")
    return [Column(n, n, k) for n, k in zip(names, kinds, strict=True)]


def query_export(name, canned, names, rows, truncated):
    """The Export of a query's result already read (a canned query's title and description
    from the metadata)."""
    return Export(
        name=name,
        title=canned.get("title") or (name if canned else WORDING["custom_sql"]),
        description=canned.get("description") or "",
        columns=query_columns(names, rows),
        select="",
        source="",
        where=[],
        params={},
        truncated=truncated,
    )


def table_columns(labels, table, names):
    out = []
    for name in names:
        entry = labels.columns.get((table, name)) or {}
        values = entry.get("categories")
        if name == "series_code":
            values = labels.series
        out.append(
            Column(
                name,
                entry.get("title") or name,
                entry.get("type") or "any",
                entry.get("description") or "",
                values or None,
            )
        )
    return out


async def table_export(datasette, database, table, query_string, labels, lookups):
    """The Export of a table or view with the filters of its page's URL; None if there is
    no such table (Datasette's 404 follows)."""
    db = datasette.get_database(database)
    is_view = table in await db.view_names()
    if not is_view and not await db.table_exists(table):
        return None
    request = Request.fake(f"/{database}/{table}?{query_string}")
    filter_args = [
        (key, value)
        for key in request.args
        if not (key.startswith("_") and "__" not in key)
        for value in request.args.getlist(key)
    ]
    units = (datasette.table_metadata(database, table) or {}).get("units", {})
    filters = Filters(sorted(filter_args), units)
    where, params = filters.build_where_clauses(table)
    for hook in pm.hook.filters_from_request(
        request=request, table=table, database=database, datasette=datasette
    ):
        found = await await_me_maybe(hook)
        if found:
            where.extend(found.where_clauses)
            params.update(found.params)
    custom = "_where" in request.args
    names = await db.table_columns(table)
    chosen = request.args.getlist("_col")
    dropped = set(request.args.getlist("_nocol"))
    if chosen:
        names = [n for n in names if n in chosen or n in await db.primary_keys(table)]
    names = [n for n in names if n not in dropped]
    columns = table_columns(labels, table, names)
    conditions = [
        f"{labels.title(table, column)} {lookups.get(lookup, lookup)} “"
        f"{labels.value_label(table, column, str(value)) or value}”"
        for column, lookup, value in filters.selections()
    ]
    if request.args.get("_search"):
        conditions.append(f"“{request.args['_search']}”")
    metadata = datasette.table_metadata(database, table) or {}
    return Export(
        name=table,
        title=metadata.get("title") or table,
        description=(metadata.get("description") or "").split("（数据包")[0].split("(数据包")[0],
        columns=columns,
        select="select " + ", ".join(escape_sqlite(n) for n in names),
        source="from " + escape_sqlite(table),
        where=[f"({w})" for w in where],
        params=params,
        conditions="；".join(conditions),
        table=table,
        has_rowid=not is_view,
        time_limit_ms=600 if custom else None,
    )


def clauses(where):
    return (" where " + " and ".join(where)) if where else ""


async def count(datasette, database, export):
    db = datasette.get_database(database)
    try:
        found = await db.execute(
            f"select count(*) {export.source}{clauses(export.where)}",
            export.params,
            custom_time_limit=export.time_limit_ms,
            log_sql_errors=False,
        )
    except (QueryInterrupted, sqlite3.DatabaseError, Forbidden) as error:
        status, message, original = errors.describe(error)
        raise Refused(status if status < 500 else 400, message, original) from error
    return found.rows[0][0]


async def pages(datasette, database, export, most):
    """The rows of a table Export, PAGE_ROWS at a time (by rowid: each page is an index
    seek, however far in), at most `most` rows."""
    db = datasette.get_database(database)
    sent, after = 0, None
    while sent < most:
        size = min(PAGE_ROWS, most - sent)
        if export.has_rowid:
            where = export.where + (["rowid > :__after"] if after is not None else [])
            sql = (
                f"{export.select}, rowid {export.source}{clauses(where)} "
                f"order by rowid limit {size}"
            )
            params = {**export.params, **({"__after": after} if after is not None else {})}
        else:
            sql = (
                f"{export.select} {export.source}{clauses(export.where)} limit {size} offset {sent}"
            )
            params = export.params
        try:
            results = await db.execute(
                sql, params, custom_time_limit=export.time_limit_ms, log_sql_errors=False
            )
        except (QueryInterrupted, sqlite3.DatabaseError, Forbidden) as error:
            status, message, original = errors.describe(error)
            raise Refused(status if status < 500 else 400, message, original) from error
        rows = results.rows
        if not rows:
            return
        width = len(export.columns)
        if export.has_rowid:
            after = rows[-1][width]
        yield [tuple(row)[:width] for row in rows]
        sent += len(rows)
        if len(rows) < size:
            return


def excel_csv_header(export):
    out = io.StringIO()
    csv.writer(out).writerow([c.title for c in export.columns])
    return BOM + out.getvalue().encode("utf-8")


def excel_csv_rows(export, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([excel_csv_field(v, c) for v, c in zip(row, export.columns, strict=True)])
    return out.getvalue().encode("utf-8")


def incomplete_line(limit):
    return (INCOMPLETE.format(limit=f"{limit:,}") + "\r\n").encode("utf-8")


def most_rows_of_csv():
    return EXCEL_MAX_ROWS - 2  # the header and the line that says the file stops
