"""One build: submissions in, a release out (packages, database, data zip), or nothing at all.

Everything is written to a staging folder first. Only when every input passed
every rule, every package validated and the database was built does the build
swap the new packages and database in and record the release; a failed build
leaves what was published byte for byte as it was.

The steps, each in its own module:

1. intake.py: check the submissions (the same code as `check`) and the corrections;
2. protection.py: protect the children's counts (disclosure.py), with their history;
3. packages.py: write the data packages;
4. release_package.py: compare with the previous release, write the `releases` package;
5. packages.py: validate every package;
6. database.py and downloads.py: the SQLite database and the data zip;
7. here: swap them in, keep the release in the store (releases.py), and apply today's
   location rules to every release still kept (redaction.py).
"""

import datetime
import os
import shutil
import tempfile
from pathlib import Path

from . import (
    database,
    downloads,
    intake,
    packages,
    parallel,
    protection,
    redaction,
    release_package,
    releases,
    schemas,
)
from .paths import DATA, DATABASE, DIVISIONS_SOURCES, SAMPLE_SUBMISSIONS
from .problems import InputRejected
from .progress import Progress

ZIP_NAME = "chuxiong-open-data.zip"
STEPS = 6


def check(folder, divisions_dir=DIVISIONS_SOURCES, today=None):
    """Problems in one submitter's folder (or a whole submissions folder); publishes nothing."""
    from . import validate

    return validate.validate(folder, divisions_dir, today).problems


def build(
    submissions_dir=SAMPLE_SUBMISSIONS,
    divisions_dir=DIVISIONS_SOURCES,
    data_dir=DATA,
    database_path=DATABASE,
    quiet=False,
    today=None,
    releases_dir=None,
    processes=None,
):
    """Build everything; return a summary dict, or raise InputRejected.

    `releases_dir` is the release store (default: releases/ beside data/'s parent
    when data_dir is the repository's, else a `releases` folder beside data_dir).
    `processes`: how many processes check the submissions and protect the counts
    (default: parallel.workers(), one per core); the result does not depend on it.
    """
    processes = parallel.workers(processes)
    progress = Progress(quiet, STEPS)
    data_dir, database_path = Path(data_dir), Path(database_path)
    releases_dir = Path(releases_dir or default_store(data_dir))
    data_dir.mkdir(parents=True, exist_ok=True)
    database_path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=data_dir.parent))
    out = staging / "data"
    today = today or datetime.date.today()
    names = list(schemas.packages()["packages"])
    try:
        with progress.step(f"检查报送（{processes} 个进程） / checking the submissions") as tick:
            inputs = intake.read(
                submissions_dir, divisions_dir, data_dir, out, today, processes, tick
            )
            tick.result = (
                f"{len(inputs.checked.summaries)} 个文件、{len(inputs.fixes)} 条更正，0 个问题"
            )
        with progress.step("汇总与披露控制 / aggregating and protecting the counts") as tick:
            children = protection.protect(inputs, out, processes, tick)
            audit = children.audit
            tick.result = (
                f"{children.cells} 个格子，隐藏 {audit.hidden} 个，"
                f"审计{'通过 PASS' if audit.passed else '未通过 FAIL'}"
            )
        with progress.step("写出数据包 / writing the packages"):
            _, facilities = packages.write_all(out, inputs, children)
        with progress.step("与上一版本比较 / comparing with the previous release") as tick:
            release = release_package.record(out, inputs, children, data_dir, today)
            tick.result = f"版本 release {release.release_id}"
        with progress.step(
            "Frictionless 校验数据包，同时建数据库和下载包 / validating the packages while "
            "building the database and the zip"
        ) as tick:
            # Validation runs in the other processes while this one builds the database: if it
            # finds anything, the database is thrown away with the rest of the staging folder.
            checking = packages.validate(out, processes - 1, background=True)
            staged_db, staged_zip = staging / "chuxiong.db", staging / ZIP_NAME
            database.build(out, names, staged_db, tick)
            downloads.build(staged_zip, out, data_dir / "templates", release.release_id)
            if problems := [p for found in checking.results() for p in found]:
                raise InputRejected(problems)
        with progress.step("发布 / publishing") as tick:
            manifest = releases.manifest(
                {
                    "row": release.row,
                    "changes": release.changes,
                    "corrections": release.corrections,
                },
                out,
                {"chuxiong.db": staged_db, ZIP_NAME: staged_zip},
            )
            swap(out, data_dir, names)
            os.replace(staged_db, database_path)
            zip_path = database_path.parent / "downloads" / ZIP_NAME
            zip_path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged_zip, zip_path)
            (database_path.parent / "disclosure-audit.md").write_text(
                audit.markdown(audit.digest) + "\n", encoding="utf-8"
            )
            releases.publish(
                releases_dir,
                release.release_id,
                {"chuxiong.db": database_path, ZIP_NAME: zip_path},
                manifest,
            )
            custody_points, protected = packages.custody_sites(inputs)
            redacted = redaction.apply(
                releases_dir,
                release.release_id,
                facilities,
                custody_points,
                protected,
                release.release_id,
                today,
            )
            tick.result = f"版本 {release.release_id} 已替换旧版本 / swapped in"
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {
        "packages": names,
        "submitters": len(inputs.checked.submitted_on),
        "as_of": inputs.as_of,
        "sample": inputs.sample,
        "release": release.release_id,
        "new_release": release.new,
        "changes": len(release.changes),
        "corrections": len(release.corrections),
        "cells": children.cells,
        "hidden": audit.hidden,
        "facilities": len(facilities),
        "village_years": sum(counts[0] for counts in inputs.tally.by_township.values()),
        "audit": audit.summary(audit.digest),
        "audit_seconds_by_year": dict(audit.seconds_by_year),
        "gate": {
            "blocks": audit.blocks,
            "replayed_blocks": audit.replayed_blocks,
            "replays": audit.replays,
            "seconds": round(audit.gate_seconds, 1),
        },
        "redacted": redacted,
        "processes": processes,
        "steps": progress.table(),
        "seconds": round(progress.elapsed(), 1),
        "database": str(database_path),
        "releases": str(releases_dir),
    }


def default_store(data_dir):
    return (
        releases.STORE
        if Path(data_dir).resolve() == DATA.resolve()
        else Path(data_dir).parent / "releases"
    )


def swap(staged, data_dir, names):
    """Replace each published package folder with the staged one."""
    for name in names:
        target = data_dir / name
        old = data_dir / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            os.replace(target, old)
        os.replace(staged / name, target)
        shutil.rmtree(old, ignore_errors=True)
