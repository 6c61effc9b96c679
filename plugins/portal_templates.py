"""What every template gets, and how each cell is shown.

- `portal`: the release shown (id, date, "as of", sample or not), the Chinese
  title and description of each column, value labels, the contact for reporting
  a problem, fingerprinted static URLs, `csp_allow` for inline scripts.
- render_cell: codes shown by their Chinese labels and linked to the page of what
  they name (portal/links.py); free text is left exactly as it is.

Labels come from each database itself and are loaded once when the server starts.
"""

import hashlib
import re
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

import yaml
from datasette import hookimpl
from markupsafe import Markup, escape

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from portal import csp, errors, labels, links, spreadsheets, words  # noqa: E402
from portal.config import config  # noqa: E402
from portal.http import CUSTOM_SQL_TIME_MS  # noqa: E402

# The one wording of the disclosure rule (schemas/disclosure_rule.yaml, which also sets the
# threshold the pipeline applies).
DISCLOSURE_RULE = yaml.safe_load((ROOT / "schemas" / "disclosure_rule.yaml").read_text("utf-8"))

STATIC = ROOT / "static"
# Arguments that say how a page is looked at, not which numbers it shows: left out of the
# address a citation gives.
NAVIGATION_ARGS = ("_next", "_nofacet", "_timelimit", "_bom", "_dl", "_stream", "_size")
_static_hashes = {}


def static_url(name):
    """/static/<name>?v=<content hash>: a new URL whenever the file changes, so it can be
    cached for a year."""
    if name not in _static_hashes:
        _static_hashes[name] = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={_static_hashes[name]}"


def labels_of(datasette, database):
    return getattr(datasette, "portal_labels", {}).get(database or links.CURRENT) or labels.Labels()


@hookimpl
def startup(datasette):
    async def load():
        datasette.portal_labels = {}
        for name, db in datasette.databases.items():
            if name.startswith("_"):
                continue
            datasette.portal_labels[name] = await db.execute_fn(labels.load)

    return load


class Portal:
    """The `portal` object templates use."""

    def __init__(self, datasette, database, table, request):
        self.database = database or links.CURRENT
        self.labels = labels_of(datasette, self.database)
        self.release = self.labels.release
        self.current = labels_of(datasette, links.CURRENT).release
        # A release's own route (/v2026-12-04-1/...), the current one's included: the page
        # of a URL that keeps its numbers.
        self.pinned = self.database != links.CURRENT
        self.is_current = self.release.get("release_id") == self.current.get("release_id")
        self.urls = links.Urls(self.database, self.release.get("release_id"))
        self.table = table
        self.request = request
        self.config = config()
        self.tables = (datasette.metadata(database=self.database) or {}).get("tables", {}) or (
            datasette.metadata(database=links.CURRENT) or {}
        ).get("tables", {})

    suppression_rule = DISCLOSURE_RULE["rule_zh"]

    @property
    def sample(self):
        return str(self.release.get("sample")).lower() in ("1", "true")

    def title(self, column, table=None):
        if column == "Link":
            return "详情"
        if column == "rowid":
            return "行号"
        return self.labels.title(table or self.table, column)

    def description(self, column, table=None):
        return self.labels.description(table or self.table, column)

    def column_labels(self, columns, table=None):
        """Chinese titles and code labels of a table's columns, for a page's own scripts
        (the map's pop-ups on table pages): {"titles": {...}, "values": {column: {...}}}."""
        table = table or self.table
        entries = {c: self.labels.columns.get((table, c)) or {} for c in columns}
        return {
            "titles": {c: self.title(c, table) for c in columns},
            "values": {c: e["categories"] for c, e in entries.items() if e.get("categories")},
        }

    def value_label(self, column, value, table=None):
        return self.labels.value_label(table or self.table, column, str(value)) or value

    def table_title(self, name):
        return self.tables.get(name, {}).get("title") or name

    def table_description(self, name):
        text = self.tables.get(name, {}).get("description") or ""
        return text.split("（数据包")[0]

    def record_title(self, table, keys):
        key = keys[0] if len(keys) == 1 else None
        found = {
            "units": self.labels.units,
            "counties": self.labels.counties,
            "tasks": {str(k): v for k, v in self.labels.tasks.items()},
            "facility_types": self.labels.facility_types,
            "publication_levels": self.labels.series,
        }.get(table, {})
        if table == "townships":
            return self.labels.townships.get(key, (None,))[0]
        return found.get(key)

    def error_zh(self, message):
        """A query's error in Chinese; failing that, its own words as plain text (Datasette
        writes a link into some of them)."""
        text = errors.TAG.sub("", str(message))
        return errors.client_message(text) or text

    def fixed_path(self):
        """This page's address in its release's own route (/v2026-12-04-1/... for a table,
        row or query; ?release= for a county page): the address to cite, since it keeps
        showing these numbers after the next release. None for pages that are not data."""
        if self.request is None:
            return None
        release = self.release.get("release_id")
        if not release:
            return None
        path, args = self.request.path, self.request.args
        kept = [(k, v) for k in args for v in args.getlist(k) if k not in NAVIGATION_ARGS]
        if path == "/chuxiong" or path.startswith("/chuxiong/"):
            path = "/v" + release.replace(".", "-") + path[len("/chuxiong") :]
        elif path.startswith(("/county/", "/village/")):
            kept = [(k, v) for k, v in kept if k != "release"] + [("release", release)]
        elif not path.startswith("/v2"):
            return None
        return path + ("?" + urlencode(kept) if kept else "")

    def cite_url(self):
        """The fixed address, absolute when the deployment says where it lives (otherwise the
        page's script puts the visitor's own origin in front)."""
        path = self.fixed_path()
        return (self.config.base_url + path) if path and self.config.base_url else path

    def export_url(self, url_csv, form):
        """The same download in another form: /t.csv?x=1 -> /t.xlsx?x=1 (with ?_dl=1)."""
        path, _, query = url_csv.partition("?")
        query = "&".join(p for p in query.split("&") if p and not p.startswith("_size="))
        return path[: -len(".csv")] + "." + form + "?" + (query + "&" if query else "") + "_dl=1"

    def citation(self, title):
        """「引用本页」's reference, the date cited and the address marked for static/cite.js."""
        released_on = escape(self.release.get("released_on") or "")
        return Markup(
            spreadsheets.citation(
                title,
                self.release,
                Markup("<span data-cite-url>") + escape(self.cite_url()) + Markup("</span>"),
                Markup("<span data-cite-today>") + released_on + Markup("</span>"),
                escape,
            )
        )

    @property
    def custom_sql_seconds(self):
        return CUSTOM_SQL_TIME_MS / 1000

    def static(self, name):
        return static_url(name)

    def csp_allow(self, script):
        return csp.allow(script)

    def report_href(self, what=""):
        """A mailto: link prefilled with the page, the release and what is wrong; nothing is
        sent to or stored on this server."""
        page = self.request.url if self.request is not None else ""
        subject = f"数据问题：{what or page}"
        body = (
            f"页面：{page}\n数据版本：{self.release.get('release_id', '')}\n"
            f"有问题的行或数字：{what}\n\n问题是：\n\n（请不要写任何儿童的姓名等个人信息）\n"
        )
        return f"mailto:{self.config.contact_email}?subject={quote(subject)}&body={quote(body)}"


