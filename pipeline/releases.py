"""Releases: every publish is a release with an id, notes computed by diffing, a manifest.

A release id is the date and that day's sequence number (2026-11-29.1). What a
release changed is never written by hand: `diff` compares every published table,
row by row on its primary key, with the previous release (the packages under
data/ before the swap) and counts, per table and year, the values added,
changed and removed, and the cells newly hidden or shown. A build whose packages
are identical to the previous release's is that release again (no new id).

Each release's database, data zip and manifest (every file's SHA-256) are copied
into the release store (releases/<id>/, outside git, to be kept and copied to
every server), so that a release stays downloadable byte for byte at a URL
that names it. `releases/current` points at the latest.
"""

import csv
import datetime
import filecmp
import hashlib
import itertools
import json
import os
import shutil
from collections import defaultdict
from pathlib import Path

from . import schemas
from .paths import ROOT

STORE = ROOT / "releases"
CURRENT = "current"
NOT_BY_YEAR = "不分年份"
YEAR_FIELDS = ("year", "period")
IGNORED_FIELDS = {"data_source"}  # says "sample" or who sent it: not a value


def resource_rows(data_dir, package, resource):
    """The rows of a published table, one at a time (None if there is no such file)."""
    path = Path(data_dir) / package / f"{resource}.csv"
    if not path.exists():
        return None

    def rows():
        with open(path, encoding="utf-8", newline="") as f:
            yield from csv.DictReader(f)

    return rows()


def paired(old, new, key):
    """(old row or None, new row or None) for every key in either table, streaming both.

    Both tables are written in the same order by the same code, so a row is usually met in
    both at about the same place: rows wait in a small buffer for their counterpart, and a
    nation-sized table is never held in memory. (Tables in different orders still pair up
    correctly; they only make the buffers grow.)"""
    if old is None:
        for after in new:
            yield None, after
        return
    waiting_old, waiting_new = {}, {}
    for before, after in itertools.zip_longest(old, new or ()):
        if before is not None:
            k = key(before)
            if k in waiting_new:
                yield before, waiting_new.pop(k)
            else:
                waiting_old[k] = before
        if after is not None:
            k = key(after)
            if k in waiting_old:
                yield waiting_old.pop(k), after
            else:
                waiting_new[k] = after
    for row in waiting_old.values():
        yield row, None
    for row in waiting_new.values():
        yield None, row


def diff_resource(old, new, schema):
    """{year: {added, changed, removed, newly_hidden, newly_shown}} between two versions."""
    key_fields = schema["primaryKey"]
    year_field = next((f for f in YEAR_FIELDS if f in key_fields), None)
    values = [f["name"] for f in schema["fields"] if f["name"] not in key_fields]
    values = [v for v in values if v not in IGNORED_FIELDS]
    counts = defaultdict(lambda: dict.fromkeys(CHANGE_KINDS, 0))
    compared = None  # the value columns both versions have: a new column is a change of schema

    def year_of(row):
        return row[year_field] if year_field else NOT_BY_YEAR

    for before, after in paired(old, new, lambda r: tuple(r[k] for k in key_fields)):
        if before is None:
            counts[year_of(after)]["added"] += sum(1 for v in values if after.get(v, "") != "")
            continue
        if after is None:
            counts[year_of(before)]["removed"] += sum(1 for v in values if before.get(v, "") != "")
            continue
        if compared is None:
            compared = [v for v in values if v in before]
        tally = counts[year_of(after)]
        if "status" in before and before["status"] != after["status"]:
            tally["newly_hidden" if after["status"] == "suppressed" else "newly_shown"] += 1
            continue
        tally["changed"] += sum(1 for v in compared if before[v] != after[v])
    return {year: tally for year, tally in counts.items() if any(tally.values())}


CHANGE_KINDS = ("added", "changed", "removed", "newly_hidden", "newly_shown")


def diff(old_dir, new_dir, packages):
    """[(table, year, counts)] for every published table but the release package itself."""
    out = []
    for name, spec in packages.items():
        if name == "releases":
            continue
        for resource in spec["resources"]:
            table = resource["name"]
            new = resource_rows(new_dir, name, table)
            old = resource_rows(old_dir, name, table)
            changes = diff_resource(old, new, schemas.load(resource["schema"]))
            for year in sorted(changes, key=str):
                out.append((table, str(year), changes[year]))
    return out


def same_files(old_dir, new_dir, packages):
    """Whether every published file but the release package is byte for byte the same
    (compared a block at a time: a nation's tables are hundreds of megabytes)."""
    for name in packages:
        if name == "releases":
            continue
        old, new = Path(old_dir) / name, Path(new_dir) / name
        names = {p.name for p in old.glob("*")} | {p.name for p in new.glob("*")}
        for file in names:
            a, b = old / file, new / file
            if not (a.exists() and b.exists() and filecmp.cmp(a, b, shallow=False)):
                return False
    return True


