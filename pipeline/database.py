"""Load the published packages into one SQLite database with sqlite-utils.

The database is built from the package CSVs themselves, never from the rows in
memory, so that what Datasette serves is exactly what was published. Column
types come from the Table Schemas; keys, indexes, views and full-text search
are added for the questions users ask.
"""

import csv
import functools
import itertools
import json
import re
from pathlib import Path

import jieba
import sqlite_utils

from . import place_names
from .paths import SOURCES

SQL_TYPES = {
    "integer": int,
    "number": float,
    "boolean": int,
    "string": str,
    "date": str,
    "geojson": str,
}

# Foreign keys that cross package boundaries (Frictionless keeps keys within a package).
CROSS_PACKAGE_KEYS = {
    "facilities": [
        ("county_code", "counties", "county_code"),
        ("township_code", "townships", "township_code"),
        ("village_code", "villages", "village_code"),
        ("facility_type", "facility_types", "type_code"),
    ],
    "villages": [("county_code", "counties", "county_code")],
    "village_coverage": [
        ("village_code", "villages", "village_code"),
        ("township_code", "townships", "township_code"),
        ("county_code", "counties", "county_code"),
    ],
    "coverage_by_area": [("county_code", "counties", "county_code")],
    "children_counts": [("series_code", "publication_levels", "series_code")],
    "task_progress": [("task_no", "tasks", "task_no"), ("unit_code", "units", "unit_code")],
}

INDEXES = {
    "village_coverage": [
        ["county_code", "year"],
        ["township_code", "year"],
        ["year", "supervisors"],
    ],
    "coverage_by_area": [["level", "year"], ["county_code", "year"]],
    "children_counts": [["series_code", "level", "year"], ["area_code"]],
    "task_progress": [["status"], ["unit_code", "period"], ["task_no", "period"]],
    "facilities": [["facility_type"], ["county_code"], ["township_code"]],
    "townships": [["county_code"]],
    "villages": [["township_code"], ["county_code"]],
    "task_units": [["unit_code"]],
}

# Text that people search for, per table: the columns segmented into the index.
SEARCHABLE = {
    "facilities": ["name", "services"],
    "tasks": ["title", "text"],
    "categories": ["name", "definition"],
    "units": ["name", "full_name"],
    "documents": ["title", "issuer"],
    "townships": ["name"],
    "villages": ["name"],
}

VIEWS_FILE = Path(__file__).with_name("views.sql")
USER_DICTIONARY = SOURCES / "reference" / "jieba_userdict.txt"
CJK = re.compile(r"[\u4e00-\u9fff]+")
_jieba_ready = False


@functools.lru_cache(maxsize=100_000)
def search_terms(text):
    """Space-separated terms that FTS5's unicode61 tokenizer indexes one by one.

    Remembered per text: place names repeat (新村, 中心社区), and segmenting them is most of
    the work of building the search index.

    jieba's search-mode segmentation gives the words (儿童之家, 督导员) and every
    two-character run of Chinese gives the short words jieba may have merged
    into a longer one, so that a two-character query such as 孤儿 always matches.
    """
    global _jieba_ready
    if not _jieba_ready:
        jieba.setLogLevel(60)
        jieba.load_userdict(str(USER_DICTIONARY))
        _jieba_ready = True
    if not text:
        return ""
    terms = [t for t in jieba.cut_for_search(text) if t.strip()]
    for run in CJK.findall(text):
        terms.extend(run[i : i + 2] for i in range(len(run) - 1))
    return " ".join(dict.fromkeys(terms))


def converters(schema):
    """One function per column turning the CSV's text into the value the database keeps."""
    out = []
    for field in schema["fields"]:
        kind = field["type"]
        if kind == "integer":
            out.append(int)
        elif kind == "number":
            out.append(float)
        elif kind == "boolean":
            out.append(lambda v: 1 if v == "true" else 0)
        else:
            out.append(str)
    return out


def typed_rows(path, schema):
    """The CSV's rows as tuples in the schema's column order, empty cells as NULL."""
    convert = converters(schema)
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)  # the header: the schema's field names, in order
        for row in reader:
            yield tuple(c(v) if v != "" else None for c, v in zip(convert, row, strict=True))