LOOKUP_NAMES = words.INTERFACE["lookups"]
PARAMETER_NAMES = words.INTERFACE["parameters"]
STATUS_NAMES = words.INTERFACE["statuses"]


async def unit_tasks(datasette, database, code):
    """For a unit's page: its tasks (its own roles and those it took over), and what it reported."""
    db = datasette.get_database(database)
    rows = lambda sql, params: db.execute(sql, params)  # noqa: E731
    period = (await rows("select max(period) from task_progress", {})).rows[0][0]
    own = [
        dict(r)
        for r in (
            await rows(
                "select tu.task_no, t.title, t.due_date, tu.role, tu.unit_code, null as via "
                "from task_units tu join tasks t on t.task_no = tu.task_no where tu.unit_code = :u "
                "union all "
                "select tu.task_no, t.title, t.due_date, tu.role, tu.unit_code, "
                "'承接' || u.name || '的任务' as via from unit_changes c "
                "join task_units tu on tu.unit_code = c.unit_code and c.kind = 'renamed' "
                "join tasks t on t.task_no = tu.task_no join units u on u.unit_code = c.unit_code "
                "where c.successor_code = :u order by 1",
                {"u": code},
            )
        ).rows
    ]
    reports = {
        r["task_no"]: dict(r)
        for r in (
            await rows(
                "select task_no, status, unit_code from task_progress where period = :p and unit_code = :u",
                {"p": period, "u": code},
            )
        ).rows
    }
    for task in own:
        report = reports.get(task["task_no"])
        task["status"] = report["status"] if report else None
        task["status_name"] = STATUS_NAMES.get(task["status"], "")
        task["reporting_unit"] = code
    changes = [
        dict(r)
        for r in (
            await rows(
                "select * from unit_changes where unit_code = :u or successor_code = :u order by year",
                {"u": code},
            )
        ).rows
    ]
    return {"period": period, "tasks": own, "changes": changes}


@hookimpl
def extra_template_vars(datasette, database, table, request, view_name):
    async def inner():
        extra = {
            "portal": Portal(datasette, database, table, request),
            "lookup_names": LOOKUP_NAMES,
            "parameter_names": PARAMETER_NAMES,
        }
        if view_name == "row" and table == "units" and request is not None:
            code = request.url_vars.get("pks")
            if code:
                extra["unit_tasks"] = await unit_tasks(datasette, database, code)
        return extra

    return inner


def highlight(text, query):
    """The text, escaped, with the words searched for marked (<mark>): the whole query where
    it occurs, else each two-character piece of it."""
    text, query = str(text or ""), str(query or "").strip()
    pieces = (
        [query] if query and query in text else [query[i : i + 2] for i in range(len(query) - 1)]
    )
    pieces = [p for p in dict.fromkeys(pieces) if p]
    if not pieces:
        return escape(text)
    pattern = re.compile("|".join(re.escape(p) for p in sorted(pieces, key=len, reverse=True)))
    out, last = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(Markup("<mark>") + escape(match.group(0)) + Markup("</mark>"))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


HREF = re.compile(r'href="([^"]+)"')
DIALABLE = re.compile(r"[0-9][0-9\-]{2,19}")


def phone(number):
    """A telephone number a phone can dial, as a tel: link; anything else (a sample number
    made undialable, a note) as plain text."""
    text = str(number or "").strip()
    if DIALABLE.fullmatch(text):
        return Markup('<a href="tel:{}">{}</a>').format(text.replace("-", ""), text)
    return escape(text)


def row_href(markup):
    """The address of a row page as Datasette wrote it in its Link cell (each key
    tilde-encoded: a raw key with a dot or Chinese in it would cost a redirect)."""
    found = HREF.search(str(markup))
    return Markup(found.group(1)) if found else ""


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["highlight"] = highlight
    env.filters["row_href"] = row_href
    env.filters["phone"] = phone


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    found = labels_of(datasette, database)
    return links.render(
        found,
        links.Urls(database or links.CURRENT, found.release.get("release_id")),
        table,
        column,
        value,
        row,
    )
