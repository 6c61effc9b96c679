"""Chinese for what a database holds: column titles, value labels, names behind codes.

Everything comes from the database itself (its `_columns` table, written from the
Table Schemas, and its reference and division tables), so a pinned release's
pages are labelled by that release's own dictionary. Loaded once per database
when the server starts: it never changes while served.
"""

import json
import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from .words import INTERFACE


@dataclass
class Labels:
    release: dict = field(default_factory=dict)  # the database's own release row
    releases: list = field(default_factory=list)  # every release, oldest first
    columns: dict = field(
        default_factory=dict
    )  # (table, column) -> {title, description, categories}
    counties: dict = field(default_factory=dict)  # code -> name
    townships: dict = field(default_factory=dict)  # code -> (name, county code)
    villages: dict = field(default_factory=dict)  # code -> (name, township code, county code)
    units: dict = field(default_factory=dict)  # code -> short name
    unit_codes: dict = field(default_factory=dict)  # short name -> code
    tasks: dict = field(default_factory=dict)  # number -> short title
    facility_types: dict = field(default_factory=dict)  # code -> name
    series: dict = field(default_factory=dict)  # code -> name

    def title(self, table, column):
        entry = self.columns.get((table, column))
        return entry["title"] if entry and entry["title"] else column

    def description(self, table, column):
        entry = self.columns.get((table, column))
        return entry["description"] if entry else None

    def value_label(self, table, column, value):
        entry = self.columns.get((table, column))
        if entry and entry["categories"] and value in entry["categories"]:
            return entry["categories"][value]
        return None

    def area_name(self, level, code):
        if level == "county":
            return self.counties.get(code)
        if level == "township":
            return self.townships.get(code, (None,))[0]
        if level == "prefecture":
            return "楚雄彝族自治州"
        return None


def load(conn):
    """Labels for one database, read through a sqlite3 connection (Database.execute_fn)."""
    labels = Labels()

    def rows(sql):
        try:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
        except Exception:  # a table this database does not have
            return []

    for table, column, title, description, categories, kind in rows(
        "select table_name, column_name, title, description, categories, type from _columns"
    ):
        labels.columns[(table, column)] = {
            "title": title,
            "type": kind,
            "description": description,
            "categories": json.loads(categories) if categories else None,
        }
    label_views(labels, rows)
    labels.counties = dict(rows("select county_code, name from counties"))
    labels.townships = {
        code: (name, county)
        for code, name, county in rows("select township_code, name, county_code from townships")
    }
    labels.villages = {
        code: (name, township, county)
        for code, name, township, county in rows(
            "select village_code, name, township_code, county_code from villages"
        )
    }
    labels.units = dict(rows("select unit_code, name from units"))
    labels.unit_codes = {name: code for code, name in labels.units.items()}
    labels.tasks = dict(rows("select task_no, title from tasks"))
    labels.facility_types = dict(rows("select type_code, name from facility_types"))
    labels.series = dict(rows("select series_code, name from publication_levels"))
    names = [
        "release_id",
        "released_on",
        "previous_release",
        "as_of",
        "reporting_year",
        "sample",
        "notes",
    ]
    labels.releases = [
        dict(zip(names, r, strict=True))
        for r in rows(
            "select release_id, released_on, previous_release, as_of, reporting_year, sample, "
            "notes from releases order by rowid"
        )
    ]
    labels.release = labels.releases[-1] if labels.releases else {}
    return labels


def label_views(labels, rows):
    """A view's columns take the titles of the same columns of the tables (or views) it reads,
    in the order its SQL names them: the schemas describe tables, and a view should not show
    a visitor its columns' API names."""
    views = rows("select name, sql from sqlite_master where type = 'view' order by rowid")
    for _ in range(2):  # a view that reads a view
        for view, sql in views:
            sources = re.findall(r"\b(?:from|join)\s+[\[\"`]?(\w+)", sql or "", re.IGNORECASE)
            for (column,) in rows(f"select name from pragma_table_info('{view}')"):
                if (view, column) in labels.columns:
                    continue
                for source in sources:
                    if (source, column) in labels.columns:
                        labels.columns[(view, column)] = labels.columns[(source, column)]
                        break
    for view, titles in INTERFACE["view_columns"].items():
        for column, title in titles.items():
            labels.columns.setdefault(
                (view, column),
                {"title": title, "type": "any", "description": None, "categories": None},
            )


def link(href, text, title=None):
    extra = f' title="{escape(title)}"' if title else ""
    return Markup(f'<a href="{escape(href)}"{extra}>{escape(text)}</a>')


def labelled(text, code):
    return Markup(f'<span title="{escape(code)}">{escape(text)}</span>')