def load_packages(db, data_dir, package_names, ticker=None):
    """Create every table from its schema and load its CSV (one INSERT a row, in batches
    within one transaction: sqlite-utils' insert_all builds a dict per row, which costs more
    than the database itself at a nation's scale)."""
    tables = {}
    resources = []
    for name in package_names:
        with open(Path(data_dir) / name / "datapackage.json", encoding="utf-8") as f:
            descriptor = json.load(f)
        resources += [(name, r) for r in descriptor["resources"]]
    if ticker:
        ticker.start(sum(r.get("bytes", 0) for _, r in resources), "字节 bytes")
    for name, resource in resources:
        schema = resource["schema"]
        table = db[resource["name"]]
        table.create(
            {f["name"]: SQL_TYPES[f["type"]] for f in schema["fields"]},
            pk=tuple(schema["primaryKey"])
            if len(schema["primaryKey"]) > 1
            else schema["primaryKey"][0],
            not_null={
                f["name"] for f in schema["fields"] if f.get("constraints", {}).get("required")
            },
        )
        columns = ", ".join(f"[{f['name']}]" for f in schema["fields"])
        marks = ", ".join("?" for _ in schema["fields"])
        insert = f"INSERT INTO [{resource['name']}] ({columns}) VALUES ({marks})"
        rows = typed_rows(Path(data_dir) / name / resource["path"], schema)
        while batch := list(itertools.islice(rows, 20_000)):
            db.conn.executemany(insert, batch)
        tables[resource["name"]] = schema
        if ticker:
            ticker.advance(resource.get("bytes", 0))
    return tables


def add_foreign_keys(db, tables):
    keys = []
    for name, schema in tables.items():
        for fk in schema.get("foreignKeys", []):
            other = fk["reference"]["resource"] or name  # "" is the table itself
            for column, other_column in zip(fk["fields"], fk["reference"]["fields"], strict=True):
                keys.append((name, column, other, other_column))
        for column, other, other_column in CROSS_PACKAGE_KEYS.get(name, []):
            if other in tables:
                keys.append((name, column, other, other_column))
    db.add_foreign_keys(keys)


def add_search(db):
    for table, columns in SEARCHABLE.items():
        fts = f"{table}_fts"
        db.execute(f"CREATE VIRTUAL TABLE [{fts}] USING fts5(terms, tokenize='unicode61')")
        rows = db.execute(f"SELECT rowid, {', '.join(columns)} FROM [{table}]").fetchall()
        db[fts].insert_all(
            {"rowid": row[0], "terms": search_terms(" ".join(filter(None, row[1:])))}
            for row in rows
        )


def add_dictionary(db, tables):
    """_columns: every published column's Chinese title, description and value labels, so that
    a database (any release's) carries what the portal needs to show its columns in Chinese."""
    db["_columns"].insert_all(
        (
            {
                "table_name": table,
                "column_name": field["name"],
                "position": position,
                "title": field.get("title"),
                "description": (field.get("description") or "").split(" / ")[0] or None,
                "type": field["type"],
                "categories": json.dumps(
                    {c["value"]: c["label"] for c in field["categories"]}, ensure_ascii=False
                )
                if field.get("categories")
                else None,
            }
            for table, schema in tables.items()
            for position, field in enumerate(schema["fields"])
        ),
        pk=("table_name", "column_name"),
    )


def add_packages(db, data_dir, package_names):
    """_packages: each package's descriptor (title, description, licence, "as of", resources
    with their bytes and hashes), so that the catalogue is generated from the database served."""
    rows = []
    for position, name in enumerate(package_names):
        descriptor = json.loads((Path(data_dir) / name / "datapackage.json").read_text("utf-8"))
        rows.append(
            {
                "name": name,
                "position": position,
                "title": descriptor["title"],
                "description": descriptor["description"],
                "as_of": descriptor.get("as_of"),
                "sample": 1 if descriptor.get("sample") else 0,
                "descriptor": json.dumps(
                    {k: v for k, v in descriptor.items() if k != "resources"}
                    | {
                        "resources": [
                            {k: r[k] for k in ("name", "path", "bytes", "hash")}
                            | {"title": r["schema"].get("description", "").split(" / ")[0]}
                            for r in descriptor["resources"]
                        ]
                    },
                    ensure_ascii=False,
                ),
            }
        )
    db["_packages"].insert_all(rows, pk="name")


def build(data_dir, package_names, path, ticker=None):
    """Create the database at `path` (which must not exist yet).

    The file is new and nothing else reads it until the build swaps it in, so it is written
    without a journal or syncing (a crash leaves a staging file that is thrown away)."""
    db = sqlite_utils.Database(path)
    db.conn.execute("PRAGMA journal_mode = OFF")
    db.conn.execute("PRAGMA synchronous = OFF")
    db.conn.execute("PRAGMA cache_size = -200000")  # 200 MB for building indexes
    with db.conn:
        tables = load_packages(db, data_dir, package_names, ticker)
        add_dictionary(db, tables)
        add_packages(db, data_dir, package_names)
        add_foreign_keys(db, tables)
        for table, indexes in INDEXES.items():
            for columns in indexes:
                db[table].create_index(columns)
        add_search(db)
        place_names.add(db)
        db.conn.executescript(VIEWS_FILE.read_text(encoding="utf-8"))
    db.execute("ANALYZE")
    db.vacuum()
    db.conn.execute("PRAGMA journal_mode = DELETE")
    db.close()
