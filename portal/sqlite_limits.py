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

Time. A statement's time limit (Datasette's sql_time_limit_ms, or the visitor's SQL's
shorter one) is enforced twice: by Datasette's progress handler, which SQLite calls only
every 1,000 steps, and by a watchdog thread that calls `interrupt()` on the connection
at the deadline, which SQLite notices at the next row or jump. Neither can cut a single
step, so no single step may be long:
- values are capped at MAX_VALUE_BYTES (100 KB, twenty times the largest value in the
  database): LIKE, GLOB, instr() and replace() cost up to the product of their two
  strings' lengths, 0.05 s at this cap against 5 s at 1 MB (measured);
- LIKE and GLOB patterns are capped at 200 bytes;
- the two-argument trim(), ltrim() and rtrim() are replaced by versions that take at
  most MAX_TRIM_CHARACTERS characters to remove (SQLite's compare every character with
  every one of the set: 0.9 s for one call at 100 KB);
- printf() and its alias format() are refused by an authorizer: in the SQLite that Python
  ships here (3.40), printf('%.*c', 1e9, 'x') loops a billion times inside one step after
  its string has hit the length limit (4 s measured). The portal's own queries use none of
  them; round() and || do their usual jobs;
- portal/limits.py allows at most a few calls of the functions whose cost is such a
  product in one statement of the visitor's, so one row cannot chain hundreds of them.
"""

import itertools
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager

MAX_VALUE_BYTES = 100_000
MAX_TRIM_CHARACTERS = 100
MAX_RESULT_BYTES = 20_000_000
HARD_HEAP_BYTES = 512 * 1024 * 1024
SOFT_HEAP_BYTES = 64 * 1024 * 1024
LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: MAX_VALUE_BYTES,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_COLUMN: 200,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 200,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,
    # Datasette looks up the labels of a page's foreign keys with one "in (?, ?, ...)" of up
    # to a page's rows (2,000 for an export): fewer variables broke every full download.
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 2_500,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 32,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 200,
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


class TrimSetTooLong(ValueError):
    pass


def bounded_trim(strip):
    """trim(X, Y) and its kin, refusing a set Y of more than MAX_TRIM_CHARACTERS."""

    def trim(value, characters):
        if value is None or characters is None:
            return None
        characters = (
            characters.decode("utf-8", "replace")
            if isinstance(characters, bytes)
            else str(characters)
        )
        if len(characters) > MAX_TRIM_CHARACTERS:
            raise TrimSetTooLong(characters[:20])
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        return strip(text, characters)

    return trim


TRIMS = {"trim": str.strip, "ltrim": str.lstrip, "rtrim": str.rstrip}


def apply(conn):
    for category, value in LIMITS.items():
        conn.setlimit(category, value)
    conn.set_authorizer(authorize)
    for name, strip in TRIMS.items():
        conn.create_function(name, 2, bounded_trim(strip), deterministic=True)
    conn.execute(f"PRAGMA hard_heap_limit = {HARD_HEAP_BYTES}")
    conn.execute(f"PRAGMA soft_heap_limit = {SOFT_HEAP_BYTES}")
    conn.row_factory = ResultBudget()


class Watchdog:
    """One thread that interrupts each connection whose statement is past its deadline.

    A connection is watched only inside `time_limit`, so an interrupt can never reach a
    statement that started after the one it was meant for.
    """

    def __init__(self):
        self.condition = threading.Condition()
        self.watched = {}  # token -> (deadline, connection)
        self.tokens = itertools.count()
        self.thread = None

    def watch(self, conn, seconds):
        with self.condition:
            if self.thread is None:  # started on first use: never before a fork
                self.thread = threading.Thread(target=self.run, name="sql-deadline", daemon=True)
                self.thread.start()
            token = next(self.tokens)
            self.watched[token] = (time.monotonic() + seconds, conn)
            self.condition.notify()
            return token

    def release(self, token):
        with self.condition:
            self.watched.pop(token, None)

    def run(self):
        with self.condition:
            while True:
                now = time.monotonic()
                for token, (deadline, conn) in list(self.watched.items()):
                    if deadline <= now:
                        del self.watched[token]
                        conn.interrupt()
                deadlines = [deadline for deadline, _ in self.watched.values()]
                self.condition.wait(min(deadlines) - now if deadlines else None)


WATCHDOG = Watchdog()


def with_watchdog(progress_limit):
    """Datasette's time limit (a progress handler) with the watchdog added."""

    @contextmanager
    def time_limit(conn, ms):
        token = WATCHDOG.watch(conn, ms / 1000)
        try:
            with progress_limit(conn, ms):
                yield
        finally:
            WATCHDOG.release(token)

    return time_limit


def quiet_refusals(hook):
    """sys.unraisablehook without a traceback for a refused trim(): Datasette turns on
    SQLite callback tracebacks, which would print one per request (a log flood)."""

    def unraisable(info):
        if not isinstance(info.exc_value, TrimSetTooLong):
            hook(info)

    unraisable.portal_quiet = True
    return unraisable


def install():
    """Put the watchdog into Datasette's query path (datasette.database looks its time
    limit up by name on every query), and keep refusals out of the log. Idempotent."""
    import sys

    import datasette.database

    if not getattr(sys.unraisablehook, "portal_quiet", False):
        sys.unraisablehook = quiet_refusals(sys.unraisablehook)

    current = datasette.database.sqlite_timelimit
    if not getattr(current, "portal_watchdog", False):
        patched = with_watchdog(current)
        patched.portal_watchdog = True
        datasette.database.sqlite_timelimit = patched