# The code that turns the packages into the database and the zip. Everything else the
# pipeline does ends up in the packages, which are compared byte for byte.
BUILDER_FILES = (
    "pipeline/database.py",
    "pipeline/place_names.py",
    "pipeline/views.sql",
    "pipeline/downloads.py",
    "pipeline/templates/download_readme.md",
    "pipeline/templates/data_dictionary.md",
    "sources/reference/jieba_userdict.txt",
)


def builder():
    """A fingerprint of the code that turns packages into a database and a zip: the same
    packages built by other code make a different database, so a new release. Code that
    only shapes the packages needs no fingerprint: its effect is in the packages."""
    digest = hashlib.sha256()
    for name in BUILDER_FILES:
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes())
    return digest.hexdigest()[:16]


def next_id(previous_ids, today):
    day = today.isoformat()
    taken = [int(i.rsplit(".", 1)[1]) for i in previous_ids if i.startswith(day + ".")]
    return f"{day}.{max(taken, default=0) + 1}"


def notes(changes, corrections, first, withdrawn=()):
    """One sentence in Chinese, generated from the numbers (never written by hand).

    `withdrawn` names the counts a correction made the build hide although an earlier
    release showed them ("2024年楚雄彝族自治州困境儿童总数（去重）"): the cost of the
    correction, said in words."""
    if first:
        return "首次发布。"
    if not changes:
        return "数值与上一版本相同；表结构、说明或构建程序有变化。"
    totals = dict.fromkeys(CHANGE_KINDS, 0)
    tables = defaultdict(set)
    for table, year, counts in changes:
        tables[table].add(year)
        for kind in CHANGE_KINDS:
            totals[kind] += counts[kind]
    words = {
        "added": "新增",
        "changed": "改动",
        "removed": "删除",
        "newly_hidden": "新隐藏",
        "newly_shown": "新公布",
    }
    parts = [f"{words[k]} {totals[k]} 个" for k in CHANGE_KINDS if totals[k]]
    where = "；".join(f"{t}（{'、'.join(sorted(y))}）" for t, y in sorted(tables.items()))
    text = f"与上一版本相比{'，'.join(parts)}值或格子，涉及 {where}"
    if corrections:
        text += f"；含 {len(corrections)} 条更正"
    if withdrawn:
        shown = "、".join(withdrawn[:5]) + ("等" if len(withdrawn) > 5 else "")
        text += (
            f"。因更正后重新审计（防止与此前版本相减推算），此前公布的 {len(withdrawn)} 个人数"
            f"现在隐藏：{shown}；此前版本中的数字仍可查到"
        )
    return text + "。"


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(release, data_dir, files):
    """The release's manifest: its row, what changed, and the SHA-256 of every file."""
    listed = {}
    for path in sorted(p for p in Path(data_dir).rglob("*") if p.is_file()):
        if not path.name.startswith("."):
            listed[f"data/{path.relative_to(data_dir)}"] = path
    listed.update(files)
    return {
        **release["row"],
        "changes": [
            {"table": table, "year": year, **counts} for table, year, counts in release["changes"]
        ],
        "corrections": release["corrections"],
        "files": {
            name: {"bytes": path.stat().st_size, "sha256": sha256(path)}
            for name, path in sorted(listed.items())
        },
    }


def publish(store, release_id, files, manifest_data):
    """Copy a release's files into the store (once: a release never changes) and point
    `current` at it."""
    store = Path(store)
    folder = store / release_id
    if not folder.exists():
        staging = store / f".{release_id}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name, path in files.items():
            shutil.copy2(path, staging / name)
        (staging / "manifest.json").write_text(
            json.dumps(manifest_data, ensure_ascii=False, indent=2, default=str) + "\n",
            encoding="utf-8",
        )
        os.replace(staging, folder)
    link = store / f".{CURRENT}.new"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(release_id)
    os.replace(link, store / CURRENT)
    return folder


def release_row(
    release_id, previous, today, as_of, reporting_year, sample, changes, corrections, withdrawn=()
):
    totals = dict.fromkeys(CHANGE_KINDS, 0)
    for _, _, counts in changes:
        for kind in CHANGE_KINDS:
            totals[kind] += counts[kind]
    return {
        "release_id": release_id,
        "released_on": today if isinstance(today, datetime.date) else today,
        "previous_release": previous,
        "as_of": as_of,
        "reporting_year": reporting_year,
        "sample": sample,
        "added": totals["added"],
        "changed": totals["changed"],
        "removed": totals["removed"],
        "newly_hidden": totals["newly_hidden"],
        "corrections": len(corrections),
        "notes": notes(changes, corrections, previous is None, withdrawn),
        "builder": builder(),
    }
