"""Kept releases follow today's location rules: a point withheld now is withheld everywhere.

Every earlier release stays downloadable and is served at /v<release>/ so that a
citation keeps its numbers. But when a custody facility is added, the
facilities around it lose their points in the new release, and an earlier
release that still shows those points would give the new site away (it lies
where the old points' circles meet). So after each build, every kept release's
facility rows are judged again by the current rules (locations.withheld_now) and
rewritten where they show more: the database (rows updated, then vacuumed with
secure_delete so the old values leave the file), the facilities package inside
the zip, and the manifest, which records what was rewritten, when and by which
release. Counts of children are never touched: their history must stay exactly
as published for the disclosure audit to hold.
"""

import csv
import hashlib
import io
import json
import sqlite3
import zipfile
from pathlib import Path

from . import locations

DATABASE, ZIP, MANIFEST = "chuxiong.db", "chuxiong-open-data.zip", "manifest.json"
FACILITIES_CSV = "facilities/facilities.csv"
FACILITIES_DESCRIPTOR = "facilities/datapackage.json"


def kept_releases(store, current):
    for folder in sorted(Path(store).iterdir()):
        if folder.is_dir() and not folder.name.startswith(".") and folder.name != current:
            if (folder / DATABASE).exists() and not folder.is_symlink():
                yield folder


def apply(store, current, current_rows, custody_points, protected, release_id, today):
    """Rewrite every kept release but `current`; return {release id: rows rewritten}."""
    done = {}
    for folder in kept_releases(store, current):
        with sqlite3.connect(folder / DATABASE) as db:
            db.row_factory = sqlite3.Row
            columns = [r[1] for r in db.execute("PRAGMA table_info(facilities)")]
            old_rows = [dict(r) for r in db.execute("SELECT * FROM facilities")]
        changes = locations.withheld_now(old_rows, current_rows, custody_points, protected)
        changes = {
            fid: {k: v for k, v in fields.items() if k in columns}
            for fid, fields in changes.items()
        }
        changes = {fid: fields for fid, fields in changes.items() if fields}
        if not changes:
            continue
        rewrite_database(folder / DATABASE, changes)
        rewrite_zip(folder / ZIP, changes)
        record(folder, changes, release_id, today)
        done[folder.name] = len(changes)
    return done


def rewrite_database(path, changes):
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA secure_delete = ON")
        with db:
            for facility_id, fields in sorted(changes.items()):
                names = sorted(fields)
                db.execute(
                    f"UPDATE facilities SET {', '.join(f'[{n}] = ?' for n in names)} "
                    "WHERE facility_id = ?",
                    [fields[n] for n in names] + [facility_id],
                )
        db.execute("VACUUM")
    finally:
        db.close()


def csv_value(value):
    return "" if value is None else str(value)


def rewrite_csv(raw, changes):
    """The facilities CSV with the changed fields, every other byte as it was written."""
    text = raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    for row in rows[1:]:
        fields = changes.get(row[header.index("facility_id")], {})
        for name, value in fields.items():
            if name in header:
                row[header.index(name)] = csv_value(value)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def rewrite_zip(path, changes):
    """The zip with its facilities table and that package's descriptor rewritten, entry order,
    names and times kept."""
    if not path.exists():
        return
    with zipfile.ZipFile(path) as old:
        entries = [(info, old.read(info.filename)) for info in old.infolist()]
    table = next(
        (i for i, (info, _) in enumerate(entries) if info.filename.endswith("/" + FACILITIES_CSV)),
        None,
    )
    if table is None:
        return
    new_csv = rewrite_csv(entries[table][1], changes)
    entries[table] = (entries[table][0], new_csv)
    for i, (info, content) in enumerate(entries):
        if info.filename.endswith("/" + FACILITIES_DESCRIPTOR):
            descriptor = json.loads(content)
            for resource in descriptor["resources"]:
                if resource["path"] == "facilities.csv":
                    resource["bytes"] = len(new_csv)
                    resource["hash"] = f"sha256:{hashlib.sha256(new_csv).hexdigest()}"
            entries[i] = (
                info,
                (json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n").encode(),
            )
    staged = path.with_suffix(".zip.partial")
    with zipfile.ZipFile(staged, "w") as archive:
        for info, content in entries:
            archive.writestr(info, content)
    staged.replace(path)


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def record(folder, changes, release_id, today):
    """The manifest: new hashes of the rewritten files and a note of what was done."""
    path = folder / MANIFEST
    manifest = json.loads(path.read_text("utf-8"))
    files = manifest.get("files", {})
    for name in (DATABASE, ZIP):
        if name in files and (folder / name).exists():
            files[name] = {"bytes": (folder / name).stat().st_size, "sha256": sha256(folder / name)}
    if (folder / ZIP).exists():
        with zipfile.ZipFile(folder / ZIP) as archive:
            for info in archive.infolist():
                inner = info.filename.split("/", 1)[1]
                if inner in (FACILITIES_CSV, FACILITIES_DESCRIPTOR) and f"data/{inner}" in files:
                    content = archive.read(info.filename)
                    files[f"data/{inner}"] = {
                        "bytes": len(content),
                        "sha256": hashlib.sha256(content).hexdigest(),
                    }
    manifest.setdefault("redactions", []).append(
        {
            "on": str(today),
            "by_release": release_id,
            "facilities": len(changes),
            "note": "按后来版本的位置规则，隐去了这些机构的点位、地址、容量或自己的电话；"
            "儿童人数等其他数字没有改动 / location details withheld under a later release's rules",
        }
    )
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n", "utf-8")
