"""SQLite's own limits on every connection, and a cap on the bytes one statement may return.

Anyone may run SQL here, so one statement must not be able to take the
machine: `select randomblob(1e9)` would build a 1 GB value, and a result of
2,000 rows of 1 MB each would be 2 GB in Python before Datasette renders it.

- SQLITE_LIMIT_LENGTH bounds every string and blob a statement makes (randomblob,
  zeroblob, printf padding, replace() doubling, group_concat) to MAX_VALUE_BYTES:
  SQLite refuses at once ("string or blob too big"), before allocating.
- The other limits bound the statement itself (its length, columns, nesting,
  compound selects, variables, LIKE patterns) far above what a query of this
  database needs.
- hard_heap_limit caps SQLite's own memory in the process; soft_heap_limit makes
  it give back cache first.
- The row factory counts the bytes of each statement's rows as Python receives
  them and stops at MAX_RESULT_BYTES with a clear error: the cap holds however
  many rows and columns the statement returns.

Time is bounded by Datasette's sql_time_limit_ms (a progress handler); with values
capped at 1 MB, no single SQLite step can run for long between its checks, with one
exception: in the SQLite that Python ships here (3.40), printf('%.*c', 1e9, 'x') loops a
billion times inside one step after its string has already hit the length limit, which
no progress handler can cut (4 s measured, 9 s at the largest precision). printf and
its alias format are therefore refused by an authorizer on every connection; the
portal's own queries do not use them, and round() and || do their usual jobs.
"""

import sqlite3
import weakref

MAX_VALUE_BYTES = 1_000_000
MAX_RESULT_BYTES = 20_000_000
HARD_HEAP_BYTES = 512 * 1024 * 1024
SOFT_HEAP_BYTES = 64 * 1024 * 1024
LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: MAX_VALUE_BYTES,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_COLUMN: 200,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 200,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 100,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 32,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 500,
    sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 10,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
}
TOO_LARGE = (
    f"查询结果超过 {MAX_RESULT_BYTES // 1_000_000} MB 的上限，请缩小范围（加 where 条件、少选几列或 limit）。"
    f" / The result is larger than {MAX_RESULT_BYTES // 1_000_000} MB: narrow the query."
)


class ResultTooLarge(sqlite3.OperationalError):
    """Raised from inside fetching, so Datasette reports it as a query error."""


class ResultBudget:
    """A row factory that keeps sqlite3.Row rows and counts the bytes of each statement.

    A connection serves one statement at a time; a new cursor means a new
    statement, so the count starts again.
    """

    def __init__(self, limit=MAX_RESULT_BYTES):
        self.limit = limit
        self.cursor = None
        self.bytes = 0

    def __call__(self, cursor, row):
        if self.cursor is None or self.cursor() is not cursor:
            self.cursor = weakref.ref(cursor)
            self.bytes = 0
        self.bytes += sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row)
        if self.bytes > self.limit:
            raise ResultTooLarge(TOO_LARGE)
        return sqlite3.Row(cursor, row)


REFUSED_FUNCTIONS = {"printf", "format"}


def authorize(action, arg1, arg2, db_name, trigger):
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def apply(conn):
    for category, value in LIMITS.items():
        conn.setlimit(category, value)
    conn.set_authorizer(authorize)
    conn.execute(f"PRAGMA hard_heap_limit = {HARD_HEAP_BYTES}")
    conn.execute(f"PRAGMA soft_heap_limit = {SOFT_HEAP_BYTES}")
    conn.row_factory = ResultBudget()
